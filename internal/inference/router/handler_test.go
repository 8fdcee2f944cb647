package router

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// upstream is an instance stand-in: an HTTP server answering /score with its name, after
// waiting on gate when set.
func upstream(t *testing.T, name string, gate chan struct{}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/score" || r.Method != http.MethodPost {
			http.Error(w, "wrong route "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"instance": %q, "echo": %s}`, name, body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func keyConfig(traffic map[string]int, deployments map[string]inference.DeploymentRouting) *inference.EndpointConfig {
	return &inference.EndpointConfig{Name: "ep", AuthMode: inference.AuthKey, Keys: []string{"primary-key", "secondary-key"},
		Traffic: traffic, Deployments: deployments}
}

func post(t *testing.T, h http.Handler, path, auth string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"data": [1]}`))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

func TestWeightedSplitAndPin(t *testing.T) {
	blue, green := upstream(t, "blue-0", nil), upstream(t, "green-0", nil)
	h := NewHandler(HandlerOptions{})
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{"blue": 90, "green": 10}, nil),
		Instances: map[string][]string{"blue": {blue}, "green": {green}}}})
	counts := map[string]int{}
	for range 1000 {
		resp, body := post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `"echo": {"data": [1]}`) {
			t.Fatalf("score = %d %s", resp.StatusCode, body)
		}
		counts[resp.Header.Get(inference.HeaderDeployment)]++
	}
	if counts["blue"] < 870 || counts["blue"] > 930 || counts["blue"]+counts["green"] != 1000 {
		t.Fatalf("split over 1000 requests = %v, want 90/10 within ±3%%", counts)
	}
	for range 20 {
		resp, body := post(t, h, "/api/v1/endpoint/ep/score", "secondary-key", map[string]string{inference.HeaderDeployment: "green"})
		if resp.StatusCode != 200 || !strings.Contains(body, `"green-0"`) {
			t.Fatalf("pinned to green = %d %s", resp.StatusCode, body)
		}
	}
	resp, body := post(t, h, "/api/v1/endpoint/ep/score", "primary-key", map[string]string{inference.HeaderDeployment: "red"})
	if resp.StatusCode != 404 || !strings.Contains(body, `deployment \"red\" does not exist`) {
		t.Fatalf("pinned to a missing deployment = %d %s", resp.StatusCode, body)
	}
}

func TestRoundRobinOverInstances(t *testing.T) {
	a, b := upstream(t, "a", nil), upstream(t, "b", nil)
	h := NewHandler(HandlerOptions{})
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{"blue": 100}, nil), Instances: map[string][]string{"blue": {a, b}}}})
	seen := map[string]int{}
	for range 10 {
		_, body := post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil)
		seen[body[:strings.Index(body, ",")]]++
	}
	if len(seen) != 2 || seen[`{"instance": "a"`] != 5 {
		t.Fatalf("10 requests over two instances: %v", seen)
	}
}

