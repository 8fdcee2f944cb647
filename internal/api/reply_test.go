package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlfleet/mlfleet/internal/policy"
)

// TestNotServed: a server configured without online endpoints, assets or blobs answers
// their routes with 501 and says what it does not serve.
func TestNotServed(t *testing.T) {
	a := newTestARM(t)
	a.group(t, "rg1")
	ws := subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	for _, tc := range []struct {
		name, method, path, message string
	}{
		{"endpoints", http.MethodGet, ws + "/onlineEndpoints", "This server does not serve online endpoints."},
		{"deployment delete", http.MethodDelete, ws + "/onlineEndpoints/ep/deployments/d", "This server does not serve online endpoints."},
		{"models", http.MethodGet, ws + "/models", "This server does not serve models, codes and environments."},
		{"blob upload", http.MethodPut, ws + "/blobs", "This server does not serve blobs."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := a.call(t, a.owner, tc.method, tc.path+"?api-version=2023-04-01", nil)
			e, _ := body["error"].(map[string]any)
			if status != http.StatusNotImplemented || e["message"] != tc.message {
				t.Fatalf("%s %s: %d %v, want 501 %q", tc.method, tc.path, status, body, tc.message)
			}
		})
	}
}

// TestPutStatusesFollowTheSpecs: a PUT answers only the success statuses its ARM operation
// lists, which the generated clients check exactly: Workspaces_CreateOrUpdate 200 (no
// 201), ResourceGroups_CreateOrUpdate 201 then 200, PolicyAssignments_Create 201 (no 200).
func TestPutStatusesFollowTheSpecs(t *testing.T) {
	a := newTestARM(t)
	srv := httptest.NewServer(New(Config{Store: a.st, Auth: a.authn, Resources: a.rs, Workspaces: a.ws, Policies: policy.New(a.st, a.rs)}))
	t.Cleanup(srv.Close)
	rg := subURL + "/resourceGroups/rg1"
	policyBody := map[string]any{"properties": map[string]any{"policyDefinitionId": policy.NotAllowedResourceTypes,
		"parameters": map[string]any{"listOfResourceTypesNotAllowed": map[string]any{"value": []string{"Microsoft.Network/publicIPAddresses"}}}}}
	for _, tc := range []struct {
		name, path, version string
		body                any
		first, again        int
	}{
		{"resource group", rg, "2022-09-01", map[string]any{"location": "westus"}, http.StatusCreated, http.StatusOK},
		{"workspace", rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1", "2024-04-01", map[string]any{"location": "westus"}, http.StatusOK, http.StatusOK},
		{"policy assignment", subURL + "/providers/Microsoft.Authorization/policyAssignments/p1", "2021-06-01", policyBody, http.StatusCreated, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range []int{tc.first, tc.again} {
				status, body := a.call(t, a.owner, http.MethodPut, srv.URL+tc.path+"?api-version="+tc.version, tc.body)
				if status != want || body["id"] != tc.path {
					t.Fatalf("PUT %d of %s = %d %v, want %d with the resource", i+1, tc.path, status, body, want)
				}
			}
		})
	}
}
