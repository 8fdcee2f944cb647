// Package security attacks a real mlfleet server over HTTPS on loopback the way a hostile
// or careless client would: every route with every kind of caller (no token, an expired
// one, another subscription's Owner, a Reader, a Contributor of another resource group, an
// Owner), malformed names in every name position, token minting past its limits, revoked
// credentials. The shared servers run on SQLite and, when MLFLEET_TEST_POSTGRES is set, on
// PostgreSQL; every test runs against each.
package security

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// env is one running server with the callers the tests use.
type env struct {
	name  string
	srv   *testserver.Server
	dsn   string
	sub   string // the server's subscription
	other string // a second subscription
	// callers are the identities the tests call as, by name. Parallel tests add their own,
	// so the table is behind mu.
	mu      sync.Mutex
	callers map[string]identity
}

// identity is one caller: its bearer token and, for a service principal, its object id,
// appId and secret.
type identity struct {
	token, id, appID, secret string
}

// who returns caller's identity (the zero one for an unknown name).
func (e *env) who(caller string) identity {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.callers[caller]
}

// update changes caller's identity under the lock.
func (e *env) update(caller string, f func(*identity)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := e.callers[caller]
	f(&id)
	e.callers[caller] = id
}

// setToken makes token caller's bearer token.
func (e *env) setToken(caller, token string) {
	e.update(caller, func(id *identity) { id.token = token })
}

var envs []*env

// Callers, from the weakest.
const (
	callerNone         = "no token"
	callerExpired      = "expired token"
	callerOtherSub     = "Owner of another subscription"
	callerReader       = "Reader of the subscription"
	callerContribOther = "Contributor of another resource group"
	callerOwner        = "Owner of the subscription"
)

// Resource groups every server has: the target of the route matrix and another one.
const (
	targetRG = "sec-rg"
	otherRG  = "sec-other"
)

func TestMain(m *testing.M) {
	// First: this binary is the sandbox stub of the scoring processes its servers start.
	sandbox.Init()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	home, err := os.MkdirTemp("", "mlfleet-security-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	os.Setenv("MLFLEET_HOME", home+"/sqlite")
	for _, v := range []string{"MLFLEET_SERVER", "MLFLEET_TOKEN", "MLFLEET_SUBSCRIPTION"} {
		os.Unsetenv(v)
	}
	type spec struct{ name, dsn string }
	specs := []spec{{"sqlite", ""}}
	if pg := os.Getenv("MLFLEET_TEST_POSTGRES"); pg != "" {
		dsn, drop, err := storetest.PostgresSchema(pg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "postgres schema:", err)
			return 1
		}
		defer drop()
		specs = append(specs, spec{"postgres", dsn})
	}
	for _, sp := range specs {
		var flags []string
		if sp.dsn != "" {
			flags = append(flags, "--store", sp.dsn)
		}
		if err := os.MkdirAll(home+"/"+sp.name, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		srv, err := testserver.Start(home+"/"+sp.name, flags...)
		if err != nil {
			fmt.Fprintf(os.Stderr, "start %s server: %v\n", sp.name, err)
			return 1
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "server stopped with:", err)
			}
		}()
		e := &env{name: sp.name, srv: srv, dsn: sp.dsn, sub: srv.Config.Subscription}
		if err := e.prepare(); err != nil {
			fmt.Fprintf(os.Stderr, "prepare %s server: %v\n--- log ---\n%s\n", sp.name, err, srv.LogTail(8192))
			return 1
		}
		envs = append(envs, e)
	}
	code := m.Run()
	if code != 0 {
		for _, e := range envs {
			fmt.Fprintf(os.Stderr, "--- %s server log (last 8 KiB) ---\n%s\n", e.name, e.srv.LogTail(8192))
		}
	}
	return code
}

// openStore opens the server's database, for what the API cannot do (a second
// subscription, an expired token) and for snapshots.
func (e *env) openStore(ctx context.Context) (store.Store, error) {
	dsn := e.dsn
	if dsn == "" {
		dsn = e.srv.Home + "/mlfleet.db"
	}
	return store.Open(ctx, dsn)
}

