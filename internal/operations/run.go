package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/store"
)

// progress is the checkpoint kept in store.Operation.Progress.
type progress struct {
	// Done lists the names of finished steps.
	Done []string `json:"done,omitempty"`
	// State is the handler's own JSON state, carried between steps and attempts.
	State json.RawMessage `json:"state,omitempty"`
	// Failure, once set, is the error the operation ends with: it is failing, and what is
	// left is its cleanup.
	Failure *arm.Error `json:"failure,omitempty"`
	// FailureStatus is Failure's HTTP status, which arm.Error does not serialise.
	FailureStatus int `json:"failureStatus,omitempty"`
	// CleanupAttempts counts how often the cleanup was started.
	CleanupAttempts int `json:"cleanupAttempts,omitempty"`
	// CleanupError is the error the cleanup's last attempt returned, if any.
	CleanupError string `json:"cleanupError,omitempty"`
	// CleanupShown is what the operation's error may show the client of CleanupError
	// (Run.shown): the text of an error may hold the server's paths.
	CleanupShown string `json:"cleanupShown,omitempty"`
	// GiveUpAttempts counts how often the kind's GiveUp was started, once the cleanup was
	// given up.
	GiveUpAttempts int `json:"giveUpAttempts,omitempty"`
	// Origin is what the submitting request left for the EndHook (see WithOrigin).
	Origin json.RawMessage `json:"origin,omitempty"`
}

// Run is one attempt at running an operation, handed to its Handler.
type Run struct {
	op       *store.Operation
	engine   *Engine
	progress progress
	log      *slog.Logger
	// lost is set by the lease renewer or a step that found the lease taken.
	lost atomic.Bool
}

// ID returns the operation's id.
func (r *Run) ID() string { return r.op.ID }

// ResourceID returns the id of the resource the operation acts on.
func (r *Run) ResourceID() string { return r.op.ResourceID }

// Attempt returns 1 on the first run, more when resuming after an interruption.
func (r *Run) Attempt() int { return r.op.Attempts }

// Origin returns what the request that submitted the operation left (see WithOrigin): nil
// for an operation no request submitted.
func (r *Run) Origin() json.RawMessage { return r.progress.Origin }

// Logger returns a logger that names the operation.
func (r *Run) Logger() *slog.Logger { return r.log }

// Input decodes the operation's input into v.
func (r *Run) Input(v any) error {
	if err := json.Unmarshal(nonEmpty(r.op.Input), v); err != nil {
		return fmt.Errorf("decode operation input: %w", err)
	}
	return nil
}

// State decodes the handler state saved by SetState into v; v is left as is when there is none.
func (r *Run) State(v any) error {
	if len(r.progress.State) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.progress.State, v); err != nil {
		return fmt.Errorf("decode operation state: %w", err)
	}
	return nil
}

// SetState records handler state to keep across steps and attempts; it is saved with the
// next finished step.
func (r *Run) SetState(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode operation state: %w", err)
	}
	r.progress.State = b
	return nil
}

// Step runs fn unless a step of this name already finished in an earlier attempt, then
// records it as finished. fn must be idempotent: a crash after fn returns but before the
// record is saved runs it again. Failpoints "op/<kind>/<name>/before" and ".../after"
// surround fn.
func (r *Run) Step(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if slices.Contains(r.progress.Done, name) {
		return nil
	}
	if d := r.engine.cfg.StepDelay; d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.log.Debug("step", "name", name)
	fp := "op/" + r.op.Kind + "/" + name
	if err := failpoint.Hit(fp + "/before"); err != nil {
		return err
	}
	if err := fn(ctx); err != nil {
		return err
	}
	if err := failpoint.Hit(fp + "/after"); err != nil {
		return err
	}
	r.progress.Done = append(r.progress.Done, name)
	if err := r.saveProgress(ctx); err != nil {
		if errors.Is(err, store.ErrConflict) {
			r.lost.Store(true)
		}
		return fmt.Errorf("record step %s: %w", name, err)
	}
	return nil
}

// Always runs fn on every attempt, between the failpoints "op/<kind>/<name>/before" and
// ".../after", without recording it: for idempotent work whose effect does not survive a
// restart of the server, such as bringing a cluster up, which a resumed operation must do
// again even though an earlier attempt did it.
func (r *Run) Always(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fp := "op/" + r.op.Kind + "/" + name
	if err := failpoint.Hit(fp + "/before"); err != nil {
		return err
	}
	if err := fn(ctx); err != nil {
		return err
	}
	return failpoint.Hit(fp + "/after")
}

// saveProgress saves the checkpoint, retrying a failing database for a while.
func (r *Run) saveProgress(ctx context.Context) error {
	b, err := json.Marshal(r.progress)
	if err != nil {
		return fmt.Errorf("encode progress: %w", err)
	}
	r.op.Progress = b
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return retry(ctx, func() error { return r.engine.store.SaveOperation(ctx, r.op, r.engine.cfg.Owner) })
}
