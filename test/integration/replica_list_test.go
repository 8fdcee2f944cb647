package integration

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestReplicaList: replicas on one PostgreSQL list each other with their addresses; a
// replica killed with SIGKILL is listed as Lost once its heartbeat stops, and one stopped
// cleanly leaves the list.
func TestReplicaList(t *testing.T) {
	t.Parallel()
	dsn := replicaSchema(t)
	common := []string{"--store", dsn, "--replica-heartbeat-interval", "200ms"}
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()
	a, cfgA := startServerProcess(t, homeA, "127.0.0.1:0", common...)
	b, cfgB := startServerProcess(t, homeB, "127.0.0.1:0", common...)
	ca := clientOf(t, homeA)
	ctx := context.Background()
	addrA, addrB := strings.TrimPrefix(cfgA.Server, "https://"), strings.TrimPrefix(cfgB.Server, "https://")
	states := func(c *mlfleet.Client) (map[string]string, error) {
		list, err := c.ListReplicas(ctx)
		out := map[string]string{}
		for _, r := range list {
			out[r.Address] = r.State
		}
		return out, err
	}
	got, err := states(ca)
	if err != nil || len(got) != 2 || got[addrA] != "Live" || got[addrB] != "Live" {
		t.Fatalf("replicas: %v, %v; want %s and %s Live", got, err, addrA, addrB)
	}
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-b.done
	testutil.Eventually(t, 20*time.Second, "the killed replica listed as Lost", func() error {
		got, err := states(ca)
		if err == nil && got[addrB] != "Lost" {
			err = fmt.Errorf("replicas: %v", got)
		}
		return err
	})
	a.terminate(t)
	_, cfgC := startServerProcess(t, homeC, "127.0.0.1:0", common...)
	cc := clientOf(t, homeC)
	got, err = states(cc)
	addrC := strings.TrimPrefix(cfgC.Server, "https://")
	if err != nil || len(got) != 2 || got[addrC] != "Live" || got[addrB] != "Lost" {
		t.Fatalf("after A stopped cleanly: %v, %v; want only C Live and B Lost", got, err)
	}
}

// TestReplicaListCLI: `mlfleet replica list -o table` on the shared (SQLite) server shows
// that server, live, at its address.
func TestReplicaListCLI(t *testing.T) {
	t.Parallel()
	out := mustCLI(t, "replica", "list", "-o", "table")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	addr := strings.TrimPrefix(shared.cfg.Server, "https://")
	if len(lines) != 3 || !strings.Contains(lines[0], "Address") || !strings.Contains(lines[2], addr) || !strings.Contains(lines[2], "Live") {
		t.Fatalf("replica list -o table:\n%s\nwant one Live row at %s", out, addr)
	}
	if r := mlfleetCLI(t, "replica", "list", "--query", "[0].state", "-o", "tsv"); r.code != 0 || strings.TrimSpace(r.out) != "Live" {
		t.Fatalf("replica list --query: %+v", r)
	}
}
