package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/activity"
	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// patchARM is newTestARM with the compute service (over the stack's clusters) and the
// activity log. Its operation engine never starts, so an update a PATCH submits stays
// InProgress.
func patchARM(t *testing.T) *testARM {
	t.Helper()
	stack := servicetest.New(t, testSub, nil)
	authn, admin, owner := bootstrapAdmin(t, stack.Store)
	computes := compute.New(compute.Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources,
		Workspaces: stack.Workspaces, Clusters: stack.Clusters, Secrets: stack.Secrets})
	srv := httptest.NewServer(New(Config{Store: stack.Store, Auth: authn, Resources: stack.Resources, Workspaces: stack.Workspaces,
		Clusters: stack.Clusters, Computes: computes, Activity: activity.New(activity.Config{Store: stack.Store})}))
	t.Cleanup(srv.Close)
	return &testARM{srv: srv, st: stack.Store, authn: authn, admin: admin, rs: stack.Resources, ws: stack.Workspaces, owner: owner}
}

// patch sends a PATCH of body (raw JSON) with If-Match ifMatch, when not "", as the owner.
func (a *testARM) patch(t *testing.T, path, body, ifMatch string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, a.srv.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.owner)
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	return send(t, a.srv.Client(), req)
}

// head sends a HEAD as the owner and returns its status and body.
func (a *testARM) head(t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, a.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.owner)
	ans := send(t, a.srv.Client(), req)
	return ans.status, ans.raw
}

// badPatches are bodies every PATCH refuses with a 400 InvalidRequestContent, before its
// service sees them, as the PUT of the same resource does.
var badPatches = []struct{ name, body string }{
	{"not JSON", `{"tags":`},
	{"empty", ``},
	{"tags not an object", `{"tags":"team=ml"}`},
	{"tag value not a string", `{"tags":{"team":1}}`},
}

// checkMissing checks that a PATCH of a what that does not exist (path's sibling named
// nope) is a 404 (a PATCH never creates), and that HEAD answers 204 for path and 404 for
// the missing one, with no body.
func checkMissing(t *testing.T, a *testARM, what, path string) {
	t.Helper()
	resource, query, _ := strings.Cut(path, "?")
	missing := resource[:strings.LastIndex(resource, "/")+1] + "nope?" + query
	if ans := a.patch(t, missing, `{"tags":{}}`, ""); ans.status != http.StatusNotFound {
		t.Errorf("PATCH of a missing %s = %d %s, want 404", what, ans.status, ans.raw)
	}
	if status, raw := a.head(t, path); status != http.StatusNoContent || raw != "" {
		t.Errorf("HEAD of the %s = %d %q, want 204", what, status, raw)
	}
	if status, raw := a.head(t, missing); status != http.StatusNotFound || raw != "" {
		t.Errorf("HEAD of a missing %s = %d %q, want 404", what, status, raw)
	}
}

// checkPatchRefusals checks what every PATCH of a what at path refuses, changing nothing:
// an If-Match of staleETag, which the what does not have (412 PreconditionFailed), the
// badPatches bodies (checkBadPatches), and a what that does not exist (checkMissing).
func checkPatchRefusals(t *testing.T, a *testARM, what, path, staleETag string) {
	t.Helper()
	if ans := a.patch(t, path, `{"tags":{}}`, staleETag); ans.status != http.StatusPreconditionFailed || testutil.Field(ans.body, "error.code") != arm.CodePreconditionFailed {
		t.Errorf("PATCH of the %s with If-Match %s = %d %s, want 412 PreconditionFailed", what, staleETag, ans.status, ans.raw)
	}
	checkBadPatches(t, a, path)
	checkMissing(t, a, what, path)
}

// checkBadPatches sends badPatches to path and checks each is a 400 InvalidRequestContent.
func checkBadPatches(t *testing.T, a *testARM, path string) {
	t.Helper()
	for _, tt := range badPatches {
		if ans := a.patch(t, path, tt.body, ""); ans.status != http.StatusBadRequest || testutil.Field(ans.body, "error.code") != arm.CodeInvalidRequestContent {
			t.Errorf("PATCH with a body %s = %d %s, want 400 InvalidRequestContent", tt.name, ans.status, ans.raw)
		}
	}
	// Tags a PUT refuses (arm.CheckTags) are refused the same way.
	if ans := a.patch(t, path, `{"tags":{"a<b":"x"}}`, ""); ans.status != http.StatusBadRequest {
		t.Errorf("PATCH with an invalid tag name = %d %s, want 400", ans.status, ans.raw)
	}
}

