package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

func TestProviders(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	groupReader := a.principal(t, auth.RoleReader, subURL+"/resourceGroups/rg1")
	nobody := a.principal(t, "", "")

	status, body := a.call(t, groupReader, http.MethodGet, subURL+"/providers?api-version=2021-04-01", nil)
	if status != http.StatusOK {
		t.Fatalf("list providers = %d %v", status, body)
	}
	var namespaces []string
	for _, v := range body["value"].([]any) {
		namespaces = append(namespaces, v.(map[string]any)["namespace"].(string))
	}
	for _, want := range []string{"Microsoft.ContainerService", "Microsoft.MachineLearningServices", "Microsoft.Resources", "Microsoft.Compute", "Microsoft.Authorization"} {
		if !slices.Contains(namespaces, want) {
			t.Errorf("providers %v lack %s", namespaces, want)
		}
	}

	// az provider show -n Microsoft.ContainerService, in any case, by whoever has a role
	// somewhere in the subscription.
	status, body = a.call(t, groupReader, http.MethodGet, subURL+"/providers/microsoft.containerservice?api-version=2022-09-01", nil)
	if status != http.StatusOK || body["namespace"] != "Microsoft.ContainerService" || body["registrationState"] != "Registered" ||
		body["id"] != subURL+"/providers/Microsoft.ContainerService" {
		t.Fatalf("show provider = %d %v", status, body)
	}
	var mc map[string]any
	for _, v := range body["resourceTypes"].([]any) {
		if rt := v.(map[string]any); rt["resourceType"] == "managedClusters" {
			mc = rt
		}
	}
	if mc == nil || !slices.Contains(mc["apiVersions"].([]any), any("2022-11-01")) || !slices.Contains(mc["locations"].([]any), any("westus")) {
		t.Errorf("managedClusters resource type = %v", mc)
	}

	tests := []struct {
		name, token, method, path string
		status                    int
		code                      string
	}{
		{"unknown namespace", groupReader, http.MethodGet, "/providers/Microsoft.Nope", http.StatusNotFound, "InvalidResourceNamespace"},
		{"no role in the subscription", nobody, http.MethodGet, "/providers/Microsoft.ContainerService", http.StatusForbidden, "AuthorizationFailed"},
		{"list without a role", nobody, http.MethodGet, "/providers", http.StatusForbidden, "AuthorizationFailed"},
		{"register as a reader", groupReader, http.MethodPost, "/providers/Microsoft.ContainerService/register", http.StatusForbidden, "AuthorizationFailed"},
		{"register as owner", a.owner, http.MethodPost, "/providers/Microsoft.ContainerService/register", http.StatusOK, ""},
	}
	for _, tt := range tests {
		status, body := a.call(t, tt.token, tt.method, subURL+tt.path+"?api-version=2021-04-01", nil)
		if status != tt.status || errorCode(body) != tt.code {
			t.Errorf("%s: %s %s = %d %q, want %d %q", tt.name, tt.method, tt.path, status, errorCode(body), tt.status, tt.code)
		}
	}
}

// TestProvidersCoverRoutes: every resource type a route serves is listed by its provider,
// so that az resource show finds an api-version for it.
func TestProvidersCoverRoutes(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	for _, r := range s.Routes() {
		if r.Method == http.MethodPost || strings.HasPrefix(r.Pattern, "/mlfleet/") || strings.Contains(r.Pattern, "{ns}") {
			continue
		}
		path := strings.NewReplacer("{", "", "}", "").Replace(r.Pattern)
		rt, _ := s.router.match(path)
		action := requestPermission(rt.segments, r.Method, path).action
		full := action[:strings.LastIndex(action, "/")] // without the verb
		namespace, typ, _ := strings.Cut(full, "/")
		found := false
		for _, p := range providers {
			for _, x := range p.types {
				found = found || strings.EqualFold(p.namespace, namespace) && strings.EqualFold(x.name, typ)
			}
		}
		if !found {
			t.Errorf("%s %s serves %s, which no provider lists", r.Method, r.Pattern, full)
		}
	}
}

