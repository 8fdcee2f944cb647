package operations_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// eachStore runs test on a fresh store of every dialect: a SQLite file always, and a schema
// of its own in the PostgreSQL database MLFLEET_TEST_POSTGRES names when that is set (an
// engine claims any operation of its store, so tests cannot share one). Tests that arm
// failpoints pass parallel false: failpoints are process-wide.
func eachStore(t *testing.T, parallel bool, test func(t *testing.T, s store.Store)) {
	t.Helper()
	for dialect, newDB := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			test(t, newDB(t)())
		})
	}
}

// eachStoreCase runs test as the parallel subtest name, on a fresh store of every dialect
// in parallel: the body of a table test's loop.
func eachStoreCase(t *testing.T, name string, test func(t *testing.T, s store.Store)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		eachStore(t, true, test)
	})
}

// cleanupCall is what one call of a cleanup saw.
type cleanupCall struct {
	op      string
	attempt int
	cause   error
	// made is what the handler's steps recorded in the operation's state.
	made string
}

// cleanupLog records the calls of a cleanup, safe for the engine's goroutines.
type cleanupLog struct {
	mu    sync.Mutex
	calls []cleanupCall
}

// cleanup returns a Cleanup that records its call, then returns what do returns (nil
// when do is nil).
func (l *cleanupLog) cleanup(do func(ctx context.Context) error) operations.Cleanup {
	return func(ctx context.Context, run *operations.Run, cause error) error {
		var st madeState
		if err := run.State(&st); err != nil {
			return err
		}
		l.mu.Lock()
		l.calls = append(l.calls, cleanupCall{op: run.ID(), attempt: run.Attempt(), cause: cause, made: st.Made})
		l.mu.Unlock()
		if do == nil {
			return nil
		}
		return do(ctx)
	}
}

func (l *cleanupLog) get() []cleanupCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// only returns the one call made, failing the test when there were more or none.
func (l *cleanupLog) only(t *testing.T) cleanupCall {
	t.Helper()
	calls := l.get()
	if len(calls) != 1 {
		t.Fatalf("cleanup called %d times (%+v), want once", len(calls), calls)
	}
	return calls[0]
}

// madeState is the handler state of the pipelines below: what they made, for the cleanup.
type madeState struct{ Made string }

// makeThenFail is a pipeline whose step one makes "vm1", recording it in the state, and
// whose step two fails with err.
func makeThenFail(err error) operations.Handler {
	return func(ctx context.Context, run *operations.Run) error {
		if err := run.Step(ctx, "one", func(context.Context) error { return run.SetState(madeState{Made: "vm1"}) }); err != nil {
			return err
		}
		return run.Step(ctx, "two", func(context.Context) error { return err })
	}
}

// causeOf returns the cleanup's cause as the ARM error it must be.
func causeOf(t *testing.T, c cleanupCall) *arm.Error {
	t.Helper()
	var ae *arm.Error
	if !errors.As(c.cause, &ae) {
		t.Fatalf("cleanup cause %v (%T) is not an *arm.Error", c.cause, c.cause)
	}
	return ae
}

func TestEngineCleanupAfterHandlerError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// err is what step two returns.
		err         error
		noCleanup   bool
		wantCode    string
		wantMessage string
		// hides, when set, is err's text the operation's error must not show (checkHidden)
		// instead of wantMessage.
		hides string
	}{
		{
			name:        "arm error",
			err:         fmt.Errorf("create cluster: %w", arm.Conflict("cluster aks1 is being deleted")),
			wantCode:    arm.CodeConflict,
			wantMessage: "cluster aks1 is being deleted",
		},
		{
			// Not ARM's: its text, which may hold the server's paths, stays in the log.
			name:     "plain error",
			err:      errors.New("open /var/lib/mlfleet/clusters/aks1/kubeconfig: permission denied"),
			wantCode: arm.CodeInternalServerError,
			hides:    "/var/lib/mlfleet",
		},
		{
			name:        "kind without cleanup",
			err:         arm.Conflict("cluster aks1 is being deleted"),
			noCleanup:   true,
			wantCode:    arm.CodeConflict,
			wantMessage: "cluster aks1 is being deleted",
		},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			var cl cleanupLog
			var log testutil.Buffer
			e := newEngine(t, s, loggingTo(t, operations.Config{}, &log), makeThenFail(tt.err))
			if !tt.noCleanup {
				e.OnFailure(kind, cl.cleanup(nil))
			}
			start(t, e)
			op := submit(t, e, nil)
			got := waitStatus(t, s, op.ID, store.StatusFailed)

			ae := errorOf(t, got)
			// The subtests of the dialects run in parallel: tt is read, never written.
			wantMessage := tt.wantMessage
			if tt.hides != "" {
				checkHidden(t, ae, op.ID, tt.hides, &log)
				wantMessage = ae.Message // the cleanup is given the same
			} else if ae.Code != tt.wantCode || ae.Message != wantMessage {
				t.Errorf("operation error = (%s) %q, want (%s) %q", ae.Code, ae.Message, tt.wantCode, wantMessage)
			}
			if got.EndedAt.IsZero() || got.LeaseOwner != "" {
				t.Errorf("EndedAt = %v, LeaseOwner = %q; want set and freed", got.EndedAt, got.LeaseOwner)
			}
			if p := progressOf(t, got); !slices.Equal(p.Done, []string{"one"}) {
				t.Errorf("progress records %q, want [one]", p.Done)
			}
			if tt.noCleanup {
				return
			}
			call := cl.only(t)
			if ae := causeOf(t, call); ae.Code != tt.wantCode || ae.Message != wantMessage {
				t.Errorf("cleanup cause = (%s) %q, want (%s) %q", ae.Code, ae.Message, tt.wantCode, wantMessage)
			}
			if call.op != op.ID || call.attempt != 1 || call.made != "vm1" {
				t.Errorf("cleanup ran for %s at attempt %d seeing %q made; want %s, 1, vm1", call.op, call.attempt, call.made, op.ID)
			}
		})
	}
}

