package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// azCreateBody is the body az aks create (2.45) sends, for a registered cluster.
func azCreateBody() map[string]any {
	return map[string]any{
		"location": "westus",
		"identity": map[string]any{"type": "SystemAssigned"},
		"properties": map[string]any{
			"kubernetesVersion": "", "dnsPrefix": "aks1-rg1-000000",
			"agentPoolProfiles": []any{map[string]any{"count": 3, "vmSize": "Standard_D3_v2", "osDiskSizeGB": 0, "osType": "Linux", "enableAutoScaling": false,
				"type": "VirtualMachineScaleSets", "mode": "System", "orchestratorVersion": "", "upgradeSettings": map[string]any{}, "enableNodePublicIP": false,
				"scaleSetPriority": "Regular", "scaleSetEvictionPolicy": "Delete", "spotMaxPrice": -1.0, "nodeTaints": []any{}, "enableEncryptionAtHost": false,
				"enableUltraSSD": false, "enableFIPS": false, "name": "nodepool1"}},
			"linuxProfile":  map[string]any{"adminUsername": "azureuser", "ssh": map[string]any{"publicKeys": []any{map[string]any{"keyData": "ssh-rsa AAAAB3Nza test"}}}},
			"addonProfiles": map[string]any{}, "enableRBAC": true,
			"networkProfile": map[string]any{"networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10",
				"dockerBridgeCidr": "172.17.0.1/16", "outboundType": "loadBalancer", "loadBalancerSku": "standard"},
			"disableLocalAccounts": false, "storageProfile": map[string]any{},
			"mlfleet": map[string]any{"provider": "external", "kubeconfig": base64.StdEncoding.EncodeToString(providertest.Kubeconfig("https://127.0.0.1:1"))},
		},
	}
}