// prepare makes the resource groups and the callers.
func (e *env) prepare() error {
	ctx := context.Background()
	e.callers = map[string]identity{}
	admin, err := e.srv.Config.ReadToken()
	if err != nil {
		return err
	}
	e.setToken("admin", admin)

	st, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	e.other = "0ddba11e-0000-4000-8000-000000000002"
	if _, err := resources.New(st, operations.New(st, operations.Config{})).EnsureSubscription(ctx, e.other, "other", e.srv.Config.Tenant); err != nil {
		return err
	}
	for _, rg := range []string{targetRG, otherRG} {
		if a := e.call(nil, "admin", "PUT", e.rgPath(rg)+"?api-version=2022-09-01", `{"location":"westus"}`); a.status >= 300 {
			return fmt.Errorf("create %s: %d %s", rg, a.status, a.raw)
		}
	}
	// An expired token of the admin: minted an hour ago for a minute.
	secret := "mlf_expired-" + e.name
	if err := st.CreateToken(ctx, &store.Token{Hash: auth.Hash(secret), Name: "expired", Role: auth.RoleOwner,
		PrincipalID: e.principalID(nil, "admin"), CreatedAt: time.Now().Add(-time.Hour), ExpiresAt: time.Now().Add(-59 * time.Minute)}); err != nil {
		return err
	}
	e.setToken(callerExpired, secret)
	e.setToken(callerNone, "")
	for _, c := range []struct{ name, role, scope string }{
		{callerOtherSub, auth.RoleOwner, "/subscriptions/" + e.other},
		{callerReader, auth.RoleReader, "/subscriptions/" + e.sub},
		{callerContribOther, auth.RoleContributor, e.rgPath(otherRG)},
		{callerOwner, auth.RoleOwner, "/subscriptions/" + e.sub},
	} {
		if err := e.servicePrincipal(c.name, c.role, c.scope); err != nil {
			return err
		}
	}
	return nil
}

// servicePrincipal creates a service principal with role at scope and signs it in.
func (e *env) servicePrincipal(name, role, scope string) error {
	body, _ := json.Marshal(map[string]any{"displayName": name, "role": role, "scopes": []string{scope}})
	a := e.call(nil, "admin", "POST", "/mlfleet/v1/principals", string(body))
	if a.status != http.StatusCreated {
		return fmt.Errorf("create principal %s: %d %s", name, a.status, a.raw)
	}
	appID, secret := a.body["appId"].(string), a.body["password"].(string)
	token, status, raw := e.signIn(appID, secret)
	if status != http.StatusOK {
		return fmt.Errorf("sign in %s: %d %s", name, status, raw)
	}
	id, _ := a.body["id"].(string)
	e.update(name, func(c *identity) { *c = identity{token: token, id: id, appID: appID, secret: secret} })
	return nil
}

// signIn asks the token endpoint for a service principal's token.
func (e *env) signIn(appID, secret string) (token string, status int, raw string) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "scope": {e.srv.Config.Server + "/.default"}}
	resp, err := e.srv.HTTP.Post(e.srv.Config.Server+"/adfs/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(b, &out)
	return out.AccessToken, resp.StatusCode, string(b)
}

func (e *env) principalID(t *testing.T, caller string) string {
	if id := e.who(caller).id; id != "" {
		return id
	}
	a := e.call(t, caller, "GET", "/mlfleet/v1/principals/"+auth.AdminLogin, "")
	id, _ := a.body["id"].(string)
	e.update(caller, func(c *identity) { c.id = id })
	return id
}

func (e *env) rgPath(rg string) string { return "/subscriptions/" + e.sub + "/resourceGroups/" + rg }

// answer is an HTTP answer with its JSON body decoded (when it is an object).
type answer struct {
	status int
	raw    string
	body   map[string]any
	header http.Header
}

func (a answer) code() string {
	if e, ok := a.body["error"].(map[string]any); ok {
		c, _ := e["code"].(string)
		return c
	}
	return ""
}

// call sends a request as caller (a name in e.callers) with a raw path (sent as is, not
// cleaned or escaped again) and returns the answer. t may be nil during set-up.
func (e *env) call(t *testing.T, caller, method, rawPath, body string) answer {
	if t != nil {
		t.Helper()
	}
	u, err := url.Parse(e.srv.Config.Server)
	if err != nil {
		panic(err)
	}
	path, query, _ := strings.Cut(rawPath, "?")
	u.Opaque = "//" + u.Host + path // keep %2e, %2F and // exactly as written
	u.RawQuery = query
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, u.String(), rd)
	if err != nil {
		panic(err)
	}
	req.URL = u
	if tok := e.who(caller).token; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := *e.srv.HTTP
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		if t != nil {
			t.Fatalf("%s %s: %v", method, rawPath, err)
		}
		return answer{raw: err.Error()}
	}
	return readAnswer(resp)
}

// readAnswer reads and closes resp's body into an answer, decoding it when it is a JSON object.
func readAnswer(resp *http.Response) answer {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// eachServer runs f as a subtest per server (SQLite, PostgreSQL).
func eachServer(t *testing.T, f func(t *testing.T, e *env)) {
	for _, e := range envs {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f(t, e)
		})
	}
}
