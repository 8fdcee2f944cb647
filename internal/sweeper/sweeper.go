// Package sweeper removes rows that lost their owner: name claims, TLS label claims,
// sealed secrets and attachment claims whose compute (or cluster) no longer exists;
// operations that ended longer ago than their retention; and, through the sweeps it is
// given, attachment markers left in clusters. Every request path writes such rows in the
// same transaction as their owner and removes them with it, so orphans come only from a
// store edited by hand, an older mlfleet or a bug;
// the sweeper makes sure none keeps a name taken forever. It is the garbage collection half
// of the owner references the store keeps (store.Resource.OwnerID), as cluster-api pairs
// owner references with a garbage collector.
package sweeper

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/store"
	"k8s.io/apimachinery/pkg/util/wait"
)

// DefaultOperationRetention is how long an operation that ended stays readable at its
// status URL before the sweeper removes it. ARM documents no figure for how long a
// provider keeps an ended operation; a week outlasts any client's polling by far.
const DefaultOperationRetention = 7 * 24 * time.Hour

// operationBatches bounds how many batches of ended operations one sweep removes, leaving
// the rest for the next sweep.
const operationBatches = 100

// Config tunes a Sweeper. Zero values mean the defaults.
type Config struct {
	// Interval is the time between sweeps; default 1m.
	Interval time.Duration
	// Batch is how many orphans one sweep removes at most, and how many ended operations
	// one delete removes; default 500.
	Batch int
	// OperationRetention is how long after it ended an operation is kept; default
	// DefaultOperationRetention.
	OperationRetention time.Duration
	// Now is the clock the retention is measured on; default time.Now.
	Now func() time.Time
	// Logger receives one line per removed orphan, and one per sweep that removed ended
	// operations; default slog.Default().
	Logger *slog.Logger
	// Also are sweeps of what lives outside the store (attachment markers in clusters),
	// run after the store's; each returns how many things it removed.
	Also []func(ctx context.Context) (int, error)
}

// Sweeper removes orphaned rows in the background.
type Sweeper struct {
	cfg    Config
	store  store.Store
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Sweeper over s; Start it.
func New(s store.Store, cfg Config) *Sweeper {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.OperationRetention <= 0 {
		cfg.OperationRetention = DefaultOperationRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Sweeper{cfg: cfg, store: s, log: cfg.Logger.With("component", "sweeper")}
}

// Sweep removes the orphans it finds now, each only as it was read (a row changed since is
// left for the next sweep), and returns how many it removed. Safe to run on several
// replicas at once.
func (w *Sweeper) Sweep(ctx context.Context) (int, error) {
	orphans, err := w.store.ListOrphans(ctx, w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range orphans {
		err := w.store.DeleteResource(ctx, r.ID, r.Version)
		switch {
		case err == nil:
			n++
			w.log.Info("removed an orphaned row", "id", r.ID, "type", r.Type, "owner", r.OwnerID)
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		default:
			return n, err
		}
	}
	m, err := w.pruneOperations(ctx)
	n += m
	if err != nil {
		return n, err
	}
	for _, sweep := range w.cfg.Also {
		m, err := sweep(ctx)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// pruneOperations removes operations that ended longer ago than the retention, Batch at a
// time, and returns how many it removed. The store keeps those a resource still points at.
func (w *Sweeper) pruneOperations(ctx context.Context) (int, error) {
	cut := w.cfg.Now().Add(-w.cfg.OperationRetention)
	total := 0
	var err error
	for range operationBatches {
		var n int
		n, err = w.store.DeleteEndedOperationsBefore(ctx, cut, w.cfg.Batch)
		total += n
		if err != nil || n < w.cfg.Batch {
			break
		}
	}
	if total > 0 {
		w.log.Info("removed operations that ended before the retention", "count", total, "endedBefore", cut)
	}
	return total, err
}

// Start sweeps at once, then every Interval, until Close or ctx ends.
func (w *Sweeper) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(1)
	sweep := func(ctx context.Context) {
		if _, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("sweep", "err", err)
		}
	}
	go func() {
		defer w.wg.Done()
		wait.UntilWithContext(ctx, sweep, w.cfg.Interval)
	}()
}

// Close stops the sweeper and waits for a running sweep, or for ctx to end.
func (w *Sweeper) Close(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	return background.WaitGroup(ctx, &w.wg)
}