// TestClusterFieldsAzReads: a cluster carries what az aks show, list and update
// dereference: its identity (with ids of its own), a service principal profile, the
// kubelet identity, the Linux profile it was given and maxAgentPools.
func TestClusterFieldsAzReads(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	path := subURL + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1?api-version=2022-11-01"
	status, created := a.call(t, a.owner, http.MethodPut, path, azCreateBody())
	if status != http.StatusCreated {
		t.Fatalf("PUT = %d %v", status, created)
	}
	_, got := a.call(t, a.owner, http.MethodGet, path, nil)
	for _, body := range []map[string]any{created, got} {
		checks := []struct {
			path string
			want any
		}{
			{"identity.type", "SystemAssigned"},
			{"identity.tenantId", "tenant"},
			{"properties.servicePrincipalProfile.clientId", "msi"},
			{"properties.maxAgentPools", 100.0},
			{"properties.disableLocalAccounts", false},
			{"properties.linuxProfile.adminUsername", "azureuser"},
			{"properties.identityProfile.kubeletidentity.resourceId",
				"/subscriptions/" + testSub + "/resourcegroups/MC_rg1_aks1_westus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks1-agentpool"},
		}
		for _, c := range checks {
			if v := testutil.Field(body, c.path); v != c.want {
				t.Errorf("%s = %v, want %v", c.path, v, c.want)
			}
		}
		for _, p := range []string{"identity.principalId", "properties.identityProfile.kubeletidentity.clientId", "properties.identityProfile.kubeletidentity.objectId"} {
			if v, _ := testutil.Field(body, p).(string); !guid.MatchString(v) {
				t.Errorf("%s = %q, want a GUID", p, v)
			}
		}
		if keys, _ := testutil.Field(body, "properties.linuxProfile.ssh.publicKeys").([]any); len(keys) != 1 || testutil.Field(keys[0].(map[string]any), "keyData") != "ssh-rsa AAAAB3Nza test" {
			t.Errorf("ssh keys = %v", keys)
		}
	}
	if testutil.Field(created, "identity.principalId") != testutil.Field(got, "identity.principalId") {
		t.Errorf("the principal id changed between PUT and GET: %v, %v", testutil.Field(created, "identity.principalId"), testutil.Field(got, "identity.principalId"))
	}

	tests := []struct {
		name   string
		change func(b map[string]any)
		target string
	}{
		{"unknown identity type", func(b map[string]any) { b["identity"] = map[string]any{"type": "Magic"} }, "identity.type"},
		{"user-assigned without an identity", func(b map[string]any) { b["identity"] = map[string]any{"type": "UserAssigned"} }, "identity.userAssignedIdentities"},
		{"an enabled add-on", func(b map[string]any) {
			b["properties"].(map[string]any)["addonProfiles"] = map[string]any{"omsagent": map[string]any{"enabled": true}}
		}, "properties.addonProfiles.omsagent"},
		{"local accounts disabled", func(b map[string]any) { b["properties"].(map[string]any)["disableLocalAccounts"] = true }, "properties.disableLocalAccounts"},
		{"no SSH key", func(b map[string]any) {
			b["properties"].(map[string]any)["linuxProfile"] = map[string]any{"adminUsername": "azureuser", "ssh": map[string]any{"publicKeys": []any{}}}
		}, "properties.linuxProfile.ssh.publicKeys"},
		{"bad administrator name", func(b map[string]any) {
			b["properties"].(map[string]any)["linuxProfile"].(map[string]any)["adminUsername"] = "1root"
		}, "properties.linuxProfile.adminUsername"},
	}
	for _, tt := range tests {
		body := azCreateBody()
		tt.change(body)
		status, out := a.call(t, a.owner, http.MethodPut, strings.Replace(path, "aks1", "bad1", 1), body)
		if status != http.StatusBadRequest || testutil.Field(out, "error.target") != tt.target {
			t.Errorf("%s: PUT = %d %v, want 400 with target %s", tt.name, status, out, tt.target)
		}
	}

	// A cluster that runs as a service principal has no identity; the secret is not kept.
	body := azCreateBody()
	delete(body, "identity")
	body["properties"].(map[string]any)["servicePrincipalProfile"] = map[string]any{"clientId": "11111111-2222-3333-4444-555555555555", "secret": "s3cret"}
	status, out := a.call(t, a.owner, http.MethodPut, strings.Replace(path, "aks1", "sp1", 1), body)
	if status != http.StatusCreated || out["identity"] != nil || testutil.Field(out, "properties.identityProfile") != nil ||
		testutil.Field(out, "properties.servicePrincipalProfile.clientId") != "11111111-2222-3333-4444-555555555555" || testutil.Field(out, "properties.servicePrincipalProfile.secret") != nil {
		t.Errorf("service principal cluster = %d %v", status, out)
	}
	// Without identity nor service principal (mlfleet's own clients), a system-assigned one.
	body = azCreateBody()
	delete(body, "identity")
	status, out = a.call(t, a.owner, http.MethodPut, strings.Replace(path, "aks1", "plain1", 1), body)
	if status != http.StatusCreated || testutil.Field(out, "identity.type") != "SystemAssigned" {
		t.Errorf("cluster without identity = %d %v", status, out)
	}
}

// succeededCluster stores a cluster as a finished create leaves it (no operation runs).
func succeededCluster(t testing.TB, a *testARM, rg, name, version string) string {
	t.Helper()
	id := containerservice.ID(testSub, rg, name)
	mc := &armapi.ManagedCluster{ID: id, Name: name, Type: containerservice.TypeManagedCluster, Location: "westus", Tags: map[string]string{},
		SKU:      armapi.SKU{Name: "Base", Tier: "Free"},
		Identity: &armapi.ClusterIdentity{Type: "SystemAssigned", PrincipalID: "00000000-0000-0000-0000-000000000001", TenantID: "tenant"}}
	p := &mc.Properties
	p.ProvisioningState, p.KubernetesVersion, p.CurrentKubernetesVersion = "Succeeded", version, version
	p.AgentPoolProfiles = []armapi.AgentPoolProfile{{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Count: 3, VMSize: "Standard_D3_v2",
		Mode: "System", OSType: "Linux", OrchestratorVersion: version, ProvisioningState: "Succeeded"}}}
	p.NetworkProfile = armapi.NetworkProfile{NetworkPlugin: "kubenet", LoadBalancerSku: "standard", OutboundType: "loadBalancer",
		ServiceCidr: "10.0.0.0/16", DNSServiceIP: "10.0.0.10", PodCidr: "10.244.0.0/16"}
	p.LinuxProfile = &armapi.LinuxProfile{AdminUsername: "azureuser", SSH: armapi.SSHConfiguration{PublicKeys: []armapi.SSHPublicKey{{KeyData: "ssh-rsa A"}}}}
	p.Mlfleet.Provider = "external"
	a.row(t, &store.Resource{ID: id, ParentID: subURL + "/resourceGroups/" + rg, Type: containerservice.TypeManagedCluster, Name: name,
		SubscriptionID: testSub, ResourceGroup: rg, Location: "westus"}, mc)
	return id
}

