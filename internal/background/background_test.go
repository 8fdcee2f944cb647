package background

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		Every(ctx, time.Millisecond, func(context.Context) {
			calls++
			if calls == 3 {
				cancel()
			}
		})
	}()
	<-returned
	if calls != 3 {
		t.Errorf("Every called f %d times after the third cancelled its context; want 3", calls)
	}
}

func TestEveryOrWake(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	wake := make(chan struct{})
	calls := 0
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		EveryOrWake(ctx, time.Hour, wake, func(context.Context) {
			calls++
			if calls == 3 {
				cancel()
			}
		})
	}()
	for range 3 {
		wake <- struct{}{}
	}
	<-returned
	if calls != 3 {
		t.Errorf("EveryOrWake called f %d times after three wake-ups within its first hour; want 3", calls)
	}
}

func TestEveryEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	Every(ctx, time.Millisecond, func(context.Context) { t.Error("Every called f with its context ended") })
}

func TestWait(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	close(done)
	if err := Wait(t.Context(), done); err != nil {
		t.Errorf("Wait on a closed channel = %v; want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Wait(ctx, make(chan struct{})); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with an ended context = %v; want context.Canceled", err)
	}
}

func TestWaitGroup(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Go(func() { <-release })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := WaitGroup(ctx, &wg); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitGroup with a goroutine running and an ended context = %v; want context.Canceled", err)
	}
	close(release)
	if err := WaitGroup(t.Context(), &wg); err != nil {
		t.Errorf("WaitGroup once the goroutine returned = %v; want nil", err)
	}
}