// TestPatchGroup: PATCH on a resource group (az group update, armresources'
// ResourceGroupsClient.Update) answers 200 at once; tags sent replace the whole set,
// managedBy changes only when sent, the rest stays; If-Match holds only as *, a group
// having no etag; a missing group is a 404, never created; a Reader may not; the activity
// log records it as a write.
func TestPatchGroup(t *testing.T) {
	t.Parallel()
	a := patchARM(t)
	managedBy := "/subscriptions/" + testSub + "/resourceGroups/x/providers/Microsoft.ContainerService/managedClusters/aks"
	if _, _, err := a.rs.PutGroup(context.Background(), testSub, "rg1", armapi.GroupInput{Location: "westus",
		Tags: map[string]string{"a": "1", "b": "2"}, ManagedBy: &managedBy}); err != nil {
		t.Fatal(err)
	}
	const path = subURL + "/resourceGroups/rg1?api-version=2022-09-01"

	ans := a.patch(t, path, `{"tags":{"c":"3"}}`, "")
	if ans.status != http.StatusOK || !reflect.DeepEqual(ans.body["tags"], map[string]any{"c": "3"}) ||
		ans.body["managedBy"] != managedBy || ans.body["location"] != "westus" {
		t.Fatalf("PATCH tags = %d %s", ans.status, ans.raw)
	}
	ans = a.patch(t, path, `{"managedBy":"/subscriptions/`+testSub+`/other"}`, "")
	if ans.status != http.StatusOK || !reflect.DeepEqual(ans.body["tags"], map[string]any{"c": "3"}) || ans.body["managedBy"] != "/subscriptions/"+testSub+"/other" {
		t.Fatalf("PATCH managedBy = %d %s", ans.status, ans.raw)
	}
	// What the PATCH answered is what a GET reads.
	if status, got := a.call(t, a.owner, http.MethodGet, path, nil); status != http.StatusOK || !reflect.DeepEqual(got["tags"], map[string]any{"c": "3"}) {
		t.Errorf("GET after the PATCH = %d %v", status, got)
	}
	if ans := a.patch(t, path, `{"tags":{}}`, "*"); ans.status != http.StatusOK || len(ans.body["tags"].(map[string]any)) != 0 {
		t.Errorf("PATCH of empty tags with If-Match: * = %d %s", ans.status, ans.raw)
	}
	if ans := a.patch(t, path, `{"tags":{"d":"4"}}`, `"1"`); ans.status != http.StatusPreconditionFailed || testutil.Field(ans.body, "error.code") != arm.CodePreconditionFailed {
		t.Errorf("PATCH with an etag in If-Match = %d %s, want 412", ans.status, ans.raw)
	}
	if ans := a.patch(t, path, `{"location":"eastus"}`, ""); ans.status != http.StatusConflict {
		t.Errorf("PATCH moving the group = %d %s, want 409 as a PUT", ans.status, ans.raw)
	}
	checkBadPatches(t, a, path)
	if ans := a.patch(t, subURL+"/resourceGroups/nope?api-version=2022-09-01", `{"tags":{"a":"1"}}`, ""); ans.status != http.StatusNotFound ||
		testutil.Field(ans.body, "error.code") != arm.CodeResourceGroupNotFound {
		t.Errorf("PATCH of a missing group = %d %s, want 404", ans.status, ans.raw)
	}
	if _, err := a.rs.GetGroup(context.Background(), testSub, "nope"); err == nil {
		t.Error("a PATCH created the missing group")
	}
	reader := a.principal(t, auth.RoleReader, subURL)
	if status, got := a.call(t, reader, http.MethodPatch, path, map[string]any{"tags": map[string]string{}}); status != http.StatusForbidden {
		t.Errorf("a Reader's PATCH = %d %v, want 403", status, got)
	}
	status, got := a.call(t, a.owner, http.MethodGet, activityURL(timeFilter("resourceGroupName eq 'rg1'")), nil)
	events, _ := got["value"].([]any)
	patched := 0
	for _, e := range events {
		e := e.(map[string]any)
		if e["httpRequest"].(map[string]any)["method"] == http.MethodPatch && value(e, "operationName") == "Microsoft.Resources/subscriptions/resourceGroups/write" {
			patched++
		}
	}
	if status != http.StatusOK || patched < 3 {
		t.Errorf("activity log has %d PATCH writes of rg1 (%d): %v", patched, status, got)
	}
}

