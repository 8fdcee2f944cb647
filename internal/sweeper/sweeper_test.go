package sweeper

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
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
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, err := s.GetResource(ctx, "/providers/X/locations/westus/computeNames/gone"+suffix)
				if errors.Is(err, store.ErrNotFound) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the orphaned claim is still there: %v", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
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
