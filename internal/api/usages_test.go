package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/internal/servicetest"
)

// infoOnlyProvider stands in for the embedded provider and is named so: it answers Info,
// and refuses to run anything.
func infoOnlyProvider() provider.Provider {
	return providertest.InfoOnly{I: provider.Info{Name: "embedded", CanCreate: true, CanScale: true, DeleteDestroys: true,
		Versions: []string{catalog.DefaultVersions().Default("westus").Version}}}
}

// quotaServer is a real API server over a real SQLite store with the quotas of quotaJSON,
// a resource group rg1 in westus and an Owner token. Its operation engine never starts.
func quotaServer(t *testing.T, quotaJSON string) (srv *httptest.Server, token string) {
	t.Helper()
	q, err := quota.Parse([]byte(quotaJSON), catalog.DefaultVMSizes().Families())
	if err != nil {
		t.Fatal(err)
	}
	stack := servicetest.New(t, testSub, func(c *containerservice.Config) {
		c.Providers, c.Quotas = map[string]provider.Provider{"embedded": infoOnlyProvider()}, q
	})
	stack.Group(t, "rg1")
	var authn *auth.Authenticator
	authn, token = cappedToken(t, stack.Store, auth.RoleOwner)
	srv = httptest.NewServer(New(Config{Store: stack.Store, Auth: authn, Resources: stack.Resources, Clusters: stack.Clusters}))
	t.Cleanup(srv.Close)
	return srv, token
}

// put sends a PUT of body to path and decodes the JSON answer.
func put(t *testing.T, srv *httptest.Server, token, path, body string) (int, map[string]any) {
	t.Helper()
	return callJSON(t, srv, http.MethodPut, token, path, body)
}

func TestUsagesAndQuotaExceeded(t *testing.T) {
	t.Parallel()
	srv, token := quotaServer(t, `{"default": {"managedClusters": 2, "cores": 24, "standardNCFamily": 6}}`)
	const api = "?api-version=2024-09-01"
	cluster := func(name string) string {
		return "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/" + name + api
	}
	usages := "/subscriptions/" + testSub + "/providers/Microsoft.Compute/locations/westus/usages?api-version=2024-07-01"

	// 3 × Standard_D3_v2 = 12 vCPUs: accepted, and counted while it is being created.
	status, body := put(t, srv, token, cluster("aks1"), `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":3,"vmSize":"Standard_D3_v2"}]}}`)
	if status != http.StatusCreated {
		t.Fatalf("PUT aks1 = %d %v, want 201", status, body)
	}
	status, body = get(t, srv, token, usages)
	if status != http.StatusOK {
		t.Fatalf("GET usages = %d %v", status, body)
	}
	list, _ := body["value"].([]any)
	if len(list) != 2+len(catalog.DefaultVMSizes().Families()) {
		t.Fatalf("usages = %v, want cores, every VM family and managedClusters", list)
	}
	byName := map[string]map[string]any{}
	for _, v := range list {
		u := v.(map[string]any)
		name, _ := u["name"].(map[string]any)
		byName[name["value"].(string)] = u
		if u["unit"] != "Count" || name["localizedValue"] == "" {
			t.Errorf("usage %v lacks its unit or localized name", u)
		}
	}
	for name, want := range map[string][3]any{
		"cores":              {12.0, 24.0, "Total Regional vCPUs"},
		"standardDv2Family":  {12.0, 24.0, "Standard Dv2 Family vCPUs"},
		"standardDSv2Family": {0.0, 24.0, "Standard DSv2 Family vCPUs"},
		"standardNCFamily":   {0.0, 6.0, "Standard NC Family vCPUs"},
		"managedClusters":    {1.0, 2.0, "Managed Clusters"},
	} {
		u := byName[name]
		if u["currentValue"] != want[0] || u["limit"] != want[1] || u["name"].(map[string]any)["localizedValue"] != want[2] {
			t.Errorf("usage %s = %v, want currentValue %v, limit %v, %q", name, u, want[0], want[1], want[2])
		}
	}

	tests := []struct {
		name, cluster, body, want string
	}{
		{"total regional vCPUs", "aks2", `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":4,"vmSize":"Standard_D3_v2"}]}}`,
			"Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Location: westus, Current Limit: 24, Current Usage: 12, Additional Required: 16, (Minimum) New Limit Required: 28."},
		{"a family's own limit", "gpu", `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":2,"vmSize":"Standard_NC6"}]}}`,
			"exceeding approved standardNCFamily Cores quota. Location: westus, Current Limit: 6, Current Usage: 0, Additional Required: 12, (Minimum) New Limit Required: 12."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := put(t, srv, token, cluster(tt.cluster), tt.body)
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if status != http.StatusBadRequest || e["code"] != "QuotaExceeded" || !strings.Contains(msg, tt.want) {
				t.Fatalf("PUT %s = %d %v, want 400 QuotaExceeded saying %q", tt.cluster, status, body, tt.want)
			}
		})
	}

	// The second cluster fits; a third is past the managed clusters quota.
	if status, body := put(t, srv, token, cluster("aks2"), `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":1,"vmSize":"Standard_DS2_v2"}]}}`); status != http.StatusCreated {
		t.Fatalf("PUT aks2 = %d %v, want 201", status, body)
	}
	status, body = put(t, srv, token, cluster("aks3"), `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":1,"vmSize":"Standard_DS2_v2"}]}}`)
	if e, _ := body["error"].(map[string]any); status != http.StatusBadRequest || e["code"] != "QuotaExceeded" || e["target"] != "managedClusters" ||
		!strings.Contains(e["message"].(string), "Managed Clusters quota. Location: westus, Current Limit: 2, Current Usage: 2, Additional Required: 1") {
		t.Fatalf("PUT aks3 = %d %v, want 400 QuotaExceeded on managedClusters", status, body)
	}
	// Another region has quotas of its own.
	status, body = get(t, srv, token, strings.Replace(usages, "westus", "eastus", 1))
	if status != http.StatusOK || body["value"].([]any)[0].(map[string]any)["currentValue"] != 0.0 {
		t.Fatalf("GET eastus usages = %d %v, want nothing used", status, body)
	}
	status, body = get(t, srv, token, strings.Replace(usages, "westus", "atlantis", 1))
	if status != http.StatusBadRequest || errorCode(body) != "NoRegisteredProviderFound" {
		t.Fatalf("GET usages of an unknown region = %d %v, want 400 NoRegisteredProviderFound", status, body)
	}
}