// tokenKeyPEM returns the PEM public key of an mlfleet signing key, built from its JWKS.
func tokenKeyPEM(t *testing.T, k *auth.SigningKey) string {
	t.Helper()
	jwk := k.JWKS()["keys"].([]map[string]string)[0]
	x, _ := base64.RawURLEncoding.DecodeString(jwk["x"])
	y, _ := base64.RawURLEncoding.DecodeString(jwk["y"])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestAuth(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "other.pem"))
	sign := func(k *auth.SigningKey, claims map[string]any) string {
		tok, err := k.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const tokID = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws-a/onlineEndpoints/tok"
	good := map[string]any{"aud": inference.TokenAudience, "endpoint": "tok", "endpointId": strings.ToUpper(tokID), "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	up := upstream(t, "blue-0", nil)
	h := NewHandler(HandlerOptions{Now: func() time.Time { return now }})
	h.Update([]EndpointState{
		{Config: keyConfig(map[string]int{"blue": 100}, nil), Instances: map[string][]string{"blue": {up}}},
		{Config: &inference.EndpointConfig{Name: "tok", ID: tokID, AuthMode: inference.AuthAMLToken, TokenKeyPEM: tokenKeyPEM(t, key),
			Traffic: map[string]int{"blue": 100}}, Instances: map[string][]string{"blue": {up}}},
		// The Secret of an older server has no id: the endpoint's name is all there is to check.
		{Config: &inference.EndpointConfig{Name: "old", AuthMode: inference.AuthAMLToken, TokenKeyPEM: tokenKeyPEM(t, key),
			Traffic: map[string]int{"blue": 100}}, Instances: map[string][]string{"blue": {up}}},
	})
	for _, tc := range []struct {
		name, endpoint, token string
		want                  int
		says                  string
	}{
		{"primary key", "ep", "primary-key", 200, ""},
		{"secondary key", "ep", "secondary-key", 200, ""},
		{"wrong key", "ep", "primary-kez", 401, "not one of the endpoint's keys"},
		{"no credentials", "ep", "", 401, "no credentials"},
		{"token", "tok", sign(key, good), 200, ""},
		{"key on a token endpoint", "tok", "primary-key", 401, "not a JWT"},
		{"expired token", "tok", sign(key, with("exp", now.Add(-time.Second).Unix())), 401, "token expired"},
		{"token of another endpoint", "tok", sign(key, with("endpoint", "ep")), 401, `token is for endpoint \"ep\"`},
		{"token of the same name in another workspace", "tok", sign(key, with("endpointId", strings.Replace(tokID, "ws-a", "ws-b", 1))), 401, "in another workspace"},
		{"token without an endpoint id", "tok", sign(key, with("endpointId", nil)), 401, "in another workspace"},
		{"token on an endpoint whose config has no id", "old", sign(key, with("endpoint", "old")), 200, ""},
		{"token for another audience", "tok", sign(key, with("aud", "management")), 401, "not for endpoints"},
		{"token signed by another key", "tok", sign(other, good), 401, "signature does not verify"},
		{"unknown endpoint", "nope", "primary-key", 404, `endpoint \"nope\" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, h, "/api/v1/endpoint/"+tc.endpoint+"/score", tc.token, nil)
			if resp.StatusCode != tc.want || !strings.Contains(body, tc.says) {
				t.Fatalf("= %d %s, want %d saying %q", resp.StatusCode, body, tc.want, tc.says)
			}
		})
	}
}

func TestTimeoutConcurrencyAndNoInstance(t *testing.T) {
	gate := make(chan struct{})
	slow := upstream(t, "slow", gate)
	h := NewHandler(HandlerOptions{})
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{"blue": 100},
		map[string]inference.DeploymentRouting{"blue": {RequestTimeoutMS: 200, MaxConcurrentRequestsPerInstance: 1}, "green": {}}),
		Instances: map[string][]string{"blue": {slow}}}})

	// Nobody opens the gate: the request times out.
	resp, body := post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil)
	if resp.StatusCode != 504 || !strings.Contains(body, "request timeout of 200ms") {
		t.Fatalf("slow instance = %d %s, want 504", resp.StatusCode, body)
	}

	// One request holds the only slot; the next one is refused until it ends (maxQueueWait
	// PT0S: no waiting).
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{"blue": 100},
		map[string]inference.DeploymentRouting{"blue": {RequestTimeoutMS: 60_000, MaxConcurrentRequestsPerInstance: 1, MaxQueueWaitMS: new(0)}, "green": {Compute: "cmpy"}}),
		Instances: map[string][]string{"blue": {slow}}}})
	var wg sync.WaitGroup
	var first *http.Response
	wg.Go(func() { first, _ = post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil) })
	testutil.WaitFor(t, 10*time.Second, "the first request holds its slot", func() (bool, string) {
		n := inflight(h, slow)
		return n == 1, fmt.Sprintf("%d in flight", n)
	})
	resp, body = post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil)
	if resp.StatusCode != 429 || !strings.Contains(body, "maxConcurrentRequestsPerInstance (1) and 0 requests wait") {
		t.Fatalf("second request while the first runs = %d %s, want 429", resp.StatusCode, body)
	}
	close(gate)
	wg.Wait()
	if first.StatusCode != 200 {
		t.Fatalf("first request = %d", first.StatusCode)
	}
	resp, _ = post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("after the slot is free = %d", resp.StatusCode)
	}

	resp, body = post(t, h, "/api/v1/endpoint/ep/score", "primary-key", map[string]string{inference.HeaderDeployment: "green"})
	// It says where the deployment runs: a router reaches only its own cluster.
	if resp.StatusCode != 503 || !strings.Contains(body, "no ready instance") || !strings.Contains(body, `runs on compute \"cmpy\"`) {
		t.Fatalf("deployment without instances = %d %s, want 503 naming its compute", resp.StatusCode, body)
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	m := rec.Body.String()
	for _, want := range []string{
		`mlfleet_endpoint_requests_total{code="504",deployment="blue",endpoint="ep"} 1`,
		`mlfleet_endpoint_requests_total{code="429",deployment="blue",endpoint="ep"}`,
		`mlfleet_endpoint_request_errors_total{deployment="blue",endpoint="ep",reason="timeout"} 1`,
		`mlfleet_endpoint_request_errors_total{deployment="green",endpoint="ep",reason="no_ready_instance"} 1`,
		`mlfleet_endpoint_request_duration_seconds_count{deployment="blue",endpoint="ep"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
}

func TestNoTraffic(t *testing.T) {
	h := NewHandler(HandlerOptions{})
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{}, nil), Instances: map[string][]string{"blue": {upstream(t, "b", nil)}}}})
	resp, body := post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil)
	if resp.StatusCode != 503 || !strings.Contains(body, "sends no traffic") {
		t.Fatalf("= %d %s", resp.StatusCode, body)
	}
	resp, _ = post(t, h, "/api/v1/endpoint/ep/score", "primary-key", map[string]string{inference.HeaderDeployment: "blue"})
	if resp.StatusCode != 200 {
		t.Fatalf("pinned without traffic = %d", resp.StatusCode)
	}
}

// TestConcurrentRequestsAndUpdates races requests against updates of the table.
func TestConcurrentRequestsAndUpdates(t *testing.T) {
	a, b := upstream(t, "a", nil), upstream(t, "b", nil)
	h := NewHandler(HandlerOptions{})
	states := func(i int) []EndpointState {
		return []EndpointState{{Config: keyConfig(map[string]int{"blue": 50 + i%2*10, "green": 50 - i%2*10},
			map[string]inference.DeploymentRouting{"blue": {MaxConcurrentRequestsPerInstance: 100}, "green": {MaxConcurrentRequestsPerInstance: 100}}),
			Instances: map[string][]string{"blue": {a}, "green": {b}}}}
	}
	h.Update(states(0))
	raceWithUpdates(h, 8, 50, states, func(w, i int) {
		if resp, body := post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil); resp.StatusCode != 200 {
			t.Errorf("= %d %s", resp.StatusCode, body)
		}
	})
}

// raceWithUpdates runs workers goroutines of rounds rounds each and waits for them: in
// round i, worker 0 updates h's table to states(i), and every other worker w calls
// request(w, i), so that requests race against the updates.
func raceWithUpdates(h *Handler, workers, rounds int, states func(i int) []EndpointState, request func(w, i int)) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				if w == 0 {
					h.Update(states(i))
					continue
				}
				request(w, i)
			}
		})
	}
	wg.Wait()
}

func inflight(h *Handler, addr string) int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if in := h.instances[addr]; in != nil {
		return in.inflight.Load()
	}
	return -1
}

func TestMirrorTraffic(t *testing.T) {
	var mu sync.Mutex
	mirrored := 0
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		mirrored++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"shadow": true}`)
	}))
	t.Cleanup(shadow.Close)
	h := NewHandler(HandlerOptions{})
	// Copies go out in the background, side by side: green takes them all at once.
	cfg := keyConfig(map[string]int{"blue": 100}, map[string]inference.DeploymentRouting{"green": {MaxConcurrentRequestsPerInstance: 100}})
	cfg.MirrorTraffic = map[string]int{"green": 20}
	h.Update([]EndpointState{{Config: cfg, Instances: map[string][]string{"blue": {upstream(t, "blue-0", nil)}, "green": {strings.TrimPrefix(shadow.URL, "http://")}}}})
	for range 100 {
		resp, body := post(t, h, "/api/v1/endpoint/ep/score", "primary-key", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "blue-0") {
			t.Fatalf("= %d %s; the caller gets the live deployment's answer", resp.StatusCode, body)
		}
	}
	testutil.WaitFor(t, 10*time.Second, "20 of 100 requests mirrored", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return mirrored == 20, fmt.Sprintf("%d mirrored", mirrored)
	})
}

