package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Handler runs one kind of operation. It must be safe to call again on an operation it
// already partly ran: use Run.Step for each unit of work.
type Handler func(ctx context.Context, run *Run) error

// Config tunes an Engine. Zero values mean the documented defaults.
type Config struct {
	// Owner identifies this worker in leases; default a random id.
	Owner string
	// Workers is how many operations run at once; default 4.
	Workers int
	// LeaseTTL is how long a claim lasts without renewal; default 15s. It bounds how long a
	// dead replica's operations wait before another replica resumes them.
	LeaseTTL time.Duration
	// PollInterval is how often idle workers look for work; default 500ms.
	PollInterval time.Duration
	// MaxAttempts is how many claims an operation gets before it is failed; default 5.
	MaxAttempts int
	// StepDelay sleeps before every step. It exists for fault-injection tests (to kill the
	// server in the middle of an operation); leave it zero in production.
	StepDelay time.Duration
	// Logger receives the engine's logs; default slog.Default().
	Logger *slog.Logger
}

// Engine claims and runs operations.
type Engine struct {
	cfg      Config
	store    store.Store
	handlers map[string]Handler
	wake     chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	log      *slog.Logger
}

// New returns an Engine over s. Register handlers, then Start it.
func New(s store.Store, cfg Config) *Engine {
	if cfg.Owner == "" {
		cfg.Owner = "worker-" + uuid.NewString()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Engine{cfg: cfg, store: s, handlers: map[string]Handler{}, wake: make(chan struct{}, 1),
		log: cfg.Logger.With("component", "operations", "owner", cfg.Owner)}
}

// Register sets the handler of a kind. Call it before Start.
func (e *Engine) Register(kind string, h Handler) { e.handlers[kind] = h }

// Submit records a new InProgress operation and wakes a worker to run it.
func (e *Engine) Submit(ctx context.Context, kind, resourceID, subscriptionID string, input any) (*store.Operation, error) {
	if _, ok := e.handlers[kind]; !ok {
		return nil, fmt.Errorf("submit operation: no handler for kind %q", kind)
	}
	in, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("submit operation: encode input: %w", err)
	}
	op := &store.Operation{
		ID: uuid.NewString(), Kind: kind, ResourceID: resourceID, SubscriptionID: subscriptionID,
		Status: store.StatusInProgress, Input: in, StartedAt: time.Now().UTC(),
	}
	if err := e.store.CreateOperation(ctx, op); err != nil {
		return nil, fmt.Errorf("submit operation: %w", err)
	}
	e.Wake()
	return op, nil
}

// Completed records an operation that finished as soon as it was asked for (a PUT that
// changes nothing), so that clients that always follow an operation URL see it succeed.
func (e *Engine) Completed(ctx context.Context, kind, resourceID, subscriptionID string) (*store.Operation, error) {
	now := time.Now().UTC()
	op := &store.Operation{
		ID: uuid.NewString(), Kind: kind, ResourceID: resourceID, SubscriptionID: subscriptionID,
		Status: store.StatusSucceeded, Input: []byte("{}"), StartedAt: now, EndedAt: now,
	}
	if err := e.store.CreateOperation(ctx, op); err != nil {
		return nil, fmt.Errorf("record operation: %w", err)
	}
	return op, nil
}

// Wake makes an idle worker look for work now.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start launches the workers. They stop when ctx ends or Close is called.
func (e *Engine) Start(ctx context.Context) {
	ctx, e.cancel = context.WithCancel(ctx)
	for range e.cfg.Workers {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.work(ctx)
		}()
	}
}

// Close stops the workers and waits for running handlers to return, or for ctx to end.
// An operation interrupted this way stays InProgress with its lease freed, and resumes at
// the next Start.
func (e *Engine) Close(ctx context.Context) error {
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close operations engine: %w", ctx.Err())
	}
}

