package router

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// queued is the number of requests waiting for a slot of the deployment.
func queued(h *Handler, ep, dep string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.endpoints[ep]; e != nil && e.deployments[dep] != nil {
		return len(e.deployments[dep].queue.waiters)
	}
	return -1
}

// scored is the answer to a scoring request sent in the background.
type scored struct {
	status int
	body   string
}

// score posts {"n": n} to the endpoint ep in the background, with ctx.
func score(ctx context.Context, h http.Handler, n int) <-chan scored {
	out := make(chan scored, 1)
	go func() {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/endpoint/ep/score", strings.NewReader(fmt.Sprintf(`{"n": %d}`, n)))
		req.Header.Set("Authorization", "Bearer primary-key")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out <- scored{rec.Code, rec.Body.String()}
	}()
	return out
}

func waitQueued(t *testing.T, h *Handler, want int) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, fmt.Sprintf("%d requests queued", want), func() (bool, string) {
		n := queued(h, "ep", "blue")
		return n == want, fmt.Sprintf("%d queued", n)
	})
}

// holdSlot sends the first request, {"n": 1}, with t's context and waits until it holds
// the one slot of instance addr; it returns the channel of its answer.
func holdSlot(t *testing.T, h *Handler, addr string) <-chan scored {
	t.Helper()
	first := score(t.Context(), h, 1)
	testutil.WaitFor(t, 10*time.Second, "the first request holds the slot", func() (bool, string) {
		n := inflight(h, addr)
		return n == 1, fmt.Sprintf("%d in flight", n)
	})
	return first
}

// routeBlue sends all of endpoint ep's traffic to deployment blue, routed by routing and
// served by instances.
func routeBlue(h *Handler, routing inference.DeploymentRouting, instances ...string) {
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{"blue": 100}, map[string]inference.DeploymentRouting{"blue": routing}),
		Instances: map[string][]string{"blue": instances}}})
}

// finishFirst lets the first request, which holds instance addr's one slot, through gate
// and checks that it is served and that no slot is left taken: none went to a request
// that left the queue.
func finishFirst(t *testing.T, h *Handler, gate chan struct{}, addr string, first <-chan scored) {
	t.Helper()
	letThrough(t, gate)
	if r := receive(t, first, "the first request"); r.status != 200 {
		t.Fatalf("first request = %d %s", r.status, r.body)
	}
	if n := inflight(h, addr); n != 0 {
		t.Fatalf("%d requests in flight after all ended, want 0: a slot went to a request that left", n)
	}
}

func receive(t *testing.T, c <-chan scored, what string) scored {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer", what)
		return scored{}
	}
}

// letThrough lets one request through an upstream's gate.
func letThrough(t *testing.T, gate chan<- struct{}) {
	t.Helper()
	select {
	case gate <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("no request waits at the instance")
	}
}

// TestQueueWaitsForASlot: requests over the limit wait, first come first served, and are
// served as slots free up.
func TestQueueWaitsForASlot(t *testing.T) {
	gate := make(chan struct{}) // each send lets one request through the instance
	slow := upstream(t, "slow", gate)
	h := NewHandler(HandlerOptions{})
	routeBlue(h, inference.DeploymentRouting{RequestTimeoutMS: 600_000, MaxConcurrentRequestsPerInstance: 1, MaxQueueWaitMS: new(60_000)}, slow)
	ctx := t.Context()
	first := holdSlot(t, h, slow)
	second := score(ctx, h, 2)
	waitQueued(t, h, 1)
	third := score(ctx, h, 3)
	waitQueued(t, h, 2)

	for i, c := range []<-chan scored{first, second, third} {
		letThrough(t, gate)
		r := receive(t, c, fmt.Sprintf("request %d", i+1))
		if r.status != 200 || !strings.Contains(r.body, fmt.Sprintf(`{"n": %d}`, i+1)) {
			t.Fatalf("request %d = %d %s, want 200 with its own answer (first come, first served)", i+1, r.status, r.body)
		}
		if i < 2 {
			waitQueued(t, h, 1-i)
		}
	}
	if n := inflight(h, slow); n != 0 {
		t.Fatalf("%d requests in flight at the end, want 0", n)
	}
}

