package testutil

import (
	"sync"
	"testing"
)

// Race runs do(0) to do(n-1) at once, each in a goroutine of its own, and waits for them
// all: the racers of a concurrency test (replicas on their own connection pools, workers
// claiming the same rows). The test fails with every error they returned. do must not call
// t.Fatal (it runs outside the test's goroutine); it returns its error instead.
func Race(t testing.TB, n int, do func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = do(i) })
	}
	wg.Wait()
	failed := false
	for _, err := range errs {
		if err != nil {
			t.Error(err)
			failed = true
		}
	}
	if failed {
		t.FailNow()
	}
}