// clusterARM is newTestARM with group rg1 holding the Succeeded cluster aks1 at 1.36.3
// (succeededCluster), the setup of most cluster tests; it returns the cluster's id.
func clusterARM(t *testing.T) (*testARM, string) {
	t.Helper()
	a := newTestARM(t)
	a.group(t, "rg1")
	return a, succeededCluster(t, a, "rg1", "aks1", "1.36.3")
}

// TestClusterUpdateRoundTrip: az aks update PUTs back the cluster it read, with its
// read-only fields; that is accepted, and the identity cannot change.
func TestClusterUpdateRoundTrip(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
	path := id + "?api-version=2022-11-01"
	_, read := a.call(t, a.owner, http.MethodGet, path, nil)
	if testutil.Field(read, "properties.servicePrincipalProfile.clientId") != "msi" || testutil.Field(read, "properties.maxAgentPools") != 100.0 {
		t.Fatalf("stored cluster = %v", read)
	}
	read["tags"] = map[string]any{"team": "ml"}
	status, out := a.call(t, a.owner, http.MethodPut, path, read)
	if status != http.StatusOK || testutil.Field(out, "tags.team") != "ml" || testutil.Field(out, "identity.principalId") != "00000000-0000-0000-0000-000000000001" {
		t.Fatalf("PUT of the cluster read = %d %v", status, out)
	}
	tests := []struct {
		name   string
		change func(b map[string]any)
		target string
	}{
		{"identity type", func(b map[string]any) { b["identity"] = map[string]any{"type": "UserAssigned"} }, "identity.type"},
		{"administrator", func(b map[string]any) {
			b["properties"].(map[string]any)["linuxProfile"].(map[string]any)["adminUsername"] = "root"
		}, "properties.linuxProfile.adminUsername"},
	}
	for _, tt := range tests {
		_, body := a.call(t, a.owner, http.MethodGet, path, nil)
		tt.change(body)
		if status, out := a.call(t, a.owner, http.MethodPut, path, body); status != http.StatusBadRequest || testutil.Field(out, "error.target") != tt.target {
			t.Errorf("%s: PUT = %d %v, want 400 with target %s", tt.name, status, out, tt.target)
		}
	}
}

