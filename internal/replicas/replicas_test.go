package replicas

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

func TestHeartbeat(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	clusters := make(chan []string, 1)
	clusters <- []string{"c1"}
	current := []string{"c1"}
	h, err := Start(ctx, Config{Store: st, ID: "r1", Address: "127.0.0.1:8443", Interval: 10 * time.Millisecond,
		Clusters: func() []string {
			select {
			case c := <-clusters:
				current = c
			default:
			}
			return current
		}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.ListReplicas(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "r1" || list[0].Address != "127.0.0.1:8443" || !slices.Equal(list[0].Clusters, []string{"c1"}) {
		t.Fatalf("row after Start: %+v, %v", list, err)
	}
	if !Live(list[0], time.Minute) {
		t.Fatalf("a replica that just beat is not live: %+v", list[0])
	}
	// The heartbeat carries what the replica runs now.
	clusters <- []string{"c1", "c2"}
	testutil.WaitFor(t, 10*time.Second, "the heartbeat updates the clusters", func() (bool, string) {
		list, _ = st.ListReplicas(ctx)
		return len(list) == 1 && slices.Equal(list[0].Clusters, []string{"c1", "c2"}), fmt.Sprintf("%+v", list)
	})
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := st.ListReplicas(ctx); len(list) != 0 {
		t.Fatalf("rows after Close: %+v", list)
	}
}

func TestLive(t *testing.T) {
	if Live(&store.Replica{Silence: 16 * time.Second}, 5*time.Second) {
		t.Error("silent for more than 3 intervals, still live")
	}
	if !Live(&store.Replica{Silence: 14 * time.Second}, 0) {
		t.Error("silent for less than 3 default intervals, lost")
	}
}

func TestLoadOrCreateID(t *testing.T) {
	file := filepath.Join(t.TempDir(), "replica.id")
	a, err := LoadOrCreateID(file)
	if err != nil || a == "" {
		t.Fatal(a, err)
	}
	b, err := LoadOrCreateID(file)
	if err != nil || b != a {
		t.Fatalf("second load: %q, %v; want %q", b, err, a)
	}
}