func TestSwagger(t *testing.T) {
	h := NewHandler(HandlerOptions{})
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{}, nil)}})
	get := func(path, key string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/api/v1/endpoint/ep/swagger.json", "primary-key"); code != 200 || !strings.Contains(body, `"/api/v1/endpoint/ep/score"`) {
		t.Fatalf("swagger = %d %s", code, body)
	}
	if code, _ := get("/api/v1/endpoint/ep/swagger.json", "nope"); code != 401 {
		t.Fatalf("swagger with a wrong key = %d, want 401", code)
	}
	if code, _ := get("/api/v1/endpoint/other/swagger.json", "primary-key"); code != 404 {
		t.Fatalf("swagger of a missing endpoint = %d, want 404", code)
	}
}

// TestNamesInAnyCase: endpoint and deployment names are case-insensitive and
// case-preserving (ARM, A1). A scoring URI typed in another case reaches the endpoint its
// Secret names "CaseEp", and a request pinned to "BLUE" reaches deployment "blue", as az
// ml's invoke --deployment-name sends whatever case the user typed (QA9 #1).
func TestNamesInAnyCase(t *testing.T) {
	blue := upstream(t, "blue-0", nil)
	h := NewHandler(HandlerOptions{})
	cfg := keyConfig(map[string]int{"blue": 100}, nil)
	cfg.Name = "CaseEp"
	h.Update([]EndpointState{{Config: cfg, Instances: map[string][]string{"blue": {blue}}}})
	for _, c := range []struct{ path, pin string }{
		{"/api/v1/endpoint/CaseEp/score", ""},
		{"/api/v1/endpoint/caseep/score", ""},
		{"/api/v1/endpoint/CASEEP/score", "BLUE"},
	} {
		resp, body := post(t, h, c.path, "primary-key", map[string]string{inference.HeaderDeployment: c.pin})
		if resp.StatusCode != 200 || !strings.Contains(body, `"blue-0"`) || resp.Header.Get(inference.HeaderDeployment) != "blue" {
			t.Errorf("%s pinned to %q = %d %s (deployment %q)", c.path, c.pin, resp.StatusCode, body, resp.Header.Get(inference.HeaderDeployment))
		}
	}
	resp, body := post(t, h, "/api/v1/endpoint/other/score", "primary-key", nil)
	if resp.StatusCode != 404 || !strings.Contains(body, `endpoint \"other\" does not exist`) {
		t.Errorf("an unknown endpoint = %d %s", resp.StatusCode, body)
	}
}