func (e *Engine) work(ctx context.Context) {
	backoff := e.cfg.PollInterval
	for ctx.Err() == nil {
		op, err := e.store.ClaimOperation(ctx, e.cfg.Owner, time.Now().UTC(), e.cfg.LeaseTTL)
		switch {
		case err == nil:
			backoff = e.cfg.PollInterval
			e.run(ctx, op)
			continue
		case errors.Is(err, store.ErrNotFound):
			backoff = e.cfg.PollInterval
		case ctx.Err() != nil:
			return
		default:
			e.log.Error("claim operation", "err", err)
			backoff = min(backoff*2, 10*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-time.After(backoff):
		}
	}
}

// run executes one claimed operation until it ends, the lease is lost or ctx ends.
func (e *Engine) run(parent context.Context, op *store.Operation) {
	log := e.log.With("operation", op.ID, "kind", op.Kind, "resource", op.ResourceID, "attempt", op.Attempts)
	r := &Run{op: op, engine: e, log: log}
	if err := json.Unmarshal(nonEmpty(op.Progress), &r.progress); err != nil {
		r.progress = progress{}
	}
	h, ok := e.handlers[op.Kind]
	if !ok {
		e.finish(parent, r, arm.Errorf(500, arm.CodeInternalServerError, "this server has no handler for operations of kind %q", op.Kind))
		return
	}
	if op.Attempts > e.cfg.MaxAttempts {
		e.finish(parent, r, arm.Errorf(500, arm.CodeOperationInterrupted,
			"the operation was interrupted %d times and was given up; inspect the resource %s and retry the request", op.Attempts-1, op.ResourceID))
		return
	}
	if op.Attempts > 1 {
		log.Info("resuming operation", "stepsDone", len(r.progress.Done))
	}

	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		if !e.renew(ctx, cancel, op.ID, log) {
			r.lost = true
		}
	}()
	err := safeCall(ctx, h, r)
	cancel()
	<-renewDone

	if parent.Err() != nil || r.lost {
		// Shutdown or lease lost: leave the operation to the next claim.
		log.Info("operation paused", "reason", "shutdown or lease lost")
		e.release(op)
		return
	}
	e.finish(parent, r, err)
}

// renew keeps the lease of a running operation until ctx ends. It returns false when the
// lease was lost, after cancelling the handler.
func (e *Engine) renew(ctx context.Context, cancel context.CancelFunc, id string, log *slog.Logger) bool {
	t := time.NewTicker(e.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return true
		case <-t.C:
			err := e.store.RenewLease(ctx, id, e.cfg.Owner, time.Now().UTC().Add(e.cfg.LeaseTTL))
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				log.Warn("lease lost; stopping")
				cancel()
				return false
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("renew lease", "err", err)
			}
		}
	}
}

// release frees the lease of an operation that stays InProgress, so it resumes at once on
// the next claim instead of after the lease expires.
func (e *Engine) release(op *store.Operation) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.store.RenewLease(ctx, op.ID, e.cfg.Owner, time.Unix(0, 0).UTC()); err != nil {
		e.log.Warn("release lease", "operation", op.ID, "err", err)
	}
}

func (e *Engine) finish(ctx context.Context, r *Run, err error) {
	op := r.op
	op.EndedAt = time.Now().UTC()
	if err == nil {
		op.Status = store.StatusSucceeded
		op.Error = nil
		r.log.Info("operation succeeded", "took", op.EndedAt.Sub(op.StartedAt))
	} else {
		op.Status = store.StatusFailed
		var ae *arm.Error
		if !errors.As(err, &ae) {
			ae = arm.Errorf(500, arm.CodeInternalServerError, "%v", err)
		}
		op.Error, _ = json.Marshal(ae)
		r.log.Warn("operation failed", "err", err)
	}
	op.Progress, _ = json.Marshal(r.progress)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.store.SaveOperation(sctx, op, e.cfg.Owner); err != nil {
		r.log.Error("save operation result", "err", err)
	}
}

// safeCall runs h and turns a panic into an error, so one bad handler cannot take the
// server down or leave its operation InProgress.
func safeCall(ctx context.Context, h Handler, r *Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("handler panicked", "panic", p)
			err = arm.Errorf(500, arm.CodeInternalServerError, "internal error while running the operation: %v", p)
		}
	}()
	return h(ctx, r)
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
