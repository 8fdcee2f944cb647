package hosting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
)

// DefaultTTL is how long a hosting lease lasts without renewal unless told otherwise.
const DefaultTTL = 5 * time.Second

// ErrHeldElsewhere is returned by Acquire when another replica holds the lease.
var ErrHeldElsewhere = errors.New("the cluster is hosted by another replica")

// Config is what a Keeper needs.
type Config struct {
	Store store.Store
	// ID is this replica's id, the holder name in lease rows.
	ID string
	// TTL is the lease duration; 0 means DefaultTTL. Leases are renewed every TTL/3.
	TTL time.Duration
	// OnLost is called, once per grant, when this replica must stop hosting a cluster: its
	// lease was taken, or could not be renewed and is about to lapse. It must stop the
	// cluster (first making it unreachable) quickly: it is called TTL/5 before the lease can
	// be granted to another replica.
	OnLost func(clusterID string)
	// ReplicaAlive is how recent a replica's heartbeat must be for Place to choose it;
	// 0 means 15s.
	ReplicaAlive time.Duration
	Logger       *slog.Logger
}

// Lease is a lease this replica holds.
type Lease struct {
	ClusterID string
	Token     int64
}

// Keeper holds this replica's hosting leases.
type Keeper struct {
	cfg Config
	mu  sync.Mutex
	// held are the leases this replica holds, each renewed by its own goroutine.
	held map[string]*held
	wg   sync.WaitGroup
}

type held struct {
	token  int64
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Keeper holding no lease.
func New(cfg Config) *Keeper {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReplicaAlive <= 0 {
		cfg.ReplicaAlive = 15 * time.Second
	}
	if cfg.OnLost == nil {
		cfg.OnLost = func(string) {}
	}
	return &Keeper{cfg: cfg, held: map[string]*held{}}
}

// Acquire takes the cluster's lease for this replica (or confirms it already holds it) and
// keeps renewing it until Release, Close, or its loss (then OnLost is called). When another
// replica holds it, Acquire returns the holder's id and ErrHeldElsewhere.
func (k *Keeper) Acquire(ctx context.Context, clusterID string) (Lease, string, error) {
	k.mu.Lock()
	if h, ok := k.held[clusterID]; ok {
		k.mu.Unlock()
		return Lease{ClusterID: clusterID, Token: h.token}, k.cfg.ID, nil
	}
	k.mu.Unlock()
	sent := time.Now()
	l, ok, err := k.cfg.Store.AcquireClusterLease(ctx, clusterID, k.cfg.ID, k.cfg.TTL)
	if err != nil {
		return Lease{}, "", err
	}
	if !ok {
		return Lease{}, l.Holder, fmt.Errorf("%w (%s, token %d)", ErrHeldElsewhere, l.Holder, l.Token)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if h, ok := k.held[clusterID]; ok { // a concurrent Acquire won the race
		return Lease{ClusterID: clusterID, Token: h.token}, k.cfg.ID, nil
	}
	lctx, cancel := context.WithCancel(context.Background())
	h := &held{token: l.Token, cancel: cancel, done: make(chan struct{})}
	k.held[clusterID] = h
	k.wg.Add(1)
	go k.keep(lctx, clusterID, h, sent.Add(l.Remaining))
	return Lease{ClusterID: clusterID, Token: l.Token}, k.cfg.ID, nil
}

// keep renews one lease every TTL/3 until ctx ends; when a renewal finds the lease lost, or
// when the lease (as last renewed, measured from when the renewal was sent) is within TTL/5
// of lapsing, it drops the lease and calls OnLost.
func (k *Keeper) keep(ctx context.Context, clusterID string, h *held, expires time.Time) {
	defer k.wg.Done()
	defer close(h.done)
	margin := k.cfg.TTL / 5
	renew := time.NewTicker(k.cfg.TTL / 3)
	defer renew.Stop()
	fence := time.NewTimer(time.Until(expires.Add(-margin)))
	defer fence.Stop()
	lost := func(why string) {
		k.mu.Lock()
		if k.held[clusterID] == h {
			delete(k.held, clusterID)
		}
		k.mu.Unlock()
		k.cfg.Logger.Warn("lost the hosting lease; stopping the cluster", "cluster", clusterID, "token", h.token, "why", why)
		k.cfg.OnLost(clusterID)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-fence.C:
			lost("not renewed in time")
			return
		case <-renew.C:
			sent := time.Now()
			rctx, cancel := context.WithDeadline(ctx, expires.Add(-margin))
			ok, err := k.cfg.Store.RenewClusterLease(rctx, clusterID, k.cfg.ID, h.token, k.cfg.TTL)
			cancel()
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil:
				k.cfg.Logger.Warn("renew hosting lease", "cluster", clusterID, "err", err)
			case !ok:
				lost("taken by another replica or lapsed")
				return
			default:
				expires = sent.Add(k.cfg.TTL)
				if !fence.Stop() {
					select {
					case <-fence.C:
					default:
					}
				}
				fence.Reset(time.Until(expires.Add(-margin)))
			}
		}
	}
}