// TestListResources: the generic list shows the resources users made and none of the rows
// mlfleet keeps for itself, filters, pages and expands as ARM does.
func TestListResources(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	ctx := context.Background()
	a.group(t, "rg1")
	a.group(t, "rg2")
	for _, w := range []struct{ rg, name string }{{"rg1", "ws1"}, {"rg2", "ws2"}} {
		if _, _, err := a.ws.Put(ctx, testSub, w.rg, w.name, armapi.WorkspaceInput{Location: "westus"}); err != nil {
			t.Fatal(err)
		}
	}
	rg1 := subURL + "/resourceGroups/rg1"
	ws1 := rg1 + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	ws2 := subURL + "/resourceGroups/rg2/providers/Microsoft.MachineLearningServices/workspaces/ws2"
	aks1 := rg1 + "/providers/Microsoft.ContainerService/managedClusters/aks1"
	compute := ws1 + "/computes/gpu"
	// A cluster and a compute, with the rows that go with them: the cluster's sealed
	// kubeconfig and attachment claim, the compute's TLS secret and name claim.
	a.row(t, &store.Resource{ID: aks1, ParentID: rg1, Type: "Microsoft.ContainerService/managedClusters", Name: "aks1", SubscriptionID: testSub, ResourceGroup: "rg1", Location: "westus"},
		map[string]any{"location": "westus", "tags": map[string]string{"env": "prod"}, "sku": map[string]string{"name": "Base"}, "identity": map[string]string{"type": "SystemAssigned"},
			"properties": map[string]any{"provisioningState": "Succeeded"}})
	a.row(t, &store.Resource{ID: aks1 + "/mlfleetSecrets/kubeconfig", ParentID: aks1, Type: "Microsoft.ContainerService/managedClusters/mlfleetSecrets", Name: "kubeconfig", OwnerID: aks1}, map[string]any{})
	a.row(t, &store.Resource{ID: aks1 + "/mlfleetAttachments/current", ParentID: aks1, Type: "Microsoft.ContainerService/managedClusters/mlfleetAttachments", Name: "current", OwnerID: compute}, map[string]any{})
	a.row(t, &store.Resource{ID: compute, ParentID: ws1, Type: "Microsoft.MachineLearningServices/workspaces/computes", Name: "gpu", SubscriptionID: testSub, ResourceGroup: "rg1", Location: "westus"},
		map[string]any{"location": "westus", "properties": map[string]any{"provisioningState": "Creating"}})
	a.row(t, &store.Resource{ID: compute + "/mlfleetSecrets/tls", ParentID: compute, Type: "Microsoft.MachineLearningServices/workspaces/computes/mlfleetSecrets", Name: "tls", OwnerID: compute}, map[string]any{})
	a.row(t, &store.Resource{ID: "/providers/Microsoft.MachineLearningServices/locations/westus/computeNames/gpu", Type: "Microsoft.MachineLearningServices/locations/computeNames", Name: "gpu", Location: "westus", OwnerID: compute}, map[string]any{})

	list := func(token, path string) (int, []string, map[string]any) {
		t.Helper()
		status, body := a.call(t, token, http.MethodGet, path, nil)
		var ids []string
		if items, ok := body["value"].([]any); ok {
			for _, v := range items {
				ids = append(ids, v.(map[string]any)["id"].(string))
			}
		}
		return status, ids, body
	}
	q := func(base, query string) string {
		return base + "?api-version=2021-04-01&" + query
	}
	all := []string{aks1, ws1, compute, ws2}
	tests := []struct {
		name, path string
		want       []string
	}{
		{"subscription", q(subURL+"/resources", ""), all},
		{"resource group", q(rg1+"/resources", ""), []string{aks1, ws1, compute}},
		{"az resource list -g", q(subURL+"/resources", "$filter="+url.QueryEscape("resourceGroup eq 'RG2'")), []string{ws2}},
		{"by type", q(subURL+"/resources", "$filter="+url.QueryEscape("resourceType eq 'microsoft.containerservice/managedclusters'")), []string{aks1}},
		{"by type in a group", q(rg1+"/resources", "$filter="+url.QueryEscape("resourceType eq 'Microsoft.MachineLearningServices/workspaces'")), []string{ws1}},
		{"an internal type", q(subURL+"/resources", "$filter="+url.QueryEscape("resourceType eq 'Microsoft.ContainerService/managedClusters/mlfleetAttachments'")), nil},
		{"by name", q(subURL+"/resources", "$filter="+url.QueryEscape("name eq 'ws2'")), []string{ws2}},
		{"a child by its full name", q(subURL+"/resources", "$filter="+url.QueryEscape("name eq 'ws1/gpu'")), []string{compute}},
		{"name contains", q(subURL+"/resources", "$filter="+url.QueryEscape("substringof('ws', name)")), []string{ws1, compute, ws2}},
		{"by tag", q(subURL+"/resources", "$filter="+url.QueryEscape("tagName eq 'env' and tagValue eq 'prod'")), []string{aks1}},
		{"another group's filter in a group", q(rg1+"/resources", "$filter="+url.QueryEscape("resourceGroup eq 'rg2'")), nil},
	}
	for _, tt := range tests {
		status, ids, body := list(a.owner, tt.path)
		if status != http.StatusOK || !slices.Equal(ids, tt.want) {
			t.Errorf("%s: GET %s = %d %v, want %v; body %v", tt.name, tt.path, status, ids, tt.want, body)
		}
	}

	// The body is ARM's generic resource; with $expand the times and state are added.
	_, _, body := list(a.owner, q(rg1+"/resources", "$filter="+url.QueryEscape("resourceType eq 'Microsoft.ContainerService/managedClusters'")))
	r := body["value"].([]any)[0].(map[string]any)
	if r["name"] != "aks1" || r["type"] != "Microsoft.ContainerService/managedClusters" || r["location"] != "westus" ||
		r["tags"].(map[string]any)["env"] != "prod" || r["identity"].(map[string]any)["type"] != "SystemAssigned" || r["sku"] == nil {
		t.Errorf("generic resource = %v", r)
	}
	for _, key := range []string{"properties", "createdTime", "provisioningState"} {
		if _, ok := r[key]; ok {
			t.Errorf("generic resource without $expand has %s: %v", key, r)
		}
	}
	_, _, body = list(a.owner, q(rg1+"/resources", "$expand=createdTime%2CchangedTime%2CprovisioningState"))
	for _, v := range body["value"].([]any) {
		r := v.(map[string]any)
		if r["createdTime"] == nil || r["changedTime"] == nil || r["provisioningState"] == nil {
			t.Errorf("expanded resource = %v", r)
		}
	}
	if r := body["value"].([]any)[2].(map[string]any); r["name"] != "ws1/gpu" || r["provisioningState"] != "Creating" {
		t.Errorf("expanded compute = %v", r)
	}

	// Paging: one at a time, following nextLink, gives the whole list, with or without a
	// clause the store cannot apply.
	for _, filter := range []string{"", "$filter=" + url.QueryEscape("substringof('ws', name)")} {
		want := all
		if filter != "" {
			want = []string{ws1, compute, ws2}
		}
		var got []string
		next := q(subURL+"/resources", "$top=1&"+filter)
		for pages := 0; next != ""; pages++ {
			if pages > len(want) {
				t.Fatalf("more pages than resources: %v", got)
			}
			status, ids, body := list(a.owner, next)
			if status != http.StatusOK || len(ids) > 1 {
				t.Fatalf("page %d = %d %v", pages, status, body)
			}
			got = append(got, ids...)
			next, _ = body["nextLink"].(string)
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of %q = %v, want %v", filter, got, want)
		}
	}

	errs := []struct {
		name, path string
		status     int
		code       string
	}{
		{"missing group", q(subURL+"/resourceGroups/nope/resources", ""), http.StatusNotFound, "ResourceGroupNotFound"},
		{"bad filter", q(subURL+"/resources", "$filter="+url.QueryEscape("kind eq 'x'")), http.StatusBadRequest, "InvalidFilterInQueryString"},
		{"bad skiptoken", q(subURL+"/resources", "$skiptoken=x"), http.StatusBadRequest, "InvalidRequestContent"},
		{"bad top", q(subURL+"/resources", "$top=0"), http.StatusBadRequest, "InvalidRequestContent"},
	}
	for _, tt := range errs {
		if status, body := a.call(t, a.owner, http.MethodGet, tt.path, nil); status != tt.status || errorCode(body) != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
	}
}