func TestEngineCleanupAfterHandlerPanic(t *testing.T) {
	t.Parallel()
	eachStore(t, true, func(t *testing.T, s store.Store) {
		var cl cleanupLog
		var log testutil.Buffer
		e := newEngine(t, s, loggingTo(t, operations.Config{}, &log), func(ctx context.Context, run *operations.Run) error {
			if err := run.Step(ctx, "one", func(context.Context) error { return run.SetState(madeState{Made: "vm1"}) }); err != nil {
				return err
			}
			panic("nil map in handler")
		})
		e.OnFailure(kind, cl.cleanup(nil))
		start(t, e)
		op := submit(t, e, nil)
		got := waitStatus(t, s, op.ID, store.StatusFailed)

		// The panic is the server's business: the log has it under the operation's id.
		ae := errorOf(t, got)
		checkHidden(t, ae, op.ID, "nil map in handler", &log)
		call := cl.only(t)
		if cause := causeOf(t, call); cause.Code != ae.Code || cause.Message != ae.Message {
			t.Errorf("cleanup cause = (%s) %q, want the operation's error (%s) %q", cause.Code, cause.Message, ae.Code, ae.Message)
		}
		if call.made != "vm1" {
			t.Errorf("cleanup saw %q made, want vm1", call.made)
		}
	})
}

// resourceState is the state of the resource of the tests' operations, as their cleanup
// and GiveUp record it (a store row in a real service), safe for the engine's goroutines.
type resourceState struct {
	mu      sync.Mutex
	state   string
	message string
}

func (r *resourceState) set(state, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state, r.message = state, message
}

func (r *resourceState) get() (state, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state, r.message
}

// failingTimes returns a cleanup body that returns err on its first n calls (every call when
// n < 0), and then marks res Failed with its cause.
func failingTimes(n int, err error) func(calls int) error {
	return func(calls int) error {
		if n < 0 || calls <= n {
			return err
		}
		return nil
	}
}