// TestUpgradeProfile: az aks get-upgrades reads the cluster's versions and no upgrades,
// since mlfleet refuses a change of version: the lists are there, empty, as az expects
// them. The location's version lists (az aks get-versions, both generations) agree: they
// offer no upgrade either, where they used to list 1.37.2 to 1.38.0 (QA12 F5).
func TestUpgradeProfile(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	id := succeededCluster(t, a, "rg1", "aks1", "1.37.2")
	succeededCluster(t, a, "rg1", "old", "1.20.1")
	status, body := a.call(t, a.owner, http.MethodGet, id+"/upgradeProfiles/default?api-version=2022-11-01", nil)
	if status != http.StatusOK || body["id"] != id+"/upgradeProfiles/default" || body["name"] != "default" ||
		body["type"] != "Microsoft.ContainerService/managedClusters/upgradeProfiles" {
		t.Fatalf("upgrade profile = %d %v", status, body)
	}
	cp := testutil.Field(body, "properties.controlPlaneProfile").(map[string]any)
	ups := cp["upgrades"].([]any)
	if cp["kubernetesVersion"] != "1.37.2" || cp["osType"] != "Linux" || ups == nil || len(ups) != 0 {
		t.Errorf("control plane profile = %v, want 1.37.2 and no upgrades", cp)
	}
	pools := testutil.Field(body, "properties.agentPoolProfiles").([]any)
	if ups, _ := testutil.Field(pools[0].(map[string]any), "upgrades").([]any); len(pools) != 1 || testutil.Field(pools[0].(map[string]any), "name") != "nodepool1" ||
		testutil.Field(pools[0].(map[string]any), "kubernetesVersion") != "1.37.2" || ups == nil || len(ups) != 0 {
		t.Errorf("agent pool profiles = %v, want nodepool1 at 1.37.2 and no upgrades", pools)
	}
	sub := "/subscriptions/" + testSub + "/providers/Microsoft.ContainerService/locations/westus"
	_, orch := a.call(t, a.owner, http.MethodGet, sub+"/orchestrators?api-version=2019-08-01&resource-type=managedClusters", nil)
	list, _ := testutil.Field(orch, "properties.orchestrators").([]any)
	for _, o := range list {
		if ups := o.(map[string]any)["upgrades"]; ups != nil {
			t.Errorf("orchestrators: %v lists upgrades %v, want none", o.(map[string]any)["orchestratorVersion"], ups)
		}
	}
	_, kv := a.call(t, a.owner, http.MethodGet, sub+"/kubernetesVersions?api-version=2025-02-01", nil)
	minors, _ := kv["values"].([]any)
	for _, m := range minors {
		for patch, p := range testutil.Field(m.(map[string]any), "patchVersions").(map[string]any) {
			if ups, ok := p.(map[string]any)["upgrades"].([]any); !ok || len(ups) != 0 {
				t.Errorf("kubernetesVersions: %s upgrades = %v, want []", patch, p)
			}
		}
	}
	if len(list) != 4 || len(minors) != 4 {
		t.Errorf("version lists: %d orchestrators, %d minors, want the catalog's 4", len(list), len(minors))
	}
	// What get-versions used to offer is refused (az aks upgrade -k 1.38.0).
	_, read := a.call(t, a.owner, http.MethodGet, id+"?api-version=2022-11-01", nil)
	read["properties"].(map[string]any)["kubernetesVersion"] = "1.38.0"
	if status, out := a.call(t, a.owner, http.MethodPut, id+"?api-version=2022-11-01", read); status != http.StatusBadRequest {
		t.Errorf("upgrade to 1.38.0 = %d %v, want 400", status, out)
	}

	// A version the catalog does not list has no upgrades (an empty list).
	_, body = a.call(t, a.owner, http.MethodGet, containerservice.ID(testSub, "rg1", "old")+"/upgradeProfiles/default?api-version=2022-11-01", nil)
	if ups, ok := testutil.Field(body, "properties.controlPlaneProfile.upgrades").([]any); !ok || len(ups) != 0 {
		t.Errorf("upgrades of an unlisted version = %v", body)
	}
	for _, path := range []string{id + "/upgradeProfiles/other", containerservice.ID(testSub, "rg1", "nope") + "/upgradeProfiles/default"} {
		if status, body := a.call(t, a.owner, http.MethodGet, path+"?api-version=2022-11-01", nil); status != http.StatusNotFound || errorCode(body) != "ResourceNotFound" {
			t.Errorf("GET %s = %d %v, want 404 ResourceNotFound", path, status, body)
		}
	}
}

