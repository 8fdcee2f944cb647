package operations_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// deadline bounds every wait for something the engine does in the background. It is long
// so a slow, loaded machine does not fail the tests; the tests never assert how long
// anything took.
const deadline = 10 * time.Second

const (
	kind       = "tests.pipeline"
	resourceID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1"
	subID      = "00000000-0000-0000-0000-000000000001"
)

// newEngine returns an engine over s with h registered for kind, not yet started. Zero
// fields of cfg get quick test values where the defaults would only slow the tests down.
func newEngine(t *testing.T, s store.Store, cfg operations.Config, h operations.Handler) *operations.Engine {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	e := operations.New(s, cfg)
	e.Register(kind, h)
	return e
}

// start starts e and closes it when the test ends.
func start(t *testing.T, e *operations.Engine) {
	t.Helper()
	e.Start(context.Background())
	t.Cleanup(func() { closeEngine(t, e) })
}

// closeEngine stops e and waits for its handlers to return.
func closeEngine(t *testing.T, e *operations.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Errorf("close engine: %v", err)
	}
}

func submit(t *testing.T, e *operations.Engine, input any) *store.Operation {
	t.Helper()
	op, err := e.Submit(context.Background(), kind, resourceID, subID, input)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return op
}

// waitStatus polls the store until operation id has status, and returns it.
func waitStatus(t *testing.T, s store.Store, id, status string) *store.Operation {
	t.Helper()
	var (
		op  *store.Operation
		err error
	)
	state, ok := testutil.PollEvery(t.Context(), 10*time.Millisecond, deadline, func() (bool, string) {
		if op, err = s.GetOperation(context.Background(), id); err != nil {
			return true, "" // fails the test below at once
		}
		return op.Status == status, fmt.Sprintf("%s (attempts %d, error %s)", op.Status, op.Attempts, op.Error)
	})
	if err != nil {
		t.Fatalf("GetOperation: %v", err)
	}
	if !ok {
		t.Fatalf("operation %s is still %s after %v, want %s", id, state, deadline, status)
	}
	return op
}

func getOperation(t *testing.T, s store.Store, id string) *store.Operation {
	t.Helper()
	op, err := s.GetOperation(context.Background(), id)
	if err != nil {
		t.Fatalf("GetOperation: %v", err)
	}
	return op
}

// await waits for ch to be closed or to deliver.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(deadline):
		t.Fatalf("timed out after %v waiting for %s", deadline, what)
		panic("unreachable")
	}
}

// recorder keeps what handlers did, in order, safe for the engine's goroutines.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// savedProgress decodes the checkpoint the engine keeps in the store. Failure is the
// failure it records there while the operation is failing, nil when there is none.
type savedProgress struct {
	Done    []string        `json:"done"`
	State   json.RawMessage `json:"state"`
	Failure *arm.Error      `json:"failure"`
}

func progressOf(t *testing.T, op *store.Operation) savedProgress {
	t.Helper()
	var p savedProgress
	if len(op.Progress) == 0 {
		return p
	}
	if err := json.Unmarshal(op.Progress, &p); err != nil {
		t.Fatalf("decode progress %s: %v", op.Progress, err)
	}
	return p
}

func errorOf(t *testing.T, op *store.Operation) *arm.Error {
	t.Helper()
	if len(op.Error) == 0 {
		t.Fatalf("operation %s (%s) has no error", op.ID, op.Status)
	}
	var e arm.Error
	if err := json.Unmarshal(op.Error, &e); err != nil {
		t.Fatalf("decode error %s: %v", op.Error, err)
	}
	return &e
}

var steps = []string{"one", "two", "three"}