func TestEngineRetriesFailingCleanup(t *testing.T) {
	t.Parallel()
	cleanupErr := errors.New("delete vm1: quota service unavailable")
	const handlerMessage = "cluster aks1 is being deleted"
	tests := []struct {
		name string
		// cleanup and giveUp say whether their nth call (from 1) fails; a nil giveUp is
		// not registered.
		cleanup, giveUp func(calls int) error
		wantCleanups    int
		wantGiveUps     int
		// wantGivenUp: the operation's error names the cleanup's after its own.
		wantGivenUp bool
		wantState   string
		// wantLog are lines the operator reads in the log.
		wantLog []string
	}{
		{
			name:         "errors once",
			cleanup:      failingTimes(1, cleanupErr),
			giveUp:       failingTimes(0, nil),
			wantCleanups: 2, wantState: "Failed (cleaned up)",
			wantLog: []string{"trying again later", cleanupErr.Error()},
		},
		{
			name:         "always errors",
			cleanup:      failingTimes(-1, cleanupErr),
			giveUp:       failingTimes(0, nil),
			wantCleanups: 3, wantGiveUps: 1, wantGivenUp: true, wantState: "Failed (given up)",
			wantLog: []string{"giving it up", cleanupErr.Error()},
		},
		{
			name:         "always errors, give-up errors once",
			cleanup:      failingTimes(-1, cleanupErr),
			giveUp:       failingTimes(1, errors.New("database is locked")),
			wantCleanups: 3, wantGiveUps: 2, wantGivenUp: true, wantState: "Failed (given up)",
			wantLog: []string{"database is locked"},
		},
		{
			name:         "always errors, give-up always errors",
			cleanup:      failingTimes(-1, cleanupErr),
			giveUp:       failingTimes(-1, errors.New("database is locked")),
			wantCleanups: 3, wantGiveUps: 3, wantGivenUp: true, wantState: "Creating",
		},
		{
			name:         "always errors, kind without give-up",
			cleanup:      failingTimes(-1, cleanupErr),
			wantCleanups: 3, wantGivenUp: true, wantState: "Creating",
		},
		{
			name:         "always panics",
			cleanup:      func(int) error { panic("nil map in cleanup") },
			giveUp:       failingTimes(0, nil),
			wantCleanups: 3, wantGiveUps: 1, wantGivenUp: true, wantState: "Failed (given up)",
			wantLog: []string{"cleanup panicked", "nil map in cleanup"},
		},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			var cl cleanupLog
			var logs testutil.Buffer
			var res resourceState
			res.set("Creating", "")
			logger := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), &logs), nil))
			e := newEngine(t, s, operations.Config{Logger: logger, MaxAttempts: 3, CleanupBackoff: 10 * time.Millisecond},
				makeThenFail(arm.Conflict(handlerMessage)))
			e.OnFailure(kind, cl.cleanup(func(context.Context) error {
				if err := tt.cleanup(len(cl.get())); err != nil {
					return err
				}
				res.set("Failed (cleaned up)", "")
				return nil
			}))
			var giveUps cleanupLog
			if tt.giveUp != nil {
				e.OnGiveUp(kind, func(ctx context.Context, run *operations.Run, cause error) error {
					giveUps.mu.Lock()
					giveUps.calls = append(giveUps.calls, cleanupCall{op: run.ID(), attempt: run.Attempt(), cause: cause})
					n := len(giveUps.calls)
					giveUps.mu.Unlock()
					if err := tt.giveUp(n); err != nil {
						return err
					}
					res.set("Failed (given up)", cause.Error())
					return nil
				})
			}
			start(t, e)
			op := submit(t, e, nil)
			got := waitStatus(t, s, op.ID, store.StatusFailed)

			ae := errorOf(t, got)
			switch {
			case ae.Code != arm.CodeConflict:
				t.Errorf("operation error = (%s) %q, want the handler's code Conflict", ae.Code, ae.Message)
			case !tt.wantGivenUp && ae.Message != handlerMessage:
				t.Errorf("operation error %q, want the handler's %q alone: the cleanup succeeded", ae.Message, handlerMessage)
			case tt.wantGivenUp && (!strings.HasPrefix(ae.Message, handlerMessage) || !strings.Contains(ae.Message, cleanupShown(op.ID))):
				t.Errorf("operation error %q, want the handler's %q followed by where the log has the cleanup's error", ae.Message, handlerMessage)
			case strings.Contains(ae.Message, cleanupErrText(tt.name, cleanupErr)):
				t.Errorf("operation error %q shows the client the cleanup's error, which is the server's", ae.Message)
			}
			if n := len(cl.get()); n != tt.wantCleanups {
				t.Errorf("cleanup ran %d times, want %d", n, tt.wantCleanups)
			}
			for _, c := range cl.get() {
				if cause := causeOf(t, c); cause.Message != handlerMessage {
					t.Errorf("cleanup cause %q, want the handler's %q on every attempt", cause.Message, handlerMessage)
				}
			}
			gcalls := giveUps.get()
			if len(gcalls) != tt.wantGiveUps {
				t.Errorf("give-up ran %d times, want %d", len(gcalls), tt.wantGiveUps)
			}
			for _, c := range gcalls {
				if cause := causeOf(t, c); cause.Code != ae.Code || cause.Message != ae.Message {
					t.Errorf("give-up cause = (%s) %q, want the operation's final error (%s) %q", cause.Code, cause.Message, ae.Code, ae.Message)
				}
			}
			state, message := res.get()
			if state != tt.wantState {
				t.Errorf("resource state %q, want %q", state, tt.wantState)
			}
			if state == "Failed (given up)" && (!strings.Contains(message, handlerMessage) || !strings.Contains(message, cleanupShown(op.ID))) {
				t.Errorf("given-up resource's message %q, want the operation's error and the cleanup's", message)
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log does not contain %q:\n%s", want, logs.String())
				}
			}
		})
	}
}

// cleanupShown is what the error of an operation whose cleanup was given up says of the
// cleanup's plain error: where the server log has it.
func cleanupShown(opID string) string {
	return "an internal error, in the server log under operation id " + opID
}

// cleanupErrText is the text of the cleanup's error the test case named name makes.
func cleanupErrText(name string, err error) string {
	if strings.Contains(name, "panics") {
		return "nil map in cleanup"
	}
	return err.Error()
}

