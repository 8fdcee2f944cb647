package resources

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// runningService returns a resource service over a real SQLite store with subscription
// sub and its operation engine running; configure sets its hooks before the engine starts.
func runningService(t *testing.T, sub string, configure func(st store.Store, rs *Service)) (store.Store, *Service) {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	engine := operations.New(st, operations.Config{})
	rs := New(st, engine)
	configure(st, rs)
	engine.Start(ctx)
	t.Cleanup(func() { _ = engine.Close(ctx) })
	if _, err := rs.EnsureSubscription(ctx, sub, "test", "tenant"); err != nil {
		t.Fatal(err)
	}
	return st, rs
}

// deleteGroup deletes resource group name and returns its operation once it has ended.
func deleteGroup(t *testing.T, st store.Store, rs *Service, sub, name string) *store.Operation {
	t.Helper()
	ctx := context.Background()
	op, err := rs.DeleteGroup(ctx, sub, name)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the delete of "+name, func() (bool, string) {
		op, err = st.GetOperation(ctx, op.ID)
		if err != nil {
			return false, err.Error()
		}
		return op.Status != store.StatusInProgress, op.Status
	})
	return op
}

// putGroup creates resource group name of subscription sub.
func putGroup(t *testing.T, rs *Service, sub, name string) {
	t.Helper()
	if _, _, err := rs.PutGroup(context.Background(), sub, name, armapi.GroupInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteGroupTellsWhenAccessChanged: a group's delete takes the role assignments at
// and below it, and then calls OnAccessChanged's function (the authenticator's Forget), so
// that a cached token keeps no role that went with the group; a delete that took none does
// not call it.
func TestDeleteGroupTellsWhenAccessChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub = "0c000000-0000-4000-8000-000000000001"
	var changed atomic.Int32
	st, rs := runningService(t, sub, func(_ store.Store, rs *Service) { rs.OnAccessChanged(func() { changed.Add(1) }) })

	putGroup(t, rs, sub, "plain")
	if op := deleteGroup(t, st, rs, sub, "plain"); op.Status != store.StatusSucceeded {
		t.Fatalf("delete: %s %s", op.Status, op.Error)
	}
	if n := changed.Load(); n != 0 {
		t.Errorf("a delete without role assignments called it %d times", n)
	}
	putGroup(t, rs, sub, "granted")
	ra := &store.RoleAssignment{Name: "0c000000-0000-4000-8000-0000000000a1", Scope: "/subscriptions/" + sub + "/resourceGroups/granted", PrincipalID: "p1", Role: "Reader"}
	if err := st.CreateRoleAssignment(ctx, ra); err != nil {
		t.Fatal(err)
	}
	if op := deleteGroup(t, st, rs, sub, "granted"); op.Status != store.StatusSucceeded {
		t.Fatalf("delete: %s %s", op.Status, op.Error)
	}
	if n := changed.Load(); n != 1 {
		t.Errorf("a delete that took a role assignment called it %d times, want 1", n)
	}
	if left, err := st.ListRoleAssignments(ctx, store.RoleAssignmentFilter{}); err != nil || len(left) != 0 {
		t.Errorf("role assignments left: %v, %v", left, err)
	}
}

// TestDeleteGroupTakesWhatIsCreatedMeanwhile: a resource created under a group after its
// delete listed what to delete (by a request or an operation that checked the group just
// before it was marked Deleting) is deleted too; the group goes last, and nothing is left
// without its parent.
func TestDeleteGroupTakesWhatIsCreatedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub = "0c000000-0000-4000-8000-000000000002"
	group := "/subscriptions/" + sub + "/resourceGroups/busy"
	const thing = "Microsoft.Test/things"
	row := func(name string) *store.Resource {
		return &store.Resource{ID: group + "/providers/" + thing + "/" + name, ParentID: group, Type: thing, Name: name,
			SubscriptionID: sub, ResourceGroup: "busy", Body: []byte(`{}`)}
	}
	// Deleting the first thing "races" a create of another under the group.
	var created atomic.Bool
	st, rs := runningService(t, sub, func(st store.Store, rs *Service) {
		rs.RegisterDeleter(thing, func(ctx context.Context, _ *operations.Run, r *store.Resource) error {
			if created.CompareAndSwap(false, true) {
				if err := st.CreateResource(ctx, row("late")); err != nil {
					return err
				}
			}
			return st.DeleteResource(ctx, r.ID, 0)
		})
	})
	putGroup(t, rs, sub, "busy")
	if err := st.CreateResource(ctx, row("early")); err != nil {
		t.Fatal(err)
	}
	if op := deleteGroup(t, st, rs, sub, "busy"); op.Status != store.StatusSucceeded {
		t.Fatalf("delete: %s %s", op.Status, op.Error)
	}
	if !created.Load() {
		t.Fatal("the deleter never ran")
	}
	left, err := st.ListResources(ctx, store.ListOptions{Scope: "/subscriptions/" + sub})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range left {
		if r.ID != "/subscriptions/"+sub {
			t.Errorf("left after the group's delete: %s", r.ID)
		}
	}
}

// TestDeleteBeforeOrdersSiblings: a cascade deletes the resources of a type that
// DeleteBefore puts ahead of another before those, when they are as deep (an online
// endpoint's Deleter reaches its Secret through the compute it runs on, a sibling that
// sorts first); without it, siblings go in the order they are listed.
func TestDeleteBeforeOrdersSiblings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub = "0c000000-0000-4000-8000-000000000003"
	const users, things = "Microsoft.Test/users", "Microsoft.Test/things"
	for _, tc := range []struct {
		name   string
		before bool
		want   string
	}{
		{name: "listed order", want: "things/t1 users/u1"},
		{name: "users before things", before: true, want: "users/u1 things/t1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var order []string
			st, rs := runningService(t, sub, func(st store.Store, rs *Service) {
				for _, typ := range []string{users, things} {
					rs.RegisterDeleter(typ, func(ctx context.Context, _ *operations.Run, r *store.Resource) error {
						mu.Lock()
						order = append(order, strings.TrimPrefix(r.Type, "Microsoft.Test/")+"/"+r.Name)
						mu.Unlock()
						return st.DeleteResource(ctx, r.ID, 0)
					})
				}
				if tc.before {
					rs.DeleteBefore(users, things)
				}
			})
			group := "/subscriptions/" + sub + "/resourceGroups/g"
			putGroup(t, rs, sub, "g")
			for _, r := range []struct{ typ, name string }{{users, "u1"}, {things, "t1"}} {
				if err := st.CreateResource(ctx, &store.Resource{ID: group + "/providers/" + r.typ + "/" + r.name, ParentID: group, Type: r.typ, Name: r.name,
					SubscriptionID: sub, ResourceGroup: "g", Body: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			if op := deleteGroup(t, st, rs, sub, "g"); op.Status != store.StatusSucceeded {
				t.Fatalf("delete: %s %s", op.Status, op.Error)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Join(order, " "); got != tc.want {
				t.Errorf("deleted %s, want %s", got, tc.want)
			}
		})
	}
}
