package compute

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// userType is the type of the rows that stand for a compute's users (deployments) in
// TestForcedAttachTakeFrom: children of the compute, listed by Config.InUse.
const userType = "Mlfleet.Test/users"

// TestForcedAttachTakeFrom: a forced attach checks on the request that nothing uses the
// compute it takes the cluster from, and again in its operation, under the compute's use
// lock, before anything is removed (takeFrom). A user stored in between ends the attach with
// a 409 naming it and leaves the compute as it was; otherwise the compute is marked
// Deleting, and a user that comes after is refused (UseIn). A user holding the lock, not
// yet committed, is waited for, then wins.
func TestForcedAttachTakeFrom(t *testing.T) {
	t.Parallel()
	for dialect, newDB := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newTakeFixture(t, newDB(t)())

			// A second take, as when the step resumes after a crash, passes again.
			for range 2 {
				if err := f.s.takeFrom(ctx, f.computeID, "aksf"); err != nil {
					t.Fatalf("take from an unused compute: %v", err)
				}
			}
			f.wantState(t, armapi.StateDeleting)
			err := f.use(ctx, "late", nil)
			if ae := (*arm.Error)(nil); !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "is being detached or deleted") {
				t.Fatalf("a user after the take answered %v; want 409 saying the compute is being detached", err)
			}
			if users := f.users(t); len(users) != 0 {
				t.Fatalf("users stored after the take: %v", users)
			}

			// A compute gone already is no error: the step finds nothing to take.
			if err := f.st.DeleteResource(ctx, f.computeID, 0); err != nil {
				t.Fatal(err)
			}
			if err := f.s.takeFrom(ctx, f.computeID, "aksf"); err != nil {
				t.Fatalf("take from a compute gone: %v", err)
			}
		})
		t.Run(dialect+"/user first", func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newTakeFixture(t, newDB(t)())
			if err := f.use(ctx, "blue", nil); err != nil {
				t.Fatal(err)
			}
			f.wantRefused(t, f.s.takeFrom(ctx, f.computeID, "aksf"), "blue")
		})
		t.Run(dialect+"/user holds the lock", func(t *testing.T) {
			if dialect == "sqlite" {
				t.Skip("SQLite runs one transaction at a time: the take waits for the user's commit before it reaches the lock")
			}
			t.Parallel()
			ctx := context.Background()
			f := newTakeFixture(t, newDB(t)())
			held, release := make(chan struct{}), make(chan struct{})
			used := make(chan error, 1)
			go func() {
				used <- f.use(ctx, "blue", func() {
					close(held)
					<-release
				})
			}()
			select {
			case <-held:
			case err := <-used:
				t.Fatalf("the user committed before it was held: %v", err)
			}
			waiting := make(chan struct{}, 1)
			defer failpoint.Hook("store/Lock/"+useLock(f.computeID)+"/before", func(string) {
				select {
				case waiting <- struct{}{}:
				default:
				}
			})()
			taken := make(chan error, 1)
			go func() { taken <- f.s.takeFrom(ctx, f.computeID, "aksf") }()
			select {
			case <-waiting:
			case err := <-taken:
				t.Fatalf("the take answered %v before it asked for the lock the user holds", err)
			}
			close(release)
			if err := <-used; err != nil {
				t.Fatalf("the user: %v", err)
			}
			select {
			case err := <-taken:
				f.wantRefused(t, err, "blue")
			case <-time.After(time.Minute):
				t.Fatal("the take did not answer once the user committed")
			}
		})
	}
}

// takeFixture is a compute service over st whose compute infr, attached and Succeeded,
// lists its users from rows of userType under it.
type takeFixture struct {
	st        store.Store
	s         *Service
	computeID string
}

func newTakeFixture(t *testing.T, st store.Store) *takeFixture {
	t.Helper()
	stack := servicetest.NewIn(t, st, testSub, nil)
	stack.Group(t, "rg")
	w := stack.Workspace(t, "rg", "ws1")
	f := &takeFixture{st: st, computeID: ID(testSub, "rg", "ws1", "infr")}
	f.s = New(Config{Store: st, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces, Clusters: stack.Clusters, Secrets: stack.Secrets,
		InUse: func(ctx context.Context, st store.Store, computeID string) ([]string, error) {
			rows, err := st.ListResources(ctx, store.ListOptions{ParentID: computeID, Type: userType})
			var users []string
			for _, r := range rows {
				users = append(users, "deployment '"+r.Name+"'")
			}
			return users, err
		}})
	c := armapi.Compute{ID: f.computeID, Name: "infr", Type: TypeCompute, Location: "westus", Properties: armapi.ComputeProperties{
		ComputeType: "AKS", ComputeLocation: "westus", ProvisioningState: armapi.StateSucceeded, IsAttachedCompute: true,
		Mlfleet: &armapi.ComputeMlfleet{Conditions: []armapi.Condition{}, Attached: true}}}
	body, _ := json.Marshal(c)
	if err := st.CreateResource(context.Background(), &store.Resource{ID: f.computeID, ParentID: w.ID, Type: TypeCompute, Name: "infr",
		SubscriptionID: testSub, ResourceGroup: "rg", Location: "westus", Body: body}); err != nil {
		t.Fatal(err)
	}
	return f
}

// use stores a user of the compute named name as a deployment stores itself: UseIn, then
// its row, in one transaction; hold, when not nil, runs before the commit.
func (f *takeFixture) use(ctx context.Context, name string, hold func()) error {
	return f.st.InTx(ctx, func(tx store.Store) error {
		if _, err := f.s.UseIn(ctx, tx, f.computeID); err != nil {
			return err
		}
		if err := tx.CreateResource(ctx, &store.Resource{ID: f.computeID + "/users/" + name, ParentID: f.computeID, Type: userType, Name: name,
			SubscriptionID: testSub, ResourceGroup: "rg", Body: []byte(`{}`)}); err != nil {
			return err
		}
		if hold != nil {
			hold()
		}
		return nil
	})
}

// users lists the names of the compute's users as stored.
func (f *takeFixture) users(t *testing.T) []string {
	t.Helper()
	rows, err := f.st.ListResources(context.Background(), store.ListOptions{ParentID: f.computeID, Type: userType})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
	}
	return names
}

// wantState fails t unless the compute's provisioning state is want.
func (f *takeFixture) wantState(t *testing.T, want string) {
	t.Helper()
	r, err := f.st.GetResource(context.Background(), f.computeID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Properties.ProvisioningState; got != want {
		t.Fatalf("compute state %s, want %s", got, want)
	}
}

// wantRefused fails t unless err is the take's 409 naming the user, with the compute left
// Succeeded and the user stored.
func (f *takeFixture) wantRefused(t *testing.T, err error, user string) {
	t.Helper()
	if ae := (*arm.Error)(nil); !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "deployment '"+user+"'") || !strings.Contains(ae.Message, "--force") {
		t.Fatalf("the take after a user answered %v; want 409 naming deployment '%s'", err, user)
	}
	f.wantState(t, armapi.StateSucceeded)
	if users := f.users(t); len(users) != 1 || users[0] != user {
		t.Fatalf("users %v, want [%s]", users, user)
	}
}
