package replicas

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
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

// TestOwns: alone, a replica owns every key; with a second one live, every key has exactly
// one owner and both own some; once the second is gone, the first owns them all again.
func TestOwns(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	start := func(id string) *Heartbeat {
		h, err := Start(ctx, Config{Store: st, ID: id, Address: "127.0.0.1:1", Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close(ctx) })
		return h
	}
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprintf("/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/c%d", i)
	}
	owned := func(h *Heartbeat) int {
		n := 0
		for _, k := range keys {
			if h.Owns(k) {
				n++
			}
		}
		return n
	}
	h1 := start("r1")
	if n := owned(h1); n != len(keys) {
		t.Fatalf("alone, r1 owns %d of %d keys", n, len(keys))
	}
	h2 := start("r2")
	if err := h1.beat(ctx); err != nil { // r1 learns of r2 at its next beat
		t.Fatal(err)
	}
	n1, n2 := owned(h1), owned(h2)
	for _, k := range keys {
		if h1.Owns(k) == h2.Owns(k) {
			t.Fatalf("key %s: owned by r1 %v and by r2 %v, want exactly one", k, h1.Owns(k), h2.Owns(k))
		}
	}
	if n1 == 0 || n2 == 0 {
		t.Fatalf("r1 owns %d keys and r2 %d: the work is not shared", n1, n2)
	}
	t.Logf("r1 owns %d keys, r2 %d", n1, n2)
	if h1.Owns(strings.ToUpper(keys[0])) != h1.Owns(keys[0]) {
		t.Error("ownership depends on the key's case; ARM ids do not")
	}
	if err := h2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h1.beat(ctx); err != nil {
		t.Fatal(err)
	}
	if n := owned(h1); n != len(keys) {
		t.Fatalf("after r2 left, r1 owns %d of %d keys", n, len(keys))
	}
}
