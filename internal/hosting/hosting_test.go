package hosting

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// databases returns openers of connections to one fresh database: SQLite, and PostgreSQL too when
// MLFLEET_TEST_POSTGRES is set.
func databases(t *testing.T) map[string]func() store.Store {
	out := map[string]func() store.Store{}
	dir := t.TempDir()
	out["sqlite"] = func() store.Store { return storetest.Open(t, filepath.Join(dir, "db.sqlite")) }
	if dsn := os.Getenv("MLFLEET_TEST_POSTGRES"); dsn != "" {
		schema, drop, err := storetest.PostgresSchema(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(drop)
		out["postgres"] = func() store.Store { return storetest.Open(t, schema) }
	}
	return out
}

// flaky is a store whose lease renewals fail while down is set, as when the database is
// unreachable or the process is paused.
type flaky struct {
	store.Store
	down atomic.Bool
}

func (f *flaky) RenewClusterLease(ctx context.Context, id, holder string, token int64, ttl time.Duration) (bool, error) {
	if f.down.Load() {
		return false, errors.New("database unreachable")
	}
	return f.Store.RenewClusterLease(ctx, id, holder, token, ttl)
}

// lostLog records OnLost calls.
type lostLog struct {
	mu  sync.Mutex
	ids []string
}

func (l *lostLog) add(id string) { l.mu.Lock(); l.ids = append(l.ids, id); l.mu.Unlock() }
func (l *lostLog) count() int    { l.mu.Lock(); defer l.mu.Unlock(); return len(l.ids) }

func TestKeeper(t *testing.T) {
	for name, openDB := range databases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			const ttl = time.Second
			s1 := &flaky{Store: openDB()}
			var lost1, lost2 lostLog
			k1 := New(Config{Store: s1, ID: "r1", TTL: ttl, OnLost: lost1.add})
			k2 := New(Config{Store: openDB(), ID: "r2", TTL: ttl, OnLost: lost2.add})
			defer k1.Close(ctx)
			defer k2.Close(ctx)

			l, holder, err := k1.Acquire(ctx, "c1")
			if err != nil || holder != "r1" || l.Token != 1 {
				t.Fatalf("r1 acquire = %+v, %s, %v", l, holder, err)
			}
			// r1 renews: for several lease lifetimes r2 cannot take the cluster.
			for range 10 {
				if _, holder, err := k2.Acquire(ctx, "c1"); !errors.Is(err, ErrHeldElsewhere) || holder != "r1" {
					t.Fatalf("r2 acquire of a renewed lease = %s, %v", holder, err)
				}
				time.Sleep(ttl / 4)
			}
			if lost1.count() != 0 {
				t.Fatal("r1 lost a lease it renewed")
			}

			// r1's renewals fail: r1 fences itself before r2 can be granted the lease.
			s1.down.Store(true)
			var l2 Lease
			for {
				if l2, _, err = k2.Acquire(ctx, "c1"); err == nil {
					break
				}
				if !errors.Is(err, ErrHeldElsewhere) {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if lost1.count() != 1 {
				t.Fatalf("r2 got the lease while r1 had not stopped the cluster (OnLost calls: %d)", lost1.count())
			}
			if l2.Token != 2 {
				t.Fatalf("token after the takeover = %d, want 2", l2.Token)
			}
			if got := k1.Held(); len(got) != 0 {
				t.Fatalf("r1 still holds %v", got)
			}
			// r1's database comes back: r1 cannot renew under its old token, and r2 keeps it.
			s1.down.Store(false)
			if ok, err := s1.RenewClusterLease(ctx, "c1", "r1", 1, ttl); err != nil || ok {
				t.Fatalf("renew by the fenced replica = %v, %v", ok, err)
			}
			time.Sleep(2 * ttl)
			if lost2.count() != 0 || len(k2.Held()) != 1 {
				t.Fatalf("r2 lost the lease: OnLost %d, held %v", lost2.count(), k2.Held())
			}

			// A release hands the cluster over at once, with a new token.
			if err := k2.Release(ctx, "c1"); err != nil {
				t.Fatal(err)
			}
			if l, _, err := k1.Acquire(ctx, "c1"); err != nil || l.Token != 3 {
				t.Fatalf("acquire after release = %+v, %v", l, err)
			}
		})
	}
}

// TestKeeperConcurrentAcquire: replicas racing for new clusters each get one holder.
func TestKeeperConcurrentAcquire(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "db.sqlite")
	keepers := make([]*Keeper, 4)
	for i := range keepers {
		keepers[i] = New(Config{Store: storetest.Open(t, dsn), ID: string(rune('a' + i)), TTL: time.Minute})
		defer keepers[i].Close(ctx)
	}
	for _, c := range []string{"c1", "c2", "c3"} {
		var wg sync.WaitGroup
		var winners atomic.Int32
		for _, k := range keepers {
			wg.Go(func() {
				for range 2 { // twice from each: the second is the holder's no-op
					if _, _, err := k.Acquire(ctx, c); err == nil {
						winners.Add(1)
					} else if !errors.Is(err, ErrHeldElsewhere) {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if winners.Load() != 2 {
			t.Fatalf("%s: %d successful acquires, want 2 (one holder, twice)", c, winners.Load())
		}
	}
}

func TestPickHost(t *testing.T) {
	replicas := []*store.Replica{{ID: "a"}, {ID: "b"}, {ID: "c", Silence: time.Minute}}
	leases := []*store.ClusterLease{
		{Holder: "a", Remaining: time.Second}, {Holder: "a", Remaining: time.Second},
		{Holder: "b", Remaining: time.Second}, {Holder: "b", Remaining: -time.Second},
	}
	if got := PickHost(replicas, leases, 15*time.Second); got != "b" {
		t.Errorf("PickHost = %q, want b (1 live lease; c is silent)", got)
	}
	leases = append(leases, &store.ClusterLease{Holder: "b", Remaining: time.Second})
	if got := PickHost(replicas, leases, 15*time.Second); got != "a" {
		t.Errorf("PickHost on a tie = %q, want a", got)
	}
	if got := PickHost(replicas[2:], nil, 15*time.Second); got != "" {
		t.Errorf("PickHost with no live replica = %q", got)
	}
}

// TestPlaceSpreadsConcurrentCreates: three replicas place three new clusters at the same
// time; each replica gets one (placements are serialised and reserve the lease), and a
// cluster placed before is not placed again.
func TestPlaceSpreadsConcurrentCreates(t *testing.T) {
	for name, opener := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := opener()
			for _, id := range []string{"r1", "r2", "r3"} {
				if err := st.HeartbeatReplica(ctx, &store.Replica{ID: id, Address: "127.0.0.1:1", StartedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			keepers := []*Keeper{
				New(Config{Store: opener(), ID: "r1"}), New(Config{Store: opener(), ID: "r2"}), New(Config{Store: opener(), ID: "r3"}),
			}
			chosen := make([]string, 3)
			errs := make([]error, 3)
			var wg sync.WaitGroup
			for i, k := range keepers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					chosen[i], errs[i] = k.Place(ctx, fmt.Sprintf("new-%d", i))
				}()
			}
			wg.Wait()
			count := map[string]int{}
			for i := range chosen {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				count[chosen[i]]++
			}
			if len(count) != 3 {
				t.Errorf("three clusters placed at once went to %v; want one per replica", chosen)
			}
			if again, err := keepers[0].Place(ctx, "new-0"); err != nil || again != "" {
				t.Errorf("placing a placed cluster again = %q, %v; want none", again, err)
			}
		})
	}
}
