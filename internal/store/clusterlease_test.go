package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testClusterLeases: a lease goes to one holder, renewals keep its token, a lapsed or
// released lease goes to another holder with a greater token, and the old holder can
// neither renew nor release it any more.
func testClusterLeases(t *testing.T, open func() Store) {
	ctx := context.Background()
	a, b := open(), open()
	if _, _, err := a.AcquireClusterLease(ctx, "", "r1", time.Second); err == nil {
		t.Fatal("a lease without a cluster id was granted")
	}
	l, ok, err := a.AcquireClusterLease(ctx, "c1", "r1", time.Minute)
	if err != nil || !ok || l.Holder != "r1" || l.Token != 1 || l.Remaining <= 0 {
		t.Fatalf("first acquire = %+v, %v, %v", l, ok, err)
	}
	// Held by r1: r2 does not get it, and learns who holds it.
	l2, ok, err := b.AcquireClusterLease(ctx, "c1", "r2", time.Minute)
	if err != nil || ok || l2.Holder != "r1" || l2.Token != 1 {
		t.Fatalf("acquire of a held lease = %+v, %v, %v", l2, ok, err)
	}
	// Acquire and renew by the holder keep the token.
	if l, ok, err = a.AcquireClusterLease(ctx, "c1", "r1", time.Minute); err != nil || !ok || l.Token != 1 {
		t.Fatalf("re-acquire by the holder = %+v, %v, %v", l, ok, err)
	}
	if ok, err := a.RenewClusterLease(ctx, "c1", "r1", 1, 30*time.Millisecond); err != nil || !ok {
		t.Fatalf("renew = %v, %v", ok, err)
	}
	// Let it lapse: r2 takes over with token 2; r1 can no longer renew under token 1.
	time.Sleep(60 * time.Millisecond)
	if l2, ok, err = b.AcquireClusterLease(ctx, "c1", "r2", time.Minute); err != nil || !ok || l2.Holder != "r2" || l2.Token != 2 {
		t.Fatalf("takeover of a lapsed lease = %+v, %v, %v", l2, ok, err)
	}
	if ok, err := a.RenewClusterLease(ctx, "c1", "r1", 1, time.Minute); err != nil || ok {
		t.Fatalf("renew by the fenced holder = %v, %v; want false", ok, err)
	}
	// r1 releasing with its old token does nothing; r2 releasing frees it at once.
	if err := a.ReleaseClusterLease(ctx, "c1", "r1", 1); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.AcquireClusterLease(ctx, "c1", "r1", time.Minute); ok {
		t.Fatal("a release under an old token freed the lease")
	}
	if err := b.ReleaseClusterLease(ctx, "c1", "r2", 2); err != nil {
		t.Fatal(err)
	}
	if l, ok, err = a.AcquireClusterLease(ctx, "c1", "r1", time.Minute); err != nil || !ok || l.Token != 3 {
		t.Fatalf("acquire after a release = %+v, %v, %v; want token 3", l, ok, err)
	}
	list, err := b.ListClusterLeases(ctx)
	if err != nil || len(list) != 1 || list[0].Holder != "r1" || list[0].Token != 3 || list[0].Remaining <= 0 {
		t.Fatalf("ListClusterLeases = %+v, %v", list, err)
	}
	if err := b.DeleteClusterLease(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if list, _ := a.ListClusterLeases(ctx); len(list) != 0 {
		t.Fatalf("after delete: %+v", list)
	}
}

// testClusterLeaseRace: replicas racing for one free lease, through separate connections,
// end with exactly one holder, and a token that went up once.
func testClusterLeaseRace(t *testing.T, open func() Store) {
	ctx := context.Background()
	const racers = 8
	stores := make([]Store, racers)
	for i := range stores {
		stores[i] = open()
	}
	for round := range 3 {
		var wg sync.WaitGroup
		won := make(chan string, racers)
		for i, st := range stores {
			wg.Go(func() {
				holder := fmt.Sprintf("r%d", i)
				if _, ok, err := st.AcquireClusterLease(ctx, "race", holder, time.Minute); err != nil {
					t.Errorf("%s: %v", holder, err)
				} else if ok {
					won <- holder
				}
			})
		}
		wg.Wait()
		close(won)
		var winners []string
		for w := range won {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d holders %v, want 1", round, len(winners), winners)
		}
		list, err := stores[0].ListClusterLeases(ctx)
		if err != nil || len(list) != 1 || list[0].Token != int64(round+1) {
			t.Fatalf("round %d: leases %+v, %v; want token %d", round, list, err, round+1)
		}
		if err := stores[0].ReleaseClusterLease(ctx, "race", winners[0], list[0].Token); err != nil {
			t.Fatal(err)
		}
	}
}

// testSeizeClusterLease: a delete takes the lease from a live holder with a new token and
// learns how long that holder may still serve; the holder's renewals then fail. Seizing a
// missing or own lease means no wait.
func testSeizeClusterLease(t *testing.T, open func() Store) {
	ctx := context.Background()
	a, b := open(), open()
	if wait, err := b.SeizeClusterLease(ctx, "s0", "r2", time.Minute); err != nil || wait != 0 {
		t.Fatalf("seize of a cluster with no lease = %v, %v; want no wait", wait, err)
	}
	if _, ok, err := a.AcquireClusterLease(ctx, "s1", "r1", time.Minute); err != nil || !ok {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	wait, err := b.SeizeClusterLease(ctx, "s1", "r2", time.Minute)
	if err != nil || wait <= 50*time.Second || wait > time.Minute {
		t.Fatalf("seize of r1's lease = %v, %v; want about a minute", wait, err)
	}
	if ok, err := a.RenewClusterLease(ctx, "s1", "r1", 1, time.Minute); err != nil || ok {
		t.Fatalf("renewal by the previous holder = %v, %v; want lost", ok, err)
	}
	list, err := a.ListClusterLeases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.ClusterID == "s1" && (l.Holder != "r2" || l.Token != 2) {
			t.Fatalf("lease after seize = %+v, want r2 with token 2", l)
		}
	}
	if wait, err := b.SeizeClusterLease(ctx, "s1", "r2", time.Minute); err != nil || wait != 0 {
		t.Fatalf("seize of one's own lease = %v, %v; want no wait", wait, err)
	}
	if err := b.DeleteClusterLease(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
}
