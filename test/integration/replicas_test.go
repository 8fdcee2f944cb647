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
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestReplicasShareOperations runs two `mlfleet serve` replicas on one PostgreSQL. Replica A
// starts a long-running resource group delete and is killed with SIGKILL in the middle;
// replica B takes the operation over when A's lease expires and finishes it (N2, A4). It
// runs when MLFLEET_TEST_POSTGRES holds a DSN (.ci/run sets it).
func TestReplicasShareOperations(t *testing.T) {
	t.Parallel()
	dsn := replicaSchema(t)
	common := []string{"--store", dsn, "--lease-ttl", "2s"}
	homeA, homeB := t.TempDir(), t.TempDir()
	a, _ := startServerProcess(t, homeA, "127.0.0.1:0", append(common, "--fault-step-delay", "150ms")...)
	_, cfgB := startServerProcess(t, homeB, "127.0.0.1:0", common...)

	ca := clientOf(t, homeA)
	cb := clientOf(t, homeB)
	if ca.SubscriptionID() != cb.SubscriptionID() {
		t.Fatalf("replicas use different subscriptions: %s, %s", ca.SubscriptionID(), cb.SubscriptionID())
	}
	ctx := context.Background()
	createGroup(t, ca, "shared-rg", "westus")
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
	testutil.Eventually(t, 30*time.Second, "delete under way", func() error {
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
	testutil.WaitFor(t, 60*time.Second, "the operation succeeds on replica B", func() (bool, string) {
		a := do(t, call{method: "GET", path: strings.TrimPrefix(opURL, cfgB.Server), token: strp(cb.Token()), base: cfgB.Server, client: httpClient(cfgB)})
		if a.body["status"] == "Failed" {
			t.Fatalf("operation on replica B: %s", a.raw)
		}
		return a.body["status"] == "Succeeded", a.raw
	})
	if _, err := cb.GetResourceGroup(ctx, "shared-rg"); !mlfleet.IsNotFound(err) {
		t.Fatalf("resource group after the takeover: %v", err)
	}
}

// replicaSchema returns the DSN of a new schema, dropped when the test ends, in the
// PostgreSQL database MLFLEET_TEST_POSTGRES names; the test is skipped when it is not set.
func replicaSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("MLFLEET_TEST_POSTGRES is not set")
	}
	return storetest.Schema(t, dsn)
}