// TestClusterOperationsNotSupported: what az aks asks and mlfleet does not run (nodepool
// add, stop, start, a node image upgrade, a pool's mode change) is a 400 that says so and what to do instead,
// not a 404 that reads as a missing cluster nor a 200 that changes nothing; the cluster
// stays as it was.
func TestClusterOperationsNotSupported(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
	const v = "?api-version=2022-11-01"
	missing := containerservice.ID(testSub, "rg1", "nope")
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, target, text string
	}{
		{name: "nodepool add", method: http.MethodPut, path: id + "/agentPools/userpool",
			body:   map[string]any{"properties": map[string]any{"count": 1, "vmSize": "Standard_D3_v2", "mode": "User"}},
			status: http.StatusBadRequest, code: containerservice.CodeOperationNotSupported, text: "adding agent pools is not supported by mlfleet. Scale or update an existing pool (nodepool1)"},
		{name: "stop", method: http.MethodPost, path: id + "/stop", status: http.StatusBadRequest, code: containerservice.CodeOperationNotSupported,
			text: "Stopping a managed cluster is not supported by mlfleet"},
		{name: "start", method: http.MethodPost, path: id + "/start", status: http.StatusBadRequest, code: containerservice.CodeOperationNotSupported,
			text: "Starting a managed cluster is not supported by mlfleet"},
		{name: "stop a missing cluster", method: http.MethodPost, path: missing + "/stop", status: http.StatusNotFound, code: "ResourceNotFound"},
		{name: "node image upgrade", method: http.MethodPost, path: id + "/agentPools/nodepool1/upgradeNodeImageVersion", status: http.StatusBadRequest,
			code: containerservice.CodeOperationNotSupported, text: "Upgrading node images is not supported by mlfleet"},
		{name: "node image upgrade of a missing pool", method: http.MethodPost, path: id + "/agentPools/nope/upgradeNodeImageVersion", status: http.StatusNotFound, code: "ResourceNotFound"},
		{name: "node image upgrade of a missing cluster", method: http.MethodPost, path: missing + "/agentPools/nodepool1/upgradeNodeImageVersion", status: http.StatusNotFound, code: "ResourceNotFound"},
		{name: "pool mode change", method: http.MethodPut, path: id + "/agentPools/nodepool1",
			body:   map[string]any{"properties": map[string]any{"count": 3, "vmSize": "Standard_D3_v2", "mode": "User"}},
			status: http.StatusBadRequest, code: "InvalidParameter", target: "properties.mode", text: "is a System pool, and changing an agent pool's mode is not supported"},
		{name: "pool mode change alone", method: http.MethodPut, path: id + "/agentPools/nodepool1",
			body:   map[string]any{"properties": map[string]any{"mode": "User"}},
			status: http.StatusBadRequest, code: "InvalidParameter", target: "properties.mode"},
		{name: "pool as read", method: http.MethodPut, path: id + "/agentPools/nodepool1",
			body:   map[string]any{"properties": map[string]any{"count": 3, "vmSize": "Standard_D3_v2", "mode": "System"}},
			status: http.StatusOK},
		{name: "nodepool stop", method: http.MethodPut, path: id + "/agentPools/nodepool1",
			body:   map[string]any{"properties": map[string]any{"count": 3, "vmSize": "Standard_D3_v2", "mode": "System", "powerState": map[string]any{"code": "Stopped"}}},
			status: http.StatusBadRequest, code: containerservice.CodeOperationNotSupported, target: "properties.powerState.code",
			text: "Stopping agent pool 'nodepool1' (power state 'Stopped') is not supported by mlfleet"},
		{name: "nodepool start", method: http.MethodPut, path: id + "/agentPools/nodepool1",
			body:   map[string]any{"properties": map[string]any{"count": 3, "vmSize": "Standard_D3_v2", "mode": "System", "powerState": map[string]any{"code": "Running"}}},
			status: http.StatusOK},
	} {
		status, out := a.call(t, a.owner, tc.method, tc.path+v, tc.body)
		msg, _ := testutil.Field(out, "error.message").(string)
		target, _ := testutil.Field(out, "error.target").(string)
		if status != tc.status || errorCode(out) != tc.code || target != tc.target || !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %s = %d %v, want %d %s target %q saying %q", tc.name, tc.method, status, out, tc.status, tc.code, tc.target, tc.text)
		}
	}

	// The same mode change in a cluster PUT (az aks update sends back the pools it read).
	_, read := a.call(t, a.owner, http.MethodGet, id+v, nil)
	read["properties"].(map[string]any)["agentPoolProfiles"].([]any)[0].(map[string]any)["mode"] = "User"
	if status, out := a.call(t, a.owner, http.MethodPut, id+v, read); status != http.StatusBadRequest ||
		testutil.Field(out, "error.target") != "properties.agentPoolProfiles[0].mode" {
		t.Errorf("cluster PUT with a pool's mode changed = %d %v, want 400 naming properties.agentPoolProfiles[0].mode", status, out)
	}
	_, got := a.call(t, a.owner, http.MethodGet, id+"/agentPools"+v, nil)
	pools, _ := got["value"].([]any)
	if len(pools) != 1 || testutil.Field(pools[0].(map[string]any), "properties.mode") != "System" || testutil.Field(pools[0].(map[string]any), "properties.count") != 3.0 {
		t.Errorf("pools after the refused requests = %v, want nodepool1 alone, System, 3 nodes", got)
	}
}

