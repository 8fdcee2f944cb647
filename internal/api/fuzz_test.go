package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mlfleet/mlfleet/internal/activity"
	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/policy"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The fuzz targets of this file feed the API what an outside tester would: any path, query,
// header and body. Whatever comes in, the API answers; it never panics, never answers 5xx
// for the client's input, answers every refusal with an ARM error body whose code and
// message say what to fix, and changes nothing it refused. Run one with
//
//	go test -run='^$' -fuzz='^FuzzAPIRequests$' -fuzztime=90s -parallel=1 ./internal/api
//
// (plain go test runs the seeds and testdata/fuzz/<target>/, the inputs that once failed).

// FuzzRouterMatch: any path matches a route or none, never panics; a match's parameters
// are whole non-empty segments, and the path rebuilt from the route and its parameters
// matches the same route with the same parameters.
func FuzzRouterMatch(f *testing.F) {
	for _, s := range []string{
		"", "/", "//", "/subscriptions",
		subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/c1",
		"/SUBSCRIPTIONS/x/RESOURCEGROUPS/rg/providers/microsoft.containerservice/managedclusters/aks/agentPools/p",
		subURL + "/resourceGroups//providers/Microsoft.MachineLearningServices/workspaces/ws1",
		subURL + "/resourceGroups/rg1/providers/Microsoft.Authorization/roleAssignments/x",
		"/subscriptions/ü/resourceGroups/%2e%2e/../\x00\xff",
		"/mlfleet/v1/principals/p/resetCredential",
	} {
		f.Add(s)
	}
	rt := New(Config{}).router
	f.Fuzz(func(t *testing.T, path string) {
		scope, kind, _, ok := authorizationPath(path)
		if ok && (!strings.HasPrefix(scope, "/") || kind != "roleassignments" && kind != "roledefinitions") {
			t.Fatalf("authorizationPath(%q) = scope %q, kind %q", path, scope, kind)
		}
		r, p := rt.match(path)
		if r == nil {
			return
		}
		rebuilt := make([]string, len(r.segments))
		for i, seg := range r.segments {
			name, isParam := strings.CutPrefix(seg, "{")
			if !isParam {
				rebuilt[i] = seg
				continue
			}
			v := p[strings.TrimSuffix(name, "}")]
			if v == "" || strings.Contains(v, "/") {
				t.Fatalf("match(%q): parameter %s = %q", path, seg, v)
			}
			rebuilt[i] = v
		}
		again, q := rt.match("/" + strings.Join(rebuilt, "/"))
		if again != r || !reflect.DeepEqual(q, p) {
			t.Fatalf("match(%q) = %v %v, but the path rebuilt from it matches %v %v", path, r.segments, p, again.segments, q)
		}
	})
}

