package containerservice

import (
	"context"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestClusterVersionChange: a cluster PUT whose kubernetesVersion is not the one the
// cluster runs is refused, saying which kind of change it is: a downgrade never (AKS
// refuses them), an upgrade not yet, a value that is no version as such; the version
// itself, its major.minor and none at all pass.
func TestClusterVersionChange(t *testing.T) {
	t.Parallel()
	s, _ := serviceWithCluster(t, "v1", 1)
	ctx := context.Background()
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
	// The last version accepted is kept as it was sent; what runs did not change.
	if mc, err := s.Get(ctx, testSub, testRG, "v1"); err != nil || mc.Properties.KubernetesVersion != "1.37" || mc.Properties.CurrentKubernetesVersion != "1.37.2" {
		t.Fatalf("after the refusals: %v, current %v (%v), want 1.37 running 1.37.2", mc.Properties.KubernetesVersion, mc.Properties.CurrentKubernetesVersion, err)
	}
}

// TestMinorVersionKept: a cluster created with kubernetesVersion major.minor keeps it as
// asked, on the cluster and on its pools, and runs the catalog's newest patch of it, which
// currentKubernetesVersion and currentOrchestratorVersion report, as AKS does ("If
// kubernetesVersion was <major.minor>, this field will contain the full
// <major.minor.patch> version being used"). Every later check of a version is against
// that patch: 1.37 and 1.37.2 are no change and are kept as sent, 1.37.1 and 1.36 are
// downgrades; the upgrade profile and the versions a pool can run name the patch.
func TestMinorVersionKept(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	in := clusterInput(1, "Standard_D3_v2")
	in.Properties.KubernetesVersion = "v1.37"
	mc, _, _, err := s.Put(ctx, testSub, testRG, "mm", in, arm.Preconditions{})
	if err != nil {
		t.Fatal(err)
	}
	versions := func(mc *armapi.ManagedCluster) string {
		p := mc.Properties
		return p.KubernetesVersion + "/" + p.CurrentKubernetesVersion + " pool " + p.AgentPoolProfiles[0].OrchestratorVersion + "/" + p.AgentPoolProfiles[0].CurrentOrchestratorVersion
	}
	if got := versions(mc); got != "1.37/1.37.2 pool 1.37/1.37.2" {
		t.Fatalf("create with v1.37 answered %s, want 1.37/1.37.2 pool 1.37/1.37.2", got)
	}
	finishOperations(t, st)
	const target = "properties.kubernetesVersion"
	for _, tc := range []struct {
		name, version, pool string
		want                string // the versions after it; "" = refused with text
		text                string
	}{
		{name: "the patch that runs", version: "1.37.2", pool: "1.37.2", want: "1.37.2/1.37.2 pool 1.37.2/1.37.2"},
		{name: "major.minor again", version: "1.37", pool: "1.37", want: "1.37/1.37.2 pool 1.37/1.37.2"},
		{name: "none", want: "1.37/1.37.2 pool 1.37/1.37.2"},
		{name: "older patch", version: "1.37.1", text: "Cluster 'mm' runs Kubernetes 1.37.2; it cannot be downgraded to 1.37.1"},
		{name: "older minor", version: "1.36", text: "Cluster 'mm' runs Kubernetes 1.37.2; it cannot be downgraded to 1.36"},
		{name: "newer minor", version: "1.38", text: "Cluster 'mm' runs Kubernetes 1.37.2; upgrades are not supported by mlfleet yet. Leave the version out or send 1.37.2."},
		{name: "pool older patch", pool: "1.37.1", text: "Agent pool 'nodepool1' of cluster 'mm' runs Kubernetes 1.37.2; it cannot be downgraded to 1.37.1"},
	} {
		up := clusterInput(1, "Standard_D3_v2")
		up.Properties.KubernetesVersion = tc.version
		up.Properties.AgentPoolProfiles[0].OrchestratorVersion = tc.pool
		_, _, _, err := s.Put(ctx, testSub, testRG, "mm", up, arm.Preconditions{})
		if tc.want == "" {
			targets := []string{target}
			if tc.version == "" {
				targets = []string{"properties.agentPoolProfiles[0].orchestratorVersion"}
			}
			wantBadRequest(t, err, "InvalidParameter", targets, tc.text)
			continue
		}
		if err != nil {
			t.Fatalf("%s: PUT of %q, pool %q: %v", tc.name, tc.version, tc.pool, err)
		}
		got, err := s.Get(ctx, testSub, testRG, "mm")
		if err != nil || versions(got) != tc.want {
			t.Errorf("%s: after the PUT %s (%v), want %s", tc.name, versions(got), err, tc.want)
		}
	}
	up, err := s.UpgradeProfile(ctx, testSub, testRG, "mm", "default")
	if err != nil || up.Properties.ControlPlaneProfile.KubernetesVersion != "1.37.2" || up.Properties.AgentPoolProfiles[0].KubernetesVersion != "1.37.2" {
		t.Errorf("upgrade profile %+v (%v), want the control plane and its pool at 1.37.2", up, err)
	}
	pool, err := s.PoolUpgradeProfile(ctx, testSub, testRG, "mm", "nodepool1", "default")
	if err != nil || pool.Properties.KubernetesVersion != "1.37.2" {
		t.Errorf("pool upgrade profile %+v (%v), want 1.37.2", pool, err)
	}
	avail, err := s.AvailablePoolVersions(ctx, testSub, testRG, "mm")
	if err != nil || len(avail.Properties.AgentPoolVersions) != 1 || avail.Properties.AgentPoolVersions[0].KubernetesVersion != "1.37.2" {
		t.Errorf("available agent pool versions %+v (%v), want 1.37.2", avail, err)
	}
	// What the provider is asked to run is the patch: the embedded one runs nothing else.
	r, err := st.GetResource(ctx, ID(testSub, testRG, "mm"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if spec, err := s.spec(ctx, r, stored); err != nil || spec.KubernetesVersion != "1.37.2" {
		t.Errorf("provider spec version %q (%v), want 1.37.2", spec.KubernetesVersion, err)
	}
}

// TestNodeImageUpgradeMessage: the refusal of a node image upgrade names everything a
// pool can change, its labels and taints included.
func TestNodeImageUpgradeMessage(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	mustPut(t, s, "img", clusterInput(1, "Standard_D3_v2"))
	err := s.RefuseNodeImageUpgrade(ctx, testSub, testRG, "img", "nodepool1")
	wantBadRequest(t, err, CodeOperationNotSupported, []string{""}, "its node count ('az aks nodepool scale'), its autoscaler, node labels, node taints and tags ('az aks nodepool update')")
}

// TestPoolVersionChange: an agent pool PUT (az aks nodepool upgrade -k) or a cluster PUT
// whose agentPoolProfiles[].orchestratorVersion is not the version the pool runs is
// refused as the cluster's own version change is, rather than answered 200 with nothing
// changed; the pool's version, its major.minor and none pass. A new cluster's pool may
// only ask for the cluster's version.
func TestPoolVersionChange(t *testing.T) {
	t.Parallel()
	s, st := serviceWithCluster(t, "pv", 2)
	ctx := context.Background()
	// The agentPools API names the pool's own fields; the cluster's names them in its list.
	const target, poolTarget = "properties.agentPoolProfiles[0].orchestratorVersion", "properties.orchestratorVersion"
	for _, tc := range []struct {
		name, version string
		text          string // "" = accepted
	}{
		{name: "none", version: ""},
		{name: "the same", version: "1.37.2"},
		{name: "major.minor", version: "1.37"},
		{name: "newer", version: "1.38.0", text: "Agent pool 'nodepool1' of cluster 'pv' runs Kubernetes 1.37.2; upgrades are not supported by mlfleet yet"},
		{name: "older", version: "1.36.3", text: "Agent pool 'nodepool1' of cluster 'pv' runs Kubernetes 1.37.2; it cannot be downgraded to 1.36.3"},
		{name: "garbage", version: "banana", text: "'banana' is not a Kubernetes version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var put armapi.AgentPoolPut
			put.Properties.Count = intp(2)
			put.Properties.VMSize = "Standard_D3_v2"
			put.Properties.Mode = "System"
			put.Properties.OrchestratorVersion = tc.version
			_, _, err := s.ScalePool(ctx, testSub, testRG, "pv", "nodepool1", put, arm.Preconditions{})
			in := clusterInput(2, "Standard_D3_v2")
			in.Properties.AgentPoolProfiles[0].OrchestratorVersion = tc.version
			_, _, _, cerr := s.Put(ctx, testSub, testRG, "pv", in, arm.Preconditions{})
			if tc.text == "" {
				if err != nil || cerr != nil {
					t.Fatalf("orchestratorVersion %q: agent pool PUT %v, cluster PUT %v; want both accepted", tc.version, err, cerr)
				}
				return
			}
			wantBadRequest(t, err, "InvalidParameter", []string{poolTarget}, tc.text)
			wantBadRequest(t, cerr, "InvalidParameter", []string{target}, tc.text)
		})
	}
	// The version alone is a request of its own: not "count is required".
	var alone armapi.AgentPoolPut
	alone.Properties.OrchestratorVersion = "1.38.0"
	_, _, err := s.ScalePool(ctx, testSub, testRG, "pv", "nodepool1", alone, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{poolTarget}, "upgrades are not supported")
	// Several failures of an agent pool PUT are the agent pool request's, each naming its
	// field as the agentPools API spells it; the same in a cluster PUT stays the cluster's.
	var both armapi.AgentPoolPut
	both.Properties.Count = intp(2)
	both.Properties.VMSize = "Standard_D2_v2"
	both.Properties.OrchestratorVersion = "1.38.0"
	_, _, err = s.ScalePool(ctx, testSub, testRG, "pv", "nodepool1", both, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{poolTarget, "properties.vmSize"}, "The agent pool request: 2 checks failed.")
	in := clusterInput(2, "Standard_D2_v2")
	in.Properties.AgentPoolProfiles[0].OrchestratorVersion = "1.38.0"
	_, _, _, err = s.Put(ctx, testSub, testRG, "pv", in, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{target, "properties.agentPoolProfiles[0].vmSize"}, "The cluster request: 2 checks failed.")
	// The last version accepted (major.minor) is kept as sent, next to what runs.
	ap, err := s.GetPool(ctx, testSub, testRG, "pv", "nodepool1")
	if err != nil || ap.Properties.OrchestratorVersion != "1.37" || ap.Properties.CurrentOrchestratorVersion != "1.37.2" || ap.Properties.Count != 2 {
		t.Fatalf("after the refusals: %+v (%v), want 1.37 running 1.37.2 and 2 nodes", ap, err)
	}

	// A registered cluster upgraded where it runs: its pool keeps the orchestratorVersion
	// it was registered with, next to the version it runs now. The pool as read passes; an
	// older version is still a downgrade of what runs.
	if _, err := store.Modify(ctx, st, ID(testSub, testRG, "pv"), func(r *store.Resource) error {
		mc, err := clusterRecord.Read(r.ID, r.Body)
		if err != nil {
			return err
		}
		mc.Properties.Mlfleet.Provider = "external"
		mc.Properties.CurrentKubernetesVersion = "1.38.1"
		r.Body = clusterRecord.Encode(mc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	asRead := clusterInput(2, "Standard_D3_v2")
	asRead.Properties.AgentPoolProfiles[0].OrchestratorVersion = ap.Properties.OrchestratorVersion
	if _, _, _, err := s.Put(ctx, testSub, testRG, "pv", asRead, arm.Preconditions{}); err != nil {
		t.Fatalf("a registered cluster's pool as read: %v", err)
	}
	asRead.Properties.AgentPoolProfiles[0].OrchestratorVersion = "1.37.1"
	_, _, _, err = s.Put(ctx, testSub, testRG, "pv", asRead, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{target}, "runs Kubernetes 1.38.1; it cannot be downgraded to 1.37.1")

	for _, tc := range []struct {
		name, cluster, pool string
		text                string
	}{
		{name: "pool at the cluster's version", cluster: "1.37.2", pool: "1.37.2"},
		{name: "pool at its major.minor", cluster: "", pool: "1.37"},
		{name: "pool at the patch of the cluster's major.minor", cluster: "1.37", pool: "1.37.2"},
		{name: "pool older than the cluster", cluster: "1.37.2", pool: "1.36.3",
			text: "Agent pool 'nodepool1' asks for Kubernetes 1.36.3, but mlfleet runs every agent pool at its cluster's version, 1.37.2"},
		{name: "pool garbage", cluster: "", pool: "banana", text: "'banana' is not a Kubernetes version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := clusterInput(1, "Standard_D3_v2")
			in.Properties.KubernetesVersion = tc.cluster
			in.Properties.AgentPoolProfiles[0].OrchestratorVersion = tc.pool
			nc, err := s.Validate(ctx, testSub, testRG, "newpv", in, "")
			if tc.text == "" {
				// The pool keeps its version as asked and runs the cluster's patch.
				if err != nil || nc.cluster.Properties.AgentPoolProfiles[0].OrchestratorVersion != tc.pool ||
					nc.cluster.Properties.AgentPoolProfiles[0].CurrentOrchestratorVersion != "1.37.2" {
					t.Fatalf("create with pool version %q: %+v %v, want accepted as %s running 1.37.2", tc.pool, nc, err, tc.pool)
				}
				return
			}
			wantBadRequest(t, err, "InvalidParameter", []string{target}, tc.text)
		})
	}
}