// A cleanup that errors is tried again after a restart: the operation stays InProgress and
// failing, with what went wrong recorded, and the next server resumes its cleanup.
func TestEngineRetriesFailingCleanupAfterRestart(t *testing.T) {
	t.Parallel()
	eachStore(t, true, func(t *testing.T, s store.Store) {
		cleanupErr := errors.New("delete vm1: quota service unavailable")
		var first cleanupLog
		// A backoff far longer than the test, so that only the restart retries the cleanup.
		e1 := newEngine(t, s, operations.Config{Owner: "replica-1", Workers: 1, CleanupBackoff: time.Hour},
			makeThenFail(arm.Conflict("cluster aks1 is being deleted")))
		e1.OnFailure(kind, first.cleanup(func(context.Context) error { return cleanupErr }))
		e1.Start(context.Background())
		op := submit(t, e1, nil)
		var waiting *store.Operation
		_, ok := testutil.PollEvery(t.Context(), 10*time.Millisecond, deadline, func() (bool, string) {
			waiting = getOperation(t, s, op.ID)
			return strings.Contains(string(waiting.Progress), cleanupErr.Error()), string(waiting.Progress)
		})
		if !ok {
			t.Fatalf("the failing cleanup's error was never recorded in the progress: %s", waiting.Progress)
		}
		closeEngine(t, e1)

		waiting = getOperation(t, s, op.ID)
		if waiting.Status != store.StatusInProgress || !waiting.EndedAt.IsZero() {
			t.Errorf("while its cleanup waits to be retried the operation is %s (ended %v), want InProgress", waiting.Status, waiting.EndedAt)
		}
		if n := len(first.get()); n != 1 {
			t.Errorf("first engine ran the cleanup %d times, want once within its backoff", n)
		}

		// What a single-replica server does when it starts: its predecessor is dead.
		if _, err := s.ReleaseLeases(context.Background()); err != nil {
			t.Fatalf("ReleaseLeases: %v", err)
		}
		var second cleanupLog
		e2 := newEngine(t, s, operations.Config{Owner: "replica-2"}, func(context.Context, *operations.Run) error {
			t.Error("second engine ran the handler; only the cleanup was left")
			return nil
		})
		e2.OnFailure(kind, second.cleanup(nil))
		start(t, e2)
		got := waitStatus(t, s, op.ID, store.StatusFailed)

		if ae := errorOf(t, got); ae.Code != arm.CodeConflict || ae.Message != "cluster aks1 is being deleted" {
			t.Errorf("operation error = (%s) %q, want the handler's alone: the retried cleanup succeeded", ae.Code, ae.Message)
		}
		if call := second.only(t); call.made != "vm1" {
			t.Errorf("retried cleanup saw %q made, want vm1", call.made)
		}
	})
}

// failDuringCleanup runs an engine whose handler fails with cause and whose cleanup waits
// for shutdown, and closes it during the cleanup, as a server stopped (or crashed) while
// cleaning up a failed operation is. It returns the operation, left InProgress and failing.
func failDuringCleanup(t *testing.T, s store.Store, cause error) *store.Operation {
	t.Helper()
	cleaning := make(chan struct{})
	var handlerRuns recorder
	var cl cleanupLog
	// One worker, the one running the cleanup. With more, a claim an idle worker sent just
	// before Close can, on PostgreSQL, still commit after the cleanup's lease is freed: the
	// operation then stays leased to the stopped engine until its lease runs out, an attempt
	// spent (an engine issue, not what this helper sets up).
	first := newEngine(t, s, operations.Config{Owner: "replica-1", Workers: 1}, func(ctx context.Context, run *operations.Run) error {
		handlerRuns.add("attempt %d", run.Attempt())
		return makeThenFail(cause)(ctx, run)
	})
	first.OnFailure(kind, cl.cleanup(func(ctx context.Context) error {
		close(cleaning)
		<-ctx.Done()
		return ctx.Err()
	}))
	first.Start(context.Background())
	op := submit(t, first, nil)
	await(t, cleaning, "the first engine's cleanup to start")

	failing := getOperation(t, s, op.ID)
	// The causes the tests give are ARM errors, which the operation keeps as they are.
	var want *arm.Error
	if !errors.As(cause, &want) {
		t.Fatalf("failDuringCleanup: cause %v is not an *arm.Error", cause)
	}
	if f := progressOf(t, failing).Failure; f == nil || f.Code != want.Code || f.Message != want.Message {
		t.Errorf("during the cleanup progress is %s, want a failure (%s) %q", failing.Progress, want.Code, want.Message)
	}
	closeEngine(t, first)

	paused := getOperation(t, s, op.ID)
	if paused.Status != store.StatusInProgress || len(paused.Error) != 0 || !paused.EndedAt.IsZero() {
		t.Errorf("after shutdown during the cleanup: status %s, error %s, ended %v; want InProgress, no error, not ended",
			paused.Status, paused.Error, paused.EndedAt)
	}
	if f := progressOf(t, paused).Failure; f == nil || f.Code != want.Code {
		t.Errorf("after shutdown progress is %s, want the failure (%s) still recorded", paused.Progress, want.Code)
	}
	if runs := handlerRuns.get(); !slices.Equal(runs, []string{"attempt 1"}) {
		t.Errorf("first engine ran the handler %q, want once", runs)
	}
	return paused
}

