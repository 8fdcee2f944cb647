package containerservice

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestChangeGuard: a change of a cluster's node counts asks the guard about the cluster as
// the change would leave it, and a refusal is the answer, with nothing changed; a change
// of nothing it guards (tags) does not ask.
func TestChangeGuard(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	var asked []int
	refusal := errors.New("too small for its compute")
	s.cfg.ChangeGuard = func(_ context.Context, next *armapi.ManagedCluster) error {
		n := next.Properties.AgentPoolProfiles[0].Count
		asked = append(asked, n)
		if n < 3 {
			return refusal
		}
		return nil
	}
	mustPut(t, s, "guarded", clusterInput(3, "Standard_D3_v2"))
	finishOperations(t, st)
	scale := func(count int) error {
		var in armapi.AgentPoolPut
		in.Properties.Count = &count
		_, _, err := s.ScalePool(ctx, testSub, testRG, "guarded", "nodepool1", in, arm.Preconditions{})
		return err
	}
	if err := scale(2); !errors.Is(err, refusal) {
		t.Fatalf("scale to 2: %v, want the guard's refusal", err)
	}
	if mc, err := s.Get(ctx, testSub, testRG, "guarded"); err != nil || mc.Properties.ProvisioningState != armapi.StateSucceeded {
		t.Fatalf("after the refusal: %v, %v", mc.Properties.ProvisioningState, err)
	}
	if err := scale(4); err != nil {
		t.Fatalf("scale to 4: %v", err)
	}
	finishOperations(t, st)
	var in armapi.ClusterInput
	in.Tags = map[string]string{"team": "a"}
	mustPut(t, s, "guarded", in)
	if len(asked) != 2 || asked[0] != 2 || asked[1] != 4 {
		t.Errorf("the guard was asked about %v, want [2 4] (creates and tag changes are not its business)", asked)
	}
}

// TestChangeGuardRanges: a change of a cluster's authorized IP ranges (az aks update
// --api-server-authorized-ip-ranges) asks the guard about the cluster with the new ranges,
// those being cleared too; a refusal is the answer, with the ranges and the state left as
// they were.
func TestChangeGuardRanges(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	var asked [][]string
	refusal := errors.New("locks the control plane out")
	s.cfg.ChangeGuard = func(_ context.Context, next *armapi.ManagedCluster) error {
		var ranges []string
		if ap := next.Properties.APIServerAccessProfile; ap != nil {
			ranges = ap.AuthorizedIPRanges
		}
		asked = append(asked, ranges)
		if len(ranges) > 0 && ranges[0] == "203.0.113.0/24" {
			return refusal
		}
		return nil
	}
	mustPut(t, s, "ranged", clusterInput(1, "Standard_D3_v2"))
	finishOperations(t, st)
	setRanges := func(ranges ...string) error {
		var in armapi.ClusterInput
		in.Properties.APIServerAccessProfile = &armapi.APIServerAccessProfile{AuthorizedIPRanges: ranges}
		_, _, _, err := s.Put(ctx, testSub, testRG, "ranged", in, arm.Preconditions{})
		return err
	}
	if err := setRanges("203.0.113.0/24"); !errors.Is(err, refusal) {
		t.Fatalf("ranges 203.0.113.0/24: %v, want the guard's refusal", err)
	}
	mc, err := s.Get(ctx, testSub, testRG, "ranged")
	if err != nil || mc.Properties.ProvisioningState != armapi.StateSucceeded ||
		(mc.Properties.APIServerAccessProfile != nil && len(mc.Properties.APIServerAccessProfile.AuthorizedIPRanges) > 0) {
		t.Fatalf("after the refusal: %+v, %v; want Succeeded with no ranges", mc.Properties, err)
	}
	if err := setRanges("10.0.0.0/8"); err != nil {
		t.Fatalf("ranges 10.0.0.0/8: %v", err)
	}
	finishOperations(t, st)
	if len(asked) != 2 || fmt.Sprint(asked) != "[[203.0.113.0/24] [10.0.0.0/8]]" {
		t.Errorf("the guard was asked about ranges %v, want [[203.0.113.0/24] [10.0.0.0/8]]", asked)
	}
}
