package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Handler runs one kind of operation. It must be safe to call again on an operation it
// already partly ran: use Run.Step for each unit of work.
type Handler func(ctx context.Context, run *Run) error

// Cleanup undoes what a failed operation left half-made, so that its resource ends Failed
// with the error, or gone. The engine calls it exactly when the operation is going to end
// Failed: after the handler returned an error, and also when the engine gives up on an
// operation it could not finish (interrupted too often). cause is the error the operation
// ends with. It must be idempotent: the engine records that the operation is failing before
// calling it, and a crash during it runs it again on the next claim, with the same cause.
// A cleanup that returns an error is tried again later, backing off, while the operation
// stays InProgress (failing) and any replica may claim it; after MaxAttempts starts it is
// given up, the kind's GiveUp records the resource's terminal state, and the operation ends
// Failed with cause and the cleanup's last error.
type Cleanup func(ctx context.Context, run *Run, cause error) error

// GiveUp records the terminal state of the resource of a failed operation whose cleanup was
// given up (see Cleanup), so that it never stays Creating or Updating: typically Failed, with
// cause in its message, which names the operation's error and the cleanup's. It should only
// write the resource's own row, so that it succeeds where the cleanup did not. It must be
// idempotent; an error is tried again like a cleanup's, up to MaxAttempts times, and then
// logged, and the operation ends Failed either way.
type GiveUp func(ctx context.Context, run *Run, cause error) error

// EndHook is told of every operation that ended (Succeeded or Failed) once its result is
// saved, with the origin it was submitted with (nil when none, see WithOrigin). It runs on
// the engine's worker and should be quick; it is not called again after a crash, so what
// it records is best effort.
type EndHook func(ctx context.Context, op *store.Operation, origin json.RawMessage)

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
	// MaxAttempts is how many claims an operation gets before it is failed; default 5. It
	// also bounds how often a failed operation's cleanup, then its GiveUp, is started.
	MaxAttempts int
	// CleanupBackoff is how long a failed operation waits before its cleanup is tried again
	// after an error, doubled on each further error up to a minute; default 5s.
	CleanupBackoff time.Duration
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
	cleanups map[string]Cleanup
	giveUps  map[string]GiveUp
	onEnd    EndHook
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
	if cfg.CleanupBackoff <= 0 {
		cfg.CleanupBackoff = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Engine{cfg: cfg, store: s, handlers: map[string]Handler{}, cleanups: map[string]Cleanup{}, giveUps: map[string]GiveUp{}, wake: make(chan struct{}, 1),
		log: cfg.Logger.With("component", "operations", "owner", cfg.Owner)}
}

// Register sets the handler of a kind. Call it before Start.
func (e *Engine) Register(kind string, h Handler) { e.handlers[kind] = h }

// OnFailure sets the cleanup of a kind (see Cleanup). Call it before Start.
func (e *Engine) OnFailure(kind string, c Cleanup) { e.cleanups[kind] = c }

// OnGiveUp sets what records the terminal state of a kind's resource when the cleanup of its
// failed operation is given up (see GiveUp). Call it before Start.
func (e *Engine) OnGiveUp(kind string, g GiveUp) { e.giveUps[kind] = g }

// OnEnd sets the hook told of every operation that ends. Call it before Start.
func (e *Engine) OnEnd(h EndHook) { e.onEnd = h }

// originKey is the context key of an *origin.
type originKey struct{}

// origin is what WithOrigin puts in a context.
type origin struct {
	data json.RawMessage
	mu   sync.Mutex
	ids  []string
}

// WithOrigin returns ctx carrying origin, what the operations submitted with it remember of
// the request that asked for them (the activity log keeps the caller and correlation id
// there); the engine hands it to the EndHook when they end. submitted lists the ids of the
// operations submitted with the returned context so far, including any whose transaction
// was then rolled back.
func WithOrigin(ctx context.Context, data json.RawMessage) (_ context.Context, submitted func() []string) {
	o := &origin{data: data}
	return context.WithValue(ctx, originKey{}, o), func() []string {
		o.mu.Lock()
		defer o.mu.Unlock()
		return slices.Clone(o.ids)
	}
}

// Submit records a new InProgress operation and wakes a worker to run it.
func (e *Engine) Submit(ctx context.Context, kind, resourceID, subscriptionID string, input any) (*store.Operation, error) {
	op, err := e.SubmitIn(ctx, e.store, kind, resourceID, subscriptionID, input)
	if err != nil {
		return nil, err
	}
	e.Wake()
	return op, nil
}

// SubmitIn records a new InProgress operation through tx, a transaction of the engine's
// store, so that it commits together with the rows it works on. Call Wake once the
// transaction has committed.
func (e *Engine) SubmitIn(ctx context.Context, tx store.Store, kind, resourceID, subscriptionID string, input any) (*store.Operation, error) {
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
	o, _ := ctx.Value(originKey{}).(*origin)
	if o != nil {
		if op.Progress, err = json.Marshal(progress{Origin: o.data}); err != nil {
			return nil, fmt.Errorf("submit operation: encode origin: %w", err)
		}
	}
	if err := tx.CreateOperation(ctx, op); err != nil {
		return nil, fmt.Errorf("submit operation: %w", err)
	}
	if o != nil {
		o.mu.Lock()
		o.ids = append(o.ids, op.ID)
		o.mu.Unlock()
	}
	return op, nil
}

