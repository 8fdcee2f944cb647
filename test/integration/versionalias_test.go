package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestMinorVersionAlias: a cluster created with kubernetesVersion 1.37 (az aks create -k
// 1.37, which sends its pool the same) keeps "1.37" as asked and runs the catalog's patch,
// which currentKubernetesVersion and the pools' currentOrchestratorVersion say, as AKS
// reports an alias; so a template that says 1.37 reads 1.37 back (QA12 F5b). Every check
// of a version uses the patch that runs: a PUT of 1.37 or 1.37.2 is no change (and is kept
// as sent), 1.38 an upgrade, 1.36 a downgrade; get-upgrades names 1.37.2; the cluster
// attaches as a compute whose VersionSupported holds.
func TestMinorVersionAlias(t *testing.T) {
	t.Parallel()
	rg, ws := "alias-rg", "alias-ws"
	newWorkspace(t, rg, ws)
	c := sdk(t)
	ctx := context.Background()
	mc := createCluster(t, c, rg, "alias", 1, "Standard_D3_v2", func(in *mlfleet.ClusterInput) {
		in.Properties.KubernetesVersion = "1.37"
		in.Properties.AgentPoolProfiles[0].OrchestratorVersion = "1.37"
	})
	versions := func(mc *mlfleet.ManagedCluster) string {
		p := mc.Properties
		return fmt.Sprintf("%s/%s pool %s/%s", p.KubernetesVersion, p.CurrentKubernetesVersion,
			p.AgentPoolProfiles[0].OrchestratorVersion, p.AgentPoolProfiles[0].CurrentOrchestratorVersion)
	}
	if got := versions(mc); got != "1.37/1.37.2 pool 1.37/1.37.2" {
		t.Fatalf("created with 1.37: kubernetesVersion/current %s, want 1.37/1.37.2 pool 1.37/1.37.2", got)
	}

	// az aks update and az aks upgrade send the cluster back with the version to have.
	put := func(version string) answer {
		t.Helper()
		read := do(t, call{method: "GET", path: clusterPath(rg, "alias") + csAPI})
		must(t, read, http.StatusOK)
		props := read.body["properties"].(map[string]any)
		props["kubernetesVersion"] = version
		for _, p := range props["agentPoolProfiles"].([]any) {
			p.(map[string]any)["orchestratorVersion"] = version
		}
		body, err := json.Marshal(read.body)
		if err != nil {
			t.Fatal(err)
		}
		return do(t, call{method: "PUT", path: clusterPath(rg, "alias") + csAPI, body: string(body)})
	}
	for _, tc := range []struct{ version, want string }{
		{"1.37.2", "1.37.2/1.37.2 pool 1.37.2/1.37.2"},
		{"1.37", "1.37/1.37.2 pool 1.37/1.37.2"},
	} {
		must(t, put(tc.version), http.StatusOK)
		got, err := c.GetManagedCluster(ctx, rg, "alias")
		if err != nil {
			t.Fatal(err)
		}
		if versions(got) != tc.want || got.Properties.ProvisioningState != "Succeeded" {
			t.Errorf("after a PUT of %s: %s %s, want %s Succeeded", tc.version, versions(got), got.Properties.ProvisioningState, tc.want)
		}
	}
	for _, tc := range []struct{ version, want string }{
		{"1.38", "Cluster 'alias' runs Kubernetes 1.37.2; upgrades are not supported by mlfleet yet. Leave the version out or send 1.37.2."},
		{"1.36", "Cluster 'alias' runs Kubernetes 1.37.2; it cannot be downgraded to 1.36"},
	} {
		a := put(tc.version)
		if a.status != http.StatusBadRequest || !strings.Contains(a.raw, tc.want) {
			t.Errorf("PUT of %s = %d %s, want 400 %q", tc.version, a.status, a.raw, tc.want)
		}
	}

	up, err := c.GetUpgradeProfile(ctx, rg, "alias")
	if err != nil {
		t.Fatal(err)
	}
	if cp, pools := up.Properties.ControlPlaneProfile, up.Properties.AgentPoolProfiles; cp.KubernetesVersion != "1.37.2" || len(pools) != 1 || pools[0].KubernetesVersion != "1.37.2" {
		t.Errorf("get-upgrades: %+v, want the control plane and nodepool1 at 1.37.2", up.Properties)
	}

	attach := fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q,"properties":{"clusterPurpose":"DevTest"}}}`, mc.ID)
	a := putCompute(t, rg, ws, "aliasaks", attach, "")
	must(t, a, http.StatusCreated)
	if op, _ := waitPut(t, a, rg, ws, "aliasaks"); op["status"] != "Succeeded" {
		t.Fatalf("attach of the 1.37 cluster: %v", op)
	}
	comp, err := c.GetCompute(ctx, rg, ws, "aliasaks")
	if err != nil {
		t.Fatal(err)
	}
	supported := ""
	for _, cond := range comp.Properties.Mlfleet.Conditions {
		if cond.Type == "VersionSupported" {
			supported = cond.Status + " " + cond.Message
		}
	}
	if comp.Properties.Mlfleet.KubernetesVersion != "1.37.2" || !strings.HasPrefix(supported, "True Kubernetes 1.37.2 is supported") {
		t.Errorf("compute of the 1.37 cluster: version %q, VersionSupported %q; want 1.37.2, True", comp.Properties.Mlfleet.KubernetesVersion, supported)
	}
}
