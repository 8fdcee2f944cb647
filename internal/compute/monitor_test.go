package compute

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestRefreshClusterSoonRace: the cluster autoscaler's RefreshClusterSoon never waits,
// whether the monitor runs or not and however many calls come at once (a full queue drops
// them), and Close stops the monitor while calls still arrive.
func TestRefreshClusterSoonRace(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	h.s.cfg.MonitorInterval = time.Hour
	id := h.cluster(t, "soon")
	for range 200 { // before Start: more than the queue holds, none waits
		h.s.RefreshClusterSoon(id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.s.Start(ctx)
	stop := make(chan error, 1)
	go func() {
		c, done := context.WithTimeout(context.Background(), 30*time.Second)
		defer done()
		stop <- h.s.Close(c)
	}()
	testutil.Race(t, 20, func(i int) error {
		for j := range 50 {
			h.s.RefreshClusterSoon(containerservice.ID(testSub, "rg", fmt.Sprintf("c%d-%d", i, j)))
		}
		h.s.RefreshClusterSoon(id)
		return nil
	})
	if err := <-stop; err != nil {
		t.Fatalf("Close while refreshes are asked for: %v", err)
	}
}
