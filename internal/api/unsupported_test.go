package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestUnsupportedOperations: what az calls and mlfleet does not run answers a 400
// OperationNotSupported that names it (az prints the message and exits 1), not a 404
// that az reads as "not found"; lists of what mlfleet never has are served empty, and a
// list URL with a trailing slash is the list.
func TestUnsupportedOperations(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	id := succeededCluster(t, a, "rg1", "aks1", "1.36.3")
	rg := subURL + "/resourceGroups/rg1"
	for _, tc := range []struct {
		name, method, path string
		status             int
		code, text         string
	}{
		{"az aks rotate-certs", http.MethodPost, id + "/rotateClusterCertificates?api-version=2022-11-01", 400, "OperationNotSupported", "Rotating cluster certificates"},
		{"az aks command invoke", http.MethodPost, id + "/runCommand?api-version=2022-11-01", 400, "OperationNotSupported", "az aks command invoke"},
		{"az aks nodepool delete", http.MethodDelete, id + "/agentPools/nodepool1?api-version=2022-11-01", 400, "OperationNotSupported", "Deleting agent pools"},
		{"nodepool delete of a missing pool", http.MethodDelete, id + "/agentPools/nope?api-version=2022-11-01", 404, "ResourceNotFound", ""},
		{"az provider unregister", http.MethodPost, subURL + "/providers/Microsoft.ContainerService/unregister?api-version=2022-09-01", 400, "OperationNotSupported", "Unregistering a resource provider"},
		{"az group export", http.MethodPost, rg + "/exportTemplate?api-version=2022-09-01", 400, "OperationNotSupported", "az group export"},
		{"az resource move", http.MethodPost, rg + "/moveResources?api-version=2022-09-01", 400, "OperationNotSupported", "az resource move"},
		{"az lock create", http.MethodPut, rg + "/providers/Microsoft.Authorization/locks/l1?api-version=2016-09-01", 400, "OperationNotSupported", "Management locks"},
		{"az lock create on a resource", http.MethodPut, id + "/providers/Microsoft.Authorization/locks/l1?api-version=2016-09-01", 400, "OperationNotSupported", "Management locks"},
		{"az lock list", http.MethodGet, rg + "/providers/Microsoft.Authorization/locks?api-version=2016-09-01", 200, "", ""},
		{"az feature list", http.MethodGet, subURL + "/providers/Microsoft.Features/features?api-version=2021-07-01", 200, "", ""},
		{"az feature register", http.MethodPost, subURL + "/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/F1/register?api-version=2021-07-01", 400, "OperationNotSupported", "Preview features"},
		{"az deployment group list", http.MethodGet, rg + "/providers/Microsoft.Resources/deployments/?api-version=2022-09-01", 200, "", ""},
		{"az deployment sub list", http.MethodGet, subURL + "/providers/Microsoft.Resources/deployments/?api-version=2022-09-01", 200, "", ""},
		{"az deployment group show", http.MethodGet, rg + "/providers/Microsoft.Resources/deployments/d1?api-version=2022-09-01", 404, "DeploymentNotFound", ""},
		{"az deployment group create", http.MethodPut, rg + "/providers/Microsoft.Resources/deployments/d1?api-version=2022-09-01", 400, "OperationNotSupported", "Template deployments"},
		{"a trailing slash on a write", http.MethodPut, rg + "/providers/Microsoft.Resources/deployments/?api-version=2022-09-01", 400, "InvalidResourceName", ""},
		{"az group list with a trailing slash", http.MethodGet, subURL + "/resourceGroups/?api-version=2022-09-01", 200, "", ""},
	} {
		var body any
		if tc.method == http.MethodPut {
			body = map[string]any{"properties": map[string]any{}}
		}
		status, out := a.call(t, a.owner, tc.method, tc.path, body)
		msg, _ := testutil.Field(out, "error.message").(string)
		if status != tc.status || errorCode(out) != tc.code || !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %s = %d %v, want %d %s saying %q", tc.name, tc.method, status, out, tc.status, tc.code, tc.text)
		}
		if list, ok := out["value"].([]any); tc.status == 200 && !ok {
			t.Errorf("%s: %v, want a list", tc.name, out)
		} else if ok && tc.name != "az group list with a trailing slash" && len(list) != 0 {
			t.Errorf("%s: %v, want an empty list", tc.name, out)
		}
	}

	// az aks nodepool get-upgrades: the pool's version, and no upgrades.
	status, out := a.call(t, a.owner, http.MethodGet, id+"/agentPools/nodepool1/upgradeProfiles/default?api-version=2022-11-01", nil)
	ups, ok := testutil.Field(out, "properties.upgrades").([]any)
	if status != 200 || out["id"] != id+"/agentPools/nodepool1/upgradeProfiles/default" || out["type"] != containerservice.TypeManagedCluster+"/agentPools/upgradeProfiles" ||
		testutil.Field(out, "properties.kubernetesVersion") != "1.36.3" || !ok || len(ups) != 0 {
		t.Errorf("nodepool get-upgrades = %d %v, want 1.36.3 and no upgrades", status, out)
	}
	if status, out := a.call(t, a.owner, http.MethodGet, id+"/agentPools/nope/upgradeProfiles/default?api-version=2022-11-01", nil); status != 404 {
		t.Errorf("get-upgrades of a missing pool = %d %v, want 404", status, out)
	}
}