// TestPatchWorkspace: PATCH on a workspace (azure-mgmt-machinelearningservices'
// workspaces update) answers 200 at once and changes only what it sends; HEAD answers 204 or
// 404 with no body.
func TestPatchWorkspace(t *testing.T) {
	t.Parallel()
	a := patchARM(t)
	a.group(t, "rg1")
	in := armapi.WorkspaceInput{Location: "westus", Tags: map[string]string{"a": "1"}}
	in.Properties.FriendlyName, in.Properties.Description = "Friendly", "first"
	before, _, err := a.ws.Put(context.Background(), testSub, "rg1", "ws1", in)
	if err != nil {
		t.Fatal(err)
	}
	wsURL := workspaces.ID(testSub, "rg1", "ws1")
	path := wsURL + "?api-version=2024-04-01"

	ans := a.patch(t, path, `{"tags":{"b":"2"}}`, "")
	if ans.status != http.StatusOK || !reflect.DeepEqual(ans.body["tags"], map[string]any{"b": "2"}) ||
		testutil.Field(ans.body, "properties.description") != "first" || testutil.Field(ans.body, "properties.friendlyName") != "Friendly" {
		t.Fatalf("PATCH tags = %d %s", ans.status, ans.raw)
	}
	ans = a.patch(t, path, `{"properties":{"description":"second"}}`, "*")
	if ans.status != http.StatusOK || !reflect.DeepEqual(ans.body["tags"], map[string]any{"b": "2"}) ||
		testutil.Field(ans.body, "properties.description") != "second" || testutil.Field(ans.body, "properties.friendlyName") != "Friendly" ||
		testutil.Field(ans.body, "properties.workspaceId") != before.Properties.WorkspaceID {
		t.Fatalf("PATCH description = %d %s", ans.status, ans.raw)
	}
	if status, got := a.call(t, a.owner, http.MethodGet, path, nil); status != http.StatusOK || testutil.Field(got, "properties.description") != "second" {
		t.Errorf("GET after the PATCH = %d %v", status, got)
	}
	if ans := a.patch(t, path, `{"properties":{"description":5}}`, ""); ans.status != http.StatusBadRequest || testutil.Field(ans.body, "error.target") != "properties.description" {
		t.Errorf("PATCH with a number for a description = %d %s, want 400", ans.status, ans.raw)
	}
	checkPatchRefusals(t, a, "workspace", path, `"3"`)
}

// TestPatchCluster: PATCH on a managed cluster (az aks update --tags, armcontainerservice's
// BeginUpdateTags) replaces its tags through the cluster update: 200 with the cluster and
// its new ETag, no operation (tags start none), everything else as it was; If-Match is
// compared with the etag; HEAD answers 204 or 404.
func TestPatchCluster(t *testing.T) {
	t.Parallel()
	a := patchARM(t)
	a.group(t, "rg1")
	path := succeededCluster(t, a, "rg1", "aks1", "1.36.3") + "?api-version=2024-02-01"
	ans := a.patch(t, path, `{"tags":{"team":"ml"}}`, `"1"`)
	if ans.status != http.StatusOK || !reflect.DeepEqual(ans.body["tags"], map[string]any{"team": "ml"}) ||
		testutil.Field(ans.body, "properties.provisioningState") != "Succeeded" {
		t.Fatalf("PATCH tags = %d %s", ans.status, ans.raw)
	}
	// The body's key is eTag, AKS's spelling, which armcontainerservice reads (it matches
	// keys case-sensitively).
	if _, lower := ans.body["etag"]; ans.header.Get("Azure-AsyncOperation") != "" || ans.header.Get("ETag") != `"2"` || ans.body["eTag"] != `"2"` || lower {
		t.Errorf("PATCH of tags: Azure-AsyncOperation %q, ETag %q, body %s; want no operation and eTag \"2\"",
			ans.header.Get("Azure-AsyncOperation"), ans.header.Get("ETag"), ans.raw)
	}
	status, got := a.call(t, a.owner, http.MethodGet, path, nil)
	pools, _ := testutil.Field(got, "properties.agentPoolProfiles").([]any)
	if status != http.StatusOK || !reflect.DeepEqual(got["tags"], map[string]any{"team": "ml"}) || len(pools) != 1 ||
		testutil.Field(pools[0], "count") != 3.0 || testutil.Field(got, "properties.kubernetesVersion") != "1.36.3" {
		t.Errorf("GET after the PATCH = %d %v", status, got)
	}
	if ans := a.patch(t, path, `{}`, ""); ans.status != http.StatusOK || !reflect.DeepEqual(ans.body["tags"], map[string]any{"team": "ml"}) {
		t.Errorf("PATCH without tags = %d %s, want the tags kept", ans.status, ans.raw)
	}
	checkPatchRefusals(t, a, "cluster", path, `"7"`)
}

