// Package background has the two loops that mlfleet's background workers share: a call every
// interval, or also on a wake-up, until the worker's context ends (Every, EveryOrWake), and
// the wait of a Close or Stop for the worker to finish, bounded by the caller's context
// (Wait, WaitGroup).
package background

import (
	"context"
	"sync"
	"time"
)

// Every calls f every interval until ctx ends, the first time one interval after the call,
// for workers whose first run must wait (a worker that runs at once uses
// wait.UntilWithContext).
// A call that takes longer than the interval delays the next one; ticks missed meanwhile are
// dropped, not made up. It returns once ctx has ended and no call of f is running.
func Every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	EveryOrWake(ctx, interval, nil, f)
}

// EveryOrWake is Every that also calls f as soon as wake receives, for a worker that acts on
// events and looks again every interval besides. A wake-up does not move the next tick; a
// nil wake never receives.
func EveryOrWake(ctx context.Context, interval time.Duration, wake <-chan struct{}, f func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
		f(ctx)
	}
}

// Wait returns nil once done is closed, or ctx's error if ctx ends first.
func Wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitGroup returns nil once wg's count is zero, or ctx's error if ctx ends first (the
// goroutines of wg then still run).
func WaitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return Wait(ctx, done)
}
