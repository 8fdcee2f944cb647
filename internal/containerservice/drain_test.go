package containerservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	// gate, when set, holds every Ensure until it is closed.
	gate chan struct{}
}

func (p *budgetBlockedProvider) Ensure(_ context.Context, spec provider.ClusterSpec) (*provider.Status, error) {
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		<-gate
	}
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

// TestScaleDownDrainFailure: a pool is Scaling while its scale runs, as AKS shows it. A
// scale-down whose drain a PodDisruptionBudget blocks ends in a failed operation with
// AKS's drain failure, the budget named and what to do; the cluster and the pool are
// Succeeded again and keep their stored node count.
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

	// While a scale runs, the pool is Scaling and keeps its count; then Succeeded, with the new one.
	pool := func() armapi.AgentPoolProfile {
		t.Helper()
		_, mc, err := stored(ctx, st, ID(testSub, testRG, "aks1"))
		if err != nil {
			t.Fatal(err)
		}
		return mc.Properties.AgentPoolProfiles[0]
	}
	gate := make(chan struct{})
	prov.mu.Lock()
	prov.gate = gate
	prov.mu.Unlock()
	count := 4
	var in armapi.AgentPoolPut
	in.Properties.Count = &count
	ap, op, err := s.ScalePool(ctx, testSub, testRG, "aks1", "nodepool1", in, arm.Preconditions{})
	if err != nil {
		t.Fatal(err)
	}
	if ap.Properties.ProvisioningState != armapi.StateScaling || ap.Properties.Count != 4 {
		t.Errorf("scale 3 -> 4 answered %s with count %d, want Scaling to 4", ap.Properties.ProvisioningState, ap.Properties.Count)
	}
	if p := pool(); p.ProvisioningState != armapi.StateScaling || p.Count != 3 {
		t.Errorf("during the scale the pool is %s with count %d, want Scaling with 3", p.ProvisioningState, p.Count)
	}
	prov.mu.Lock()
	prov.gate = nil
	prov.mu.Unlock()
	close(gate)
	if got := finished(op); got.Status != store.StatusSucceeded {
		t.Fatalf("scale 3 -> 4: %s %s", got.Status, got.Error)
	}
	if p := pool(); p.ProvisioningState != armapi.StateSucceeded || p.Count != 4 {
		t.Errorf("after the scale the pool is %s with count %d, want Succeeded with 4", p.ProvisioningState, p.Count)
	}

	count = 3
	_, op, err = s.ScalePool(ctx, testSub, testRG, "aks1", "nodepool1", in, arm.Preconditions{})
	if err != nil {
		t.Fatal(err)
	}
	got := finished(op)
	var body struct{ Code, Message string }
	if err := json.Unmarshal(got.Error, &body); err != nil && got.Status == store.StatusFailed {
		t.Fatalf("operation error %s: %v", got.Error, err)
	}
	if got.Status != store.StatusFailed || body.Code != "PodDrainFailure" {
		t.Fatalf("scale 4 -> 3 under a budget: %s %s, want Failed with PodDrainFailure", got.Status, got.Error)
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
	if p := pool(); p.ProvisioningState != armapi.StateSucceeded || p.Count != 4 {
		t.Errorf("after the failed scale-down the pool is %s with count %d, want Succeeded with 4", p.ProvisioningState, p.Count)
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

// TestProviderErrorKeptForTheEngine: a provider call that failed because the store cannot
// take writes, or on a file of the server, keeps that error, so that the operation ends
// with what the engine lets through (503 ServiceUnavailable, or a 500 naming the
// operation), not a 500 ClusterOperationFailed quoting the store's or the file's path;
// any other error is that 500, quoted.
func TestProviderErrorKeptForTheEngine(t *testing.T) {
	full := &store.UnavailableError{Where: "/var/lib/mlfleet/mlfleet.db", Reason: store.ReasonFull, Err: errors.New("database or disk is full (13)")}
	_, statErr := os.Stat(filepath.Join(t.TempDir(), "clusters", "c1", "identity"))
	for _, tt := range []struct {
		name string
		err  error
		kept bool
	}{
		{"store full", fmt.Errorf("store cluster identity: %w", full), true},
		{"file of the server", fmt.Errorf("install identity: %w", statErr), true},
		{"other", errors.New("apiserver did not become ready in 2m0s"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := providerError("create cluster aks1", tt.err)
			var ae *arm.Error
			switch isARM := errors.As(err, &ae); {
			case tt.kept && (isARM || !errors.Is(err, tt.err)):
				t.Errorf("providerError(%v) = %v, want the error kept, not an ARM error quoting it", tt.err, err)
			case !tt.kept && (!isARM || ae.Code != "ClusterOperationFailed" || !strings.Contains(ae.Message, tt.err.Error())):
				t.Errorf("providerError(%v) = %v, want a 500 ClusterOperationFailed quoting it", tt.err, err)
			}
		})
	}
}
