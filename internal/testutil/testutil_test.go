package testutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	t.Run("true at once", func(t *testing.T) {
		looks := 0
		if _, ok := Poll(t.Context(), time.Minute, func() (bool, string) { looks++; return true, "" }); !ok || looks != 1 {
			t.Errorf("ok %v after %d looks, want true after 1", ok, looks)
		}
	})
	t.Run("true on the third look", func(t *testing.T) {
		looks := 0
		state, ok := Poll(t.Context(), time.Minute, func() (bool, string) { looks++; return looks == 3, "looked" })
		if !ok || looks != 3 || state != "looked" {
			t.Errorf("ok %v, state %q after %d looks, want true, looked after 3", ok, state, looks)
		}
	})
	t.Run("never true", func(t *testing.T) {
		state, ok := Poll(t.Context(), 3*PollInterval, func() (bool, string) { return false, "still false" })
		if ok || state != "still false" {
			t.Errorf("ok %v, state %q; want false with the last state", ok, state)
		}
	})
	t.Run("context ended", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, ok := Poll(ctx, time.Minute, func() (bool, string) { return false, "" }); ok {
			t.Error("ok after the context ended")
		}
	})
}

func TestEventuallyUntilNil(t *testing.T) {
	looks := 0
	Eventually(t, time.Minute, "the third look", func() error {
		if looks++; looks < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if looks != 3 {
		t.Errorf("%d looks, want 3", looks)
	}
}

func TestHoldsLooksOverTheWindow(t *testing.T) {
	looks := 0
	Holds(t, 3*PollInterval, "always so", func() (bool, string) { looks++; return true, "" })
	if looks < 2 {
		t.Errorf("%d looks over three poll intervals, want several", looks)
	}
}

// counter is a Stopper that counts its stops.
type counter struct{ stops int }

func (c *counter) Stop(context.Context) error {
	c.stops++
	return nil
}

func TestShared(t *testing.T) {
	var c counter
	starts := 0
	s := NewShared("counter", func(context.Context) (*counter, error) { starts++; return &c, nil })
	if err := s.Stop(t.Context()); err != nil || c.stops != 0 {
		t.Fatalf("Stop before any Get = %v with %d stops, want nil and none", err, c.stops)
	}
	first, second := s.Get(t), s.Get(t)
	if first != &c || second != &c || starts != 1 {
		t.Errorf("two Gets started %d times, want once", starts)
	}
	if err := s.Stop(t.Context()); err != nil || c.stops != 1 {
		t.Errorf("Stop = %v with %d stops, want nil and one", err, c.stops)
	}
}

func TestStartStopsWhenTheTestEnds(t *testing.T) {
	var c counter
	t.Run("user", func(t *testing.T) {
		if got := Start(t, "counter", func(context.Context) (*counter, error) { return &c, nil }); got != &c {
			t.Fatalf("Start returned %p, want %p", got, &c)
		}
		if c.stops != 0 {
			t.Error("stopped before the test ended")
		}
	})
	if c.stops != 1 {
		t.Errorf("%d stops after the test ended, want 1", c.stops)
	}
}

func TestRaceRunsAtOnce(t *testing.T) {
	const n = 4
	var arrived atomic.Int32
	all := make(chan struct{})
	Race(t, n, func(int) error {
		if arrived.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
			return nil
		case <-time.After(time.Minute):
			return errors.New("the racers did not all run at once")
		}
	})
}

// failures is a testing.TB that keeps what Race and WantErr report instead of failing.
type failures struct {
	testing.TB
	errors []string
	failed bool
}

func (f *failures) Helper()           {}
func (f *failures) Error(args ...any) { f.errors = append(f.errors, fmt.Sprint(args...)) }
func (f *failures) FailNow()          { f.failed = true }
func (f *failures) Fatalf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
	f.failed = true
}

func TestRaceReportsEveryError(t *testing.T) {
	var f failures
	Race(&f, 4, func(i int) error {
		if i%2 == 1 {
			return fmt.Errorf("racer %d", i)
		}
		return nil
	})
	if want := []string{"racer 1", "racer 3"}; !slices.Equal(f.errors, want) || !f.failed {
		t.Errorf("errors %q, failed %v; want %q and failed", f.errors, f.failed, want)
	}
	f = failures{}
	Race(&f, 3, func(int) error { return nil })
	if len(f.errors) != 0 || f.failed {
		t.Errorf("no errors: reported %q, failed %v", f.errors, f.failed)
	}
}

func TestWantErr(t *testing.T) {
	for _, tc := range []struct {
		name         string
		err          error
		want         string
		wanted, fail bool
	}{
		{name: "no error wanted, none", wanted: false},
		{name: "no error wanted, one", err: errors.New("boom"), fail: true},
		{name: "error wanted, it", err: errors.New("--min-count must be 1 or more"), want: "must be 1", wanted: true},
		{name: "error wanted, another", err: errors.New("boom"), want: "must be 1", wanted: true, fail: true},
		{name: "error wanted, none", want: "must be 1", wanted: true, fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f failures
			if wanted := WantErr(&f, tc.err, tc.want); wanted != tc.wanted || f.failed != tc.fail {
				t.Errorf("WantErr = %v, failed %v (%q); want %v, failed %v", wanted, f.failed, f.errors, tc.wanted, tc.fail)
			}
		})
	}
}

func TestProcessAlive(t *testing.T) {
	if !ProcessAlive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	if ProcessAlive(-1) {
		t.Error("pid -1 is alive")
	}
}

func TestField(t *testing.T) {
	var v any
	if err := json.Unmarshal([]byte(`{"a": {"b": {"c": 1}, "list": [1]}, "s": "x"}`), &v); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{"a.b.c": 1.0, "s": "x", "a.missing": nil, "s.under.a.string": nil, "a.list.0": nil} {
		if got := Field(v, path); got != want {
			t.Errorf("Field(%q) = %v, want %v", path, got, want)
		}
	}
}
