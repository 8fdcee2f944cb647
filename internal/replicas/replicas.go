package replicas

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mlfleet/mlfleet/internal/store"
)

// DefaultInterval is how often a replica renews its row unless told otherwise.
const DefaultInterval = 5 * time.Second

// LostAfter is how many intervals without a heartbeat make a replica count as lost.
const LostAfter = 3

// forgetAfter is how long the row of a silent replica is kept before any replica removes
// it.
const forgetAfter = 24 * time.Hour

// Config is what a Heartbeat needs.
type Config struct {
	Store store.Store
	// ID identifies this replica (see LoadOrCreateID).
	ID string
	// Address is the host:port this replica serves its API and front door at.
	Address string
	// Interval is how often the row is renewed; 0 means DefaultInterval.
	Interval time.Duration
	// Clusters returns the provider ids of the clusters this replica runs; nil means none.
	Clusters func() []string
	Logger   *slog.Logger
}

// Heartbeat renews this replica's row until Close.
type Heartbeat struct {
	cfg     Config
	started time.Time
	stop    context.CancelFunc
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	live []string // the live replicas' ids at the last beat that could read them
}

// Start writes the replica's row, failing when the store cannot take it, then renews it
// every interval in the background.
func Start(ctx context.Context, cfg Config) (*Heartbeat, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Heartbeat{cfg: cfg, started: time.Now(), done: make(chan struct{})}
	if err := h.beat(ctx); err != nil {
		return nil, err
	}
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h.stop = stop
	go h.loop(loopCtx)
	return h, nil
}

func (h *Heartbeat) beat(ctx context.Context) error {
	var clusters []string
	if h.cfg.Clusters != nil {
		clusters = h.cfg.Clusters()
	}
	if err := h.cfg.Store.HeartbeatReplica(ctx, &store.Replica{ID: h.cfg.ID, Address: h.cfg.Address, StartedAt: h.started, Clusters: clusters}); err != nil {
		return err
	}
	rows, err := h.cfg.Store.ListReplicas(ctx)
	if err != nil {
		return err
	}
	var live []string
	for _, r := range rows {
		if Live(r, h.cfg.Interval) {
			live = append(live, r.ID)
		}
	}
	h.mu.Lock()
	h.live = live
	h.mu.Unlock()
	return nil
}

// Owns tells whether this replica is the one, among the live replicas, that looks after
// key (a compute's id, say), so that periodic work over many keys is shared out instead of
// repeated by every replica: rendezvous hashing over the live replicas read at the last
// beat. Every replica derives the same owner from the same list; while replicas come and
// go a key may have two owners or none for a beat or two, which periodic, idempotent work
// tolerates. A replica alone (the SQLite server) owns every key.
func (h *Heartbeat) Owns(key string) bool {
	h.mu.Lock()
	live := h.live
	h.mu.Unlock()
	if len(live) <= 1 {
		return true
	}
	var owner string
	var best uint64
	for _, id := range live {
		sum := sha256.Sum256([]byte(id + "\x00" + strings.ToLower(key)))
		if w := binary.BigEndian.Uint64(sum[:8]); owner == "" || w > best {
			owner, best = id, w
		}
	}
	return owner == h.cfg.ID
}

func (h *Heartbeat) loop(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.cfg.Interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := h.beat(ctx)
		if err == nil {
			_, err = h.cfg.Store.DeleteSilentReplicas(ctx, forgetAfter)
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			h.cfg.Logger.Warn("replica heartbeat failed; other replicas will count this one as lost if it goes on", "replica", h.cfg.ID, "err", err)
			failing = true
		case err == nil && failing:
			h.cfg.Logger.Info("replica heartbeat works again", "replica", h.cfg.ID)
			failing = false
		}
	}
}

// Close stops the heartbeat and removes the replica's row.
func (h *Heartbeat) Close(ctx context.Context) error {
	var err error
	h.once.Do(func() {
		h.stop()
		<-h.done
		err = h.cfg.Store.DeleteReplica(ctx, h.cfg.ID)
	})
	return err
}

// Live tells whether a replica row's silence is short enough for it to count as alive
// under the heartbeat interval (0 means DefaultInterval).
func Live(r *store.Replica, interval time.Duration) bool {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return r.Silence < LostAfter*interval
}

// LoadOrCreateID returns the replica id kept in file, creating one (a random UUID) on
// first use, so that a restarted server keeps its row.
func LoadOrCreateID(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read replica id: %w", err)
	}
	id := uuid.NewString()
	if err := os.WriteFile(file, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write replica id: %w", err)
	}
	return id, nil
}
