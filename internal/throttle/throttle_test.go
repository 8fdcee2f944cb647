package throttle

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

func newClock() *testutil.Clock {
	return testutil.NewClock(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
}

var admin = Key{Principal: "admin", Subscription: "sub1", Kind: Writes}

// TestBurstThenRecovery: a full bucket lets Burst requests through, refuses the next with
// the time until a token is back, and lets requests through again after that time.
func TestBurstThenRecovery(t *testing.T) {
	c := newClock()
	l := New(Config{Writes: Limit{PerHour: 3600, Burst: 5}}, WithClock(c.Now))
	for i := range 5 {
		d := l.Take(admin)
		if !d.Allowed || !d.Limited || d.Remaining != 4-i {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, d, 4-i)
		}
	}
	d := l.Take(admin)
	if d.Allowed || d.RetryAfter != time.Second || d.Remaining != 0 {
		t.Fatalf("request 6: %+v, want refused with RetryAfter 1s", d)
	}
	c.Advance(500 * time.Millisecond)
	if d := l.Take(admin); d.Allowed || d.RetryAfter != 500*time.Millisecond {
		t.Fatalf("half a second later: %+v, want refused with RetryAfter 500ms", d)
	}
	c.Advance(500 * time.Millisecond)
	if d := l.Take(admin); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after RetryAfter: %+v, want allowed", d)
	}
	// A long pause refills to the burst, not beyond.
	c.Advance(time.Hour)
	for i := range 5 {
		if d := l.Take(admin); !d.Allowed {
			t.Fatalf("after an hour, request %d refused: %+v", i+1, d)
		}
	}
	if d := l.Take(admin); d.Allowed {
		t.Fatalf("the bucket held more than its burst: %+v", d)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	c := newClock()
	l := New(Config{Reads: Limit{PerHour: 3600, Burst: 1}, Writes: Limit{PerHour: 3600, Burst: 1}}, WithClock(c.Now))
	if !l.Take(admin).Allowed || l.Take(admin).Allowed {
		t.Fatal("the first write should pass and the second be refused")
	}
	others := []Key{
		{Principal: "admin", Subscription: "sub1", Kind: Reads},
		{Principal: "admin", Subscription: "sub2", Kind: Writes},
		{Principal: "ci", Subscription: "sub1", Kind: Writes},
		{Principal: "admin", Subscription: "", Kind: Writes},
	}
	for _, k := range others {
		if d := l.Take(k); !d.Allowed {
			t.Errorf("%+v was refused because another key is empty: %+v", k, d)
		}
	}
}

func TestUnlimitedAndDefaults(t *testing.T) {
	l := New(Config{Writes: Limit{PerHour: 72000}})
	for range 10000 {
		if d := l.Take(Key{Principal: "p", Kind: Reads}); !d.Allowed || d.Limited {
			t.Fatalf("unlimited reads: %+v", d)
		}
	}
	if l.Len() != 0 {
		t.Errorf("unlimited kinds keep %d buckets", l.Len())
	}
	// Burst 0 means 100 seconds of refill: 72000/h → 2000.
	if d := l.Take(admin); !d.Allowed || d.Remaining != 1999 {
		t.Fatalf("default burst: %+v, want 1999 remaining", d)
	}
}

// TestBoundedMemory: full buckets are dropped by sweeps, a principal naming ever new
// subscriptions shares an overflow bucket, and the Limiter never holds more than
// MaxBuckets (plus its shared overflow buckets).
func TestBoundedMemory(t *testing.T) {
	c := newClock()
	l := New(Config{Writes: Limit{PerHour: 3600, Burst: 2}, MaxSubscriptions: 3, MaxBuckets: 10}, WithClock(c.Now))
	// One principal, many subscriptions: 3 buckets, then the overflow one, which fills up.
	allowed := 0
	for i := range 20 {
		if l.Take(Key{Principal: "sprayer", Subscription: fmt.Sprintf("s%d", i), Kind: Writes}).Allowed {
			allowed++
		}
	}
	if want := 3 + 2; allowed != want {
		t.Errorf("a principal spraying subscriptions got %d requests through, want %d (3 buckets + the overflow's burst)", allowed, want)
	}
	if n := l.Len(); n != 4 {
		t.Errorf("%d buckets, want 4", n)
	}
	// Many principals: never more than MaxBuckets + the shared overflow.
	for i := range 100 {
		l.Take(Key{Principal: fmt.Sprintf("p%d", i), Subscription: "s", Kind: Writes})
	}
	if n := l.Len(); n > 11 {
		t.Errorf("%d buckets, want at most MaxBuckets+1", n)
	}
	// Once every bucket has refilled, a sweep drops them all.
	c.Advance(time.Hour)
	l.Take(Key{Principal: "late", Subscription: "s", Kind: Writes})
	l.mu.Lock()
	l.sweep(c.Now())
	n, per := len(l.buckets), len(l.perPrincipal)
	l.mu.Unlock()
	if n != 1 || per != 1 {
		t.Errorf("after a sweep: %d buckets, %d principals counted; want only the late caller's", n, per)
	}
	// The sprayer has room again for its own subscriptions.
	if d := l.Take(Key{Principal: "sprayer", Subscription: "s0", Kind: Writes}); !d.Allowed || d.Remaining != 1 {
		t.Errorf("after the sweep the sprayer's own bucket: %+v", d)
	}
}

// TestConcurrent (run with -race): concurrent callers never get more than the burst.
func TestConcurrent(t *testing.T) {
	c := newClock()
	l := New(Config{Writes: Limit{PerHour: 3600, Burst: 100}, Reads: Limit{PerHour: 3600, Burst: 100}}, WithClock(c.Now))
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if l.Take(admin).Allowed {
					allowed.Add(1)
				}
				l.Take(Key{Principal: fmt.Sprintf("p%d", g), Subscription: fmt.Sprint(i), Kind: Reads})
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Fatalf("%d concurrent writes allowed, want exactly the burst of 100", n)
	}
}