// TestPatchCompute: PATCH on a compute goes through the compute update a PUT makes: tags
// sent replace the set, description and node count stay unless sent, and the answer is the
// update's (200 with its operation); a bad node count is the PUT's 400; If-Match is
// compared with the etag; HEAD answers 204 or 404.
func TestPatchCompute(t *testing.T) {
	t.Parallel()
	a := patchARM(t)
	id, cluster := attachedCompute(t, a)
	path := id + "?api-version=2024-04-01"

	if ans := a.patch(t, path, `{"properties":{"properties":{"agentCount":0}}}`, ""); ans.status != http.StatusBadRequest ||
		testutil.Field(ans.body, "error.code") != arm.CodeUserError {
		t.Errorf("PATCH of agentCount 0 = %d %s, want the PUT's 400 UserError", ans.status, ans.raw)
	}
	checkPatchRefusals(t, a, "compute", path, `"9"`)

	ans := a.patch(t, path, `{"tags":{"b":"2"}}`, `"1"`)
	if ans.status != http.StatusOK || ans.header.Get("Azure-AsyncOperation") == "" || !reflect.DeepEqual(ans.body["tags"], map[string]any{"b": "2"}) ||
		testutil.Field(ans.body, "properties.description") != "mine" || testutil.Field(ans.body, "properties.properties.agentCount") != 3.0 {
		t.Fatalf("PATCH tags = %d (Azure-AsyncOperation %q) %s", ans.status, ans.header.Get("Azure-AsyncOperation"), ans.raw)
	}
	status, got := a.call(t, a.owner, http.MethodGet, path, nil)
	if status != http.StatusOK || !reflect.DeepEqual(got["tags"], map[string]any{"b": "2"}) || testutil.Field(got, "properties.resourceId") != cluster {
		t.Errorf("GET after the PATCH = %d %v", status, got)
	}
	// Its update runs (the engine of this test never starts it): another change waits, as
	// after a PUT.
	if ans := a.patch(t, path, `{"tags":{}}`, ""); ans.status != http.StatusConflict {
		t.Errorf("PATCH while the update runs = %d %s, want 409", ans.status, ans.raw)
	}
}