// TestClusterSettingsNotHonoured: the settings az sends that mlfleet cannot honour
// (Microsoft Entra integration, automatic upgrades, a paid tier) are refused with a 400
// naming the property, on a create and on an update, rather than accepted and dropped;
// the values that say what mlfleet does anyway pass, as does the cluster PUT back as read.
func TestClusterSettingsNotHonoured(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
	path := id + "?api-version=2022-11-01"
	props := func(b map[string]any) map[string]any { return b["properties"].(map[string]any) }
	tests := []struct {
		name   string
		change func(b map[string]any)
		target string // "" for a change that passes
	}{
		{"az aks update --enable-aad", func(b map[string]any) {
			props(b)["aadProfile"] = map[string]any{"managed": true, "adminGroupObjectIDs": []any{"00000000-0000-0000-0000-000000000000"}}
		}, "properties.aadProfile"},
		{"--enable-azure-rbac", func(b map[string]any) { props(b)["aadProfile"] = map[string]any{"enableAzureRBAC": true} }, "properties.aadProfile"},
		{"--auto-upgrade-channel patch", func(b map[string]any) { props(b)["autoUpgradeProfile"] = map[string]any{"upgradeChannel": "patch"} }, "properties.autoUpgradeProfile.upgradeChannel"},
		{"--node-os-upgrade-channel NodeImage", func(b map[string]any) {
			props(b)["autoUpgradeProfile"] = map[string]any{"nodeOSUpgradeChannel": "NodeImage"}
		}, "properties.autoUpgradeProfile.nodeOSUpgradeChannel"},
		{"--uptime-sla", func(b map[string]any) { b["sku"] = map[string]any{"name": "Basic", "tier": "Paid"} }, "sku.tier"},
		{"--tier standard", func(b map[string]any) { b["sku"] = map[string]any{"name": "Base", "tier": "Standard"} }, "sku.tier"},
		{"aadProfile null", func(b map[string]any) { props(b)["aadProfile"] = nil }, ""},
		{"upgrade channel none", func(b map[string]any) {
			props(b)["autoUpgradeProfile"] = map[string]any{"upgradeChannel": "none", "nodeOSUpgradeChannel": "None"}
		}, ""},
		{"--tier free", func(b map[string]any) { b["sku"] = map[string]any{"name": "Base", "tier": "Free"} }, ""},
		{"pools running", func(b map[string]any) {
			props(b)["agentPoolProfiles"].([]any)[0].(map[string]any)["powerState"] = map[string]any{"code": "Running"}
		}, ""},
		{"a pool stopped", func(b map[string]any) {
			props(b)["agentPoolProfiles"].([]any)[0].(map[string]any)["powerState"] = map[string]any{"code": "Stopped"}
		}, "properties.agentPoolProfiles[0].powerState.code"},
	}
	for _, tt := range tests {
		_, body := a.call(t, a.owner, http.MethodGet, path, nil)
		tt.change(body)
		status, out := a.call(t, a.owner, http.MethodPut, path, body)
		if tt.target == "" {
			if status != http.StatusOK {
				t.Errorf("%s: PUT = %d %v, want 200", tt.name, status, out)
			}
			continue
		}
		if status != http.StatusBadRequest || testutil.Field(out, "error.target") != tt.target {
			t.Errorf("%s: PUT = %d %v, want 400 with target %s", tt.name, status, out, tt.target)
		}
	}
	_, got := a.call(t, a.owner, http.MethodGet, path, nil)
	if testutil.Field(got, "sku.tier") != "Free" || testutil.Field(got, "properties.aadProfile") != nil {
		t.Errorf("cluster after the refused updates = %v, want the Free tier and no aadProfile", got)
	}

	// az aks create --auto-upgrade-channel patch --enable-aad --tier standard: every
	// problem in one 400, and no cluster.
	create := azCreateBody()
	create["sku"] = map[string]any{"name": "Base", "tier": "Standard"}
	props(create)["autoUpgradeProfile"] = map[string]any{"upgradeChannel": "patch"}
	props(create)["aadProfile"] = map[string]any{"managed": true}
	newPath := subURL + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks2?api-version=2022-11-01"
	status, out := a.call(t, a.owner, http.MethodPut, newPath, create)
	msg, _ := testutil.Field(out, "error.message").(string)
	details, _ := testutil.Field(out, "error.details").([]any)
	if status != http.StatusBadRequest || len(details) != 3 {
		t.Errorf("create with unsupported settings = %d %v, want 400 with 3 details", status, out)
	}
	for _, want := range []string{"Microsoft Entra integration", "Automatic upgrades", "Pricing tier 'Standard'"} {
		if !strings.Contains(msg, want) && !strings.Contains(fmt.Sprint(details), want) {
			t.Errorf("create's error %v does not say %q", out, want)
		}
	}
	if status, _ := a.call(t, a.owner, http.MethodGet, newPath, nil); status != http.StatusNotFound {
		t.Errorf("GET after the refused create = %d, want 404", status)
	}
}

