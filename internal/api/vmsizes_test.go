package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/servicetest"
)

const testSub = "00000000-0000-0000-0000-0000000000aa"

// catalogServer is a real API server over a real SQLite store, with one subscription and a
// Reader token: enough for the read-only catalog routes. Its operation engine never starts.
func catalogServer(t *testing.T) (srv *httptest.Server, token string) {
	t.Helper()
	return versionsServer(t, nil)
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

// versionsServer is catalogServer with the version catalog versions (nil = the built-in).
func versionsServer(t *testing.T, versions *catalog.Versions) (srv *httptest.Server, token string) {
	t.Helper()
	stack := servicetest.New(t, testSub, func(c *containerservice.Config) {
		if versions != nil {
			c.Versions = versions
		}
	})
	var authn *auth.Authenticator
	authn, token = cappedToken(t, stack.Store, auth.RoleReader)
	srv = httptest.NewServer(New(Config{Store: stack.Store, Auth: authn, Resources: stack.Resources, Clusters: stack.Clusters}))
	t.Cleanup(srv.Close)
	return srv, token
}

// TestVersionsOfUnknownLocation: the Kubernetes version lists (az aks get-versions, old and
// new generation) of a location that is no Azure region, or that the server's version
// catalog does not offer (a --versions-file without it and without "*"), are ARM's 400
// NoRegisteredProviderFound in ARM's words, naming the location, the type and the
// locations to use instead, never an empty list.
func TestVersionsOfUnknownLocation(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "versions.json")
	if err := os.WriteFile(file, []byte(`{"locations":{"eastus":[{"version":"1.37.2","default":true}],"northeurope":[{"version":"1.37.2","default":true}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	eastOnly, err := catalog.LoadVersions(file)
	if err != nil {
		t.Fatal(err)
	}
	builtIn, builtInToken := versionsServer(t, nil)
	fromFile, fromFileToken := versionsServer(t, eastOnly)
	orchestrators := func(loc string) string {
		return "/subscriptions/" + testSub + "/providers/Microsoft.ContainerService/locations/" + loc + "/orchestrators?api-version=2019-08-01&resource-type=managedClusters"
	}
	kubernetesVersions := func(loc string) string {
		return "/subscriptions/" + testSub + "/providers/Microsoft.ContainerService/locations/" + loc + "/kubernetesVersions?api-version=2025-02-01"
	}
	tests := []struct {
		name  string
		srv   *httptest.Server
		token string
		path  string
		// want are in the message of the 400; none for a 200.
		want []string
	}{
		{name: "known region", srv: builtIn, token: builtInToken, path: orchestrators("westus")},
		{name: "unknown region", srv: builtIn, token: builtInToken, path: orchestrators("nowhere"),
			want: []string{"No registered resource provider found for location 'nowhere' and API version '2019-08-01' for type 'locations/orchestrators'.",
				"The supported api-versions are '2019-08-01, 2019-04-01'.", "The supported locations are 'australiacentral, ", "westus, westus2, westus3'."}},
		{name: "unknown region, new generation", srv: builtIn, token: builtInToken, path: kubernetesVersions("NOWHERE"),
			want: []string{"location 'NOWHERE' and API version '2025-02-01' for type 'locations/kubernetesVersions'", "eastus, eastus2"}},
		{name: "region the catalog lists", srv: fromFile, token: fromFileToken, path: orchestrators("eastus")},
		{name: "region the catalog does not list", srv: fromFile, token: fromFileToken, path: orchestrators("westus"),
			// Exactly the catalog's locations: its "*", if it had one, is no location.
			want: []string{"location 'westus'", "The supported locations are 'eastus, northeurope'."}},
		{name: "region the catalog does not list, new generation", srv: fromFile, token: fromFileToken, path: kubernetesVersions("West%20US"),
			want: []string{"location 'westus'", "The supported locations are 'eastus, northeurope'."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := get(t, tt.srv, tt.token, tt.path)
			if len(tt.want) == 0 {
				if status != http.StatusOK {
					t.Fatalf("GET %s = %d %v, want 200", tt.path, status, body)
				}
				return
			}
			if status != http.StatusBadRequest || errorCode(body) != "NoRegisteredProviderFound" {
				t.Fatalf("GET %s = %d %v, want 400 NoRegisteredProviderFound", tt.path, status, body)
			}
			msg, _ := body["error"].(map[string]any)["message"].(string)
			for _, want := range tt.want {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
		})
	}
}