// attachedCompute creates group rg1 and stores in it workspace ws1 and compute c1 attached
// to cluster aks1, as a finished attach leaves them: tags a=1, description "mine", 3 Standard_D3_v2
// nodes, DevTest. It returns the compute's and the cluster's ids.
func attachedCompute(t *testing.T, a *testARM) (id, cluster string) {
	t.Helper()
	a.group(t, "rg1")
	if _, _, err := a.ws.Put(context.Background(), testSub, "rg1", "ws1", armapi.WorkspaceInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	cluster = succeededCluster(t, a, "rg1", "aks1", "1.36.3")
	id = compute.ID(testSub, "rg1", "ws1", "c1")
	desc, count, size, purpose := "mine", 3, "Standard_D3_v2", "DevTest"
	a.row(t, &store.Resource{ID: id, ParentID: workspaces.ID(testSub, "rg1", "ws1"), Type: compute.TypeCompute, Name: "c1",
		SubscriptionID: testSub, ResourceGroup: "rg1", Location: "westus"}, &armapi.Compute{ID: id, Name: "c1", Type: compute.TypeCompute,
		Location: "westus", Tags: map[string]string{"a": "1"}, Properties: armapi.ComputeProperties{ComputeType: "AKS", ComputeLocation: "westus",
			ProvisioningState: "Succeeded", Description: &desc, ResourceID: &cluster, IsAttachedCompute: true,
			Properties: &armapi.AKSProperties{AgentCount: &count, AgentVMSize: &size, ClusterPurpose: &purpose},
			Mlfleet:    &armapi.ComputeMlfleet{Attached: true}}})
	return id, cluster
}

// TestTagsOfCompute: the Tags API (az tag create --resource-id) changes a compute's tags
// through the compute update a PATCH makes, and the compute shows them.
func TestTagsOfCompute(t *testing.T) {
	t.Parallel()
	a := patchARM(t)
	id, _ := attachedCompute(t, a)
	status, body := a.call(t, a.owner, http.MethodPatch, id+"/providers/Microsoft.Resources/tags/default?api-version=2022-09-01",
		map[string]any{"operation": "Merge", "properties": map[string]any{"tags": map[string]string{"b": "2"}}})
	if status != http.StatusOK || !reflect.DeepEqual(testutil.Field(body, "properties.tags"), map[string]any{"a": "1", "b": "2"}) {
		t.Fatalf("merge tags of a compute = %d %v", status, body)
	}
	if _, got := a.call(t, a.owner, http.MethodGet, id+"?api-version=2024-04-01", nil); !reflect.DeepEqual(got["tags"], map[string]any{"a": "1", "b": "2"}) {
		t.Errorf("compute after the Tags API = %v", got)
	}
}

// TestComputeUnknownKeys: a compute PUT or PATCH whose properties.properties has a key an
// AKS compute does not have is a 400 UserError naming it (with its path) and changing
// nothing; Compute_Update's scaleSettings (AmlCompute's, what ComputeClient.BeginUpdate
// sends) says how an AKS compute is scaled instead. A compute as GET serves it, sent back
// whole (an SDK's read-modify-write), passes.
func TestComputeUnknownKeys(t *testing.T) {
	t.Parallel()
	a := patchARM(t)
	id, cluster := attachedCompute(t, a)
	path := id + "?api-version=2024-04-01"
	status, before := a.call(t, a.owner, http.MethodGet, path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET = %d %v", status, before)
	}
	put := func(props string) string {
		return `{"location":"westus","properties":{"computeType":"AKS","resourceId":"` + cluster + `","properties":` + props + `}}`
	}
	for _, tc := range []struct {
		name, method, body string
		targets            []string
		says               []string
	}{
		{"scaleSettings", http.MethodPatch, `{"properties":{"properties":{"scaleSettings":{"maxNodeCount":2,"minNodeCount":0}}}}`,
			[]string{"properties.properties.scaleSettings"}, []string{"AmlCompute", "properties.properties.agentCount", "mlfleet ml computetarget scale -n NAME --agent-count N"}},
		{"misspelt key", http.MethodPatch, `{"properties":{"properties":{"agentCnt":4}}}`,
			[]string{"properties.properties.agentCnt"}, []string{"'properties.properties.agentCnt' is not a property of an AKS compute", "agentCount"}},
		{"nested and top-level", http.MethodPut, put(`{"clusterPurpose":"DevTest","sslConfig":{},"sslConfiguration":{"status":"Disabled","certt":"x"}}`),
			[]string{"properties.properties.sslConfig", "properties.properties.sslConfiguration.certt"}, []string{"2 checks failed", "leafDomainLabel"}},
		{"one level too high", http.MethodPatch, `{"properties":{"scaleSettings":{"maxNodeCount":3},"agentCount":3}}`,
			[]string{"properties.agentCount", "properties.scaleSettings"}, []string{"'properties.agentCount' is not a property of a compute", "AKS settings go in properties.properties", "AmlCompute"}},
		{"top level", http.MethodPatch, `{"bogusTop":1,"identity":{"type":"SystemAssigned"},"sku":null}`,
			[]string{"bogusTop", "identity"}, []string{"'bogusTop' is not a property of a compute", "has no identity"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, a.srv.URL+path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+a.owner)
			ans := send(t, a.srv.Client(), req)
			var targets []string
			details, _ := testutil.Field(ans.body, "error.details").([]any)
			for _, d := range details {
				targets = append(targets, fmt.Sprint(testutil.Field(d, "target")))
			}
			if ans.status != http.StatusBadRequest || testutil.Field(ans.body, "error.code") != arm.CodeUserError || !slices.Equal(targets, tc.targets) {
				t.Fatalf("%s = %d %s, want 400 UserError on %v", tc.method, ans.status, ans.raw, tc.targets)
			}
			for _, s := range tc.says {
				if !strings.Contains(ans.raw, s) {
					t.Errorf("%s answer does not say %q: %s", tc.method, s, ans.raw)
				}
			}
			if status, after := a.call(t, a.owner, http.MethodGet, path, nil); status != http.StatusOK || !reflect.DeepEqual(after, before) {
				t.Errorf("the compute changed: %v, was %v", after, before)
			}
		})
	}
	if status, body := a.call(t, a.owner, http.MethodPut, path, before); status != http.StatusOK {
		t.Errorf("PUT of the compute as GET served it = %d %v, want 200", status, body)
	}
}
