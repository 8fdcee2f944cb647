package background

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestEvery: f runs on every tick, or with EveryOrWake on every wake-up long before the
// first tick, until the third call ends the context.
func TestEvery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		loop func(ctx context.Context, wake <-chan struct{}, f func(context.Context))
		// wakes is how many wake-ups the test sends.
		wakes int
	}{
		{"Every", func(ctx context.Context, _ <-chan struct{}, f func(context.Context)) {
			Every(ctx, time.Millisecond, f)
		}, 0},
		{"EveryOrWake", func(ctx context.Context, wake <-chan struct{}, f func(context.Context)) {
			EveryOrWake(ctx, time.Hour, wake, f)
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			wake := make(chan struct{})
			calls := 0
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				tt.loop(ctx, wake, func(context.Context) {
					calls++
					if calls == 3 {
						cancel()
					}
				})
			}()
			for range tt.wakes {
				wake <- struct{}{}
			}
			<-returned
			if calls != 3 {
				t.Errorf("%s called f %d times after the third cancelled its context; want 3", tt.name, calls)
			}
		})
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