func TestEngineRunsSteps(t *testing.T) {
	eachStore(t, true, func(t *testing.T, s store.Store) {
		var rec recorder
		type input struct{ Size int }
		e := newEngine(t, s, operations.Config{Workers: 2}, func(ctx context.Context, run *operations.Run) error {
			var in input
			if err := run.Input(&in); err != nil {
				return err
			}
			rec.add("start attempt=%d resource=%s size=%d", run.Attempt(), run.ResourceID(), in.Size)
			for _, name := range steps {
				if err := recordedStep(ctx, run, &rec, name); err != nil {
					return err
				}
			}
			return nil
		})
		start(t, e)

		op := submit(t, e, input{Size: 3})
		if op.Status != store.StatusInProgress || op.ID == "" {
			t.Errorf("Submit = %+v, want an InProgress operation with an id", op)
		}
		got := waitStatus(t, s, op.ID, store.StatusSucceeded)

		if got.EndedAt.IsZero() || got.EndedAt.Before(got.StartedAt) {
			t.Errorf("EndedAt = %v (StartedAt %v), want set, not before the start", got.EndedAt, got.StartedAt)
		}
		if len(got.Error) != 0 {
			t.Errorf("Error = %s, want none", got.Error)
		}
		if got.Attempts != 1 || got.LeaseOwner != "" {
			t.Errorf("Attempts = %d, LeaseOwner = %q; want 1 and the lease freed", got.Attempts, got.LeaseOwner)
		}
		if p := progressOf(t, got); !slices.Equal(p.Done, steps) {
			t.Errorf("progress records steps %q, want %q", p.Done, steps)
		}
		want := []string{"start attempt=1 resource=" + resourceID + " size=3", "step one", "step two", "step three"}
		if ev := rec.get(); !slices.Equal(ev, want) {
			t.Errorf("handler did %q, want %q", ev, want)
		}
	})
}

// recordedStep runs the step name of run, which adds "step <name>" to rec.
func recordedStep(ctx context.Context, run *operations.Run, rec *recorder, name string) error {
	return run.Step(ctx, name, func(context.Context) error {
		rec.add("step %s", name)
		return nil
	})
}

// claimAndDie has n workers in turn claim an operation of s, as of now, and die: their
// leases are released as when their replica is gone, and each claim counts as an attempt.
func claimAndDie(t *testing.T, s store.Store, n int, now time.Time) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, err := s.ClaimOperation(ctx, fmt.Sprintf("dead-replica-%d", i), now, time.Minute); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
		if _, err := s.ReleaseLeases(ctx); err != nil {
			t.Fatalf("ReleaseLeases: %v", err)
		}
	}
}

// resumable is a three-step pipeline that, on its first attempt, stops after step one and
// waits for the engine to shut down, as a server being stopped mid-operation does.
func resumable(rec *recorder, paused chan<- struct{}) operations.Handler {
	return func(ctx context.Context, run *operations.Run) error {
		rec.add("attempt %d", run.Attempt())
		for _, name := range steps {
			if err := recordedStep(ctx, run, rec, name); err != nil {
				return err
			}
			if name == "one" && run.Attempt() == 1 {
				close(paused)
				<-ctx.Done()
				return ctx.Err()
			}
		}
		return nil
	}
}

func TestEngineResumesAfterShutdown(t *testing.T) {
	eachStore(t, true, func(t *testing.T, s store.Store) {
		var rec recorder
		paused := make(chan struct{})
		h := resumable(&rec, paused)

		first := newEngine(t, s, operations.Config{Owner: "replica-1"}, h)
		first.Start(context.Background())
		op := submit(t, first, nil)
		await(t, paused, "the first attempt to finish step one")
		closeEngine(t, first)

		interrupted := getOperation(t, s, op.ID)
		if interrupted.Status != store.StatusInProgress || !interrupted.EndedAt.IsZero() || len(interrupted.Error) != 0 {
			t.Fatalf("after shutdown: status %s, ended %v, error %s; want InProgress, not ended, no error",
				interrupted.Status, interrupted.EndedAt, interrupted.Error)
		}
		if p := progressOf(t, interrupted); !slices.Equal(p.Done, []string{"one"}) {
			t.Errorf("after shutdown progress records %q, want [one]", p.Done)
		}

		// A new process on the same database frees the dead one's leases at start-up.
		if _, err := s.ReleaseLeases(context.Background()); err != nil {
			t.Fatalf("ReleaseLeases: %v", err)
		}
		second := newEngine(t, s, operations.Config{Owner: "replica-2"}, h)
		start(t, second)
		done := waitStatus(t, s, op.ID, store.StatusSucceeded)

		want := []string{"attempt 1", "step one", "attempt 2", "step two", "step three"}
		if ev := rec.get(); !slices.Equal(ev, want) {
			t.Errorf("handlers did %q, want %q (step one must not run again)", ev, want)
		}
		if done.Attempts != 2 {
			t.Errorf("Attempts = %d, want 2", done.Attempts)
		}
		if p := progressOf(t, done); !slices.Equal(p.Done, steps) {
			t.Errorf("progress records %q, want %q", p.Done, steps)
		}
		if done.EndedAt.IsZero() || done.LeaseOwner != "" {
			t.Errorf("EndedAt = %v, LeaseOwner = %q; want set and freed", done.EndedAt, done.LeaseOwner)
		}
	})
}

