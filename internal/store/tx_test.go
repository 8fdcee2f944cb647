package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

func testDeleteIfVersion(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	r := mustCreate(t, s, resource(subID, rgType, "claim"))
	stale := *r
	r.Body = []byte(`{"taken":"by another"}`)
	if err := s.UpdateResource(ctx, r); err != nil {
		t.Fatal(err)
	}
	// A release that read version 1 must not delete what is now version 2.
	wantErr(t, "DeleteResource stale version", s.DeleteResource(ctx, stale.ID, stale.Version), ErrConflict)
	if _, err := s.GetResource(ctx, r.ID); err != nil {
		t.Fatalf("row after a refused conditional delete: %v", err)
	}
	if err := s.DeleteResource(ctx, r.ID, r.Version); err != nil {
		t.Fatalf("DeleteResource current version: %v", err)
	}
	wantErr(t, "DeleteResource missing with version", s.DeleteResource(ctx, r.ID, 1), ErrNotFound)
}

func testOwners(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	owner := mustCreate(t, s, resource(subID, rgType, "owner"))
	owned := resource("/providers/X/locations/westus", "X/locations/names", "owned")
	owned.OwnerID = "/SUBSCRIPTIONS/00000000-0000-0000-0000-00000000000a/resourceGroups/OWNER" // any case
	mustCreate(t, s, owned)
	orphan := resource("/providers/X/locations/westus", "X/locations/names", "orphan")
	orphan.OwnerID = subID + "/resourceGroups/gone"
	mustCreate(t, s, orphan)
	mustCreate(t, s, resource("/providers/X/locations/westus", "X/locations/names", "unowned"))

	got, err := s.GetResource(ctx, owned.ID)
	if err != nil || got.OwnerID != owned.OwnerID {
		t.Fatalf("GetResource owner = %q, %v; want %q", got.OwnerID, err, owned.OwnerID)
	}
	orphans, err := s.ListOrphans(ctx, 0)
	if err != nil || len(orphans) != 1 || orphans[0].ID != orphan.ID {
		t.Fatalf("ListOrphans = %v, %v; want only %s", ids(orphans), err, orphan.ID)
	}
	if err := s.DeleteResource(ctx, owner.ID, 0); err != nil {
		t.Fatal(err)
	}
	orphans, err = s.ListOrphans(ctx, 0)
	if err != nil || len(orphans) != 2 || orphans[0].ID != orphan.ID || orphans[1].ID != owned.ID {
		t.Fatalf("ListOrphans after the owner went = %v, %v; want %s, %s", ids(orphans), err, orphan.ID, owned.ID)
	}
	if orphans, err = s.ListOrphans(ctx, 1); err != nil || len(orphans) != 1 {
		t.Fatalf("ListOrphans(limit 1) = %v, %v", ids(orphans), err)
	}
}

