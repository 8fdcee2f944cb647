package compute

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestWaitClusterEnds: a compute create's wait for its cluster ends once no operation works
// on a cluster still Creating (its create failed and its cleanup did not set it Failed, as an
// older server left it), with the cluster operation's error when there is one; it goes on
// waiting while the cluster's operation runs.
func TestWaitClusterEnds(t *testing.T) {
	t.Parallel()
	failure, _ := json.Marshal(arm.Errorf(500, "ClusterOperationFailed", "ensure cluster: injected"))
	tests := []struct {
		name string
		// op is the status of the cluster's create operation ("" for none).
		op       string
		wantCode string // "" means still waiting when the test stops it
	}{
		{name: "operation failed", op: store.StatusFailed, wantCode: "ClusterOperationFailed"},
		{name: "no operation", wantCode: "ClusterCreationFailed"},
		{name: "operation running", op: store.StatusInProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newPutHarness(t)
			ctx := context.Background()
			id := h.cluster(t, "mc")
			setClusterState(t, h.st, id, armapi.StateCreating)
			if tt.op != "" {
				op := &store.Operation{ID: uuid.NewString(), Kind: "managedclusters.create", ResourceID: id, SubscriptionID: testSub,
					Status: tt.op, Input: []byte("{}"), StartedAt: time.Now().UTC()}
				if tt.op == store.StatusFailed {
					op.Error, op.EndedAt = failure, time.Now().UTC()
				}
				if err := h.st.CreateOperation(ctx, op); err != nil {
					t.Fatal(err)
				}
			}
			// Long for an answer that comes at once, short for one that never comes.
			limit := 10 * time.Second
			if tt.wantCode == "" {
				limit = 500 * time.Millisecond
			}
			wctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			err := h.s.waitCluster(wctx, id, nil)
			if tt.wantCode == "" {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("waitCluster = %v, want it still waiting while the cluster's operation runs", err)
				}
				return
			}
			if ae := armError(t, err); ae.Code != tt.wantCode {
				t.Errorf("waitCluster = (%s) %q, want code %s", ae.Code, ae.Message, tt.wantCode)
			}
		})
	}
}

// setClusterState sets the provisioning state of the stored cluster id.
func setClusterState(t *testing.T, st store.Store, id, state string) {
	t.Helper()
	if _, err := store.Modify(context.Background(), st, id, func(r *store.Resource) error {
		var mc armapi.ManagedCluster
		if err := json.Unmarshal(r.Body, &mc); err != nil {
			return err
		}
		mc.Properties.ProvisioningState = state
		r.Body, _ = json.Marshal(mc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// endingStore is a store whose first listing of the operations of cluster first ends
// them as the cluster's operation does: it writes the cluster Succeeded, then ends the
// operation; the listing is of after the end.
type endingStore struct {
	store.Store
	t       *testing.T
	cluster string
	op      *store.Operation
	once    sync.Once
}

func (s *endingStore) ListOperations(ctx context.Context, f store.OperationFilter) ([]*store.Operation, error) {
	if f.ResourceID == s.cluster {
		s.once.Do(func() {
			setClusterState(s.t, s.Store, s.cluster, armapi.StateSucceeded)
			s.op.Status, s.op.EndedAt = store.StatusSucceeded, time.Now().UTC()
			if err := s.Store.SaveOperation(ctx, s.op, s.op.LeaseOwner); err != nil {
				s.t.Error(err)
			}
		})
	}
	return s.Store.ListOperations(ctx, f)
}

// TestWaitClusterSeesTheLastWrite: a cluster's operation that ends between the wait's
// read of the cluster (Creating) and its look for running operations (none) is not taken
// for an abandoned cluster: the wait reads the cluster again and sees it Succeeded. This
// race failed a compute create in a full-suite run.
func TestWaitClusterSeesTheLastWrite(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	ctx := context.Background()
	id := h.cluster(t, "mc")
	setClusterState(t, h.st, id, armapi.StateCreating)
	op := &store.Operation{ID: uuid.NewString(), Kind: "managedclusters.create", ResourceID: id, SubscriptionID: testSub,
		Status: store.StatusInProgress, Input: []byte("{}"), StartedAt: time.Now().UTC(), LeaseOwner: "test", LeaseExpiresAt: time.Now().Add(time.Hour)}
	if err := h.st.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	h.s.cfg.Store = &endingStore{Store: h.st, t: t, cluster: id, op: op}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.s.waitCluster(wctx, id, nil); err != nil {
		t.Fatalf("waitCluster = %v, want nil: the cluster's operation ended Succeeded", err)
	}
}