func TestEngineStateSurvivesAttempts(t *testing.T) {
	eachStore(t, true, func(t *testing.T, s store.Store) {
		type state struct{ Items []string }
		var rec recorder
		paused := make(chan struct{})
		h := func(ctx context.Context, run *operations.Run) error {
			st := state{Items: []string{"untouched"}}
			if err := run.State(&st); err != nil {
				return err
			}
			rec.add("attempt %d starts with %q", run.Attempt(), st.Items)
			if err := run.Step(ctx, "one", func(context.Context) error {
				if run.Attempt() == 1 {
					st.Items = []string{"a"}
				}
				return run.SetState(st)
			}); err != nil {
				return err
			}
			// Within an attempt, State returns what SetState recorded.
			var now state
			if err := run.State(&now); err != nil {
				return err
			}
			rec.add("attempt %d after one has %q", run.Attempt(), now.Items)
			if run.Attempt() == 1 {
				close(paused)
				<-ctx.Done()
				return ctx.Err()
			}
			if err := run.Step(ctx, "two", func(context.Context) error {
				st.Items = append(st.Items, "b")
				return run.SetState(st)
			}); err != nil {
				return err
			}
			// State set after the last step is kept with the result.
			st.Items = append(st.Items, "c")
			return run.SetState(st)
		}

		first := newEngine(t, s, operations.Config{Owner: "replica-1"}, h)
		first.Start(context.Background())
		op := submit(t, first, nil)
		await(t, paused, "the first attempt to finish step one")
		closeEngine(t, first)
		if _, err := s.ReleaseLeases(context.Background()); err != nil {
			t.Fatalf("ReleaseLeases: %v", err)
		}
		start(t, newEngine(t, s, operations.Config{Owner: "replica-2"}, h))
		done := waitStatus(t, s, op.ID, store.StatusSucceeded)

		want := []string{
			`attempt 1 starts with ["untouched"]`,
			`attempt 1 after one has ["a"]`,
			`attempt 2 starts with ["a"]`,
			`attempt 2 after one has ["a"]`,
		}
		if ev := rec.get(); !slices.Equal(ev, want) {
			t.Errorf("handlers saw %q, want %q", ev, want)
		}
		var final state
		if err := json.Unmarshal(progressOf(t, done).State, &final); err != nil {
			t.Fatalf("decode saved state: %v", err)
		}
		if wantItems := []string{"a", "b", "c"}; !slices.Equal(final.Items, wantItems) {
			t.Errorf("saved state = %q, want %q", final.Items, wantItems)
		}
	})
}

func TestEngineFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		handler     operations.Handler
		wantCode    string
		wantMessage string
		// wantContains is used instead of wantMessage when the message has more in it.
		wantContains string
		wantTarget   string
		wantDone     []string
		// hides, when set, is the handler's error text, not ARM's, that the operation's
		// error must not show: it names the operation, whose id finds the text in the log
		// (checkHidden).
		hides string
	}{
		{
			name: "arm error",
			handler: func(context.Context, *operations.Run) error {
				return arm.BadRequest(arm.CodeInvalidRequestContent, "size must be positive").WithTarget("properties.size")
			},
			wantCode:    arm.CodeInvalidRequestContent,
			wantMessage: "size must be positive",
			wantTarget:  "properties.size",
		},
		{
			name: "wrapped arm error from a step",
			handler: func(ctx context.Context, run *operations.Run) error {
				if err := run.Step(ctx, "one", func(context.Context) error { return nil }); err != nil {
					return err
				}
				if err := run.Step(ctx, "two", func(context.Context) error {
					return fmt.Errorf("create cluster: %w", arm.Conflict("cluster aks1 is being deleted"))
				}); err != nil {
					return fmt.Errorf("run pipeline: %w", err)
				}
				return nil
			},
			wantCode:    arm.CodeConflict,
			wantMessage: "cluster aks1 is being deleted",
			wantDone:    []string{"one"},
		},
		{
			name: "plain error",
			handler: func(context.Context, *operations.Run) error {
				return errors.New("open /var/lib/mlfleet/clusters/aks1/kubeconfig: permission denied")
			},
			hides: "/var/lib/mlfleet",
		},
		{
			name: "panic",
			handler: func(context.Context, *operations.Run) error {
				panic("nil map in handler")
			},
			hides: "nil map in handler",
		},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			var log testutil.Buffer
			e := newEngine(t, s, loggingTo(t, operations.Config{}, &log), tt.handler)
			start(t, e)
			op := submit(t, e, nil)
			got := waitStatus(t, s, op.ID, store.StatusFailed)

			ae := errorOf(t, got)
			// The subtests of the dialects run in parallel: tt is read, never written.
			wantCode, wantMessage := tt.wantCode, tt.wantMessage
			if tt.hides != "" {
				checkHidden(t, ae, op.ID, tt.hides, &log)
				wantCode, wantMessage = ae.Code, ae.Message
			}
			if ae.Code != wantCode {
				t.Errorf("error code = %q, want %q (error %s)", ae.Code, wantCode, got.Error)
			}
			if tt.wantContains != "" {
				if !strings.Contains(ae.Message, tt.wantContains) {
					t.Errorf("error message = %q, want it to contain %q", ae.Message, tt.wantContains)
				}
			} else if ae.Message != wantMessage {
				t.Errorf("error message = %q, want %q", ae.Message, wantMessage)
			}
			if ae.Target != tt.wantTarget {
				t.Errorf("error target = %q, want %q", ae.Target, tt.wantTarget)
			}
			if got.EndedAt.IsZero() || got.LeaseOwner != "" {
				t.Errorf("EndedAt = %v, LeaseOwner = %q; want set and freed", got.EndedAt, got.LeaseOwner)
			}
			if p := progressOf(t, got); !slices.Equal(p.Done, tt.wantDone) {
				t.Errorf("progress records %q, want %q", p.Done, tt.wantDone)
			}
		})
	}
}

func TestEngineKeepsWorkingAfterPanic(t *testing.T) {
	eachStore(t, true, func(t *testing.T, s store.Store) {
		type input struct{ Panic bool }
		// One worker, so the operation after the panic runs on the worker that panicked.
		e := newEngine(t, s, operations.Config{Workers: 1}, func(ctx context.Context, run *operations.Run) error {
			var in input
			if err := run.Input(&in); err != nil {
				return err
			}
			if in.Panic {
				panic("boom")
			}
			return run.Step(ctx, "one", func(context.Context) error { return nil })
		})
		start(t, e)

		bad := submit(t, e, input{Panic: true})
		failed := waitStatus(t, s, bad.ID, store.StatusFailed)
		checkHidden(t, errorOf(t, failed), bad.ID, "boom", nil)
		good := submit(t, e, input{})
		waitStatus(t, s, good.ID, store.StatusSucceeded)
	})
}

func TestEngineFailsUnknownKind(t *testing.T) {
	eachStore(t, true, func(t *testing.T, s store.Store) {
		// Another replica, with a handler this one lacks, recorded the operation.
		op := &store.Operation{ID: "0b5e0d6c-6f0e-4a53-9d1e-8c0f1f0a0001", Kind: "tests.newer", ResourceID: resourceID, SubscriptionID: subID}
		if err := s.CreateOperation(context.Background(), op); err != nil {
			t.Fatalf("CreateOperation: %v", err)
		}
		start(t, newEngine(t, s, operations.Config{}, func(context.Context, *operations.Run) error { return nil }))
		got := waitStatus(t, s, op.ID, store.StatusFailed)
		if ae := errorOf(t, got); ae.Code != arm.CodeInternalServerError || !strings.Contains(ae.Message, "tests.newer") {
			t.Errorf("error = %s, want InternalServerError naming the kind", got.Error)
		}
	})
}

