package compute

import (
	"context"
	"encoding/json"
	"errors"
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
			if _, err := store.Modify(ctx, h.st, id, func(r *store.Resource) error {
				var mc armapi.ManagedCluster
				if err := json.Unmarshal(r.Body, &mc); err != nil {
					return err
				}
				mc.Properties.ProvisioningState = armapi.StateCreating
				r.Body, _ = json.Marshal(mc)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
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
