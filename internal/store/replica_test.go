package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// testReplicas: heartbeats create then update a replica's row, silence is measured on the
// database's clock, and silent rows can be pruned.
func testReplicas(t *testing.T, open func() Store) {
	ctx := context.Background()
	a, b := open(), open()
	started := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	if err := a.HeartbeatReplica(ctx, &Replica{}); err == nil {
		t.Fatal("a heartbeat without an id was accepted")
	}
	if err := a.HeartbeatReplica(ctx, &Replica{ID: "r1", Address: "127.0.0.1:1", StartedAt: started}); err != nil {
		t.Fatal(err)
	}
	if err := b.HeartbeatReplica(ctx, &Replica{ID: "r2", Address: "127.0.0.1:2", StartedAt: started, Clusters: []string{"c1", "c2"}}); err != nil {
		t.Fatal(err)
	}
	list, err := a.ListReplicas(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListReplicas = %d rows, %v", len(list), err)
	}
	if list[0].ID != "r1" || list[0].Address != "127.0.0.1:1" || !list[0].StartedAt.Equal(started) || len(list[0].Clusters) != 0 {
		t.Fatalf("r1 = %+v", list[0])
	}
	if !slices.Equal(list[1].Clusters, []string{"c1", "c2"}) {
		t.Fatalf("r2 clusters = %v", list[1].Clusters)
	}
	if s := list[0].Silence; s < 0 || s > time.Minute {
		t.Fatalf("silence right after a heartbeat: %v", s)
	}
	// A heartbeat updates the row in place: new address and clusters, one row.
	if err := a.HeartbeatReplica(ctx, &Replica{ID: "r1", Address: "127.0.0.1:9", StartedAt: started, Clusters: []string{"c3"}}); err != nil {
		t.Fatal(err)
	}
	list, _ = b.ListReplicas(ctx)
	if len(list) != 2 || list[0].Address != "127.0.0.1:9" || !slices.Equal(list[0].Clusters, []string{"c3"}) {
		t.Fatalf("after the second heartbeat: %+v", list[0])
	}
	// Once r2 has been silent for at least 50ms, pruning at 25ms removes it (r1 too, on a
	// machine slow enough to take 25ms between the two statements).
	testutil.WaitFor(t, 10*time.Second, "r2 silent for 50ms", func() (bool, string) {
		list, err := b.ListReplicas(ctx)
		if err != nil {
			return false, err.Error()
		}
		i := slices.IndexFunc(list, func(r *Replica) bool { return r.ID == "r2" })
		return i >= 0 && list[i].Silence >= 50*time.Millisecond, fmt.Sprintf("%+v", list)
	})
	if err := a.HeartbeatReplica(ctx, &Replica{ID: "r1", Address: "127.0.0.1:9", StartedAt: started}); err != nil {
		t.Fatal(err)
	}
	n, err := a.DeleteSilentReplicas(ctx, 25*time.Millisecond)
	if err != nil || n < 1 {
		t.Fatalf("DeleteSilentReplicas = %d, %v; want r2 removed", n, err)
	}
	list, _ = b.ListReplicas(ctx)
	if slices.ContainsFunc(list, func(r *Replica) bool { return r.ID == "r2" }) {
		t.Fatal("the silent replica's row is still there")
	}
	if err := a.DeleteReplica(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteReplica(ctx, "r1"); err != nil {
		t.Fatalf("deleting a missing replica: %v", err)
	}
	if list, _ := b.ListReplicas(ctx); len(list) != 0 {
		t.Fatalf("rows left: %+v", list)
	}
}
