package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/hosting"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/store"
)

// leases adapts a hosting.Keeper to the embedded provider's Leases.
type leases struct{ k *hosting.Keeper }

func (l leases) Acquire(ctx context.Context, id string) (int64, string, error) {
	lease, holder, err := l.k.Acquire(ctx, id)
	return lease.Token, holder, err
}

func (l leases) Release(ctx context.Context, id string) error { return l.k.Release(ctx, id) }

// takeOver brings up, every interval, the clusters whose host has gone: those not running
// here whose lease is free or has lapsed (Ensure then takes the lease; if another replica
// was faster it answers ErrHostedElsewhere, which Resume does not log).
func takeOver(ctx context.Context, st store.Store, emb *embedded.Provider, clusters *containerservice.Service, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			list, err := st.ListClusterLeases(ctx)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("take over clusters: list leases", "err", err)
				}
				continue
			}
			busy := map[string]bool{}
			for _, l := range list {
				if l.Remaining > 0 {
					busy[l.ClusterID] = true
				}
			}
			for _, id := range emb.Running() {
				busy[id] = true
			}
			if err := clusters.ResumeWhere(ctx, func(id string) bool { return !busy[id] }); err != nil && ctx.Err() == nil {
				log.Warn("take over clusters", "err", err)
			}
		}
	}
}
