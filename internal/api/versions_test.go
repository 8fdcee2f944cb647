package api

import (
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
		// notWant are not.
		notWant []string
	}{
		{name: "known region", srv: builtIn, token: builtInToken, path: orchestrators("westus")},
		{name: "unknown region", srv: builtIn, token: builtInToken, path: orchestrators("nowhere"),
			want: []string{"No registered resource provider found for location 'nowhere' and API version '2019-08-01' for type 'locations/orchestrators'.",
				"The supported api-versions are '2019-08-01, 2019-04-01'.", "The supported locations are 'australiacentral, ", "westus, westus2, westus3'."}},
		{name: "unknown region, new generation", srv: builtIn, token: builtInToken, path: kubernetesVersions("NOWHERE"),
			want: []string{"location 'NOWHERE' and API version '2025-02-01' for type 'locations/kubernetesVersions'", "eastus, eastus2"}},
		{name: "region the catalog lists", srv: fromFile, token: fromFileToken, path: orchestrators("eastus")},
		{name: "region the catalog does not list", srv: fromFile, token: fromFileToken, path: orchestrators("westus"),
			want: []string{"location 'westus'", "The supported locations are 'eastus, northeurope'."}, notWant: []string{"*"}},
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
			for _, not := range tt.notWant {
				if strings.Contains(msg, not) {
					t.Errorf("message %q contains %q", msg, not)
				}
			}
		})
	}
}
