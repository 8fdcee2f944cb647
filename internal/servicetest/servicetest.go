// Package servicetest wires the services under the compute and endpoint services (store,
// operation engine, resources, workspaces, secrets and managed clusters) as the server wires
// them, over a real SQLite store, for the tests of the services built on them. It holds no
// fakes: its clusters are of the external provider, which reaches nothing, and its engine
// starts only when a test starts it.
//
// The tests of the packages it imports cannot use it (Go refuses the import cycle); those
// of compute, endpoints and api do.
package servicetest

import (
	"context"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/external"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Location is where the stack's resource groups and workspaces are.
const Location = "westus"

// Stack is the services of one test, over one store.
type Stack struct {
	Sub        string
	Store      store.Store
	Engine     *operations.Engine
	Resources  *resources.Service
	Workspaces *workspaces.Service
	Secrets    *secrets.Box
	VMSizes    *catalog.VMSizes
	Clusters   *containerservice.Service
}

// New returns the services of subscription sub, which it creates, over a fresh SQLite store.
// clusters, when not nil, changes the cluster service's configuration before it is built
// (a change guard, quotas).
func New(t testing.TB, sub string, clusters func(*containerservice.Config)) *Stack {
	t.Helper()
	return NewIn(t, storetest.OpenSQLite(t), sub, clusters)
}

// NewIn is New over the store st, for tests that run on each dialect
// (storetest.Dialects).
func NewIn(t testing.TB, st store.Store, sub string, clusters func(*containerservice.Config)) *Stack {
	t.Helper()
	engine := operations.New(st, operations.Config{})
	rs := resources.New(st, engine)
	if _, err := rs.EnsureSubscription(context.Background(), sub, "test", "tenant"); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	sizes := catalog.DefaultVMSizes()
	cfg := containerservice.Config{Store: st, Engine: engine, Resources: rs, Versions: catalog.DefaultVersions(),
		VMSizes: sizes, Secrets: box, Providers: map[string]provider.Provider{"external": external.New(sizes)}}
	if clusters != nil {
		clusters(&cfg)
	}
	return &Stack{Sub: sub, Store: st, Engine: engine, Resources: rs, Workspaces: workspaces.New(st, rs), Secrets: box,
		VMSizes: sizes, Clusters: containerservice.New(cfg)}
}

// Group creates resource group name in Location.
func (s *Stack) Group(t testing.TB, name string) {
	t.Helper()
	if _, _, err := s.Resources.PutGroup(context.Background(), s.Sub, name, armapi.GroupInput{Location: Location}); err != nil {
		t.Fatal(err)
	}
}

// Workspace creates workspace name in resource group rg and returns it.
func (s *Stack) Workspace(t testing.TB, rg, name string) *armapi.Workspace {
	t.Helper()
	w, _, err := s.Workspaces.Put(context.Background(), s.Sub, rg, name, armapi.WorkspaceInput{Location: Location})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Caller returns a context whose caller is a new service principal holding role at each of
// scopes, authenticated as the API authenticates a request: for what a service decides by
// its caller's rights.
func (s *Stack) Caller(t testing.TB, role string, scopes ...string) context.Context {
	t.Helper()
	ctx := context.Background()
	authn := auth.New(s.Store, auth.Options{Tenant: "tenant"})
	if _, err := authn.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	authenticate := func(token string) *auth.Principal {
		t.Helper()
		p, err := authn.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	admin, err := authn.MintAdmin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	created, err := authn.CreatePrincipal(ctx, authenticate(admin), auth.NewPrincipal{Type: store.PrincipalServicePrincipal,
		Name: role + " caller", Role: role, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	token, _, _, err := authn.Login(ctx, created.Principal.Login, created.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithPrincipal(ctx, authenticate(token))
}
