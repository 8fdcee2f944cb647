package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/servicetest"
)

const testSub = "00000000-0000-0000-0000-0000000000aa"

// catalogServer is a real API server over a real SQLite store, with one subscription and a
// Reader token: enough for the read-only catalog routes. Its operation engine never starts.
func catalogServer(t *testing.T) (srv *httptest.Server, token string) {
	t.Helper()
	stack := servicetest.New(t, testSub, nil)
	var authn *auth.Authenticator
	authn, token = cappedToken(t, stack.Store, auth.RoleReader)
	srv = httptest.NewServer(New(Config{Store: stack.Store, Auth: authn, Resources: stack.Resources, Clusters: stack.Clusters}))
	t.Cleanup(srv.Close)
	return srv, token
}

// get calls path on srv with token ("" = none) and decodes the JSON answer.
func get(t *testing.T, srv *httptest.Server, token, path string) (int, map[string]any) {
	t.Helper()
	return callJSON(t, srv, http.MethodGet, token, path, "")
}

// callJSON sends a request of method to path on srv with token ("" = none) and body (as
// JSON, "" = none), and decodes the JSON answer.
func callJSON(t *testing.T, srv *httptest.Server, method, token, path, body string) (int, map[string]any) {
	t.Helper()
	var in io.Reader
	if body != "" {
		in = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, in)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	ans := send(t, srv.Client(), req)
	if ans.body == nil {
		t.Fatalf("%s %s: %d, body is not JSON: %q", method, path, ans.status, ans.raw)
	}
	return ans.status, ans.body
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestListVMSizes(t *testing.T) {
	t.Parallel()
	srv, token := catalogServer(t)
	sizes := "/providers/Microsoft.Compute/locations/%s/vmSizes?api-version=2024-07-01"
	path := func(sub, loc string) string {
		return "/subscriptions/" + sub + fmt.Sprintf(sizes, loc)
	}
	tests := []struct {
		name     string
		token    string
		path     string
		status   int
		wantCode string
	}{
		{name: "region name", token: token, path: path(testSub, "westus"), status: http.StatusOK},
		{name: "region display name", token: token, path: path(testSub, "West%20US"), status: http.StatusOK},
		{name: "unknown region", token: token, path: path(testSub, "atlantis"), status: http.StatusBadRequest, wantCode: "NoRegisteredProviderFound"},
		{name: "unknown subscription", token: token, path: path("00000000-0000-0000-0000-000000000bad", "westus"), status: http.StatusNotFound, wantCode: "SubscriptionNotFound"},
		{name: "no api-version", token: token, path: "/subscriptions/" + testSub + "/providers/Microsoft.Compute/locations/westus/vmSizes", status: http.StatusBadRequest, wantCode: "MissingApiVersionParameter"},
		{name: "no token", path: path(testSub, "westus"), status: http.StatusUnauthorized, wantCode: "AuthenticationFailed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, srv, tt.token, tt.path)
			if status != tt.status || errorCode(body) != tt.wantCode {
				t.Fatalf("GET %s = %d %q, want %d %q; body %v", tt.path, status, errorCode(body), tt.status, tt.wantCode, body)
			}
			if status != http.StatusOK {
				return
			}
			byName := map[string]map[string]any{}
			for _, v := range body["value"].([]any) {
				size := v.(map[string]any)
				byName[size["name"].(string)] = size
			}
			if len(byName) != len(catalog.DefaultVMSizes().All()) {
				t.Errorf("%d sizes listed, the catalog has %d", len(byName), len(catalog.DefaultVMSizes().All()))
			}
			d3 := byName["Standard_D3_v2"]
			if d3["numberOfCores"] != 4.0 || d3["memoryInMB"] != 14336.0 || d3["mlfleet"] != nil {
				t.Errorf("Standard_D3_v2 = %v, want 4 cores, 14336 MB, no accelerators", d3)
			}
			nc6 := byName["Standard_NC6"]
			if extras, _ := nc6["mlfleet"].(map[string]any); extras["gpus"] != 1.0 {
				t.Errorf("Standard_NC6 = %v, want mlfleet.gpus 1", nc6)
			}
		})
	}
}
