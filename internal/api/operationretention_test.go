package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/sweeper"
)

// TestOperationStatusAfterRetention: once the sweeper removed an operation that ended
// longer ago than the retention, its status and result URLs answer 404 NotFound as an
// unknown id does; an operation that ended recently, and the newest of a group that still
// exists however old, still answer.
func TestOperationStatusAfterRetention(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	ctx := context.Background()
	a.group(t, "kept")
	now := time.Now()
	old := now.Add(-8 * 24 * time.Hour)
	for _, op := range []*store.Operation{
		{ID: "0a000000-0000-0000-0000-000000000001", ResourceID: subURL + "/resourceGroups/gone", EndedAt: old},
		{ID: "0a000000-0000-0000-0000-000000000002", ResourceID: subURL + "/resourceGroups/gone", EndedAt: now.Add(-time.Hour)},
		{ID: "0a000000-0000-0000-0000-000000000003", ResourceID: subURL + "/resourceGroups/kept", EndedAt: old},
	} {
		op.Kind, op.SubscriptionID, op.Status, op.StartedAt = "resourcegroups.delete", testSub, store.StatusSucceeded, op.EndedAt.Add(-time.Minute)
		if err := a.st.CreateOperation(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := sweeper.New(a.st, sweeper.Config{}).Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the old operation of the deleted group removed", n, err)
	}
	const ns = "/providers/Microsoft.Resources/"
	for _, tc := range []struct {
		id, kind string
		want     int
	}{
		{"0a000000-0000-0000-0000-000000000001", "operationStatuses", http.StatusNotFound},
		{"0a000000-0000-0000-0000-000000000001", "operationResults", http.StatusNotFound},
		{"0a000000-0000-0000-0000-000000000002", "operationStatuses", http.StatusOK},
		{"0a000000-0000-0000-0000-000000000003", "operationStatuses", http.StatusOK},
	} {
		status, body := a.call(t, a.owner, http.MethodGet, subURL+ns+tc.kind+"/"+tc.id+"?api-version=2022-09-01", nil)
		if status != tc.want {
			t.Errorf("GET %s of %s = %d %v, want %d", tc.kind, tc.id, status, body, tc.want)
			continue
		}
		if status != http.StatusNotFound {
			continue
		}
		e, _ := body["error"].(map[string]any)
		if want := "Operation '" + tc.id + "' could not be found in subscription '" + testSub + "'."; e["code"] != "NotFound" || e["message"] != want {
			t.Errorf("GET %s of a removed operation: %v, want NotFound %q", tc.kind, body, want)
		}
	}
}
