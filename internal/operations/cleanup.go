package operations

// The failure path of an operation: its kind's cleanup, retried with backoff while the
// operation stays InProgress, and when the cleanup is given up, the kind's GiveUp, so that
// the resource always ends in a terminal state.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	ae, hidden := r.asARM(cause)
	if hidden {
		r.log.Error("operation failing; its status shows the client a message without this error", "err", cause)
	}
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
		r.progress.CleanupError, r.progress.CleanupShown = err.Error(), r.shown(err)
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
	why := p.CleanupShown
	switch {
	case why != "":
	case p.CleanupError != "":
		// Recorded by a server that kept no shown text: the log has the error.
		why = "an internal error, in the server log"
	default:
		why = "it was interrupted"
	}
	final := *cause
	final.Message = fmt.Sprintf("%s; cleaning up after the failure did not succeed in %d attempts (%s): what the operation made may remain, delete the resource to remove it",
		strings.TrimRight(cause.Message, ". "), p.CleanupAttempts, why)
	return &final
}

// shown is what the client may read of err, an error of r's cleanup, in the message of an
// operation that gave its cleanup up: as much as asARM lets through, and for an internal
// error only where the server log has it (logged by the caller).
func (r *Run) shown(err error) string {
	ae, hidden := r.asARM(err)
	if hidden && ae.Code == arm.CodeInternalServerError {
		return "an internal error, in the server log under operation id " + r.op.ID
	}
	return ae.Message
}

// ClientError is err as a client may read it as part of operation r, e.g. in a resource's
// provisioningErrors: the ARM error the operation would end with for it (asARM), so an
// error that is not an *arm.Error shows no host path or driver error. The caller logs err
// when it matters; the operation's own error is logged by the engine.
func (r *Run) ClientError(err error) *arm.Error {
	ae, _ := r.asARM(err)
	return ae
}

// asARM returns err as the ARM error operation r ends with, which its status shows to any
// caller who may read the resource. An *arm.Error, written for the client, is kept. A store
// that cannot take writes is a 503 ServiceUnavailable saying what the server's operator must
// do, as the API answers it (ARM's answer when a resource provider cannot serve); anything
// else is a 500 naming the operation. Neither shows err's text, which may hold the server's
// paths and the driver's error: hidden says so, and the caller logs err under the
// operation's id, which the message names.
func (r *Run) asARM(err error) (ae *arm.Error, hidden bool) {
	var unavailable *store.UnavailableError
	switch {
	case errors.As(err, &unavailable):
		return arm.Errorf(http.StatusServiceUnavailable, arm.CodeServiceUnavailable, "%s", unavailable.ClientMessage("operation id "+r.op.ID)), true
	case errors.As(err, &ae):
		return ae, false
	}
	return arm.Errorf(http.StatusInternalServerError, arm.CodeInternalServerError,
		"The operation hit an internal error (operation id %s, in the server log); retry the request, and report the id if it fails again.", r.op.ID), true
}
