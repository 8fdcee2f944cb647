package sweeper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// opNow is the sweeps' clock in these tests; opBatch is their Batch, small so that one
// sweep removes the expired operations in several deletes.
var opNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	opBatch   = 4
	opExpired = 25
)

// opFixture fills s with operations around a week's retention at opNow: for a group that
// exists, an old one that a later one supersedes and its newest, both ended eight days
// ago; opExpired operations of a deleted group that ended eight days ago, and one that
// ended an hour ago and one still running since a month ago. It returns the ids the
// sweep must keep and those it must remove.
func opFixture(t *testing.T, s store.Store) (keep, remove []string) {
	t.Helper()
	ctx := context.Background()
	live := "/subscriptions/s/resourceGroups/live"
	if err := s.CreateResource(ctx, &store.Resource{ID: live, Type: "Microsoft.Resources/resourceGroups", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	mk := func(id, resourceID, status string, ended time.Time) string {
		t.Helper()
		op := &store.Operation{ID: id, Kind: "resourcegroups.delete", ResourceID: resourceID, SubscriptionID: "s",
			Status: status, StartedAt: ended.Add(-time.Minute), EndedAt: ended}
		if status == store.StatusInProgress {
			op.EndedAt = time.Time{}
		}
		if err := s.CreateOperation(ctx, op); err != nil {
			t.Fatal(err)
		}
		return id
	}
	old := opNow.Add(-8 * 24 * time.Hour)
	// remove is in the order the sweep removes them: those that ended first first.
	remove = append(remove, mk("live-old", live, store.StatusSucceeded, old.Add(-time.Minute)))
	for i := range opExpired {
		status := []string{store.StatusSucceeded, store.StatusFailed, store.StatusCanceled}[i%3]
		remove = append(remove, mk(fmt.Sprintf("gone-%02d", i), "/subscriptions/s/resourceGroups/gone", status, old.Add(time.Duration(i)*time.Second)))
	}
	keep = []string{
		mk("live-newest", live, store.StatusSucceeded, old.Add(time.Minute)),
		mk("gone-recent", "/subscriptions/s/resourceGroups/gone", store.StatusSucceeded, opNow.Add(-time.Hour)),
		mk("gone-running", "/subscriptions/s/resourceGroups/gone", store.StatusInProgress, opNow.Add(-30*24*time.Hour)),
	}
	return keep, remove
}

// opsLeft returns the ids of the operations in s, sorted.
func opsLeft(t *testing.T, s store.Store) []string {
	t.Helper()
	ops, err := s.ListOperations(context.Background(), store.OperationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, op := range ops {
		ids = append(ids, op.ID)
	}
	slices.Sort(ids)
	return ids
}

// wantOps fails t unless s holds exactly the operations want.
func wantOps(t *testing.T, s store.Store, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := opsLeft(t, s); !slices.Equal(got, want) {
		t.Fatalf("operations left:\n%v\nwant\n%v", got, want)
	}
}

// opSweeper is a sweeper over s with a week's retention on the clock opNow.
func opSweeper(s store.Store) *Sweeper {
	return New(s, Config{Batch: opBatch, OperationRetention: 7 * 24 * time.Hour, Now: func() time.Time { return opNow }})
}

// TestSweepOperations: a sweep removes the operations that ended longer ago than the
// retention, in batches, and keeps those still running, those that ended recently and the
// newest of a resource that exists; the status of a removed one is not found.
func TestSweepOperations(t *testing.T) {
	for _, dialect := range dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, freshDSN(t, dialect))
			keep, remove := opFixture(t, s)
			n, err := opSweeper(s).Sweep(ctx)
			if err != nil || n != len(remove) {
				t.Fatalf("Sweep = %d, %v; want %d", n, err, len(remove))
			}
			wantOps(t, s, keep)
			if _, err := s.GetOperation(ctx, remove[0]); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("GetOperation of a removed operation: %v, want ErrNotFound", err)
			}
			if n, err := opSweeper(s).Sweep(ctx); err != nil || n != 0 {
				t.Fatalf("second Sweep = %d, %v; want nothing left to remove", n, err)
			}
		})
	}
}

