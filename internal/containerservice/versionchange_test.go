package containerservice

import (
	"context"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// TestClusterVersionChange: a cluster PUT whose kubernetesVersion is not the one the
// cluster runs is refused, saying which kind of change it is: a downgrade never (AKS
// refuses them), an upgrade not yet, a value that is no version as such; the version
// itself, its major.minor and none at all pass.
func TestClusterVersionChange(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	if _, _, _, err := s.Put(ctx, testSub, testRG, "v1", clusterInput(1, "Standard_D3_v2"), arm.Preconditions{}); err != nil {
		t.Fatal(err)
	}
	finishOperations(t, st)
	for _, tc := range []struct {
		name, version string
		text          string // "" = accepted
	}{
		{name: "none", version: ""},
		{name: "the same", version: "1.37.2"},
		{name: "with a v", version: "v1.37.2"},
		{name: "major.minor", version: "1.37"},
		{name: "older minor", version: "1.36.3", text: "Cluster 'v1' runs Kubernetes 1.37.2; it cannot be downgraded to 1.36.3: AKS never moves"},
		{name: "older patch", version: "1.37.1", text: "cannot be downgraded to 1.37.1"},
		{name: "older major.minor", version: "1.36", text: "cannot be downgraded to 1.36"},
		{name: "newer", version: "1.38.0", text: "Cluster 'v1' runs Kubernetes 1.37.2; upgrades are not supported by mlfleet yet"},
		{name: "newer major.minor", version: "1.38", text: "upgrades are not supported"},
		{name: "garbage", version: "banana", text: "'banana' is not a Kubernetes version: write it major.minor.patch or major.minor"},
		{name: "major only", version: "1", text: "is not a Kubernetes version"},
		{name: "leading zero", version: "1.37.02", text: "is not a Kubernetes version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := clusterInput(1, "Standard_D3_v2")
			in.Properties.KubernetesVersion = tc.version
			_, _, _, err := s.Put(ctx, testSub, testRG, "v1", in, arm.Preconditions{})
			if tc.text == "" {
				if err != nil {
					t.Fatalf("PUT with kubernetesVersion %q: %v", tc.version, err)
				}
				return
			}
			wantBadRequest(t, err, "InvalidParameter", []string{"properties.kubernetesVersion"}, tc.text)
		})
	}
	if mc, err := s.Get(ctx, testSub, testRG, "v1"); err != nil || mc.Properties.KubernetesVersion != "1.37.2" {
		t.Fatalf("after the refusals: %v (%v), want 1.37.2", mc.Properties.KubernetesVersion, err)
	}
}

// TestNodeImageUpgradeMessage: the refusal of a node image upgrade names everything a
// pool can change, its labels and taints included.
func TestNodeImageUpgradeMessage(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	if _, _, _, err := s.Put(ctx, testSub, testRG, "img", clusterInput(1, "Standard_D3_v2"), arm.Preconditions{}); err != nil {
		t.Fatal(err)
	}
	err := s.RefuseNodeImageUpgrade(ctx, testSub, testRG, "img", "nodepool1")
	wantBadRequest(t, err, CodeOperationNotSupported, []string{""}, "its node count ('az aks nodepool scale'), its autoscaler, node labels, node taints and tags ('az aks nodepool update')")
}
