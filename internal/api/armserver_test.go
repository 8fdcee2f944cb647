package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// subURL is the path of the test subscription.
const subURL = "/subscriptions/" + testSub

// testARM is a real API server over a real SQLite store with one subscription, the
// resource, workspace and cluster services (clusters of the external provider, which
// reaches nothing until an operation runs) and an Owner token. Its operation engine never
// starts, so what a PUT submits stays InProgress.
type testARM struct {
	srv   *httptest.Server
	st    store.Store
	authn *auth.Authenticator
	admin *auth.Principal
	rs    *resources.Service
	ws    *workspaces.Service
	owner string
}

func newTestARM(t *testing.T) *testARM {
	t.Helper()
	stack := servicetest.New(t, testSub, nil)
	st, rs, ws := stack.Store, stack.Resources, stack.Workspaces
	authn, admin, owner := bootstrapAdmin(t, st)
	srv := httptest.NewServer(New(Config{Store: st, Auth: authn, Resources: rs, Workspaces: ws, Clusters: stack.Clusters}))
	t.Cleanup(srv.Close)
	return &testARM{srv: srv, st: st, authn: authn, admin: admin, rs: rs, ws: ws, owner: owner}
}

// testResources returns the resource service of st and engine, with the test subscription.
func testResources(t testing.TB, st store.Store, engine *operations.Engine) *resources.Service {
	t.Helper()
	rs := resources.New(st, engine)
	if _, err := rs.EnsureSubscription(context.Background(), testSub, "test", "tenant"); err != nil {
		t.Fatal(err)
	}
	return rs
}

// bootstrapAdmin bootstraps the authenticator of st and returns it with its admin and a
// token of the admin.
func bootstrapAdmin(t testing.TB, st store.Store) (*auth.Authenticator, *auth.Principal, string) {
	t.Helper()
	ctx := context.Background()
	authn := auth.New(st, auth.Options{Tenant: "tenant"})
	if _, err := authn.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	token, err := authn.MintAdmin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := authn.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return authn, admin, token
}

// principal creates a service principal holding role at scope (none when role is "") and
// returns a token of it.
func (a *testARM) principal(t *testing.T, role, scope string) string {
	t.Helper()
	ctx := context.Background()
	in := auth.NewPrincipal{Type: store.PrincipalServicePrincipal, Name: "p-" + role}
	if role != "" {
		in.Role, in.Scopes = role, []string{scope}
	}
	created, err := a.authn.CreatePrincipal(ctx, a.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	token, _, _, err := a.authn.Login(ctx, created.Principal.Login, created.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// group creates resource group name in westus.
func (a *testARM) group(t *testing.T, name string) {
	t.Helper()
	if _, _, err := a.rs.PutGroup(context.Background(), testSub, name, armapi.GroupInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
}

// row writes a resource row as a service would, body marshalled from v.
func (a *testARM) row(t testing.TB, r *store.Resource, v any) {
	t.Helper()
	r.Body, _ = json.Marshal(v)
	if err := a.st.CreateResource(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// call makes a request (body marshalled from in unless nil; url relative to the server or
// absolute) and decodes the JSON answer, if any.
func (a *testARM) call(t *testing.T, token, method, url string, in any) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	if url[0] == '/' {
		url = a.srv.URL + url
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ans := send(t, a.srv.Client(), req)
	if strings.TrimSpace(ans.raw) != "" && ans.body == nil {
		t.Fatalf("%s %s: %d, body is not JSON: %q", method, url, ans.status, ans.raw)
	}
	return ans.status, ans.body
}

// answer is one response, its body read.
type answer struct {
	status int
	header http.Header
	// body is the answer decoded, when it is a JSON object.
	body map[string]any
	raw  string
}

// send sends req with client and reads the answer.
func send(t testing.TB, client *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ans := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &ans.body)
	return ans
}
