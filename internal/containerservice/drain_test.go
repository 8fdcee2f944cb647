package containerservice

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// budgetBlockedProvider stands in for the embedded provider and is named so: its
// clusters grow as asked, and every shrink fails as a drain that a PodDisruptionBudget
// blocks (the embedded provider's own test, TestScaleDownBlockedByBudget, shows the real
// one does).
type budgetBlockedProvider struct {
	providertest.InfoOnly
	mu     sync.Mutex
	counts map[string]int // by pool
}

func (p *budgetBlockedProvider) Ensure(_ context.Context, spec provider.ClusterSpec) (*provider.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pool := range spec.Pools {
		if cur, ok := p.counts[pool.Name]; ok && pool.Count < cur {
			return nil, &provider.DrainError{Node: "aks-" + pool.Name + "-12345678-vmss000002", Pod: "default/web-1",
				Budget: "default/web-pdb", Err: errors.New("Cannot evict pod as it would violate the pod's disruption budget.")}
		}
		p.counts[pool.Name] = pool.Count
	}
	return &provider.Status{KubernetesVersion: p.I.Versions[0]}, nil
}

// TestScaleDownDrainFailure: a scale-down whose drain a PodDisruptionBudget blocks ends
// in a failed operation with AKS's drain failure, the budget named and what to do; the
// cluster is Succeeded again and keeps its stored node count.
func TestScaleDownDrainFailure(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	engine, rs := newGroup(t, st)
	info := infoOnlyProvider().Info()
	prov := &budgetBlockedProvider{InfoOnly: providertest.InfoOnly{I: info}, counts: map[string]int{}}
	s := New(Config{Store: st, Engine: engine, Resources: rs, Versions: catalog.DefaultVersions(), VMSizes: catalog.DefaultVMSizes(),
		Providers: map[string]provider.Provider{"embedded": prov}})
	engine.Start(ctx)
	t.Cleanup(func() { engine.Close(context.Background()) })

	finished := func(op *store.Operation) *store.Operation {
		t.Helper()
		var got *store.Operation
		testutil.WaitFor(t, 30*time.Second, "operation "+op.Kind+" ends", func() (bool, string) {
			var err error
			got, err = st.GetOperation(ctx, op.ID)
			if err != nil {
				return false, err.Error()
			}
			return got.Status == store.StatusSucceeded || got.Status == store.StatusFailed, got.Status
		})
		return got
	}
	_, _, op, err := s.Put(ctx, testSub, testRG, "aks1", clusterInput(3, "Standard_D2_v2"), arm.Preconditions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := finished(op); got.Status != store.StatusSucceeded {
		t.Fatalf("create: %s %s", got.Status, got.Error)
	}

	count := 2
	var in armapi.AgentPoolPut
	in.Properties.Count = &count
	_, op, err = s.ScalePool(ctx, testSub, testRG, "aks1", "nodepool1", in)
	if err != nil {
		t.Fatal(err)
	}
	got := finished(op)
	var body struct{ Code, Message string }
	if err := json.Unmarshal(got.Error, &body); err != nil && got.Status == store.StatusFailed {
		t.Fatalf("operation error %s: %v", got.Error, err)
	}
	if got.Status != store.StatusFailed || body.Code != "PodDrainFailure" {
		t.Fatalf("scale 3 -> 2 under a budget: %s %s, want Failed with PodDrainFailure", got.Status, got.Error)
	}
	for _, want := range []string{"aks-nodepool1-12345678-vmss000002", "default/web-1", "PodDisruptionBudget 'default/web-pdb'",
		"keeps its node count", "Relax it", "aka.ms/aks/debugdrainfailures"} {
		if !strings.Contains(body.Message, want) {
			t.Errorf("message %q lacks %q", body.Message, want)
		}
	}
	testutil.WaitFor(t, 30*time.Second, "the cluster Succeeded again", func() (bool, string) {
		_, mc, err := stored(ctx, st, ID(testSub, testRG, "aks1"))
		if err != nil {
			return false, err.Error()
		}
		return mc.Properties.ProvisioningState == armapi.StateSucceeded, mc.Properties.ProvisioningState
	})
	_, mc, err := stored(ctx, st, ID(testSub, testRG, "aks1"))
	if err != nil {
		t.Fatal(err)
	}
	if c := mc.Properties.AgentPoolProfiles[0].Count; c != 3 {
		t.Errorf("stored count %d after the failed scale-down, want 3", c)
	}
}

// TestDrainFailureStatus: the drain failure is a 400 (the user's to fix), not a 500.
func TestDrainFailureStatus(t *testing.T) {
	err := providerError("update cluster aks1", &provider.DrainError{Node: "n", Pod: "ns/p", Err: errors.New("still there 10m0s after its eviction")})
	var ae *arm.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "PodDrainFailure" || !strings.Contains(ae.Message, "Check why pod 'ns/p' does not leave") {
		t.Fatalf("providerError(DrainError) = %#v, want a 400 PodDrainFailure saying what to check", err)
	}
}