func TestEngineResumesInterruptedCleanup(t *testing.T) {
	t.Parallel()
	eachStore(t, true, func(t *testing.T, s store.Store) {
		cause := fmt.Errorf("create cluster: %w", arm.Conflict("cluster aks1 is being deleted"))
		op := failDuringCleanup(t, s, cause)

		// No ReleaseLeases: the first engine freed its lease when it stopped, so the second
		// one claims the operation at once.
		var handlerRuns recorder
		var cl cleanupLog
		second := newEngine(t, s, operations.Config{Owner: "replica-2"}, func(ctx context.Context, run *operations.Run) error {
			handlerRuns.add("attempt %d", run.Attempt())
			return nil
		})
		second.OnFailure(kind, cl.cleanup(nil))
		start(t, second)
		got := waitStatus(t, s, op.ID, store.StatusFailed)

		if ae := errorOf(t, got); ae.Code != arm.CodeConflict || ae.Message != "cluster aks1 is being deleted" {
			t.Errorf("operation error = (%s) %q, want the original (Conflict) %q", ae.Code, ae.Message, "cluster aks1 is being deleted")
		}
		if got.Attempts != 2 || got.LeaseOwner != "" || got.EndedAt.IsZero() {
			t.Errorf("Attempts = %d, LeaseOwner = %q, EndedAt = %v; want 2, freed, set", got.Attempts, got.LeaseOwner, got.EndedAt)
		}
		if runs := handlerRuns.get(); len(runs) != 0 {
			t.Errorf("second engine ran the handler (%q), want never: only the cleanup was left", runs)
		}
		call := cl.only(t)
		if ae := causeOf(t, call); ae.Code != arm.CodeConflict || ae.Message != "cluster aks1 is being deleted" {
			t.Errorf("resumed cleanup cause = (%s) %q, want the original (Conflict) %q", ae.Code, ae.Message, "cluster aks1 is being deleted")
		}
		if call.attempt != 2 || call.made != "vm1" {
			t.Errorf("resumed cleanup ran at attempt %d seeing %q made; want 2 and vm1", call.attempt, call.made)
		}
	})
}

func TestEngineGivesUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxAttempts int
		// cleanupStarted makes the first attempt fail and stop during its cleanup.
		cleanupStarted bool
		// deadClaims is how many workers then claimed the operation and died.
		deadClaims  int
		wantCleanup bool
		wantCode    string
	}{
		{
			name:        "interrupted too often",
			maxAttempts: 2, deadClaims: 2,
			wantCleanup: true, wantCode: arm.CodeOperationInterrupted,
		},
		{
			name:        "default interrupted too often",
			deadClaims:  5,
			wantCleanup: true, wantCode: arm.CodeOperationInterrupted,
		},
		{
			// The cleanup has its own budget of MaxAttempts starts: its second start is
			// within 2, whatever the operation's claims were.
			name:        "cleanup interrupted but within its attempts",
			maxAttempts: 2, cleanupStarted: true, deadClaims: 1,
			wantCleanup: true, wantCode: arm.CodeConflict,
		},
		{
			name:        "cleanup interrupted too often",
			maxAttempts: 1, cleanupStarted: true, deadClaims: 0,
			wantCleanup: false, wantCode: arm.CodeConflict,
		},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			var handlerRuns recorder
			var cl cleanupLog
			e := newEngine(t, s, operations.Config{Owner: "replica-2", MaxAttempts: tt.maxAttempts},
				func(ctx context.Context, run *operations.Run) error {
					handlerRuns.add("attempt %d", run.Attempt())
					return nil
				})
			e.OnFailure(kind, cl.cleanup(nil))

			var op *store.Operation
			prior := tt.deadClaims
			if tt.cleanupStarted {
				op = failDuringCleanup(t, s, arm.Conflict("cluster aks1 is being deleted"))
				prior++
			} else {
				op = submit(t, e, nil)
			}
			claimAndDie(t, s, tt.deadClaims, time.Time{})
			start(t, e)
			got := waitStatus(t, s, op.ID, store.StatusFailed)

			if got.Attempts != prior+1 {
				t.Errorf("Attempts = %d, want %d", got.Attempts, prior+1)
			}
			ae := errorOf(t, got)
			if ae.Code != tt.wantCode {
				t.Errorf("operation error = (%s) %q, want code %s", ae.Code, ae.Message, tt.wantCode)
			}
			if runs := handlerRuns.get(); len(runs) != 0 {
				t.Errorf("handler ran (%q), want never once the attempts are used up", runs)
			}
			if !tt.wantCleanup {
				if calls := cl.get(); len(calls) != 0 {
					t.Errorf("cleanup ran %d times, want it given up", len(calls))
				}
				return
			}
			if cause := causeOf(t, cl.only(t)); cause.Code != ae.Code || cause.Message != ae.Message {
				t.Errorf("cleanup cause = (%s) %q, want the operation's error (%s) %q", cause.Code, cause.Message, ae.Code, ae.Message)
			}
		})
	}
}

