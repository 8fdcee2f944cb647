package operations

// The failure path of an operation: its kind's cleanup, retried with backoff while the
// operation stays InProgress, and when the cleanup is given up, the kind's GiveUp, so that
// the resource always ends in a terminal state.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/store"
)

// fail ends an operation Failed with cause, after recording that it is failing and running
// its kind's cleanup. A cleanup that errors is tried again after a backoff, on a later
// claim; one that errored or was interrupted MaxAttempts times is given up: the kind's
// GiveUp records the resource's terminal state, and the operation ends Failed with cause
// and the cleanup's error.
func (e *Engine) fail(parent context.Context, r *Run, cause error) {
	ae := asARM(cause)
	if r.progress.Failure == nil {
		r.progress.Failure, r.progress.FailureStatus = ae, ae.Status
	}
	cleanup, ok := e.cleanups[r.op.Kind]
	if !ok {
		e.finish(parent, r, ae)
		return
	}
	if r.progress.CleanupAttempts < e.cfg.MaxAttempts {
		// Count the cleanup's own attempts, saved before it runs, so that a cleanup that
		// keeps being interrupted is given up, and one that never ran is always tried.
		r.progress.CleanupAttempts++
		if !e.saveFailing(parent, r) {
			return
		}
		err, paused := e.failingStep(parent, r, "cleanup", func(ctx context.Context) error { return safeCleanup(ctx, cleanup, r, ae) })
		switch {
		case paused:
			return
		case err == nil:
			e.finish(parent, r, ae)
			return
		}
		r.progress.CleanupError = err.Error()
		if r.progress.CleanupAttempts < e.cfg.MaxAttempts {
			r.log.Error("clean up failed operation; trying again later", "err", err, "cleanupAttempt", r.progress.CleanupAttempts)
			e.later(parent, r, r.progress.CleanupAttempts)
			return
		}
		r.log.Error("clean up failed operation; giving it up", "err", err, "cleanupAttempts", r.progress.CleanupAttempts)
	}
	e.giveUp(parent, r, givenUp(ae, r.progress))
}

// giveUp ends an operation whose cleanup was given up Failed with final, after its kind's
// GiveUp recorded the resource's terminal state.
func (e *Engine) giveUp(parent context.Context, r *Run, final *arm.Error) {
	g, ok := e.giveUps[r.op.Kind]
	if !ok || r.progress.GiveUpAttempts >= e.cfg.MaxAttempts {
		if ok {
			r.log.Error("record the state of the resource of a failed operation: giving it up", "attempts", r.progress.GiveUpAttempts)
		}
		e.finish(parent, r, final)
		return
	}
	r.progress.GiveUpAttempts++
	if !e.saveFailing(parent, r) {
		return
	}
	err, paused := e.failingStep(parent, r, "giveup", func(ctx context.Context) error { return safeCleanup(ctx, Cleanup(g), r, final) })
	switch {
	case paused:
		return
	case err == nil || r.progress.GiveUpAttempts >= e.cfg.MaxAttempts:
		if err != nil {
			r.log.Error("record the state of the resource of a failed operation: giving it up", "err", err, "attempts", r.progress.GiveUpAttempts)
		}
		e.finish(parent, r, final)
	default:
		r.log.Error("record the state of the resource of a failed operation; trying again later", "err", err, "attempt", r.progress.GiveUpAttempts)
		e.later(parent, r, r.progress.GiveUpAttempts)
	}
}

// saveFailing saves the progress of a failing operation before its cleanup or GiveUp runs.
// It returns false when the operation was paused instead: the lease is lost or the engine
// is stopping.
func (e *Engine) saveFailing(parent context.Context, r *Run) bool {
	if err := r.saveProgress(parent); err != nil {
		if errors.Is(err, store.ErrConflict) || parent.Err() != nil {
			r.log.Info("operation paused before its cleanup", "err", err)
			e.release(r.op)
			return false
		}
		r.log.Error("record failing operation", "err", err)
	}
	return true
}

// failingStep runs fn, the cleanup or the GiveUp of a failing operation, under its lease,
// between the failpoints "op/<kind>/<name>/before" and ".../after".
func (e *Engine) failingStep(parent context.Context, r *Run, name string, fn func(ctx context.Context) error) (err error, paused bool) {
	fp := "op/" + r.op.Kind + "/" + name
	return e.leased(parent, r, func(ctx context.Context) error {
		if err := failpoint.Hit(fp + "/before"); err != nil {
			return err
		}
		if err := fn(ctx); err != nil {
			return err
		}
		return failpoint.Hit(fp + "/after")
	})
}

// later leaves a failing operation InProgress, its progress saved, leased to nobody who
// runs it for a backoff that grows with attempt, after which any worker claims it again
// and resumes its cleanup.
func (e *Engine) later(parent context.Context, r *Run, attempt int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
	defer cancel()
	if err := r.saveProgress(ctx); err != nil {
		r.log.Warn("record failing operation", "err", err)
	}
	d := e.cfg.CleanupBackoff
	for i := 1; i < attempt && d < time.Minute; i++ {
		d *= 2
	}
	if err := e.store.ExtendLease(ctx, r.op.ID, e.cfg.Owner, min(d, time.Minute)); err != nil {
		r.log.Warn("hold failing operation until its next attempt", "err", err)
	}
}

// givenUp is the error an operation whose cleanup was given up ends with: its own, with the
// cleanup's, so that the user learns what may be left of the resource.
func givenUp(cause *arm.Error, p progress) *arm.Error {
	why := p.CleanupError
	if why == "" {
		why = "it was interrupted"
	}
	final := *cause
	final.Message = fmt.Sprintf("%s; cleaning up after the failure did not succeed in %d attempts (%s): what the operation made may remain, delete the resource to remove it",
		strings.TrimRight(cause.Message, ". "), p.CleanupAttempts, why)
	return &final
}

// asARM returns err as the ARM error an operation ends with.
func asARM(err error) *arm.Error {
	var ae *arm.Error
	if !errors.As(err, &ae) {
		ae = arm.Errorf(500, arm.CodeInternalServerError, "%v", err)
	}
	return ae
}
