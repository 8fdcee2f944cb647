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
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestSweep runs on a real SQLite file, and on PostgreSQL when MLFLEET_TEST_POSTGRES is
// set: claims whose compute is gone are removed, claims of live computes and rows without
// an owner stay.
func TestSweep(t *testing.T) {
	dsns := map[string]string{"sqlite": filepath.Join(t.TempDir(), "mlfleet.db")}
	if pg := os.Getenv("MLFLEET_TEST_POSTGRES"); pg != "" {
		dsns["postgres"] = pg
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			suffix := time.Now().Format("150405.000000")
			live := "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/live" + suffix
			gone := "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/gone" + suffix
			mk := func(id, owner string) {
				t.Helper()
				if err := s.CreateResource(ctx, &store.Resource{ID: id, Type: "X/locations/computeNames", OwnerID: owner, Body: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			mk(live, "")
			mk("/providers/X/locations/westus/computeNames/live"+suffix, live)
			mk("/providers/X/locations/westus/computeNames/gone"+suffix, gone)
			mk("/providers/X/locations/westus/computeNames/free"+suffix, "")

			w := New(s, Config{Interval: 10 * time.Millisecond})
			w.Start(ctx)
			testutil.WaitFor(t, 10*time.Second, "the orphaned claim removed", func() (bool, string) {
				_, err := s.GetResource(ctx, "/providers/X/locations/westus/computeNames/gone"+suffix)
				return errors.Is(err, store.ErrNotFound), fmt.Sprint(err)
			})
			if err := w.Close(ctx); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{live, "/providers/X/locations/westus/computeNames/live" + suffix, "/providers/X/locations/westus/computeNames/free" + suffix} {
				if _, err := s.GetResource(ctx, id); err != nil {
					t.Errorf("%s after the sweep: %v", id, err)
				}
			}
		})
	}
}