func TestSubmitIn(t *testing.T) {
	t.Parallel()
	errRollBack := errors.New("roll back")
	tests := []struct {
		name string
		// txErr is what the transaction's function returns after submitting.
		txErr   error
		wantRun bool
	}{
		{name: "rolled back", txErr: errRollBack},
		{name: "committed", wantRun: true},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			ctx := context.Background()
			var ran recorder
			// One worker, so the operations run in the order they were submitted.
			e := newEngine(t, s, operations.Config{Workers: 1}, func(ctx context.Context, run *operations.Run) error {
				ran.add("%s", run.ID())
				return nil
			})
			start(t, e)

			res := &store.Resource{ID: resourceID + "/providers/Tests/things/t1", Type: "Tests/things", Name: "t1", Body: []byte(`{}`)}
			var op *store.Operation
			err := s.InTx(ctx, func(tx store.Store) error {
				if err := tx.CreateResource(ctx, res); err != nil {
					return err
				}
				var err error
				if op, err = e.SubmitIn(ctx, tx, kind, res.ID, subID, nil); err != nil {
					return err
				}
				return tt.txErr
			})
			if !errors.Is(err, tt.txErr) {
				t.Fatalf("InTx = %v, want %v", err, tt.txErr)
			}
			e.Wake()

			if !tt.wantRun {
				if _, err := s.GetOperation(ctx, op.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("GetOperation of the rolled-back operation = %v, want ErrNotFound", err)
				}
				if _, err := s.GetResource(ctx, res.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("GetResource of the rolled-back resource = %v, want ErrNotFound", err)
				}
				// The worker is idle once a later operation has run: the rolled-back
				// one never did.
				later := submit(t, e, nil)
				waitStatus(t, s, later.ID, store.StatusSucceeded)
				if got := ran.get(); !slices.Equal(got, []string{later.ID}) {
					t.Errorf("handler ran for %q, want only the later operation %s", got, later.ID)
				}
				ops, err := s.ListOperations(ctx, store.OperationFilter{})
				if err != nil {
					t.Fatalf("ListOperations: %v", err)
				}
				if len(ops) != 1 {
					t.Errorf("store holds %d operations, want only the later one", len(ops))
				}
				return
			}
			waitStatus(t, s, op.ID, store.StatusSucceeded)
			if got := ran.get(); !slices.Equal(got, []string{op.ID}) {
				t.Errorf("handler ran for %q, want %s once", got, op.ID)
			}
			if _, err := s.GetResource(ctx, res.ID); err != nil {
				t.Errorf("GetResource of the resource committed with the operation: %v", err)
			}
		})
	}
}

// armFailpoints arms spec for the rest of the test. Tests that call it must not be
// parallel: failpoints are process-wide.
func armFailpoints(t *testing.T, spec string) {
	t.Helper()
	if err := failpoint.Arm(spec); err != nil {
		t.Fatalf("arm failpoints %q: %v", spec, err)
	}
	t.Cleanup(func() {
		if err := failpoint.Arm(""); err != nil {
			t.Errorf("disarm failpoints: %v", err)
		}
	})
}

// fpKind is the kind of the failpoint tests, so that no other test's operation matches
// their failpoints.
const fpKind = "tests.failpoints"

// newFailpointEngine returns an engine with h and c registered for fpKind.
func newFailpointEngine(t *testing.T, s store.Store, h operations.Handler, c operations.Cleanup) *operations.Engine {
	t.Helper()
	e := newEngine(t, s, operations.Config{}, h)
	e.Register(fpKind, h)
	if c != nil {
		e.OnFailure(fpKind, c)
	}
	return e
}

// runFailpointOperation starts e, submits an fpKind operation and waits until it has status.
func runFailpointOperation(t *testing.T, s store.Store, e *operations.Engine, status string) *store.Operation {
	t.Helper()
	start(t, e)
	op, err := e.Submit(context.Background(), fpKind, resourceID, subID, nil)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return waitStatus(t, s, op.ID, status)
}

// Not parallel: it arms failpoints and traces them.
func TestEngineRetriesTransientStepSave(t *testing.T) {
	eachStore(t, false, func(t *testing.T, s store.Store) {
		savePoint := "store/SaveOperation/" + fpKind + "/before"
		armFailpoints(t, savePoint+"=error@1")
		if err := failpoint.EnableTrace(filepath.Join(t.TempDir(), "trace")); err != nil {
			t.Fatalf("EnableTrace: %v", err)
		}
		t.Cleanup(func() {
			if err := failpoint.EnableTrace(""); err != nil {
				t.Errorf("stop failpoint trace: %v", err)
			}
		})
		var steps recorder
		var cl cleanupLog
		e := newFailpointEngine(t, s, func(ctx context.Context, run *operations.Run) error {
			return run.Step(ctx, "one", func(context.Context) error {
				steps.add("one")
				return nil
			})
		}, cl.cleanup(nil))
		got := runFailpointOperation(t, s, e, store.StatusSucceeded)

		if p := progressOf(t, got); !slices.Equal(p.Done, []string{"one"}) {
			t.Errorf("progress records %q, want [one]", p.Done)
		}
		if ran := steps.get(); len(ran) != 1 {
			t.Errorf("step ran %d times, want once: only its save is retried", len(ran))
		}
		if calls := cl.get(); len(calls) != 0 {
			t.Errorf("cleanup ran %d times for an operation that succeeded", len(calls))
		}
		saves := 0
		for _, name := range failpoint.Trace() {
			if name == savePoint {
				saves++
			}
		}
		if saves != 2 {
			t.Errorf("the step's progress was saved %d times, want 2: the injected failure, then the retry", saves)
		}
	})
}