// TestQueueWaitExpires: a request that gets no slot within maxQueueWait gets 429, and a
// request whose client goes away leaves the queue; neither takes a slot.
func TestQueueWaitExpires(t *testing.T) {
	gate := make(chan struct{})
	slow := upstream(t, "slow", gate)
	expire := make(chan time.Time)
	var waits []time.Duration
	var mu sync.Mutex
	h := NewHandler(HandlerOptions{After: func(d time.Duration) <-chan time.Time {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return expire
	}})
	// No maxQueueWaitMs, as in the Secret of an older server: the default applies.
	routeBlue(h, inference.DeploymentRouting{RequestTimeoutMS: 600_000, MaxConcurrentRequestsPerInstance: 1}, slow)
	ctx := t.Context()
	first := holdSlot(t, h, slow)

	second := score(ctx, h, 2)
	waitQueued(t, h, 1)
	expire <- time.Time{}
	r := receive(t, second, "the request whose wait expired")
	if r.status != 429 || !strings.Contains(r.body, "maxQueueWait of 500ms") {
		t.Fatalf("after maxQueueWait = %d %s, want 429 naming maxQueueWait", r.status, r.body)
	}
	mu.Lock()
	if len(waits) != 1 || waits[0] != 500*time.Millisecond {
		t.Fatalf("waits = %v, want one of the default 500ms", waits)
	}
	mu.Unlock()

	gone, leave := context.WithCancel(ctx)
	third := score(gone, h, 3)
	waitQueued(t, h, 1)
	leave()
	if r := receive(t, third, "the request whose client went away"); r.status != statusClientClosed {
		t.Fatalf("client gone = %d %s", r.status, r.body)
	}
	waitQueued(t, h, 0)

	finishFirst(t, h, gate, slow, first)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`mlfleet_endpoint_request_errors_total{deployment="blue",endpoint="ep",reason="too_many_requests"} 1`,
		`mlfleet_endpoint_request_errors_total{deployment="blue",endpoint="ep",reason="client_closed"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestQueueAndUpdates: a waiting request gets an instance the deployment gains, and one
// waiting for a deployment that goes away is routed again.
func TestQueueAndUpdates(t *testing.T) {
	gate := make(chan struct{})
	slow, spare := upstream(t, "slow", gate), upstream(t, "spare", nil)
	h := NewHandler(HandlerOptions{})
	routing := inference.DeploymentRouting{RequestTimeoutMS: 600_000, MaxConcurrentRequestsPerInstance: 1, MaxQueueWaitMS: new(60_000)}
	routeBlue(h, routing, slow)
	ctx := t.Context()
	first := holdSlot(t, h, slow)
	second := score(ctx, h, 2)
	waitQueued(t, h, 1)
	routeBlue(h, routing, slow, spare)
	if r := receive(t, second, "the request waiting during a scale-out"); r.status != 200 || !strings.Contains(r.body, `"spare"`) {
		t.Fatalf("after a scale-out = %d %s, want 200 from the new instance", r.status, r.body)
	}

	// Both instances busy: the next request waits, then its deployment goes away.
	routeBlue(h, routing, slow)
	third := score(ctx, h, 3)
	waitQueued(t, h, 1)
	h.Update([]EndpointState{{Config: keyConfig(map[string]int{"green": 100}, nil), Instances: map[string][]string{}}})
	if r := receive(t, third, "the request waiting for a deleted deployment"); r.status != 503 || !strings.Contains(r.body, `deployment \"green\"`) {
		t.Fatalf("after its deployment went away = %d %s, want 503 from the one now in traffic", r.status, r.body)
	}
	close(gate)
	receive(t, first, "the first request")
}

// TestQueueRace runs bursts over the limit, with clients leaving and updates of the table,
// under -race; every request ends, and no slot or waiter is left behind.
func TestQueueRace(t *testing.T) {
	a, b := upstream(t, "a", nil), upstream(t, "b", nil)
	h := NewHandler(HandlerOptions{})
	states := func(i int) []EndpointState {
		instances := []string{a, b}
		if i%3 == 0 {
			instances = instances[:1]
		}
		return []EndpointState{{Config: keyConfig(map[string]int{"blue": 100},
			map[string]inference.DeploymentRouting{"blue": {MaxConcurrentRequestsPerInstance: 1 + i%2, MaxQueueWaitMS: new(60_000)}}),
			Instances: map[string][]string{"blue": instances}}}
	}
	h.Update(states(1))
	raceWithUpdates(h, 12, 40, states, func(w, i int) {
		ctx, cancel := context.WithCancel(t.Context())
		c := score(ctx, h, i)
		if (w+i)%5 == 0 {
			cancel()
		}
		r := receive(t, c, "a request")
		cancel()
		if r.status != 200 && r.status != statusClientClosed && r.status != http.StatusBadGateway {
			t.Errorf("= %d %s", r.status, r.body)
		}
	})
	h.Update(states(1))
	if n := queued(h, "ep", "blue"); n != 0 {
		t.Errorf("%d requests still queued", n)
	}
	for _, addr := range []string{a, b} {
		if n := inflight(h, addr); n != 0 {
			t.Errorf("%d requests in flight on %s after all ended", n, addr)
		}
	}
}

// TestQueueClientGoesAway: over a real connection, a client that hangs up while its
// request waits takes it out of the queue at once, not at the end of maxQueueWait, and
// the slot that frees later goes to nobody.
func TestQueueClientGoesAway(t *testing.T) {
	gate := make(chan struct{})
	slow := upstream(t, "slow", gate)
	expire := make(chan time.Time)
	h := NewHandler(HandlerOptions{After: func(time.Duration) <-chan time.Time { return expire }})
	routeBlue(h, inference.DeploymentRouting{RequestTimeoutMS: 600_000, MaxConcurrentRequestsPerInstance: 1, MaxQueueWaitMS: new(300_000)}, slow)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// Should the test fail, the waits end before the server closes, which waits for them.
	t.Cleanup(func() { close(expire); close(gate) })
	first := holdSlot(t, h, slow)

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"n": 2}`
	fmt.Fprintf(conn, "POST /api/v1/endpoint/ep/score HTTP/1.1\r\nHost: router\r\nAuthorization: Bearer primary-key\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	waitQueued(t, h, 1)
	conn.Close()
	waitQueued(t, h, 0)

	finishFirst(t, h, gate, slow, first)
}
