package resources

import (
	"context"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// TestDefaultSubscriptionRace: two replicas starting together on an empty store (each its
// own connection pool) get the same default subscription. The first is held where it is
// about to create one, with the second started meanwhile: the second must not get that
// far before the first has committed. A later start gets the same subscription, even once
// others exist.
func TestDefaultSubscriptionRace(t *testing.T) {
	for name, fresh := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			open := fresh(t)
			service := func() *Service {
				st := open()
				return New(st, operations.New(st, operations.Config{}))
			}
			first, second := service(), service()

			secondDone := make(chan string, 1)
			reached := make(chan struct{}, 1)
			held := false
			defer failpoint.Hook("resources/default subscription/create/before", func(string) {
				if held {
					reached <- struct{}{}
					return
				}
				held = true
				go func() {
					sub, err := second.DefaultSubscription(ctx)
					if err != nil {
						t.Errorf("second replica: %v", err)
						secondDone <- ""
						return
					}
					secondDone <- sub.SubscriptionID
				}()
				// The second replica must wait for this one's commit. Were it let through,
				// it would reach this point at once; a bounded wait lets a correct store
				// go on (nothing asserts how long anything takes).
				select {
				case <-reached:
					t.Error("the second replica reached the create while the first held it")
				case <-time.After(2 * time.Second):
				}
			})()
			sub, err := first.DefaultSubscription(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := <-secondDone; got != sub.SubscriptionID {
				t.Fatalf("the second replica got subscription %q, the first %q", got, sub.SubscriptionID)
			}

			later := service()
			if _, err := later.EnsureSubscription(ctx, "00000000-0000-0000-0000-000000000000", "another", "t"); err != nil {
				t.Fatal(err)
			}
			if got, err := later.DefaultSubscription(ctx); err != nil || got.SubscriptionID != sub.SubscriptionID {
				t.Fatalf("a later start got %v, %v; want the default, %s", got, err, sub.SubscriptionID)
			}
		})
	}
}

// TestDefaultSubscriptionInterrupted: a start that fails before its create commits leaves
// no subscription, and the next start makes one.
func TestDefaultSubscriptionInterrupted(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	rs := New(st, operations.New(st, operations.Config{}))
	if err := failpoint.Arm("resources/default subscription/create/before=error"); err != nil {
		t.Fatal(err)
	}
	_, err := rs.DefaultSubscription(ctx)
	if err := failpoint.Arm(""); err != nil {
		t.Fatal(err)
	}
	if err == nil {
		t.Fatal("DefaultSubscription succeeded through the armed failpoint")
	}
	if rows, err := st.ListResources(ctx, store.ListOptions{Type: arm.TypeSubscription}); err != nil || len(rows) != 0 {
		t.Fatalf("after the failure: %d subscriptions, %v", len(rows), err)
	}
	if sub, err := rs.DefaultSubscription(ctx); err != nil || sub.SubscriptionID == "" {
		t.Fatalf("the next start: %v, %v", sub, err)
	}
}