// Not parallel: it arms failpoints.
func TestEngineStepFailpoint(t *testing.T) {
	eachStore(t, false, func(t *testing.T, s store.Store) {
		point := "op/" + fpKind + "/two/before"
		armFailpoints(t, point+"=error")
		var steps recorder
		handlerErr := make(chan error, 1)
		var cl cleanupLog
		e := newFailpointEngine(t, s, func(ctx context.Context, run *operations.Run) error {
			for _, name := range []string{"one", "two"} {
				if err := run.Step(ctx, name, func(context.Context) error {
					steps.add("%s", name)
					return nil
				}); err != nil {
					handlerErr <- err
					return err
				}
			}
			return nil
		}, cl.cleanup(nil))
		got := runFailpointOperation(t, s, e, store.StatusFailed)

		if err := await(t, handlerErr, "step two to fail"); !errors.Is(err, failpoint.ErrInjected) {
			t.Errorf("step two returned %v, want an error wrapping failpoint.ErrInjected", err)
		}
		// The injected error is not ARM's, so the operation's error hides it.
		ae := errorOf(t, got)
		checkHidden(t, ae, got.ID, point, nil)
		if ran := steps.get(); !slices.Equal(ran, []string{"one"}) {
			t.Errorf("steps ran %q, want [one]: the failpoint stops step two before it runs", ran)
		}
		if cause := causeOf(t, cl.only(t)); cause.Code != ae.Code || cause.Message != ae.Message {
			t.Errorf("cleanup cause = (%s) %q, want the operation's error (%s) %q", cause.Code, cause.Message, ae.Code, ae.Message)
		}
	})
}

// Not parallel: it arms failpoints. The QA reproduction at the engine's level: the cleanup
// fails before it starts, once, and is tried again.
func TestEngineCleanupFailpoints(t *testing.T) {
	tests := []struct {
		name         string
		spec         string
		failCleanup  bool
		wantCleanups int
		wantGiveUps  int
		wantGivenUp  bool
	}{
		{name: "cleanup before", spec: "cleanup/before=error@1", wantCleanups: 1},
		{name: "cleanup after", spec: "cleanup/after=error@1", wantCleanups: 2},
		{name: "giveup before", spec: "giveup/before=error@1", failCleanup: true, wantCleanups: 2, wantGiveUps: 1, wantGivenUp: true},
		{name: "giveup after", spec: "giveup/after=error@1", failCleanup: true, wantCleanups: 2, wantGiveUps: 2, wantGivenUp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, false, func(t *testing.T, s store.Store) {
				armFailpoints(t, "op/"+fpKind+"/"+tt.spec)
				var cl, giveUps cleanupLog
				h := makeThenFail(arm.Conflict("cluster aks1 is being deleted"))
				e := newEngine(t, s, operations.Config{MaxAttempts: 2, CleanupBackoff: 10 * time.Millisecond}, h)
				e.Register(fpKind, h)
				e.OnFailure(fpKind, cl.cleanup(func(context.Context) error {
					if tt.failCleanup {
						return errors.New("delete vm1: quota service unavailable")
					}
					return nil
				}))
				e.OnGiveUp(fpKind, operations.GiveUp(giveUps.cleanup(nil)))
				got := runFailpointOperation(t, s, e, store.StatusFailed)

				ae := errorOf(t, got)
				if givenUp := ae.Message != "cluster aks1 is being deleted"; ae.Code != arm.CodeConflict || givenUp != tt.wantGivenUp {
					t.Errorf("operation error = (%s) %q, want Conflict, the cleanup given up: %v", ae.Code, ae.Message, tt.wantGivenUp)
				}
				if n := len(cl.get()); n != tt.wantCleanups {
					t.Errorf("cleanup ran %d times, want %d", n, tt.wantCleanups)
				}
				if n := len(giveUps.get()); n != tt.wantGiveUps {
					t.Errorf("give-up ran %d times, want %d", n, tt.wantGiveUps)
				}
			})
		})
	}
}

// loggingTo returns cfg with its engine's log written to log as well as to the test's
// output, for tests that read what the server log keeps.
func loggingTo(t *testing.T, cfg operations.Config, log *testutil.Buffer) operations.Config {
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), log), nil))
	return cfg
}

// checkHidden checks that ae, the error operation opID ended with, is the 500 that names
// the operation and not raw, the error's own text, which the server log keeps instead.
func checkHidden(t *testing.T, ae *arm.Error, opID, raw string, log *testutil.Buffer) {
	t.Helper()
	if ae.Code != arm.CodeInternalServerError || !strings.Contains(ae.Message, "operation id "+opID) {
		t.Errorf("operation error = (%s) %q, want InternalServerError naming operation id %s", ae.Code, ae.Message, opID)
	}
	if strings.Contains(ae.Message, raw) {
		t.Errorf("operation error %q shows the client the server's error %q", ae.Message, raw)
	}
	if log != nil && !loggedWith(log, opID, raw) {
		t.Errorf("the server log has no line naming operation %s with %q:\n%s", opID, raw, log)
	}
}

