package compute

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestClusterChangeAllowed: a change made to a cluster itself (az aks scale, nodepool
// update) is refused when it leaves the cluster too small for the purpose of the compute
// attached to it (S5, S20), its autoscaling floor included; a cluster no compute holds,
// or one held by a DevTest compute, may shrink.
func TestClusterChangeAllowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub = "0d000000-0000-4000-8000-000000000001"
	stack := servicetest.New(t, sub, nil)
	st := stack.Store
	s := New(Config{Store: st, Engine: stack.Engine, Resources: stack.Resources, Clusters: stack.Clusters})
	cluster := func(name string, counts ...int) *armapi.ManagedCluster {
		mc := &armapi.ManagedCluster{ID: "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/" + name, Name: name}
		for _, n := range counts {
			mc.Properties.AgentPoolProfiles = append(mc.Properties.AgentPoolProfiles,
				armapi.AgentPoolProfile{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Count: n, VMSize: "Standard_D3_v2"}})
		}
		return mc
	}
	attach := func(clusterName, compute, purpose string) {
		t.Helper()
		id := ID(sub, "rg", "ws", compute)
		c := &armapi.Compute{ID: id, Name: compute}
		c.Properties.Properties = &armapi.AKSProperties{ClusterPurpose: &purpose}
		if err := st.CreateResource(ctx, &store.Resource{ID: id, ParentID: "/subscriptions/" + sub + "/resourceGroups/rg", Type: TypeCompute, Name: compute, Body: computeRecord.Encode(c)}); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(claim{ComputeID: id})
		mcID := cluster(clusterName).ID
		if err := st.CreateResource(ctx, &store.Resource{ID: attachmentClaimID(mcID), ParentID: mcID, Type: typeAttachment, Name: "current", Body: body, OwnerID: id}); err != nil {
			t.Fatal(err)
		}
	}
	attach("prod", "fast", "FastProd")
	attach("dev", "small", "DevTest")

	for _, tc := range []struct {
		name    string
		next    *armapi.ManagedCluster
		wantErr string
	}{
		{name: "unattached cluster shrinks", next: cluster("free", 1)},
		{name: "DevTest compute's cluster shrinks", next: cluster("dev", 1)},
		{name: "FastProd keeps 3 nodes", next: cluster("prod", 3)},
		{name: "FastProd below 3 nodes", next: cluster("prod", 2), wantErr: "FastProd cluster needs at least 3 nodes"},
		{name: "FastProd autoscaling floor", next: func() *armapi.ManagedCluster {
			mc := cluster("prod", 3)
			one := 1
			p := &mc.Properties.AgentPoolProfiles[0]
			p.EnableAutoScaling, p.MinCount = true, &one
			return mc
		}(), wantErr: "autoscaling floor"},
	} {
		err := s.ClusterChangeAllowed(ctx, tc.next)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "compute 'fast'")):
			t.Errorf("%s: %v, want an error with %q naming the compute", tc.name, err, tc.wantErr)
		}
	}
}