// TestListResourcesAuthorization: a caller sees only the resources it may read.
func TestListResourcesAuthorization(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	ctx := context.Background()
	for _, rg := range []string{"rg1", "rg2"} {
		a.group(t, rg)
		if _, _, err := a.ws.Put(ctx, testSub, rg, "ws-"+rg, armapi.WorkspaceInput{Location: "westus"}); err != nil {
			t.Fatal(err)
		}
	}
	ws := func(rg string) string {
		return subURL + "/resourceGroups/" + rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws-" + rg
	}
	rg1Reader := a.principal(t, auth.RoleReader, subURL+"/resourceGroups/rg1")
	ws2Reader := a.principal(t, auth.RoleReader, ws("rg2"))
	subReader := a.principal(t, auth.RoleReader, subURL)
	nobody := a.principal(t, "", "")
	tests := []struct {
		name, token, path string
		status            int
		want              []string
	}{
		{"subscription reader", subReader, subURL + "/resources", http.StatusOK, []string{ws("rg1"), ws("rg2")}},
		{"group reader, subscription list", rg1Reader, subURL + "/resources", http.StatusOK, []string{ws("rg1")}},
		{"group reader, its group", rg1Reader, subURL + "/resourceGroups/rg1/resources", http.StatusOK, []string{ws("rg1")}},
		{"group reader, another group", rg1Reader, subURL + "/resourceGroups/rg2/resources", http.StatusForbidden, nil},
		{"resource reader, its group", ws2Reader, subURL + "/resourceGroups/rg2/resources", http.StatusOK, []string{ws("rg2")}},
		{"resource reader, filtered on a group", ws2Reader, subURL + "/resources?$filter=" + url.QueryEscape("resourceGroup eq 'rg1'"), http.StatusOK, nil},
		{"no role", nobody, subURL + "/resources", http.StatusForbidden, nil},
	}
	for _, tt := range tests {
		path := tt.path + "?api-version=2021-04-01"
		if strings.Contains(tt.path, "?") {
			path = tt.path + "&api-version=2021-04-01"
		}
		status, body := a.call(t, tt.token, http.MethodGet, path, nil)
		var ids []string
		if items, ok := body["value"].([]any); ok {
			for _, v := range items {
				ids = append(ids, v.(map[string]any)["id"].(string))
			}
		}
		if status != tt.status || !slices.Equal(ids, tt.want) {
			t.Errorf("%s: GET %s = %d %v, want %d %v", tt.name, tt.path, status, ids, tt.status, tt.want)
		}
	}
}