// loggedWith reports whether a line of log names operation opID and has text.
func loggedWith(log *testutil.Buffer, opID, text string) bool {
	for line := range strings.Lines(log.String()) {
		if strings.Contains(line, opID) && strings.Contains(line, text) {
			return true
		}
	}
	return false
}

// TestEngineStoreUnavailable: a step whose write the store refuses because its database
// cannot take writes (a real SQLite file whose size limit, PRAGMA max_page_count, stands in
// for a full disk) ends the operation with 503 ServiceUnavailable, the API's answer to the
// same error: it says what the server's operator must do, names the operation id and shows
// neither the file's path nor SQLite's error, which the server log keeps under that id. The
// cleanup is given the same error. The engine's own small writes still fit, as they do on a
// full disk, where existing pages are reused.
func TestEngineStoreUnavailable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "mlfleet.db")
	s := storetest.Open(t, path)
	// The handler's writes go through a second pool on the same file, limited to the pages
	// the file has (max_page_count is clamped to the current size): any write that needs a
	// new page fails with SQLITE_FULL.
	full := storetest.Open(t, path+"?_pragma=max_page_count(1)")
	var log testutil.Buffer
	var cl cleanupLog
	e := newEngine(t, s, loggingTo(t, operations.Config{}, &log), func(ctx context.Context, run *operations.Run) error {
		if err := run.Step(ctx, "one", func(context.Context) error { return run.SetState(madeState{Made: "vm1"}) }); err != nil {
			return err
		}
		return run.Step(ctx, "two", func(ctx context.Context) error {
			return full.CreateResource(ctx, &store.Resource{
				ID: resourceID + "/providers/Tests.Big/things/big", ParentID: resourceID, Type: "Tests.Big/things", Name: "big",
				SubscriptionID: subID, ResourceGroup: "rg1", Body: []byte(`{"pad":"` + strings.Repeat("x", 256<<10) + `"}`),
			})
		})
	})
	e.OnFailure(kind, cl.cleanup(nil))
	start(t, e)
	op := submit(t, e, nil)
	got := waitStatus(t, s, op.ID, store.StatusFailed)

	ae := errorOf(t, got)
	if ae.Code != arm.CodeServiceUnavailable {
		t.Fatalf("operation error = (%s) %q, want ServiceUnavailable", ae.Code, ae.Message)
	}
	for _, want := range []string{"is full", "free space on the file system of the server's data directory", "Retrying will not help",
		"the server log has the details under operation id " + op.ID} {
		if !strings.Contains(ae.Message, want) {
			t.Errorf("operation error %q does not contain %q", ae.Message, want)
		}
	}
	for _, leak := range []string{dir, "database or disk is full", "(13)"} {
		if strings.Contains(ae.Message, leak) {
			t.Errorf("operation error %q shows the client %q", ae.Message, leak)
		}
	}
	for _, want := range []string{path, "database or disk is full"} {
		if !loggedWith(&log, op.ID, want) {
			t.Errorf("the server log has no line naming operation %s with %q:\n%s", op.ID, want, log.String())
		}
	}
	if cause := causeOf(t, cl.only(t)); cause.Code != ae.Code || cause.Message != ae.Message {
		t.Errorf("cleanup cause = (%s) %q, want the operation's error (%s) %q", cause.Code, cause.Message, ae.Code, ae.Message)
	}
}

// TestRunClientError: what a handler records of an error for clients to read (a compute's
// provisioningErrors) is what the operation's own error would say: an ARM error as it is,
// a store that cannot take writes as ServiceUnavailable and anything else as the 500
// naming the operation, neither with the host's paths.
func TestRunClientError(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	full := &store.UnavailableError{Where: "/var/lib/mlfleet/mlfleet.db", Reason: store.ReasonFull, Err: errors.New("database or disk is full (13)")}
	errs := []error{
		fmt.Errorf("delete compute: %w", arm.Conflict("cluster aks1 is being deleted")),
		fmt.Errorf("delete compute: %w", full),
		errors.New("open /var/lib/mlfleet/clusters/aks1/kubeconfig: permission denied"),
	}
	got := make(chan []*arm.Error, 1)
	e := newEngine(t, s, operations.Config{}, func(ctx context.Context, run *operations.Run) error {
		var out []*arm.Error
		for _, err := range errs {
			out = append(out, run.ClientError(err))
		}
		got <- out
		return nil
	})
	start(t, e)
	op := submit(t, e, nil)
	shown := await(t, got, "the handler")
	if ae := shown[0]; ae.Code != arm.CodeConflict || ae.Message != "cluster aks1 is being deleted" {
		t.Errorf("ARM error shown as (%s) %q, want it as it is", ae.Code, ae.Message)
	}
	if ae := shown[1]; ae.Code != arm.CodeServiceUnavailable || !strings.Contains(ae.Message, "under operation id "+op.ID) || strings.Contains(ae.Message, "/var/lib") {
		t.Errorf("store error shown as (%s) %q, want ServiceUnavailable naming the operation, no path", ae.Code, ae.Message)
	}
	checkHidden(t, shown[2], op.ID, "/var/lib/mlfleet", nil)
}