func TestEngineMaxAttempts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxAttempts int
		// priorClaims is how many workers claimed the operation and died before this engine.
		priorClaims int
		wantStatus  string
	}{
		{name: "last allowed attempt runs", maxAttempts: 3, priorClaims: 2, wantStatus: store.StatusSucceeded},
		{name: "one attempt too many", maxAttempts: 1, priorClaims: 1, wantStatus: store.StatusFailed},
		{name: "many attempts too many", maxAttempts: 2, priorClaims: 6, wantStatus: store.StatusFailed},
		{name: "default allows five attempts", priorClaims: 4, wantStatus: store.StatusSucceeded},
		{name: "default fails the sixth attempt", priorClaims: 5, wantStatus: store.StatusFailed},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			var rec recorder
			e := newEngine(t, s, operations.Config{MaxAttempts: tt.maxAttempts}, func(ctx context.Context, run *operations.Run) error {
				rec.add("attempt %d", run.Attempt())
				return nil
			})
			op := submit(t, e, nil)
			claimAndDie(t, s, tt.priorClaims, time.Now())
			start(t, e)
			got := waitStatus(t, s, op.ID, tt.wantStatus)

			if got.Attempts != tt.priorClaims+1 {
				t.Errorf("Attempts = %d, want %d", got.Attempts, tt.priorClaims+1)
			}
			if got.EndedAt.IsZero() {
				t.Error("EndedAt is not set")
			}
			if tt.wantStatus == store.StatusSucceeded {
				if want := []string{fmt.Sprintf("attempt %d", tt.priorClaims+1)}; !slices.Equal(rec.get(), want) {
					t.Errorf("handler ran %q, want %q", rec.get(), want)
				}
				return
			}
			if ev := rec.get(); len(ev) != 0 {
				t.Errorf("handler ran %q, want it not run once the attempts are used up", ev)
			}
			ae := errorOf(t, got)
			if ae.Code != arm.CodeOperationInterrupted {
				t.Errorf("error code = %q, want %q", ae.Code, arm.CodeOperationInterrupted)
			}
			for _, want := range []string{fmt.Sprintf("interrupted %d times", tt.priorClaims), resourceID} {
				if !strings.Contains(ae.Message, want) {
					t.Errorf("error message %q does not contain %q", ae.Message, want)
				}
			}
		})
	}
}

func TestEngineLeaseLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// leaseTTL sets how often the engine renews (every third of it).
		leaseTTL time.Duration
		// stepAfterTheft makes the handler, unblocked by the test, run a step after the
		// theft instead of waiting for its context to end.
		stepAfterTheft bool
	}{
		{name: "renewal notices", leaseTTL: 300 * time.Millisecond},
		{name: "step save notices", leaseTTL: time.Hour, stepAfterTheft: true},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			ctx := context.Background()
			started := make(chan struct{})
			proceed := make(chan struct{})
			stopped := make(chan error, 1)
			e := newEngine(t, s, operations.Config{Owner: "replica-1", Workers: 1, LeaseTTL: tt.leaseTTL},
				func(ctx context.Context, run *operations.Run) error {
					if err := run.Step(ctx, "one", func(context.Context) error { return nil }); err != nil {
						return err
					}
					close(started)
					var err error
					if tt.stepAfterTheft {
						<-proceed
						err = run.Step(ctx, "two", func(context.Context) error { return nil })
					} else {
						<-ctx.Done()
						err = ctx.Err()
					}
					stopped <- err
					return err
				})
			start(t, e)
			op := submit(t, e, nil)
			await(t, started, "the handler to start")

			// replica-1 keeps renewing its lease, so the thief claims as of a time after
			// the lease ran out, as a replica whose peer stalled past its lease does.
			stolen, err := s.ClaimOperation(ctx, "thief", time.Now().Add(time.Hour), 2*time.Hour)
			if err != nil {
				t.Fatalf("thief's claim: %v", err)
			}
			if stolen.ID != op.ID || stolen.Attempts != 2 {
				t.Fatalf("thief claimed %s at attempt %d, want %s at attempt 2", stolen.ID, stolen.Attempts, op.ID)
			}
			close(proceed)
			if err := await(t, stopped, "the first engine to stop its handler"); err == nil {
				t.Error("the handler's work after the theft succeeded, want an error")
			}
			// Close waits until replica-1 is done with the operation.
			closeEngine(t, e)

			got := getOperation(t, s, op.ID)
			if got.Status != store.StatusInProgress || len(got.Error) != 0 || !got.EndedAt.IsZero() {
				t.Errorf("after the theft: status %s, error %s, ended %v; want InProgress, no error, not ended",
					got.Status, got.Error, got.EndedAt)
			}
			if got.LeaseOwner != "thief" {
				t.Errorf("LeaseOwner = %q, want thief", got.LeaseOwner)
			}
			if p := progressOf(t, got); !slices.Equal(p.Done, []string{"one"}) {
				t.Errorf("progress records %q, want [one]: replica-1 must save nothing after losing the lease", p.Done)
			}

			// The thief finishes the operation; its result stands.
			stolen.Status = store.StatusSucceeded
			if err := s.SaveOperation(ctx, stolen, "thief"); err != nil {
				t.Fatalf("thief's save: %v", err)
			}
			if final := getOperation(t, s, op.ID); final.Status != store.StatusSucceeded || len(final.Error) != 0 {
				t.Errorf("final status %s, error %s; want the thief's Succeeded", final.Status, final.Error)
			}
		})
	}
}

func TestSubmitErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		kind  string
		input any
	}{
		{name: "unknown kind", kind: "tests.unknown", input: nil},
		{name: "empty kind", kind: "", input: nil},
		{name: "input not encodable", kind: kind, input: func() {}},
	}
	for _, tt := range tests {
		eachStoreCase(t, tt.name, func(t *testing.T, s store.Store) {
			ctx := context.Background()
			e := newEngine(t, s, operations.Config{}, func(context.Context, *operations.Run) error { return nil })
			start(t, e)
			if op, err := e.Submit(ctx, tt.kind, resourceID, subID, tt.input); err == nil {
				t.Fatalf("Submit = %+v, want an error", op)
			}
			ops, err := s.ListOperations(ctx, store.OperationFilter{})
			if err != nil {
				t.Fatalf("ListOperations: %v", err)
			}
			if len(ops) != 0 {
				t.Errorf("store holds %d operations after a failed Submit, want 0", len(ops))
			}
		})
	}
}

func TestEngineClose(t *testing.T) {
	t.Parallel()
	t.Run("before start", func(t *testing.T) {
		t.Parallel()
		e := newEngine(t, storetest.OpenSQLite(t), operations.Config{}, func(context.Context, *operations.Run) error { return nil })
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("Close before Start = %v, want nil", err)
		}
	})
	t.Run("handler ignoring shutdown", func(t *testing.T) {
		t.Parallel()
		eachStore(t, true, func(t *testing.T, s store.Store) {
			started := make(chan struct{})
			release := make(chan struct{})
			e := newEngine(t, s, operations.Config{}, func(context.Context, *operations.Run) error {
				close(started)
				<-release
				return nil
			})
			e.Start(context.Background())
			op := submit(t, e, nil)
			await(t, started, "the handler to start")

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := e.Close(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Close with a handler still running and an ended context = %v, want context.Canceled", err)
			}
			close(release)
			closeEngine(t, e)
			// The operation is left to the next start with its lease freed, so the next
			// worker can claim it at once instead of waiting for the lease to run out.
			if got := getOperation(t, s, op.ID); got.Status != store.StatusInProgress {
				t.Errorf("status = %s, want InProgress", got.Status)
			}
			next, err := s.ClaimOperation(context.Background(), "replica-2", time.Now(), time.Minute)
			if err != nil {
				t.Fatalf("claim after Close: %v (the lease was not freed)", err)
			}
			if next.ID != op.ID {
				t.Errorf("claimed %s, want %s", next.ID, op.ID)
			}
		})
	})
}
