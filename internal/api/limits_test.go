package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlfleet/mlfleet/internal/activity"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/internal/throttle"
	"github.com/mlfleet/mlfleet/internal/workspaces"
)

// apiServer is a real API server over a real SQLite store with resource groups and
// workspaces, an activity log, one subscription, two Owner tokens ("admin" and "other")
// and a Reader token ("reader"). Its operation engine runs. Its store is cfg.Store, or a new
// SQLite file when that is nil.
type apiServer struct {
	srv                  *httptest.Server
	store                store.Store
	reg                  *prometheus.Registry
	admin, other, reader string
}

func newAPIServer(t testing.TB, cfg Config) *apiServer {
	t.Helper()
	ctx := context.Background()
	// A test may bring its own store (cfg.Store); by default a new SQLite file.
	st := cfg.Store
	if st == nil {
		st = storetest.OpenSQLite(t)
	}
	engine := operations.New(st, operations.Config{PollInterval: 20 * time.Millisecond})
	rs := testResources(t, st, engine)
	a := &apiServer{store: st, reg: prometheus.NewRegistry()}
	authn, admin, adminToken := bootstrapAdmin(t, st)
	a.admin = adminToken
	// Other principals than the admin, with buckets of their own.
	principal := func(name, role string) string {
		cp, err := authn.CreatePrincipal(ctx, admin, auth.NewPrincipal{Type: store.PrincipalUser, Name: name, Login: name,
			Password: name + "'s password", Role: role, Scopes: []string{"/subscriptions/" + testSub}})
		if err != nil {
			t.Fatal(err)
		}
		token, _, _, err := authn.Login(ctx, cp.Principal.Login, name+"'s password")
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	a.other, a.reader = principal("other", auth.RoleOwner), principal("reader", auth.RoleReader)
	cfg.Store, cfg.Auth, cfg.Resources, cfg.Workspaces, cfg.Registry = st, authn, rs, workspaces.New(st, rs), a.reg
	if cfg.Computes == nil {
		// Reads of computes need no cluster; writes are not tested through this server.
		cfg.Computes = compute.New(compute.Config{Store: st, Engine: engine, Resources: rs, Workspaces: cfg.Workspaces})
	}
	cfg.Activity = activity.New(activity.Config{Store: st})
	engine.OnEnd(cfg.Activity.OperationEnded)
	engine.Start(ctx)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		engine.Close(cctx)
	})
	a.srv = httptest.NewServer(New(cfg))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *apiServer) call(t testing.TB, token, method, path, body string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, a.srv.Client(), req)
}

const rgAPI = "?api-version=2022-09-01"

func rgURL(name string) string {
	return "/subscriptions/" + testSub + "/resourceGroups/" + name + rgAPI
}

// TestRequestLimits: a burst of writes beyond the bucket gets 429 TooManyRequests with
// Retry-After and the remaining-writes header at 0; reads, another principal, health and
// unauthenticated requests are not affected; after Retry-After the writes pass again.
func TestRequestLimits(t *testing.T) {
	t.Parallel()
	clock := testutil.NewClock(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	limiter := throttle.New(throttle.Config{
		Reads:  throttle.Limit{PerHour: 36000, Burst: 100},
		Writes: throttle.Limit{PerHour: 1800, Burst: 3}, // one token every 2 s
	}, throttle.WithClock(clock.Now))
	a := newAPIServer(t, Config{Limiter: limiter})

	for i := range 3 {
		ans := a.call(t, a.admin, "PUT", rgURL("rg1"), `{"location":"westus"}`)
		if ans.status >= 300 {
			t.Fatalf("write %d: %d %s", i+1, ans.status, ans.raw)
		}
		if got, want := ans.header.Get("x-ms-ratelimit-remaining-subscription-writes"), []string{"2", "1", "0"}[i]; got != want {
			t.Errorf("write %d: remaining writes %q, want %q", i+1, got, want)
		}
	}
	ans := a.call(t, a.admin, "DELETE", rgURL("rg1"), "")
	if ans.status != http.StatusTooManyRequests || errorCode(ans.body) != "TooManyRequests" {
		t.Fatalf("write 4 = %d %s, want 429 TooManyRequests", ans.status, ans.raw)
	}
	msg := ans.body["error"].(map[string]any)["message"].(string)
	if ans.header.Get("Retry-After") != "2" || !strings.Contains(msg, "try again after '2' seconds") || !strings.Contains(msg, "'admin'") {
		t.Errorf("429: Retry-After %q, message %q; want 2 seconds, said in the message with the caller", ans.header.Get("Retry-After"), msg)
	}
	if ans.header.Get("x-ms-ratelimit-remaining-subscription-writes") != "0" || ans.header.Get("x-ms-error-code") != "TooManyRequests" {
		t.Errorf("429 headers: %v", ans.header)
	}
	if ans := a.call(t, a.admin, "GET", rgURL("rg1"), ""); ans.status != http.StatusOK || ans.header.Get("x-ms-ratelimit-remaining-subscription-reads") != "99" {
		t.Errorf("a read while writes are throttled = %d (remaining reads %q), want 200 with 99", ans.status, ans.header.Get("x-ms-ratelimit-remaining-subscription-reads"))
	}
	if ans := a.call(t, a.other, "PUT", rgURL("rg2"), `{"location":"westus"}`); ans.status != http.StatusCreated {
		t.Errorf("another principal's write = %d %s, want 201", ans.status, ans.raw)
	}
	if ans := a.call(t, "", "PUT", rgURL("rg3"), `{}`); ans.status != http.StatusUnauthorized || ans.header.Get("x-ms-ratelimit-remaining-subscription-writes") != "" {
		t.Errorf("an unauthenticated write = %d with remaining %q, want 401 before any bucket", ans.status, ans.header.Get("x-ms-ratelimit-remaining-subscription-writes"))
	}
	for range 5 {
		if ans := a.call(t, "", "GET", "/healthz", ""); ans.status != http.StatusOK {
			t.Fatalf("healthz = %d", ans.status)
		}
	}
	if ans := a.call(t, a.admin, "GET", "/subscriptions?api-version=2022-09-01", ""); ans.header.Get("x-ms-ratelimit-remaining-tenant-reads") == "" {
		t.Errorf("a request outside any subscription carries no tenant-reads header: %v", ans.header)
	}

	clock.Advance(2 * time.Second)
	if ans := a.call(t, a.admin, "DELETE", rgURL("rg1"), ""); ans.status != http.StatusAccepted {
		t.Fatalf("a write after Retry-After = %d %s, want 202", ans.status, ans.raw)
	}
	if m := a.call(t, "", "GET", "/metrics", ""); !strings.Contains(m.raw, `mlfleet_http_throttled_requests_total{kind="writes"} 1`+"\n") {
		t.Errorf("/metrics does not count the throttled write:\n%s", m.raw)
	}
}
