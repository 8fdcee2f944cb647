package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

func TestCheckPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		ok         bool
	}{
		{"resource", "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/c", true},
		{"trailing slash", "/subscriptions/s/resourceGroups/rg/", false},
		{"dots inside a name", "/subscriptions/s/resourceGroups/my.rg..x", true},
		{"encoded space", "/subscriptions/s/resourceGroups/a%20b", true},
		{"dot dot", "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/..", false},
		{"dot", "/subscriptions/s/resourceGroups/./x", false},
		{"encoded dot dot", "/subscriptions/s/resourceGroups/%2e%2E", false},
		{"half encoded", "/subscriptions/s/resourceGroups/.%2e", false},
		{"encoded slash", "/subscriptions/s/resourceGroups/a%2Fb", false},
		{"encoded backslash", "/subscriptions/s/resourceGroups/a%5cb", false},
		{"empty segment", "/subscriptions//resourceGroups/rg", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://x"+tt.path, nil)
			err := checkPath(r)
			var ae *arm.Error
			switch {
			case tt.ok && err != nil:
				t.Fatalf("checkPath(%s) = %v, want nil", tt.path, err)
			case !tt.ok && (!errors.As(err, &ae) || ae.Status != 400 || ae.Code != arm.CodeInvalidResourceName):
				t.Fatalf("checkPath(%s) = %v, want 400 InvalidResourceName", tt.path, err)
			}
		})
	}
}

func TestServedByMux(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/": true, "/healthz": true, "/readyz": true, "/metrics": true, "/ui/app.js": true,
		"/subscriptions": false, "/subscriptions/../healthz": false, "//": false, "/mlfleet/v1/tokens": false,
	} {
		if got := servedByMux(http.MethodGet, path); got != want {
			t.Errorf("servedByMux(GET %q) = %v, want %v", path, got, want)
		}
		if servedByMux(http.MethodPost, path) {
			t.Errorf("servedByMux(POST %q) = true, want the API", path)
		}
	}
}

func TestWithoutEmptyParent(t *testing.T) {
	t.Parallel()
	const rg = "/subscriptions/s/resourcegroups/rg"
	tests := []struct {
		name, path, want string
	}{
		{"az resource show --resource-type NS/TYPE", rg + "/providers/Microsoft.ContainerService//managedClusters/aks1", rg + "/providers/Microsoft.ContainerService/managedClusters/aks1"},
		{"a list", rg + "/providers/NS//things", rg + "/providers/NS/things"},
		{"a child", rg + "/providers/NS//workspaces/ws/computes/c", rg + "/providers/NS/workspaces/ws/computes/c"},
		{"case of providers", rg + "/PROVIDERS/NS//t/n", rg + "/PROVIDERS/NS/t/n"},
		{"escapes kept", rg + "/providers/NS//t/a%20b", rg + "/providers/NS/t/a%20b"},
		{"no empty segment", rg + "/providers/NS/t/n", rg + "/providers/NS/t/n"},
		{"elsewhere", "/subscriptions//resourceGroups/rg", "/subscriptions//resourceGroups/rg"},
		{"no namespace", rg + "/providers//t/n", rg + "/providers//t/n"},
		{"no type after it", rg + "/providers/NS//", rg + "/providers/NS//"},
		{"at the end", rg + "/providers/NS/", rg + "/providers/NS/"},
		{"two empty segments", rg + "/providers/NS///t/n", rg + "/providers/NS///t/n"},
		{"after the type", rg + "/providers/NS/t//n", rg + "/providers/NS/t//n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://x"+tt.path+"?api-version=1", nil)
			got := withoutEmptyParent(r)
			if p := got.URL.EscapedPath(); p != tt.want {
				t.Fatalf("withoutEmptyParent(%s) = %s, want %s", tt.path, p, tt.want)
			}
			if got.URL.RawQuery != "api-version=1" || r.URL.EscapedPath() != tt.path {
				t.Fatalf("withoutEmptyParent(%s) lost the query (%q) or changed the request it was given (%s)", tt.path, got.URL.RawQuery, r.URL.EscapedPath())
			}
		})
	}
}

// TestEmptyParentPath: az resource show|tag|delete -g rg -n aks1 --resource-type
// Microsoft.ContainerService/managedClusters sends …/providers/Microsoft.ContainerService//managedClusters/aks1,
// an empty parent resource path that ARM accepts; every method serves it as the cluster's
// own path. An empty segment anywhere else stays a 400.
func TestEmptyParentPath(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
	empty := strings.Replace(id, "/Microsoft.ContainerService/", "/Microsoft.ContainerService//", 1) + "?api-version=2022-11-01"

	status, read := a.call(t, a.owner, http.MethodGet, empty, nil)
	if status != http.StatusOK || read["id"] != id {
		t.Fatalf("GET %s = %d %v, want 200 with the cluster", empty, status, read)
	}
	read["tags"] = map[string]any{"team": "qa"}
	if status, out := a.call(t, a.owner, http.MethodPut, empty, read); status != http.StatusOK || testutil.Field(out, "tags.team") != "qa" {
		t.Fatalf("PUT %s = %d %v, want 200 with the new tags", empty, status, out)
	}
	if status, out := a.call(t, a.owner, http.MethodGet, id+"?api-version=2022-11-01", nil); status != http.StatusOK || testutil.Field(out, "tags.team") != "qa" {
		t.Fatalf("GET %s after the PUT = %d %v, want the new tags", id, status, out)
	}
	if status, out := a.call(t, a.owner, http.MethodDelete, empty, nil); status != http.StatusAccepted {
		t.Fatalf("DELETE %s = %d %v, want 202", empty, status, out)
	}

	// az resource show -n ws/c --resource-type NS/workspaces/computes sends the workspace
	// type with an encoded slash in the name: still refused, with what to send instead.
	nested := subURL + "/resourcegroups/rg1/providers/Microsoft.MachineLearningServices//workspaces/ws%2Fc?api-version=2024-04-01"
	if status, body := a.call(t, a.owner, http.MethodGet, nested, nil); status != http.StatusBadRequest || errorCode(body) != arm.CodeInvalidResourceName ||
		!strings.Contains(testutil.Field(body, "error.message").(string), "--parent workspaces/ws --resource-type computes") {
		t.Errorf("GET %s = %d %v, want 400 InvalidResourceName saying to use --parent", nested, status, body)
	}

	rg1 := subURL + "/resourceGroups/rg1"
	for _, path := range []string{
		rg1 + "/providers/Microsoft.ContainerService///managedClusters/aks1",
		rg1 + "/providers//Microsoft.ContainerService/managedClusters/aks1",
		rg1 + "/providers/Microsoft.ContainerService/managedClusters//aks1",
		rg1 + "//providers/Microsoft.ContainerService/managedClusters/aks1",
		rg1 + "/providers/Microsoft.ContainerService//..",
	} {
		if status, body := a.call(t, a.owner, http.MethodGet, path+"?api-version=2022-11-01", nil); status != http.StatusBadRequest || errorCode(body) != arm.CodeInvalidResourceName {
			t.Errorf("GET %s = %d %v, want 400 InvalidResourceName", path, status, body)
		}
	}
}