// FuzzCheckPath: any request target that net/http would pass on is either refused by
// checkPath with a 400 InvalidResourceName, or is a path whose every segment is a name:
// not empty, not "." or "..", without a slash or backslash, so that its router parameters
// are the segments the client sent.
func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{
		"/", "/subscriptions/x", "/subscriptions/x/", "//subscriptions/x",
		"/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/..",
		"/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/%2e%2E",
		"/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/a%2Fb",
		"/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices//workspaces/ws",
		"/subscriptions/x/resourceGroups/rg/providers/NS//t/n/%5C",
		"/subscriptions/%zz", "/subscriptions/%C3%BC/%00", "*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := withoutEmptyParent(&http.Request{Method: http.MethodGet, URL: u})
		if err := checkPath(r); err != nil {
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != arm.CodeInvalidResourceName || ae.Message == "" {
				t.Fatalf("checkPath(%q) = %#v, want a 400 InvalidResourceName", target, err)
			}
			return
		}
		escaped := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
		segs := split(r.URL.Path)
		if r.URL.Path != "/" && len(segs) != len(escaped) {
			t.Fatalf("checkPath passed %q, whose path %q has %d segments, not the %d sent", target, r.URL.Path, len(segs), len(escaped))
		}
		for _, s := range segs {
			if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`) {
				t.Fatalf("checkPath passed %q, with segment %q", target, s)
			}
		}
	})
}

// FuzzRoleAssignmentFilter: the $filter of a role assignment list is split and read
// without a panic into the pieces of the filter sent, in order, each followed by an "and"
// (in any case) up to the last, and a quoted argument is a piece of its term.
func FuzzRoleAssignmentFilter(f *testing.F) {
	for _, s := range []string{
		"atScope()", "principalId eq 'abc'", "atScope() and assignedTo('abc')", "ATSCOPE() AND PRINCIPALID EQ 'x'",
		" and ", "assignedTo('')", "principalId eq '", "roleName eq 'Owner'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		terms := splitAnd(filter)
		rest := filter
		for i, term := range terms {
			j := strings.Index(rest, term)
			if j < 0 {
				t.Fatalf("splitAnd(%q) = %q: %q is not in what follows the previous term (%q)", filter, terms, term, rest)
			}
			rest = strings.TrimLeftFunc(rest[j+len(term):], unicode.IsSpace)
			if i < len(terms)-1 {
				if len(rest) < 4 || !strings.EqualFold(rest[:4], "and ") {
					t.Fatalf("splitAnd(%q) = %q: no 'and' after %q", filter, terms, term)
				}
				rest = rest[4:]
			}
			for _, prefix := range []string{"principalId eq ", "assignedTo(", "roleName eq "} {
				if v := quotedArg(term, prefix); !strings.Contains(term, v) {
					t.Fatalf("quotedArg(%q, %q) = %q, which is not in the term", term, prefix, v)
				}
			}
		}
	})
}

// FuzzPaging: any $skiptoken, $skip and $top either give a page or a 400 that names the
// parameter; a token this server issued reads back as the id it was made of.
func FuzzPaging(f *testing.F) {
	f.Add(encodeSkipToken(subURL+"/resourceGroups/rg1"), "", "", subURL+"/resourceGroups/rg1")
	f.Add("bm9wZQ", "1", "10", "/subscriptions/ü")
	f.Add("!!", "-1", "0", "")
	f.Add("", "99999999999999999999", "-5", "/SUBSCRIPTIONS/\xff")
	s := New(Config{PageSize: 50})
	f.Fuzz(func(t *testing.T, token, skip, top, id string) {
		q := url.Values{"$skiptoken": {token}, "$skip": {skip}, "$top": {top}}
		r := httptest.NewRequest(http.MethodGet, "/subscriptions?"+q.Encode(), nil)
		p, err := s.page(r)
		if err != nil {
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Target == "" || ae.Message == "" {
				t.Fatalf("page(%q, %q, %q) = %#v, want a 400 naming its parameter", token, skip, top, err)
			}
		} else if p.Top < 1 || p.Top > 50 || p.Skip < 0 {
			t.Fatalf("page(%q, %q, %q) = top %d, skip %d", token, skip, top, p.Top, p.Skip)
		}
		if !utf8.ValidString(id) || !strings.HasPrefix(strings.ToLower(id), "/subscriptions/") {
			return
		}
		if got, err := decodeSkipToken(encodeSkipToken(id)); err != nil || got != id {
			t.Fatalf("the token of %q reads back as %q, %v", id, got, err)
		}
	})
}

// FuzzDecodeBody: any body is decoded into each resource's input or refused with a 400
// (413 when too large) that says what is wrong, never a panic.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"location":"westus","tags":{"a":"b"}}`, `{"tags":{"a/b":"c"}}`, `{"tags":[1]}`, `[]`, `null`, `"x"`, ``, ` `,
		`{"properties":{"properties":{"agentCount":1e400}}}`, `{"properties":{"agentPoolProfiles":[{"count":3.5}]}}`,
		`{"location":1}`, `{"a":` + strings.Repeat("[", 10001), "{\"\xff\":\"\xfe\"}",
	} {
		f.Add([]byte(s))
	}
	inputs := []func() any{
		func() any { return new(armapi.GroupInput) },
		func() any { return new(armapi.WorkspaceInput) },
		func() any { return new(armapi.Compute) },
		func() any { return new(computePatch) },
		func() any { return new(armapi.ClusterInput) },
		func() any { return new(clusterPatch) },
		func() any { return new(armapi.AgentPoolPut) },
		func() any { return new(armapi.OnlineEndpoint) },
		func() any { return new(armapi.OnlineDeployment) },
		func() any { return new(armapi.AssetVersion) },
		func() any { return new(roleAssignmentRequest) },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, in := range inputs {
			v := in()
			r := httptest.NewRequest(http.MethodPut, "/", bytes.NewReader(body))
			err := decodeBody(r, v)
			if err == nil {
				continue
			}
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest && ae.Status != http.StatusRequestEntityTooLarge || ae.Code == "" || ae.Message == "" {
				t.Fatalf("decodeBody(%q) into %T = %#v, want a 400 with a code and a message", body, v, err)
			}
		}
	})
}