// Release gives up the cluster's lease at once (after stopping the cluster), so that
// another replica can take it without waiting. Releasing a lease not held does nothing.
func (k *Keeper) Release(ctx context.Context, clusterID string) error {
	k.mu.Lock()
	h, ok := k.held[clusterID]
	delete(k.held, clusterID)
	k.mu.Unlock()
	if !ok {
		return nil
	}
	h.cancel()
	<-h.done
	return k.cfg.Store.ReleaseClusterLease(ctx, clusterID, k.cfg.ID, h.token)
}

// Seize takes the cluster's lease from whichever replica holds it, so that this replica can
// delete the cluster, and returns how long the previous holder may still serve it: it
// stops at the latest when its lease would have lapsed. The caller waits that long before
// removing what the host writes to. A lease this replica held is released first.
func (k *Keeper) Seize(ctx context.Context, clusterID string) (time.Duration, error) {
	if err := k.Release(ctx, clusterID); err != nil {
		return 0, err
	}
	return k.cfg.Store.SeizeClusterLease(ctx, clusterID, k.cfg.ID, k.cfg.TTL)
}

// Forget removes a deleted cluster's lease row.
func (k *Keeper) Forget(ctx context.Context, clusterID string) error {
	if err := k.Release(ctx, clusterID); err != nil {
		return err
	}
	return k.cfg.Store.DeleteClusterLease(ctx, clusterID)
}

// Place chooses the replica that should host a new cluster (PickHost over the live
// replicas) and reserves it there: the cluster's lease is granted to that replica for two
// TTLs, in which it starts the cluster (its Acquire then keeps the lease). Placements are
// serialised across replicas (a store lock), so that creates at once spread over the
// replicas instead of all choosing the same least loaded one. It returns "" when the
// cluster has had a lease before (it stays where its lease goes) or no replica is alive.
func (k *Keeper) Place(ctx context.Context, clusterID string) (string, error) {
	var chosen string
	err := k.cfg.Store.InTx(ctx, func(tx store.Store) error {
		chosen = ""
		if err := tx.Lock(ctx, "hosting.place"); err != nil {
			return err
		}
		leases, err := tx.ListClusterLeases(ctx)
		if err != nil {
			return err
		}
		for _, l := range leases {
			if l.ClusterID == clusterID {
				return nil
			}
		}
		reps, err := tx.ListReplicas(ctx)
		if err != nil {
			return err
		}
		if chosen = PickHost(reps, leases, k.cfg.ReplicaAlive); chosen == "" {
			return nil
		}
		_, ok, err := tx.AcquireClusterLease(ctx, clusterID, chosen, 2*k.cfg.TTL)
		if err == nil && !ok {
			err = fmt.Errorf("reserve the lease of %s for %s: taken meanwhile", clusterID, chosen)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return chosen, nil
}

// Holder returns the replica holding the cluster's unexpired lease, "" when none does.
func (k *Keeper) Holder(ctx context.Context, clusterID string) (string, error) {
	list, err := k.cfg.Store.ListClusterLeases(ctx)
	if err != nil {
		return "", err
	}
	for _, l := range list {
		if l.ClusterID == clusterID && l.Remaining > 0 {
			return l.Holder, nil
		}
	}
	return "", nil
}

// ID is this replica's id.
func (k *Keeper) ID() string { return k.cfg.ID }

// Held returns the ids of the clusters whose leases this replica holds, sorted.
func (k *Keeper) Held() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Sorted(maps.Keys(k.held))
}

// Close releases every lease (call it after stopping the clusters).
func (k *Keeper) Close(ctx context.Context) error {
	var errs []error
	for _, id := range k.Held() {
		errs = append(errs, k.Release(ctx, id))
	}
	k.wg.Wait()
	return errors.Join(errs...)
}

// PickHost returns the id of the replica a new cluster should go to: among the replicas
// heard from within alive (on the database's clock), the one holding the fewest unexpired
// leases, the lowest id among equals. It returns "" when no replica is alive.
func PickHost(replicas []*store.Replica, leases []*store.ClusterLease, alive time.Duration) string {
	load := map[string]int{}
	for _, l := range leases {
		if l.Remaining > 0 {
			load[l.Holder]++
		}
	}
	best, bestLoad := "", 0
	for _, r := range replicas {
		if r.Silence > alive {
			continue
		}
		if n := load[r.ID]; best == "" || n < bestLoad || (n == bestLoad && r.ID < best) {
			best, bestLoad = r.ID, n
		}
	}
	return best
}