// TestAgentPoolShow: az aks nodepool show reads the version the pool's nodes run and its
// power state, as AKS fills them, in the pool and in the cluster's agentPoolProfiles.
func TestAgentPoolShow(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
	_, pool := a.call(t, a.owner, http.MethodGet, id+"/agentPools/nodepool1?api-version=2022-11-01", nil)
	_, mc := a.call(t, a.owner, http.MethodGet, id+"?api-version=2022-11-01", nil)
	profiles, _ := testutil.Field(mc, "properties.agentPoolProfiles").([]any)
	if len(profiles) != 1 {
		t.Fatalf("cluster = %v", mc)
	}
	for name, props := range map[string]any{"pool": testutil.Field(pool, "properties"), "profile": profiles[0]} {
		p, _ := props.(map[string]any)
		if testutil.Field(p, "currentOrchestratorVersion") != "1.36.3" || testutil.Field(p, "powerState.code") != "Running" {
			t.Errorf("%s = %v, want currentOrchestratorVersion 1.36.3 and powerState Running", name, p)
		}
	}
}

// TestPoolNames: agent pool names are matched without case, as ARM matches every name
// (the cluster's and the group's already were): NODEPOOL1 is nodepool1 on a GET, a PUT
// and a cluster PUT, and answers with the pool's own name. A pool the cluster lacks is a
// 404 ResourceNotFound that names the pools it has, on a GET (az reads the pool before a
// scale or an update) and on a DELETE; a PUT of it is still an add, refused as such.
func TestPoolNames(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
	const v = "?api-version=2022-11-01"
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, text         string
	}{
		{name: "GET in another case", method: http.MethodGet, path: id + "/agentPools/NodePool1", status: http.StatusOK},
		{name: "PUT in another case", method: http.MethodPut, path: id + "/agentPools/NODEPOOL1",
			body: map[string]any{"properties": map[string]any{"count": 3}}, status: http.StatusOK},
		{name: "GET of a missing pool", method: http.MethodGet, path: id + "/agentPools/nopool", status: http.StatusNotFound,
			code: "ResourceNotFound", text: "Cluster 'aks1' has no agent pool 'nopool'; its agent pools are: nodepool1."},
		{name: "DELETE of a missing pool", method: http.MethodDelete, path: id + "/agentPools/nopool", status: http.StatusNotFound,
			code: "ResourceNotFound", text: "its agent pools are: nodepool1."},
		{name: "DELETE in another case", method: http.MethodDelete, path: id + "/agentPools/NODEPOOL1", status: http.StatusBadRequest,
			code: containerservice.CodeOperationNotSupported, text: "Scale agent pool 'nodepool1' down"},
		{name: "PUT of a new pool is an add", method: http.MethodPut, path: id + "/agentPools/nopool",
			body: map[string]any{"properties": map[string]any{"count": 3}}, status: http.StatusBadRequest,
			code: containerservice.CodeOperationNotSupported, text: "Cluster 'aks1' has no agent pool 'nopool', and adding agent pools is not supported by mlfleet"},
	} {
		status, out := a.call(t, a.owner, tc.method, tc.path+v, tc.body)
		msg, _ := testutil.Field(out, "error.message").(string)
		if status != tc.status || errorCode(out) != tc.code || !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %s %s = %d %v, want %d %s saying %q", tc.name, tc.method, tc.path, status, out, tc.status, tc.code, tc.text)
		}
		if status == http.StatusOK && (out["name"] != "nodepool1" || out["id"] != id+"/agentPools/nodepool1") {
			t.Errorf("%s: answered pool %v %v, want the pool's own name nodepool1", tc.name, out["name"], out["id"])
		}
	}
	// az aks update sends back the pools it read; a name in another case is the same pool.
	_, read := a.call(t, a.owner, http.MethodGet, id+v, nil)
	read["properties"].(map[string]any)["agentPoolProfiles"].([]any)[0].(map[string]any)["name"] = "NODEPOOL1"
	if status, out := a.call(t, a.owner, http.MethodPut, id+v, read); status != http.StatusOK {
		t.Errorf("cluster PUT naming NODEPOOL1 = %d %v, want 200", status, out)
	}
	_, got := a.call(t, a.owner, http.MethodGet, id+"/agentPools"+v, nil)
	if pools, _ := got["value"].([]any); len(pools) != 1 || testutil.Field(pools[0].(map[string]any), "name") != "nodepool1" {
		t.Errorf("pools = %v, want nodepool1 alone", got)
	}
}