// fuzzARM is a real API server over a real SQLite store with every service that needs no
// cluster: resources, workspaces, clusters (external provider, which reaches nothing),
// computes, policies, blobs, assets, endpoints and the activity log. Its operation engine
// never starts, so what a request submits stays InProgress and no cluster is ever made.
// It holds resource group rg1, workspace ws1, cluster aks1 and compute c1.
type fuzzARM struct {
	srv   *httptest.Server
	st    store.Store
	owner string
	// principal is the admin's object id, for role assignment bodies.
	principal string
	fixtures  []string
}

// The fixture's paths.
const (
	fuzzGroup     = subURL + "/resourceGroups/rg1"
	fuzzWorkspace = fuzzGroup + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	fuzzCluster   = fuzzGroup + "/providers/Microsoft.ContainerService/managedClusters/aks1"
	fuzzCompute   = fuzzWorkspace + "/computes/c1"
)

func newFuzzARM(t testing.TB) *fuzzARM {
	t.Helper()
	stack := servicetest.New(t, testSub, nil)
	st := stack.Store
	authn, admin, owner := bootstrapAdmin(t, st)
	computes := compute.New(compute.Config{Store: st, Engine: stack.Engine, Resources: stack.Resources,
		Workspaces: stack.Workspaces, Clusters: stack.Clusters, Secrets: stack.Secrets})
	bs, err := blobs.NewFiles(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	uploads := blobs.NewUploads(st, bs)
	assets := mlassets.New(mlassets.Config{Store: st, Resources: stack.Resources, Workspaces: stack.Workspaces, Blobs: uploads})
	eps := endpoints.New(endpoints.Config{Store: st, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces,
		Computes: computes, Clusters: stack.Clusters, Assets: assets, Blobs: bs, Secrets: stack.Secrets, Home: t.TempDir()})
	srv := httptest.NewServer(New(Config{Store: st, Auth: authn, Resources: stack.Resources, Workspaces: stack.Workspaces,
		Clusters: stack.Clusters, Computes: computes, Policies: policy.New(st, stack.Resources), Blobs: uploads, Assets: assets,
		Endpoints: eps, Activity: activity.New(activity.Config{Store: st})}))
	t.Cleanup(srv.Close)
	a := &testARM{srv: srv, st: st, authn: authn, admin: admin, rs: stack.Resources, ws: stack.Workspaces, owner: owner}
	stack.Group(t, "rg1")
	stack.Workspace(t, "rg1", "ws1")
	cluster := succeededCluster(t, a, "rg1", "aks1", "1.36.3")
	count, size, purpose := 3, "Standard_D3_v2", "DevTest"
	a.row(t, &store.Resource{ID: fuzzCompute, ParentID: workspaces.ID(testSub, "rg1", "ws1"), Type: compute.TypeCompute, Name: "c1",
		SubscriptionID: testSub, ResourceGroup: "rg1", Location: "westus"}, &armapi.Compute{ID: fuzzCompute, Name: "c1", Type: compute.TypeCompute,
		Location: "westus", Tags: map[string]string{}, Properties: armapi.ComputeProperties{ComputeType: "AKS", ComputeLocation: "westus",
			ProvisioningState: "Succeeded", ResourceID: &cluster, IsAttachedCompute: true,
			Properties: &armapi.AKSProperties{AgentCount: &count, AgentVMSize: &size, ClusterPurpose: &purpose},
			Mlfleet:    &armapi.ComputeMlfleet{Attached: true}}})
	return &fuzzARM{srv: srv, st: st, owner: owner, principal: admin.ID,
		fixtures: []string{fuzzGroup, fuzzWorkspace, fuzzCluster, fuzzCompute}}
}

// fuzzRequest is one request of FuzzAPIRequests: a method, a request target (path and
// query, sent as is), one header of the fuzzer's and a body.
type fuzzRequest struct {
	method, target string
	header, value  string
	body           string
}

// seeds are requests every write route takes, and a few that list with a $filter, from
// which the fuzzer mutates.
func (a *fuzzARM) seeds() []fuzzRequest {
	const (
		rgAPI  = "?api-version=2022-09-01"
		mlAPI  = "?api-version=2024-04-01"
		aksAPI = "?api-version=2024-02-01"
		raAPI  = "?api-version=2022-04-01"
	)
	reader := "/subscriptions/" + testSub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
	cluster, _ := json.Marshal(azCreateBody())
	endpoint := fuzzWorkspace + "/onlineEndpoints/ep1"
	// The model's file is the blob the seed before it uploads.
	blob := fmt.Sprintf("%s%x", blobs.URIPrefix, sha256.Sum256([]byte("model bytes")))
	return []fuzzRequest{
		{method: "PUT", target: subURL + "/resourceGroups/rg2" + rgAPI, body: `{"location":"westus","tags":{"env":"prod"}}`},
		{method: "PUT", target: fuzzGroup + rgAPI, body: `{"location":"West US","managedBy":"me"}`, header: "If-None-Match", value: "*"},
		{method: "PATCH", target: fuzzGroup + rgAPI, body: `{"tags":{"a":"b"}}`, header: "If-Match", value: "*"},
		{method: "PUT", target: fuzzGroup + "/providers/Microsoft.MachineLearningServices/workspaces/ws2" + mlAPI,
			body: `{"location":"westus","properties":{"friendlyName":"two","description":"d"}}`},
		{method: "PATCH", target: fuzzWorkspace + mlAPI, body: `{"tags":{"t":"v"},"properties":{"friendlyName":"f"}}`},
		{method: "PUT", target: fuzzWorkspace + "/computes/aks2" + mlAPI,
			body: `{"location":"westus","properties":{"computeType":"AKS","resourceId":"` + fuzzCluster + `","properties":{"agentCount":3,"clusterPurpose":"DevTest"}}}`},
		{method: "PATCH", target: fuzzCompute + mlAPI, body: `{"properties":{"properties":{"agentCount":4}}}`, header: "If-Match", value: `"1"`},
		{method: "POST", target: fuzzWorkspace + "/checkComputeNameAvailability" + mlAPI, body: `{"name":"aks3","type":"Microsoft.MachineLearningServices/workspaces/computes"}`},
		{method: "PUT", target: fuzzGroup + "/providers/Microsoft.ContainerService/managedClusters/aks2" + aksAPI, body: string(cluster)},
		{method: "PATCH", target: fuzzCluster + aksAPI, body: `{"tags":{"x":"y"}}`},
		{method: "PUT", target: fuzzCluster + "/agentPools/nodepool1" + aksAPI, body: `{"properties":{"count":1,"vmSize":"Standard_D3_v2","mode":"User"}}`},
		{method: "PUT", target: fuzzGroup + "/providers/Microsoft.Authorization/roleAssignments/0b6e1e0e-8d42-4a2a-9bb5-8f3d07c1e0a1" + raAPI,
			body: `{"properties":{"roleDefinitionId":"` + reader + `","principalId":"` + a.principal + `"}}`},
		{method: "PUT", target: endpoint + mlAPI, body: `{"location":"westus","properties":{"authMode":"Key","compute":"` + fuzzCompute + `"}}`},
		{method: "PATCH", target: endpoint + mlAPI, body: `{"tags":{"a":"b"}}`},
		{method: "PUT", target: endpoint + "/deployments/blue" + mlAPI,
			body: `{"location":"westus","properties":{"endpointComputeType":"Kubernetes","model":"` + fuzzWorkspace + `/models/m/versions/1","instanceCount":1}}`},
		{method: "PUT", target: fuzzWorkspace + "/environments/e/versions/1" + mlAPI, body: `{"properties":{"image":"busybox:1"}}`},
		{method: "PUT", target: fuzzWorkspace + "/blobs" + mlAPI, body: "model bytes", header: "Content-Type", value: "application/octet-stream"},
		{method: "PUT", target: fuzzWorkspace + "/models/m/versions/1" + mlAPI, body: `{"properties":{"modelUri":"` + blob + `"}}`},
		{method: "GET", target: subURL + "/resourceGroups" + rgAPI + "&$filter=tagName%20eq%20'env'%20and%20tagValue%20eq%20'prod'&$top=1"},
		{method: "GET", target: fuzzGroup + "/resources" + rgAPI + "&$filter=substringof('c',%20name)&$skiptoken=" + encodeSkipToken(fuzzCluster)},
		{method: "GET", target: fuzzGroup + "/providers/Microsoft.Authorization/roleAssignments" + raAPI + "&$filter=atScope()%20and%20principalId%20eq%20'x'"},
		{method: "POST", target: adfsTokenPath, header: "Content-Type", value: "application/x-www-form-urlencoded",
			body: "grant_type=client_credentials&client_id=app&client_secret=nope&resource=https%3A%2F%2Fmanagement.core.windows.net%2F"},
		{method: "POST", target: adfsTokenPath, header: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8",
			body: "grant_type=refresh_token&refresh_token=not-one&scope=openid"},
		{method: "GET", target: metadataPath + "?api-version=2022-09-01"},
		{method: "PUT", target: fuzzWorkspace + "/computes/%2e%2e" + mlAPI, body: `{}`},
		{method: "PUT", target: fuzzWorkspace + "/computes//c1" + mlAPI, body: `{}`},
		// Edges: what each service refuses, for the fuzzer to start beyond the decoder.
		{method: "PUT", target: subURL + "/resourceGroups/" + strings.Repeat("a", 100) + "%C3%BC%00" + rgAPI, body: `{"location":"westus"}`},
		{method: "PUT", target: subURL + "/resourceGroups/rg3" + rgAPI, body: `{"location":"westus","tags":null,"managedBy":null,"properties":null}`},
		{method: "PATCH", target: fuzzGroup + rgAPI, body: `null`},
		{method: "PUT", target: fuzzWorkspace + "/computes/aks9" + mlAPI, body: `{"location":"westus","properties":{"computeType":"AKS","resourceId":"` + fuzzCluster +
			`","properties":{"agentCount":9223372036854775807,"aksNetworkingConfiguration":{"serviceCidr":"999.1.1.1/99"},"sslConfiguration":{"status":"Enabled","cert":"x","key":"y"}}}}`},
		{method: "PATCH", target: fuzzCompute + mlAPI, body: `{"properties":{"properties":null}}`, header: "If-Match", value: `W/"1", "2"`},
		{method: "PUT", target: fuzzGroup + "/providers/Microsoft.ContainerService/managedClusters/aks9" + aksAPI,
			body: `{"location":"westus","properties":{"kubernetesVersion":"1.99999999999999999999.1","agentPoolProfiles":[{"name":"nodepool1","count":1000000,"vmSize":"Standard_D3_v2",` +
				`"maxPods":-1,"enableAutoScaling":true,"minCount":5,"maxCount":1,"nodeTaints":["=:"],"nodeLabels":{"":""}}],"networkProfile":{"podCidr":"10.0.0.0/0","serviceCidr":"x"}}}`},
		{method: "PUT", target: fuzzCluster + "/agentPools/nodepool1" + aksAPI, body: `{"properties":{"enableAutoScaling":true,"minCount":3,"maxCount":1}}`},
		{method: "PUT", target: fuzzCompute + "/providers/Microsoft.Authorization/roleAssignments/0b6e1e0e-8d42-4a2a-9bb5-8f3d07c1e0a4" + raAPI,
			body: `{"properties":{"roleDefinitionId":"acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"nobody"}}`},
		{method: "PUT", target: endpoint + "/deployments/d1" + mlAPI,
			body: `{"location":"westus","sku":{"capacity":-1},"properties":{"instanceCount":99999999999,"environmentVariables":{"":"\u0000"},"requestSettings":{"requestTimeout":"PT-1S"}}}`},
		{method: "POST", target: endpoint + "/regenerateKeys" + mlAPI, body: `{"keyType":"Tertiary","keyValue":""}`},
		{method: "PUT", target: fuzzWorkspace + "/models/m/versions/99999999999999999999999" + mlAPI, body: `{"properties":{"modelUri":"mlfleet://blobs/../../etc/passwd"}}`},
		{method: "GET", target: fuzzWorkspace + "/blobs/..%2F..%2Fx" + mlAPI},
		{method: "GET", target: subURL + "/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=eventTimestamp%20ge%20'0001-01-01'%20and%20eventTimestamp%20le%20'9999-12-31T23:59:59.999999999Z'"},
		{method: "GET", target: subURL + "/resources" + rgAPI + "&$filter=resourceType%20eq%20''''&$expand=createdTime,changedTime&$top=99999999999999999999999"},
		{method: "PUT", target: fuzzGroup + rgAPI + "&validateOnly=maybe", body: `{"location":"westus"}`, header: "If-Match", value: `"` + strings.Repeat("9", 30)},
	}
}

// skip reports whether the fuzzer's request would test something else than the API's
// input handling: a DELETE (of the fixture, which every later input would then find
// missing), mlfleet's own principal and token API (a reset of the admin's credential), a
// policy (one that denies every location turns later writes into 403s), or a header that
// frames the request differently (a Content-Length beyond the body makes the server wait
// for the rest, as it should, and a half-closed connection cancels the request).
func skip(req fuzzRequest) bool {
	lower := strings.ToLower(req.target)
	framing := strings.ContainsAny(req.header+req.value, "\r\n")
	switch strings.ToLower(strings.TrimSpace(req.header)) {
	case "content-length", "transfer-encoding", "expect", "connection":
		framing = true
	}
	return framing || req.method == http.MethodDelete || strings.HasPrefix(lower, "/mlfleet") ||
		req.method == http.MethodPut && strings.Contains(lower, "policyassignments")
}

// send writes req to the server over a new connection, as a client would, and reads the
// answer. ok is false when the request is not one net/http's server takes (it answers
// those itself, without the API's headers).
func (a *fuzzARM) send(t *testing.T, req fuzzRequest) (resp *http.Response, body []byte, ok bool) {
	t.Helper()
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: mlfleet.test\r\nAuthorization: Bearer %s\r\nConnection: close\r\n", req.method, req.target, a.owner)
	if !strings.EqualFold(req.header, "Content-Type") {
		raw.WriteString("Content-Type: application/json\r\n")
	}
	if req.header != "" {
		fmt.Fprintf(&raw, "%s: %s\r\n", req.header, req.value)
	}
	fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n%s", len(req.body), req.body)
	conn, err := net.Dial("tcp", a.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bound on the wait turns a request that hangs the server into a failure with its
	// input, instead of a fuzzer that stops making progress.
	conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := conn.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for {
		resp, err = http.ReadResponse(br, &http.Request{Method: req.method})
		if err != nil {
			t.Fatalf("%s %s: no answer (a panic drops the connection): %v", req.method, req.target, err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.method, req.target, err)
	}
	// Every answer of the API's handler carries a request id; net/http's own 400s for
	// requests it cannot parse do not.
	return resp, body, resp.Header.Get("x-ms-request-id") != ""
}

// snapshot reads the stored rows of the fixture and of the resource a path names.
func (a *fuzzARM) snapshot(t *testing.T, path string) map[string]*store.Resource {
	t.Helper()
	ids := a.fixtures
	if _, err := arm.ParseID(path); err == nil {
		ids = append(ids[:len(ids):len(ids)], path)
	}
	rows := map[string]*store.Resource{}
	for _, id := range ids {
		r, err := a.st.GetResource(context.Background(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("read %s: %v", id, err)
		}
		rows[id] = r
	}
	return rows
}

// isErrorBody reports whether raw is an error body with a code and a message: ARM's, or
// OAuth's at the token endpoint, whose clients (MSAL) read that.
func isErrorBody(path string, raw []byte) bool {
	if strings.EqualFold(path, adfsTokenPath) {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		return json.Unmarshal(raw, &e) == nil && e.Error != "" && e.Description != ""
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	return json.Unmarshal(raw, &e) == nil && e.Error.Code != "" && e.Error.Message != ""
}

// check sends req and checks its answer: below 500; a refusal (4xx) has an error body
// with a code and a message and leaves the stored resources it names as they were; a
// success's body, when there is one, is JSON.
func (a *fuzzARM) check(t *testing.T, req fuzzRequest) {
	t.Helper()
	if skip(req) {
		return
	}
	path, _, _ := strings.Cut(req.target, "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	before := a.snapshot(t, path)
	resp, raw, ok := a.send(t, req)
	if !ok {
		return
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s (%s: %s) %q = %d %s", req.method, req.target, req.header, req.value, req.body, resp.StatusCode, raw)
	}
	if resp.StatusCode < 400 {
		if len(bytes.TrimSpace(raw)) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !json.Valid(raw) {
			t.Fatalf("%s %s = %d, body is not JSON: %q", req.method, req.target, resp.StatusCode, raw)
		}
		return
	}
	if req.method != http.MethodHead && !isErrorBody(path, raw) {
		t.Fatalf("%s %s = %d, body is not an error with a code and a message: %q", req.method, req.target, resp.StatusCode, raw)
	}
	if after := a.snapshot(t, path); !reflect.DeepEqual(after, before) {
		for id := range before {
			if !reflect.DeepEqual(after[id], before[id]) {
				t.Fatalf("%s %s %q was refused (%d %s) but changed %s", req.method, req.target, req.body, resp.StatusCode, raw, id)
			}
		}
	}
}

// FuzzAPIRequests sends the real server any method, request target, header and body, as
// an Owner, over HTTP, and checks each answer (check).
func FuzzAPIRequests(f *testing.F) {
	a := newFuzzARM(f)
	// The path and the query are apart, so that a change to one leaves the other whole.
	for _, s := range a.seeds() {
		path, query, _ := strings.Cut(s.target, "?")
		f.Add(s.method, path, query, s.header, s.value, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, query, header, value, body string) {
		target := path
		if query != "" {
			target += "?" + query
		}
		a.check(t, fuzzRequest{method: method, target: target, header: header, value: value, body: body})
	})
}

// FuzzAPIBodies is FuzzAPIRequests with the request of one seed and the fuzzer's body, so
// that every change the fuzzer makes is to a body that reaches its resource's service,
// past routing and authorization.
func FuzzAPIBodies(f *testing.F) {
	a := newFuzzARM(f)
	seeds := a.seeds()
	for i, s := range seeds {
		if s.body != "" {
			f.Add(uint8(i), s.body)
		}
	}
	f.Fuzz(func(t *testing.T, seed uint8, body string) {
		req := seeds[int(seed)%len(seeds)]
		req.body = body
		a.check(t, req)
	})
}
