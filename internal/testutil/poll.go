package testutil

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// PollInterval is how often WaitFor and Holds look at their condition.
const PollInterval = 100 * time.Millisecond

// WaitFor polls cond, first at once and then every PollInterval, until it returns true; the
// test fails after timeout with the last state cond described.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if state, ok := Poll(t.Context(), timeout, cond); !ok {
		t.Fatalf("%s: not after %v; last: %s", what, timeout, state)
	}
}

// Eventually is WaitFor for a condition that says with an error why it does not hold yet:
// it polls f until f returns nil; the test fails after timeout with f's last error.
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	WaitFor(t, timeout, what, func() (bool, string) {
		if err := f(); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// Holds checks that cond stays true for window, looking every PollInterval; the test fails
// as soon as it is false, with the state cond described. It is the bounded form of "it
// stays so".
func Holds(t testing.TB, window time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	broken, state := false, ""
	_ = wait.PollUntilContextTimeout(t.Context(), PollInterval, window, true, func(context.Context) (bool, error) {
		ok, s := cond()
		broken, state = !ok, s
		return broken, nil
	})
	if broken {
		t.Fatalf("%s: no longer so within %v: %s", what, window, state)
	}
}

// Poll polls cond, first at once and then every PollInterval, until it returns true or
// timeout passes or ctx ends. It returns the last state cond described and whether cond
// returned true. It is for callers that report a timeout in their own way.
func Poll(ctx context.Context, timeout time.Duration, cond func() (bool, string)) (string, bool) {
	return PollEvery(ctx, PollInterval, timeout, cond)
}

// PollEvery is Poll looking every interval: for conditions that are costly to look at.
func PollEvery(ctx context.Context, interval, timeout time.Duration, cond func() (bool, string)) (string, bool) {
	var state string
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(context.Context) (bool, error) {
		ok, s := cond()
		state = s
		return ok, nil
	})
	return state, err == nil
}
