package integration

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// armed restarts e's server with spec armed, as the QA run restarted it with
// MLFLEET_FAILPOINTS set.
func (e *fpEnv) armed(spec string) {
	e.t.Helper()
	e.stop()
	e.start(spec)
	if err := e.p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		e.t.Fatal(err)
	}
	testutil.Eventually(e.t, 10*time.Second, "failpoints to be armed", func() error {
		if !strings.Contains(e.p.logs.String(), "failpoints armed: "+spec) {
			return errors.New("not yet")
		}
		return nil
	})
}

// A failed operation whose cleanup fails too (QA): the cleanup is tried again until it
// works or is given up, and the resource ends Failed, never stays Creating; a compute
// create waiting for such a cluster ends, and the user can delete or re-create.
func TestFailedCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := &fpEnv{t: t, home: t.TempDir(), args: []string{"--cleanup-backoff", "100ms"}}
	e.trace = filepath.Join(e.home, "failpoints.trace")
	e.start("")
	defer e.stop()
	failedCreate := "op/managedclusters.create/ensure cluster/after=error@1"

	t.Run("cluster cleanup fails once", func(t *testing.T) {
		e.t = t
		e.armed(failedCreate + ";op/managedclusters.create/cleanup/before=error@1")
		if _, err := e.c.CreateResourceGroup(ctx, "rgz", "westus", nil); err != nil {
			t.Fatal(err)
		}
		_, p, err := e.c.BeginCreateManagedCluster(ctx, "rgz", "akz", oneNodeCluster())
		if err == nil && p != nil {
			_, err = p.Wait(ctx, nil)
		}
		if err == nil {
			t.Fatal("the cluster create succeeded, want it failed by the failpoint")
		}
		e.settle()
		mc, err := e.c.GetManagedCluster(ctx, "rgz", "akz")
		if err != nil {
			t.Fatal(err)
		}
		if mc.Properties.ProvisioningState != "Failed" {
			t.Errorf("cluster is %s after its create failed, want Failed", mc.Properties.ProvisioningState)
		}
		if logs := e.p.logs.String(); !strings.Contains(logs, "trying again later") {
			t.Errorf("the server did not say it would try the cleanup again:\n%s", logs)
		}
		e.invariants("cluster create failed, its cleanup failed once")
		// The name can be created again.
		_, p, err = e.c.BeginCreateManagedCluster(ctx, "rgz", "akz", oneNodeCluster())
		if err == nil && p != nil {
			_, err = p.Wait(ctx, nil)
		}
		if err != nil {
			t.Fatalf("create the cluster again: %v\n%s", err, e.p.logs)
		}
		e.deleteGroup("rgz")
	})

	t.Run("cluster cleanup always fails under a compute create", func(t *testing.T) {
		e.t = t
		e.armed(failedCreate + ";op/managedclusters.create/cleanup/before=error")
		if _, err := e.c.CreateResourceGroup(ctx, "rgc", "westus", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.CreateWorkspace(ctx, "rgc", fpWS, "westus"); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		_, p, err := e.c.BeginCreateOrUpdateCompute(wctx, "rgc", fpWS, "chaos1", devTest(1), nil)
		if err == nil && p != nil {
			_, err = p.Wait(wctx, nil)
		}
		if err == nil || wctx.Err() != nil {
			t.Fatalf("the compute create ended with %v, want it failed (not waiting for ever)", err)
		}
		e.settle()
		c, err := e.c.GetCompute(ctx, "rgc", fpWS, "chaos1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(c)
		// The cleanup's own error is an internal one: the compute says the cleanup failed and
		// where its error is, not the error itself (which may name host paths).
		if c.Properties.ProvisioningState != "Failed" || !strings.Contains(string(body), "op/managedclusters.create/ensure cluster/after") ||
			!strings.Contains(string(body), "cleaning up after the failure did not succeed") || strings.Contains(string(body), "cleanup/before") {
			t.Errorf("compute is %s, want Failed with the cluster's error and that its cleanup failed:\n%s", c.Properties.ProvisioningState, body)
		}
		e.invariants("compute create, its cluster's create and cleanup failed")

		// Unarmed, the user deletes the compute, and creates it again.
		e.stop()
		e.start("")
		p, err = e.c.BeginDeleteCompute(ctx, "rgc", fpWS, "chaos1", "Delete")
		if err == nil && p != nil {
			_, err = p.Wait(ctx, nil)
		}
		if err != nil {
			t.Fatalf("delete the failed compute: %v\n%s", err, e.p.logs)
		}
		_, p, err = e.c.BeginCreateOrUpdateCompute(wctx, "rgc", fpWS, "chaos1", devTest(1), nil)
		if err == nil && p != nil {
			_, err = p.Wait(wctx, nil)
		}
		if err != nil {
			t.Fatalf("create the compute again: %v\n%s", err, e.p.logs)
		}
		e.settle()
		e.invariants("compute created again")
		e.deleteGroup("rgc")
	})
}
