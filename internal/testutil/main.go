package testutil

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// Timeouts of the starts and stops of shared and per-test things.
const (
	StartTimeout = 2 * time.Minute
	StopTimeout  = time.Minute
)

// Main is the body of a TestMain. Unless the environment variable logEnv is set, it discards
// what kube-apiserver and other upstream code log through klog's global logger. It makes a
// temporary root directory named after prefix, calls setup with it (within a minute), runs
// the tests, calls the teardown setup returned and removes the root. It returns the exit
// code: 1 when setup or teardown fails.
func Main(m *testing.M, prefix, logEnv string, setup func(ctx context.Context, root string) (teardown func(context.Context) error, err error)) int {
	if os.Getenv(logEnv) == "" {
		klog.SetLogger(logr.Discard())
	}
	root, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(root)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teardown, err := setup(ctx, root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	code := m.Run()

	stopCtx, stopCancel := context.WithTimeout(context.Background(), StopTimeout)
	defer stopCancel()
	if err := teardown(stopCtx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// Stopper is a thing tests start and stop: a server, a cluster.
type Stopper interface {
	Stop(ctx context.Context) error
}

// Shared is a thing the tests of a binary share: started by the first test that asks for it,
// stopped once after all tests.
type Shared[T Stopper] struct {
	what  string
	start func(context.Context) (T, error)

	once    sync.Once
	v       T
	err     error
	started bool
}

// NewShared returns a shared thing, called what in errors, that start starts. start cleans
// up after itself when it fails.
func NewShared[T Stopper](what string, start func(context.Context) (T, error)) *Shared[T] {
	return &Shared[T]{what: what, start: start}
}

// Get returns the shared thing, starting it on first use; the test fails when it could not
// start, now or on first use.
func (s *Shared[T]) Get(t testing.TB) T {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
		defer cancel()
		s.v, s.err = s.start(ctx)
		s.started = s.err == nil
	})
	if s.err != nil {
		t.Fatalf("start %s: %v", s.what, s.err)
	}
	return s.v
}

// Stop stops the shared thing if a test started it. It is for the teardown of Main, after
// all tests.
func (s *Shared[T]) Stop(ctx context.Context) error {
	if !s.started {
		return nil
	}
	if err := s.v.Stop(ctx); err != nil {
		return fmt.Errorf("stop %s: %w", s.what, err)
	}
	return nil
}

// Start starts a thing, called what in errors, for one test and stops it when the test
// and its subtests end; the test fails when either fails.
func Start[T Stopper](t testing.TB, what string, start func(context.Context) (T, error)) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	v, err := start(ctx)
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
		defer cancel()
		if err := v.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", what, err)
		}
	})
	return v
}

// MiB formats a number of bytes in mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