func ids(rs []*Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func testTxCommit(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	rg := resource(subID, rgType, "tx")
	err := s.InTx(ctx, func(tx Store) error {
		if err := tx.CreateResource(ctx, rg); err != nil {
			return err
		}
		// Reads inside see the transaction's own writes.
		if _, err := tx.GetResource(ctx, rg.ID); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		// A nested InTx joins the transaction.
		return tx.InTx(ctx, func(inner Store) error {
			return inner.CreateOperation(ctx, operation("tx-op", rg.ID, ms))
		})
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if _, err := s.GetResource(ctx, rg.ID); err != nil {
		t.Fatalf("resource after commit: %v", err)
	}
	mustGetOp(t, s, "tx-op")
}

func testTxRollback(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	existing := mustCreate(t, s, resource(subID, rgType, "existing"))
	boom := errors.New("boom")
	for _, tt := range []struct {
		name string
		last func(tx Store) error
		want error
	}{
		{"function error", func(Store) error { return boom }, boom},
		// A unique violation inside the transaction aborts it on PostgreSQL; every earlier
		// write must go with it on both dialects.
		{"conflict", func(tx Store) error { return tx.CreateResource(ctx, resource(subID, rgType, "EXISTING")) }, ErrConflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "rolled-back-" + tt.name[:4]
			err := s.InTx(ctx, func(tx Store) error {
				if err := tx.CreateResource(ctx, resource(subID, rgType, name)); err != nil {
					return err
				}
				cur, err := tx.GetResource(ctx, existing.ID)
				if err != nil {
					return err
				}
				cur.Body = []byte(`{"changed":true}`)
				if err := tx.UpdateResource(ctx, cur); err != nil {
					return err
				}
				if err := tx.CreateOperation(ctx, operation("op-"+name, subID, ms)); err != nil {
					return err
				}
				return tt.last(tx)
			})
			wantErr(t, "InTx", err, tt.want)
			_, err = s.GetResource(ctx, subID+"/resourceGroups/"+name)
			wantErr(t, "created row after rollback", err, ErrNotFound)
			_, err = s.GetOperation(ctx, "op-"+name)
			wantErr(t, "operation after rollback", err, ErrNotFound)
			cur, err := s.GetResource(ctx, existing.ID)
			if err != nil || cur.Version != 1 || string(cur.Body) != string(existing.Body) {
				t.Fatalf("updated row after rollback: version %d body %s, %v", cur.Version, cur.Body, err)
			}
		})
	}
}

// testTxConcurrent runs read-modify-write transactions on one counter from two pools at
// once: with the version check, no increment is lost, and InTx itself retries what the
// database aborts.
func testTxConcurrent(t *testing.T, open func() Store) {
	const writers, each = 6, 10
	stores := []Store{open(), open()}
	ctx := context.Background()
	counter := mustCreate(t, stores[0], resource(subID, rgType, "counter"))
	var conflicts atomic.Int64
	testutil.Race(t, writers, func(w int) error {
		s := stores[w%2]
		for i := 0; i < each; {
			err := s.InTx(ctx, func(tx Store) error {
				cur, err := tx.GetResource(ctx, counter.ID)
				if err != nil {
					return err
				}
				cur.Body = fmt.Appendf(nil, `{"n":%d}`, cur.Version)
				if err := tx.UpdateResource(ctx, cur); err != nil {
					return err
				}
				return tx.CreateResource(ctx, resource(subID, rgType, fmt.Sprintf("c-%d-%d", w, i)))
			})
			switch {
			case err == nil:
				i++
			case errors.Is(err, ErrConflict):
				conflicts.Add(1) // a concurrent update won; the whole transaction is retried
			default:
				return err
			}
		}
		return nil
	})
	cur, err := stores[1].GetResource(ctx, counter.ID)
	if err != nil || cur.Version != 1+writers*each {
		t.Fatalf("counter version %d, %v; want %d (no lost update)", cur.Version, err, 1+writers*each)
	}
	all, err := stores[0].ListResources(ctx, ListOptions{ParentID: subID})
	if err != nil || len(all) != 1+writers*each {
		t.Fatalf("%d rows, %v; want %d (each transaction's insert exactly once)", len(all), err, 1+writers*each)
	}
	t.Logf("%d transactions lost a version race and ran again", conflicts.Load())
}

// testTxClaimsRace has many transactions claim one name and write a row for it: exactly
// one wins, and no loser leaves its other row behind.
func testTxClaimsRace(t *testing.T, open func() Store) {
	const racers = 12
	stores := []Store{open(), open()}
	ctx := context.Background()
	var wins atomic.Int64
	testutil.Race(t, racers, func(i int) error {
		err := stores[i%2].InTx(ctx, func(tx Store) error {
			if err := tx.CreateResource(ctx, resource(subID, rgType, fmt.Sprintf("mine-%d", i))); err != nil {
				return err
			}
			return tx.CreateResource(ctx, resource(subID, rgType, "the-name"))
		})
		switch {
		case err == nil:
			wins.Add(1)
		case !errors.Is(err, ErrConflict):
			return err
		}
		return nil
	})
	all, err := stores[0].ListResources(ctx, ListOptions{ParentID: subID})
	if wins.Load() != 1 || err != nil || len(all) != 2 {
		t.Fatalf("%d winners, %d rows (%v); want 1 winner and its 2 rows", wins.Load(), len(all), err)
	}
}

// testDatabaseClockLeases claims with the database's clock (now zero): the lease runs from
// the database's now, whatever this process's clock says.
func testDatabaseClockLeases(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreateOp(t, s, operation("clock", subID, ms))
	before := time.Now().Add(-2 * time.Second)
	op, err := s.ClaimOperation(ctx, "w", time.Time{}, time.Minute)
	if err != nil {
		t.Fatalf("ClaimOperation with the database clock: %v", err)
	}
	after := time.Now().Add(2 * time.Second)
	if op.LeaseExpiresAt.Before(before.Add(time.Minute)) || op.LeaseExpiresAt.After(after.Add(time.Minute)) {
		t.Fatalf("lease expires %v; want about now+1m (%v..%v)", op.LeaseExpiresAt, before.Add(time.Minute), after.Add(time.Minute))
	}
	// Held by the database's clock: nobody else may claim it.
	_, err = s.ClaimOperation(ctx, "other", time.Time{}, time.Minute)
	wantErr(t, "ClaimOperation while leased", err, ErrNotFound)
	if err := s.ExtendLease(ctx, op.ID, "w", time.Hour); err != nil {
		t.Fatalf("ExtendLease: %v", err)
	}
	if got := mustGetOp(t, s, op.ID); got.LeaseExpiresAt.Before(before.Add(time.Hour)) {
		t.Fatalf("extended lease expires %v; want about now+1h", got.LeaseExpiresAt)
	}
	wantErr(t, "ExtendLease by other", s.ExtendLease(ctx, op.ID, "other", time.Hour), ErrConflict)
	wantErr(t, "ExtendLease missing", s.ExtendLease(ctx, "missing", "w", time.Hour), ErrNotFound)
	// Unclaim gives the claim back without counting it.
	if err := s.Unclaim(ctx, op.ID, "w"); err != nil {
		t.Fatalf("Unclaim: %v", err)
	}
	if got := mustGetOp(t, s, op.ID); got.Attempts != 0 || got.LeaseOwner != "" {
		t.Fatalf("after Unclaim: attempts %d, owner %q; want 0 and none", got.Attempts, got.LeaseOwner)
	}
	wantErr(t, "Unclaim unheld", s.Unclaim(ctx, op.ID, "w"), ErrConflict)
	if op, err = s.ClaimOperation(ctx, "w", time.Time{}, time.Minute); err != nil || op.Attempts != 1 {
		t.Fatalf("ClaimOperation after Unclaim: %v, %v", op, err)
	}
	// ttl 0 frees it: claimable at once, by the database's clock.
	if err := s.ExtendLease(ctx, op.ID, "w", 0); err != nil {
		t.Fatalf("ExtendLease(0): %v", err)
	}
	if _, err := s.ClaimOperation(ctx, "other", time.Time{}, time.Minute); err != nil {
		t.Fatalf("ClaimOperation after the lease was freed: %v", err)
	}
}

// testTxLockCount has 20 transactions each count the rows under a parent and add one only
// while there are fewer than 5, as a quota check does: with Lock, exactly 5 are added. A
// pause between the count and the insert gives every transaction time to count before the
// others commit, which without the lock would let read committed (PostgreSQL) overshoot.
func testTxLockCount(t *testing.T, open func() Store) {
	const racers, limit = 20, 5
	stores := []Store{open(), open()}
	ctx := context.Background()
	parent := subID + "/resourceGroups/counted"
	errFull := errors.New("full")
	var added, refused atomic.Int64
	testutil.Race(t, racers, func(i int) error {
		err := stores[i%2].InTx(ctx, func(tx Store) error {
			if err := tx.Lock(ctx, "quota/"+parent); err != nil {
				return err
			}
			if err := tx.Lock(ctx, "quota/"+parent); err != nil {
				return fmt.Errorf("lock taken again: %w", err)
			}
			rows, err := tx.ListResources(ctx, ListOptions{ParentID: parent})
			if err != nil {
				return err
			}
			if len(rows) >= limit {
				return errFull
			}
			time.Sleep(5 * time.Millisecond)
			return tx.CreateResource(ctx, resource(parent, wsType, fmt.Sprintf("ws-%d", i)))
		})
		switch {
		case err == nil:
			added.Add(1)
		case errors.Is(err, errFull):
			refused.Add(1)
		default:
			return err
		}
		return nil
	})
	rows, err := stores[0].ListResources(ctx, ListOptions{ParentID: parent})
	if added.Load() != limit || refused.Load() != racers-limit || err != nil || len(rows) != limit {
		t.Fatalf("%d added, %d refused, %d rows (%v); want %d, %d, %d", added.Load(), refused.Load(), len(rows), err, limit, racers-limit, limit)
	}
	// Outside a transaction there is nothing to hold the lock for.
	if err := stores[0].Lock(ctx, "quota/"+parent); err == nil {
		t.Fatal("Lock outside a transaction succeeded")
	}
}
