package api

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
)

// testRouter registers the API's own path shapes with handlers that write the pattern they
// were registered with, so a test can see which route a path reached.
func testRouter(t *testing.T) *router {
	t.Helper()
	rt := &router{}
	for _, r := range []struct{ method, pattern string }{
		{http.MethodGet, "/subscriptions"},
		{http.MethodGet, subPath},
		{http.MethodGet, subPath + "/resourceGroups"},
		{http.MethodPut, rgPath},
		{http.MethodGet, rgPath},
		{http.MethodDelete, rgPath},
		{http.MethodGet, rgPath + "/providers/Microsoft.MachineLearningServices/workspaces"},
		{http.MethodGet, wsPath},
		{http.MethodGet, subPath + "/providers/{ns}/operationStatuses/{op}"},
		{http.MethodPost, "/mlfleet/v1/tokens"},
	} {
		rt.handle(r.method, r.pattern, func(w http.ResponseWriter, _ *http.Request, _ params) {
			w.Write([]byte(r.method + " " + r.pattern))
		})
	}
	return rt
}

// served calls the handler route holds for method and returns what it wrote.
func served(t *testing.T, rt *route, method string) string {
	t.Helper()
	h, ok := rt.methods[method]
	if !ok {
		t.Fatalf("route /%v has no %s handler", rt.segments, method)
	}
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(method, "/", nil), nil)
	return rec.Body.String()
}

func TestRouterMatch(t *testing.T) {
	t.Parallel()
	const sub = "00000000-0000-0000-0000-000000000001"
	tests := []struct {
		name   string
		method string
		path   string
		// want is the pattern of the route that must answer; "" means no route matches.
		want       string
		wantParams params
	}{
		{name: "root list", method: http.MethodGet, path: "/subscriptions", want: "/subscriptions", wantParams: params{}},
		{
			name: "subscription", method: http.MethodGet, path: "/subscriptions/" + sub,
			want: subPath, wantParams: params{"sub": sub},
		},
		{
			name: "resource group keeps the case of its name", method: http.MethodPut,
			path: "/subscriptions/" + sub + "/resourceGroups/My-RG",
			want: rgPath, wantParams: params{"sub": sub, "rg": "My-RG"},
		},
		{
			name: "literal segments match in any case", method: http.MethodGet,
			path: "/SUBSCRIPTIONS/" + sub + "/resourcegroups/RG1/PROVIDERS/microsoft.machinelearningservices/WORKSPACES/Ws-One",
			want: wsPath, wantParams: params{"sub": sub, "rg": "RG1", "ws": "Ws-One"},
		},
		{
			name: "several methods on one route", method: http.MethodDelete,
			path: "/subscriptions/" + sub + "/resourceGroups/rg1",
			want: rgPath, wantParams: params{"sub": sub, "rg": "rg1"},
		},
		{
			name: "param in the middle", method: http.MethodGet,
			path:       "/subscriptions/" + sub + "/providers/Microsoft.MachineLearningServices/operationStatuses/Op-1",
			want:       subPath + "/providers/{ns}/operationStatuses/{op}",
			wantParams: params{"sub": sub, "ns": "Microsoft.MachineLearningServices", "op": "Op-1"},
		},
		{
			name: "trailing slash is ignored", method: http.MethodGet, path: "/subscriptions/" + sub + "/",
			want: subPath, wantParams: params{"sub": sub},
		},
		{name: "mlfleet route", method: http.MethodPost, path: "/MLFLEET/v1/Tokens", want: "/mlfleet/v1/tokens", wantParams: params{}},
		{name: "root", path: "/"},
		{name: "empty", path: ""},
		{name: "one segment too many", path: "/subscriptions/" + sub + "/resourceGroups/rg1/extra"},
		{name: "one segment too few", path: "/subscriptions/" + sub + "/providers/Microsoft.MachineLearningServices/operationStatuses"},
		{name: "workspace without name", path: "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes"},
		{name: "wrong literal", path: "/subscriptions/" + sub + "/resourceGroupz/rg1"},
		{name: "wrong provider", path: "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/workspaces/ws1"},
		{name: "empty subscription", path: "/subscriptions//resourceGroups/rg1"},
		{name: "empty group name", path: "/subscriptions/" + sub + "/resourceGroups//providers/Microsoft.MachineLearningServices/workspaces"},
		{name: "empty literal segment", path: "/subscriptions/" + sub + "//rg1"},
		{name: "empty namespace", path: "/subscriptions/" + sub + "/providers//operationStatuses/op1"},
	}
	rt := testRouter(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, p := rt.match(tt.path)
			if tt.want == "" {
				if r != nil {
					t.Fatalf("match(%q) = route /%v with %v, want no match", tt.path, r.segments, p)
				}
				return
			}
			if r == nil {
				t.Fatalf("match(%q) = no route, want %s", tt.path, tt.want)
			}
			if got := served(t, r, tt.method); got != tt.method+" "+tt.want {
				t.Errorf("match(%q) reached %q, want %q", tt.path, got, tt.method+" "+tt.want)
			}
			if !maps.Equal(p, tt.wantParams) {
				t.Errorf("match(%q) params = %v, want %v", tt.path, p, tt.wantParams)
			}
		})
	}
}

// A pattern registered again in another case adds a method to the same route rather than a
// second route that could never be reached.
func TestRouterHandleMergesPatterns(t *testing.T) {
	t.Parallel()
	rt := &router{}
	noop := func(http.ResponseWriter, *http.Request, params) {}
	first := rt.handle(http.MethodGet, "/subscriptions/{sub}/resourceGroups/{rg}", noop)
	second := rt.handle(http.MethodPut, "/Subscriptions/{sub}/resourcegroups/{rg}", noop)
	if first != second || len(rt.routes) != 1 {
		t.Fatalf("handle made %d routes, want 1", len(rt.routes))
	}
	r, _ := rt.match("/subscriptions/s1/resourceGroups/rg1")
	if r == nil {
		t.Fatal("no match")
	}
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		if _, ok := r.methods[m]; !ok {
			t.Errorf("route lacks %s", m)
		}
	}
}