// TestSweepOperationsRace: two sweepers on their own connection pools (two replicas)
// sweep at once; each expired operation is removed once, together all of them, and the
// ones to keep stay.
func TestSweepOperationsRace(t *testing.T) {
	for _, dialect := range dialects() {
		t.Run(dialect, func(t *testing.T) {
			dsn := freshDSN(t, dialect)
			stores := []store.Store{storetest.Open(t, dsn), storetest.Open(t, dsn)}
			keep, remove := opFixture(t, stores[0])
			var removed atomic.Int64
			testutil.Race(t, len(stores), func(i int) error {
				n, err := opSweeper(stores[i]).Sweep(context.Background())
				removed.Add(int64(n))
				return err
			})
			if removed.Load() != int64(len(remove)) {
				t.Fatalf("the two sweeps removed %d operations, want %d", removed.Load(), len(remove))
			}
			wantOps(t, stores[1], keep)
		})
	}
}

// TestSweepOperationsInterrupted: a delete that fails before or after it wrote stops the
// sweep with the error, having removed whole batches only; the next sweep removes the rest.
func TestSweepOperationsInterrupted(t *testing.T) {
	cases := []struct {
		point       string
		removedLeft int // expired operations the failed sweep removed
	}{
		{"store/DeleteEndedOperations/before=error", 0},
		{"store/DeleteEndedOperations/after=error@2", 2 * opBatch},
	}
	for _, dialect := range dialects() {
		for _, tc := range cases {
			t.Run(dialect+"/"+tc.point, func(t *testing.T) {
				ctx := context.Background()
				s := storetest.Open(t, freshDSN(t, dialect))
				keep, remove := opFixture(t, s)
				if err := failpoint.Arm(tc.point); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = failpoint.Arm("") })
				n, err := opSweeper(s).Sweep(ctx)
				if !errors.Is(err, failpoint.ErrInjected) || n != tc.removedLeft {
					t.Fatalf("Sweep with %s armed = %d, %v; want %d and the injected error", tc.point, n, err, tc.removedLeft)
				}
				if err := failpoint.Arm(""); err != nil {
					t.Fatal(err)
				}
				wantOps(t, s, append(slices.Clone(keep), remove[tc.removedLeft:]...))
				if n, err := opSweeper(s).Sweep(ctx); err != nil || n != len(remove)-tc.removedLeft {
					t.Fatalf("Sweep after = %d, %v; want the other %d", n, err, len(remove)-tc.removedLeft)
				}
				wantOps(t, s, keep)
			})
		}
	}
}

// crashHelperEnv holds the DSN TestSweepOperationsCrashHelper sweeps.
const crashHelperEnv = "MLFLEET_TEST_SWEEPER_CRASH"

// TestSweepOperationsCrash kills a sweep (failpoint crash: exit 137, as kill -9) before
// and after a delete of ended operations: what it removed is whole batches, the oldest
// first, and a sweep after the restart removes the rest and keeps what it must.
func TestSweepOperationsCrash(t *testing.T) {
	cases := []struct {
		point   string
		removed int // expired operations removed before the crash
	}{
		{"store/DeleteEndedOperations/before", 0},
		{"store/DeleteEndedOperations/after", opBatch},
	}
	for _, dialect := range dialects() {
		for _, tc := range cases {
			t.Run(dialect+"/"+tc.point, func(t *testing.T) {
				ctx := context.Background()
				dsn := freshDSN(t, dialect)
				s := storetest.Open(t, dsn)
				keep, remove := opFixture(t, s)

				cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSweepOperationsCrashHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(), failpoint.EnvSpec+"="+tc.point+"=crash", crashHelperEnv+"="+dsn)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 137 || !strings.Contains(string(out), "failpoint: crash at "+tc.point) {
					t.Fatalf("the sweep did not crash at %s: %v\n%s", tc.point, err, out)
				}

				wantOps(t, s, append(slices.Clone(keep), remove[tc.removed:]...))
				if n, err := opSweeper(s).Sweep(ctx); err != nil || n != len(remove)-tc.removed {
					t.Fatalf("Sweep after the crash = %d, %v; want the other %d", n, err, len(remove)-tc.removed)
				}
				wantOps(t, s, keep)
			})
		}
	}
}

// TestSweepOperationsCrashHelper is the process TestSweepOperationsCrash kills: it sweeps
// the store crashHelperEnv names, with the failpoints of the environment armed.
func TestSweepOperationsCrashHelper(t *testing.T) {
	dsn := os.Getenv(crashHelperEnv)
	if dsn == "" {
		t.Skip("run by TestSweepOperationsCrash")
	}
	if err := failpoint.FromEnv(); err != nil {
		t.Fatal(err)
	}
	n, err := opSweeper(storetest.Open(t, dsn)).Sweep(context.Background())
	t.Fatalf("Sweep = %d, %v; want a crash", n, err)
}
