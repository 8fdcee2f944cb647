package sweeper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// dialects returns the store dialects to test: SQLite always, PostgreSQL when
// MLFLEET_TEST_POSTGRES is set.
func dialects() []string {
	if os.Getenv("MLFLEET_TEST_POSTGRES") != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// freshDSN returns a database of t's own in dialect: a new SQLite file, or a new
// PostgreSQL schema. A sweep removes what it finds in the whole database, so no test
// sweeps a database another test uses.
func freshDSN(t *testing.T, dialect string) string {
	t.Helper()
	if dialect == "postgres" {
		return storetest.Schema(t, os.Getenv("MLFLEET_TEST_POSTGRES"))
	}
	return filepath.Join(t.TempDir(), "mlfleet.db")
}

// TestSweep runs on a real SQLite file, and on PostgreSQL when MLFLEET_TEST_POSTGRES is
// set: claims whose compute is gone are removed, claims of live computes and rows without
// an owner stay.
func TestSweep(t *testing.T) {
	for _, dialect := range dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, freshDSN(t, dialect))
			live := "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/live"
			gone := "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/gone"
			mk := func(id, owner string) {
				t.Helper()
				if err := s.CreateResource(ctx, &store.Resource{ID: id, Type: "X/locations/computeNames", OwnerID: owner, Body: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			mk(live, "")
			mk("/providers/X/locations/westus/computeNames/live", live)
			mk("/providers/X/locations/westus/computeNames/gone", gone)
			mk("/providers/X/locations/westus/computeNames/free", "")

			w := New(s, Config{Interval: 10 * time.Millisecond})
			w.Start(ctx)
			testutil.WaitFor(t, 10*time.Second, "the orphaned claim removed", func() (bool, string) {
				_, err := s.GetResource(ctx, "/providers/X/locations/westus/computeNames/gone")
				return errors.Is(err, store.ErrNotFound), fmt.Sprint(err)
			})
			if err := w.Close(ctx); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{live, "/providers/X/locations/westus/computeNames/live", "/providers/X/locations/westus/computeNames/free"} {
				if _, err := s.GetResource(ctx, id); err != nil {
					t.Errorf("%s after the sweep: %v", id, err)
				}
			}
		})
	}
}
