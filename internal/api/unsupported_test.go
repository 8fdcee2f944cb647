package api

import (
	"fmt"
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
	a, id := clusterARM(t)
	rg := subURL + "/resourceGroups/rg1"
	for _, tc := range []struct {
		name, method, path string
		status             int
		code, text         string
	}{
		{"az aks rotate-certs", http.MethodPost, id + "/rotateClusterCertificates?api-version=2022-11-01", 400, "OperationNotSupported", "Rotating cluster certificates"},
		{"az aks command invoke", http.MethodPost, id + "/runCommand?api-version=2022-11-01", 400, "OperationNotSupported", "az aks command invoke"},
		{"GetCommandResult", http.MethodGet, id + "/commandResults/c1?api-version=2022-11-01", 400, "OperationNotSupported", "no command results"},
		{"ListClusterMonitoringUserCredentials", http.MethodPost, id + "/listClusterMonitoringUserCredential?api-version=2022-11-01", 400, "OperationNotSupported", "listClusterUserCredential"},
		{"monitoring credentials of a missing cluster", http.MethodPost, rg + "/providers/Microsoft.ContainerService/managedClusters/nope/listClusterMonitoringUserCredential?api-version=2022-11-01", 404, "ResourceNotFound", ""},
		{"ListOutboundNetworkDependenciesEndpoints", http.MethodGet, id + "/outboundNetworkDependenciesEndpoints?api-version=2022-11-01", 200, "", ""},
		{"outbound endpoints of a missing cluster", http.MethodGet, rg + "/providers/Microsoft.ContainerService/managedClusters/nope/outboundNetworkDependenciesEndpoints?api-version=2022-11-01", 404, "ResourceNotFound", ""},
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

	// AgentPoolsClient.GetAvailableAgentPoolVersions: the version the cluster's pools run.
	status, out = a.call(t, a.owner, http.MethodGet, id+"/availableAgentPoolVersions?api-version=2022-11-01", nil)
	versions, _ := testutil.Field(out, "properties.agentPoolVersions").([]any)
	if status != 200 || out["id"] != id+"/availableAgentPoolVersions" || len(versions) != 1 ||
		testutil.Field(versions[0].(map[string]any), "kubernetesVersion") != "1.36.3" || testutil.Field(versions[0].(map[string]any), "default") != true {
		t.Errorf("availableAgentPoolVersions = %d %v, want 1.36.3 as the default and only version", status, out)
	}
}

// TestUnsupportedMLOperations: what the Azure ML SDKs call and mlfleet does not run (QA
// finding 8) answers a 400 OperationNotSupported saying what to do instead, after the 404
// of a missing compute or workspace, not the 404 of a path no API answers; the lists of
// kinds mlfleet never has are empty; the location catalogs are Microsoft.Compute's data in
// Machine Learning's shape.
func TestUnsupportedMLOperations(t *testing.T) {
	t.Parallel()
	a := patchARM(t)
	a.group(t, "rg1")
	id, _ := attachedCompute(t, a)
	ws := subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	nows := subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/nope"
	const q = "?api-version=2024-04-01"
	for _, tc := range []struct {
		name, method, path string
		status             int
		code, text         string
	}{
		{"compute start", http.MethodPost, id + "/start" + q, 400, "OperationNotSupported", "Starting compute 'c1' is not supported by mlfleet"},
		{"compute stop", http.MethodPost, id + "/stop" + q, 400, "OperationNotSupported", "scale its agent pool down"},
		{"compute restart", http.MethodPost, id + "/restart" + q, 400, "OperationNotSupported", "update its online deployment"},
		{"stop of a missing compute", http.MethodPost, ws + "/computes/nope/stop" + q, 404, "", ""},
		{"workspace listKeys", http.MethodPost, ws + "/listKeys" + q, 400, "OperationNotSupported", "Workspace keys are not available"},
		{"workspace diagnose", http.MethodPost, ws + "/diagnose" + q, 400, "OperationNotSupported", "Diagnosing workspace 'ws1'"},
		{"listKeys of a missing workspace", http.MethodPost, nows + "/listKeys" + q, 404, "", ""},
		{"workspace features", http.MethodGet, ws + "/features" + q, 200, "", ""},
		{"batch endpoints", http.MethodGet, ws + "/batchEndpoints" + q, 200, "", ""},
		{"jobs", http.MethodGet, ws + "/jobs" + q, 200, "", ""},
		{"datastores", http.MethodGet, ws + "/datastores" + q, 200, "", ""},
		{"jobs of a missing workspace", http.MethodGet, nows + "/jobs" + q, 404, "", ""},
		{"vm sizes of no region", http.MethodGet, subURL + "/providers/Microsoft.MachineLearningServices/locations/mars/vmSizes" + q, 400, "NoRegisteredProviderFound", "locations/vmSizes"},
	} {
		status, out := a.call(t, a.owner, tc.method, tc.path, nil)
		msg, _ := testutil.Field(out, "error.message").(string)
		if status != tc.status || (tc.code != "" && errorCode(out) != tc.code) || !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %s = %d %v, want %d %s saying %q", tc.name, tc.method, status, out, tc.status, tc.code, tc.text)
		}
		if status == 200 {
			if list, ok := out["value"].([]any); !ok || len(list) != 0 {
				t.Errorf("%s: %v, want an empty list", tc.name, out)
			}
		}
	}
	if status, out := a.call(t, a.owner, http.MethodGet, id+q, nil); status != 200 || testutil.Field(out, "properties.provisioningState") != "Succeeded" {
		t.Errorf("compute after the refused actions: %d %v", status, out)
	}

	// The location catalogs: every size of Microsoft.Compute's list, every quota of its usages.
	loc := subURL + "/providers/Microsoft.MachineLearningServices/locations/westus/"
	status, compSizes := a.call(t, a.owner, http.MethodGet, subURL+"/providers/Microsoft.Compute/locations/westus/vmSizes?api-version=2024-07-01", nil)
	_, mlSizes := a.call(t, a.owner, http.MethodGet, loc+"vmSizes"+q, nil)
	cs, _ := compSizes["value"].([]any)
	ms, _ := mlSizes["value"].([]any)
	if status != 200 || len(ms) == 0 || len(ms) != len(cs) {
		t.Fatalf("ML vmSizes: %d of Compute's %d (%v)", len(ms), len(cs), mlSizes)
	}
	for i := range ms {
		c, m := cs[i].(map[string]any), ms[i].(map[string]any)
		if m["name"] != c["name"] || m["vCPUs"] != c["numberOfCores"] || m["memoryGB"].(float64)*1024 != c["memoryInMB"].(float64) || m["family"] == "" {
			t.Errorf("ML vmSize %v, Compute's %v", m, c)
		}
	}
	_, compUsages := a.call(t, a.owner, http.MethodGet, subURL+"/providers/Microsoft.Compute/locations/westus/usages?api-version=2024-07-01", nil)
	cu, _ := compUsages["value"].([]any)
	for _, kind := range []string{"usages", "quotas"} {
		status, out := a.call(t, a.owner, http.MethodGet, loc+kind+q, nil)
		mu, _ := out["value"].([]any)
		if status != 200 || len(mu) == 0 || len(mu) != len(cu) {
			t.Fatalf("ML %s: %d %d entries, Compute's usages %d (%v)", kind, status, len(mu), len(cu), out)
		}
		for i := range mu {
			c, m := cu[i].(map[string]any), mu[i].(map[string]any)
			name := testutil.Field(c, "name.value")
			if testutil.Field(m, "name.value") != name || m["limit"] != c["limit"] || m["amlWorkspaceLocation"] != "westus" ||
				m["id"] != fmt.Sprintf("/subscriptions/%s/providers/Microsoft.MachineLearningServices/locations/westus/%s/%s", testSub, kind, name) {
				t.Errorf("ML %s entry %v, Compute's %v", kind, m, c)
			}
			if _, has := m["currentValue"]; has != (kind == "usages") {
				t.Errorf("ML %s entry %v: currentValue present %v", kind, m, has)
			}
		}
	}
}
