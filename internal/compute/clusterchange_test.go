package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestClusterChangeAllowed: a change made to a cluster itself (az aks scale, nodepool
// update) is refused when it leaves the cluster too small for the purpose of the compute
// attached to it (S5, S20), its autoscaling floor included; a cluster no compute holds,
// or one held by a DevTest compute, may shrink. New authorized IP ranges that leave out the
// address the control plane connects from are refused for any attached compute with a 400
// ControlPlaneNotAuthorized that names the range to add (S15), as an attach is; a change of
// the ranges alone is not refused for a size the cluster already had.
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
	// Each attached cluster is stored with 3 nodes (thin: 1), its API server on this host
	// (what the control plane dials decides the address it connects from), and no ranges.
	store3 := func(name string) {
		t.Helper()
		mc := cluster(name, 3)
		if name == "thin" {
			mc = cluster(name, 1)
		}
		mc.Properties.Mlfleet.APIServerURL = "https://127.0.0.1:6443"
		mc.Properties.Mlfleet.Provider = "external"
		body, _ := json.Marshal(mc)
		if err := st.CreateResource(ctx, &store.Resource{ID: mc.ID, ParentID: "/subscriptions/" + sub + "/resourceGroups/rg", Type: "Microsoft.ContainerService/managedClusters",
			Name: name, SubscriptionID: sub, ResourceGroup: "rg", Location: "westus", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	attach := func(clusterName, compute, purpose string) {
		t.Helper()
		store3(clusterName)
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
	ranged := func(mc *armapi.ManagedCluster, ranges ...string) *armapi.ManagedCluster {
		mc.Properties.APIServerAccessProfile = &armapi.APIServerAccessProfile{AuthorizedIPRanges: ranges}
		return mc
	}
	attach("prod", "fast", "FastProd")
	attach("dev", "small", "DevTest")
	attach("thin", "thinprod", "FastProd")

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
		{name: "ranges that keep the control plane in", next: ranged(cluster("prod", 3), "203.0.113.0/24", "127.0.0.0/8")},
		{name: "ranges that leave the control plane out", next: ranged(cluster("prod", 3), "203.0.113.0/24"),
			wantErr: "Add 127.0.0.1/32 to the ranges: mlfleet aks update -n prod -g rg --api-server-authorized-ip-ranges 203.0.113.0/24,127.0.0.1/32"},
		{name: "ranges of a DevTest compute's cluster", next: ranged(cluster("dev", 3), "203.0.113.0/24"), wantErr: "compute 'small'"},
		{name: "ranges of an unattached cluster", next: ranged(cluster("free", 1), "203.0.113.0/24")},
		{name: "ranges of a cluster already too small, sizes unchanged", next: ranged(cluster("thin", 1), "127.0.0.1/32")},
		{name: "a cluster already too small, resized, is checked", next: cluster("thin", 2), wantErr: "compute 'thinprod'"},
	} {
		err := s.ClusterChangeAllowed(ctx, tc.next)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "compute '")):
			t.Errorf("%s: %v, want an error with %q naming the compute", tc.name, err, tc.wantErr)
		}
	}
	var ae *arm.Error
	err := s.ClusterChangeAllowed(ctx, ranged(cluster("prod", 3), "203.0.113.0/24"))
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "ControlPlaneNotAuthorized" || ae.Target != "properties.apiServerAccessProfile.authorizedIPRanges" {
		t.Errorf("ranges that leave the control plane out: %v, want a 400 ControlPlaneNotAuthorized on the ranges", err)
	}
}

// TestWhileUnreachable: a call to a cluster that cannot be reached (its host replica died)
// is made again until the cluster answers; any other error ends it at once; a context that
// ends stops the retries with the last error.
func TestWhileUnreachable(t *testing.T) {
	t.Parallel()
	stack := servicetest.New(t, "0d000000-0000-4000-8000-000000000002", nil)
	s := New(Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Clusters: stack.Clusters})
	mc := &armapi.ManagedCluster{Name: "moving"}
	unreachable := fmt.Errorf("apply: %w: unexpected EOF", kube.ErrUnreachable)

	calls := 0
	err := s.whileUnreachable(context.Background(), mc, func(context.Context) error {
		if calls++; calls < 3 {
			return unreachable
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("back after two failures: %v after %d calls, want nil after 3", err, calls)
	}

	calls = 0
	forbidden := fmt.Errorf("apply: %w", kube.ErrForbidden)
	if err := s.whileUnreachable(context.Background(), mc, func(context.Context) error { calls++; return forbidden }); !errors.Is(err, kube.ErrForbidden) || calls != 1 {
		t.Errorf("forbidden: %v after %d calls, want it at once", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = s.whileUnreachable(ctx, mc, func(context.Context) error {
		if calls++; calls == 2 {
			cancel()
		}
		return unreachable
	})
	if !errors.Is(err, kube.ErrUnreachable) {
		t.Errorf("cancelled while unreachable: %v, want the unreachable error", err)
	}
}
