package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestReplicasShareOperations runs two `mlfleet serve` replicas on one PostgreSQL. Replica A
// starts a long-running resource group delete and is killed with SIGKILL in the middle;
// replica B takes the operation over when A's lease expires and finishes it (N2, A4). It
// runs when MLFLEET_TEST_POSTGRES holds a DSN (.ci/run sets it).
func TestReplicasShareOperations(t *testing.T) {
	dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("MLFLEET_TEST_POSTGRES is not set")
	}
	t.Parallel()
	dsn = freshSchema(t, dsn)
	common := []string{"--store", dsn, "--lease-ttl", "2s"}
	homeA, homeB := t.TempDir(), t.TempDir()
	a, _ := startServerProcess(t, homeA, "127.0.0.1:0", append(common, "--fault-step-delay", "150ms")...)
	_, cfgB := startServerProcess(t, homeB, "127.0.0.1:0", common...)

	ca, err := mlfleet.NewClient(mlfleet.WithHome(homeA))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := mlfleet.NewClient(mlfleet.WithHome(homeB))
	if err != nil {
		t.Fatal(err)
	}
	if ca.SubscriptionID() != cb.SubscriptionID() {
		t.Fatalf("replicas use different subscriptions: %s, %s", ca.SubscriptionID(), cb.SubscriptionID())
	}
	ctx := context.Background()
	if _, err := ca.CreateResourceGroup(ctx, "shared-rg", "westus", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 15 {
		if _, err := ca.CreateWorkspace(ctx, "shared-rg", fmt.Sprintf("ws-%02d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	// B sees what A wrote.
	if list, err := cb.ListWorkspaces(ctx, "shared-rg"); err != nil || len(list) != 15 {
		t.Fatalf("replica B lists %d workspaces (%v)", len(list), err)
	}
	poller, err := ca.BeginDeleteResourceGroup(ctx, "shared-rg")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "delete under way", func() error {
		left, err := cb.ListWorkspaces(ctx, "shared-rg")
		if err != nil {
			return err
		}
		if len(left) == 15 || len(left) == 0 {
			return fmt.Errorf("%d workspaces left", len(left))
		}
		return nil
	})
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done

	// Follow the same operation on replica B.
	opURL := strings.Replace(poller.OperationURL(), strings.TrimPrefix(ca.Server(), "https://"), strings.TrimPrefix(cfgB.Server, "https://"), 1)
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := do(t, call{method: "GET", path: strings.TrimPrefix(opURL, cfgB.Server), token: strp(cb.Token()), base: cfgB.Server, client: httpClient(cfgB)})
		if a.body["status"] == "Succeeded" {
			break
		}
		if a.body["status"] == "Failed" || time.Now().After(deadline) {
			t.Fatalf("operation on replica B: %s", a.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := cb.GetResourceGroup(ctx, "shared-rg"); !mlfleet.IsNotFound(err) {
		t.Fatalf("resource group after the takeover: %v", err)
	}
}

// freshSchema creates a schema for one test in the database of dsn and returns a DSN that
// uses it.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	schemaDSN, drop, err := storetest.PostgresSchema(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return schemaDSN
}