// Completed records an operation that finished as soon as it was asked for (a PUT that
// changes nothing), so that clients that always follow an operation URL see it succeed.
func (e *Engine) Completed(ctx context.Context, kind, resourceID, subscriptionID string) (*store.Operation, error) {
	return e.CompletedIn(ctx, e.store, kind, resourceID, subscriptionID)
}

// CompletedIn is Completed through tx, a transaction of the engine's store.
func (e *Engine) CompletedIn(ctx context.Context, tx store.Store, kind, resourceID, subscriptionID string) (*store.Operation, error) {
	now := time.Now().UTC()
	op := &store.Operation{
		ID: uuid.NewString(), Kind: kind, ResourceID: resourceID, SubscriptionID: subscriptionID,
		Status: store.StatusSucceeded, Input: []byte("{}"), StartedAt: now, EndedAt: now,
	}
	if err := tx.CreateOperation(ctx, op); err != nil {
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
	if err := background.WaitGroup(ctx, &e.wg); err != nil {
		return fmt.Errorf("close operations engine: %w", err)
	}
	return nil
}

func (e *Engine) work(ctx context.Context) {
	backoff := e.cfg.PollInterval
	for ctx.Err() == nil {
		// The zero time leases by the database's clock, on which all replicas agree. The
		// claim is not cancelled by shutdown: a driver that gives up waiting may still have
		// the database commit it, which would leave the operation leased to a stopped
		// engine. A claim that lands after shutdown is released at once instead.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		op, err := e.store.ClaimOperation(cctx, e.cfg.Owner, time.Time{}, e.cfg.LeaseTTL)
		cancel()
		switch {
		case err == nil && ctx.Err() != nil:
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := e.store.Unclaim(uctx, op.ID, e.cfg.Owner); err != nil {
				e.log.Warn("give back a claim made while stopping", "operation", op.ID, "err", err)
			}
			cancel()
			return
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

// run executes one claimed operation until it ends, the lease is lost or ctx ends. An
// operation that fails, or that the engine gives up, first records that it is failing,
// then runs its kind's cleanup, then ends Failed; a crash in between resumes the cleanup.
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
	switch {
	case r.progress.Failure != nil:
		log.Info("resuming the cleanup of a failed operation", "err", r.progress.Failure.Message)
		r.progress.Failure.Status = r.progress.FailureStatus
		e.fail(parent, r, r.progress.Failure)
		return
	case op.Attempts > e.cfg.MaxAttempts:
		e.fail(parent, r, arm.Errorf(500, arm.CodeOperationInterrupted,
			"the operation was interrupted %d times and was given up; inspect the resource %s and retry the request", op.Attempts-1, op.ResourceID))
		return
	case op.Attempts > 1:
		log.Info("resuming operation", "stepsDone", len(r.progress.Done))
	}
	err, paused := e.leased(parent, r, func(ctx context.Context) error { return safeCall(ctx, h, r) })
	switch {
	case paused:
		return
	case err == nil:
		e.finish(parent, r, nil)
	default:
		e.fail(parent, r, err)
	}
}

// leased runs fn while renewing the operation's lease. paused is true when fn was stopped
// by shutdown or by the loss of the lease: the operation is left to the next claim.
func (e *Engine) leased(parent context.Context, r *Run, fn func(ctx context.Context) error) (err error, paused bool) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		if !e.renew(ctx, cancel, r.op.ID, r.log) {
			r.lost.Store(true)
		}
	}()
	err = fn(ctx)
	cancel()
	<-renewDone
	if parent.Err() != nil || r.lost.Load() {
		r.log.Info("operation paused", "reason", "shutdown or lease lost")
		e.release(r.op)
		return err, true
	}
	return err, false
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
			err := e.store.ExtendLease(ctx, id, e.cfg.Owner, e.cfg.LeaseTTL)
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
	if err := e.store.ExtendLease(ctx, op.ID, e.cfg.Owner, 0); err != nil {
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
		ae, _ := r.asARM(err)
		op.Error, _ = json.Marshal(ae)
		r.log.Warn("operation failed", "err", err)
	}
	op.Progress, _ = json.Marshal(r.progress)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := retry(sctx, func() error { return e.store.SaveOperation(sctx, op, e.cfg.Owner) }); err != nil {
		r.log.Error("save operation result", "err", err)
		return
	}
	if e.onEnd != nil {
		e.onEnd(sctx, op, r.progress.Origin)
	}
}

// safeCall runs h and turns a panic into an error, so one bad handler cannot take the
// server down or leave its operation InProgress.
func safeCall(ctx context.Context, h Handler, r *Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("handler panicked", "panic", p)
			// A plain error: the panic's text is the server's, kept from the client (asARM).
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, r)
}

// safeCleanup is safeCall for a cleanup.
func safeCleanup(ctx context.Context, c Cleanup, r *Run, cause error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("cleanup panicked", "panic", p)
			err = fmt.Errorf("cleanup panicked: %v", p)
		}
	}()
	return c(ctx, r, cause)
}

// retry runs a store write until it succeeds, fails for a reason retrying cannot change
// (not found, conflict), or ctx ends, backing off between attempts: a database that is
// briefly unavailable must not fail an operation that did its work.
func retry(ctx context.Context, write func() error) error {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || attempt == 8 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
