package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/hosting"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
)

// leases adapts a hosting.Keeper to the embedded provider's Leases.
type leases struct{ k *hosting.Keeper }

func (l leases) Acquire(ctx context.Context, id string) (int64, string, error) {
	lease, holder, err := l.k.Acquire(ctx, id)
	return lease.Token, holder, err
}

func (l leases) Release(ctx context.Context, id string) error { return l.k.Release(ctx, id) }

func (l leases) Seize(ctx context.Context, id string) (time.Duration, error) {
	return l.k.Seize(ctx, id)
}

func (l leases) Forget(ctx context.Context, id string) error { return l.k.Forget(ctx, id) }

func (l leases) Holder(ctx context.Context, id string) (string, error) { return l.k.Holder(ctx, id) }

func (l leases) Self() string { return l.k.ID() }

func (l leases) Place(ctx context.Context, id string) (string, error) { return l.k.Place(ctx, id) }

// takeOver brings up, every interval, the clusters whose host has gone: those not running
// here whose lease is free or has lapsed (Ensure then takes the lease; if another replica
// was faster it answers ErrHostedElsewhere, which Resume does not log).
func takeOver(ctx context.Context, st store.Store, emb *embedded.Provider, clusters *containerservice.Service, every time.Duration, log *slog.Logger) {
	background.Every(ctx, every, func(ctx context.Context) {
		list, err := st.ListClusterLeases(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("take over clusters: list leases", "err", err)
			}
			return
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
	})
}

// identities keeps the embedded clusters' identities in the shared store's secrets, sealed
// with the key every replica shares, under "cluster-identity/{id}".
type identities struct {
	st  store.Store
	box *secrets.Box
}

func identityName(clusterID string) string { return "cluster-identity/" + clusterID }

func (i identities) Get(ctx context.Context, clusterID string) ([]byte, error) {
	sealed, err := i.st.GetSharedSecret(ctx, identityName(clusterID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return i.box.Open(sealed)
}

func (i identities) Ensure(ctx context.Context, clusterID string, value []byte) ([]byte, error) {
	sealed, err := i.st.EnsureSharedSecret(ctx, identityName(clusterID), i.box.Seal(value))
	if err != nil {
		return nil, err
	}
	return i.box.Open(sealed)
}

func (i identities) Delete(ctx context.Context, clusterID string) error {
	return i.st.DeleteSharedSecret(ctx, identityName(clusterID))
}

// sweepClusterData removes the data directories of embedded clusters that no longer exist:
// deleted through another replica (which fenced this one first), or left by a crash. The
// directories are listed before the clusters, so that a cluster created meanwhile, whose
// row is written before its directory, is never taken for garbage.
func sweepClusterData(emb *embedded.Provider, clusters *containerservice.Service) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		idle, err := emb.Idle()
		if err != nil || len(idle) == 0 {
			return 0, err
		}
		ids, err := clusters.ProviderIDs(ctx)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, id := range idle {
			if ids[id] {
				continue
			}
			if err := emb.RemoveData(id); err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}
}
