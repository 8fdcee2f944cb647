package router

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mlfleet/mlfleet/internal/inference"
)

// maxBody caps a scoring request's body.
const maxBody = 100 << 20

// EndpointState is an endpoint as the router routes it: its configuration and the
// addresses (host:port) of the Ready instances of each deployment.
type EndpointState struct {
	Config    *inference.EndpointConfig
	Instances map[string][]string
}

// Handler routes scoring requests. Its methods are safe for concurrent use.
type Handler struct {
	log     *slog.Logger
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time
	client  *http.Client
	mux     *http.ServeMux
	metrics *metrics

	mu        sync.Mutex
	endpoints map[string]*endpoint
	instances map[string]*instance // by address, kept across updates with their load
}

type endpoint struct {
	cfg         *inference.EndpointConfig
	tokenKey    *ecdsa.PublicKey
	keyErr      error
	deployments map[string]*deployment
	order       []string       // deployment names, sorted, for a stable weighted order
	current     map[string]int // smooth weighted round-robin state
	mirrored    map[string]int // requests seen per mirrored deployment, for its percent
	seen        int
}

type deployment struct {
	routing   inference.DeploymentRouting
	instances []*instance
	next      int
	queue     *queue // kept across updates while the deployment stays
}

type instance struct {
	addr     string
	inflight atomic.Int32
	// queues are those of the deployments the instance serves (one, unless two list the
	// same address): a slot it frees goes to their first waiting request. Under Handler.mu.
	queues []*queue
}

// HandlerOptions tunes a Handler; the zero value is fine.
type HandlerOptions struct {
	// Logger receives the router's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock tokens are checked against; nil means time.Now.
	Now func() time.Time
	// Transport reaches the instances; nil means a keep-alive transport of its own.
	Transport http.RoundTripper
	// After times a request waiting for a free instance: its channel receives once the
	// deployment's maxQueueWait has passed. nil means time.After.
	After func(time.Duration) <-chan time.Time
}

// NewHandler returns a Handler with no endpoints.
func NewHandler(o HandlerOptions) *Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Transport == nil {
		o.Transport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	}
	h := &Handler{log: o.Logger, now: o.Now, after: o.After, client: &http.Client{Transport: o.Transport},
		metrics: newMetrics(), endpoints: map[string]*endpoint{}, instances: map[string]*instance{}}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("POST /api/v1/endpoint/{endpoint}/score", h.score)
	h.mux.HandleFunc("GET /api/v1/endpoint/{endpoint}/swagger.json", h.swagger)
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(h.metrics.registry, promhttp.HandlerOpts{}))
	h.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "mlfleet inference router\n") })
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Update replaces the endpoints the handler routes. Instances that stay keep their count
// of requests in flight; an endpoint whose weights stay keeps its place in the rotation.
// Requests waiting for a deployment that stays keep their place in its queue and get the
// slots of instances it gains; those waiting for a deployment that is gone are routed
// again.
func (h *Handler) Update(states []EndpointState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	endpoints := make(map[string]*endpoint, len(states))
	instances := map[string]*instance{}
	for _, in := range h.instances {
		in.queues = nil
	}
	for _, st := range states {
		cfg := st.Config
		ep := &endpoint{cfg: cfg, deployments: map[string]*deployment{}, current: map[string]int{}, mirrored: map[string]int{}}
		if cfg.AuthMode == inference.AuthAMLToken {
			ep.tokenKey, ep.keyErr = parseTokenKey(cfg.TokenKeyPEM)
		}
		names := map[string]bool{}
		for d := range cfg.Deployments {
			names[d] = true
		}
		for d := range cfg.Traffic {
			names[d] = true
		}
		for d := range st.Instances {
			names[d] = true
		}
		ep.order = slices.Sorted(maps.Keys(names))
		old := h.endpoints[cfg.Name]
		for _, d := range ep.order {
			dep := &deployment{routing: cfg.Deployments[d], queue: &queue{}}
			if old != nil && old.deployments[d] != nil {
				dep.next, dep.queue = old.deployments[d].next, old.deployments[d].queue
			}
			dep.queue.limit = int32(dep.routing.Concurrency())
			for _, addr := range st.Instances[d] {
				in := h.instances[addr]
				if in == nil {
					in = instances[addr]
				}
				if in == nil {
					in = &instance{addr: addr}
				}
				instances[addr] = in
				in.queues = append(in.queues, dep.queue)
				dep.instances = append(dep.instances, in)
			}
			ep.deployments[d] = dep
		}
		if old != nil && maps.Equal(old.cfg.Traffic, cfg.Traffic) {
			ep.current, ep.mirrored, ep.seen = old.current, old.mirrored, old.seen
		}
		endpoints[cfg.Name] = ep
	}
	for name, old := range h.endpoints {
		for d, dep := range old.deployments {
			if ep := endpoints[name]; ep == nil || ep.deployments[d] == nil {
				dep.queue.abandon()
			}
		}
	}
	for _, ep := range endpoints {
		for _, dep := range ep.deployments {
			dep.queue.fill(dep.instances)
		}
	}
	h.endpoints, h.instances = endpoints, instances
}

// routeError is a request the router answers itself.
type routeError struct {
	status     int
	deployment string
	reason     string // metrics label
	msg        string
}

func (e *routeError) Error() string { return e.msg }

// pick chooses the deployment and instance for a request to ep and reserves a slot on
// the instance; when every instance is busy it queues the request instead, if the
// deployment lets requests wait.
func (h *Handler) pick(epName, pinned, auth string) (a admission, err *routeError) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ep := h.endpoints[epName]
	if ep == nil {
		return a, &routeError{http.StatusNotFound, "", "endpoint_not_found", fmt.Sprintf("endpoint %q does not exist on this cluster", epName)}
	}
	if e := ep.authorize(auth, epName, h.now()); e != nil {
		return a, e
	}
	if pinned != "" {
		pinned = nameIn(ep.deployments, pinned)
		if _, ok := ep.deployments[pinned]; !ok {
			return a, &routeError{http.StatusNotFound, "", "deployment_not_found",
				fmt.Sprintf("deployment %q does not exist in endpoint %q (header %s)", pinned, epName, inference.HeaderDeployment)}
		}
		a.dep = pinned
	} else if a.dep = ep.weighted(); a.dep == "" {
		return a, &routeError{http.StatusServiceUnavailable, "", "no_traffic",
			fmt.Sprintf("endpoint %q sends no traffic to any deployment: set its traffic, or name a deployment in the header %s", epName, inference.HeaderDeployment)}
	}
	d := ep.deployments[a.dep]
	a.routing = d.routing
	if len(d.instances) == 0 {
		where := ""
		if c := a.routing.Compute; c != "" {
			where = fmt.Sprintf(" on this scoring URI's cluster (it runs on compute %q: the scoring URI reaches the compute that gets the endpoint's traffic)", c)
		}
		return a, &routeError{http.StatusServiceUnavailable, a.dep, "no_ready_instance",
			fmt.Sprintf("deployment %q of endpoint %q has no ready instance%s; see its logs (get-logs)", a.dep, epName, where)}
	}
	limit := int32(a.routing.Concurrency())
	// Waiting requests come first. Slots are handed to them as they free up, so a free
	// slot while some wait is rare (two deployments listing one address); fill gives it.
	d.queue.fill(d.instances)
	if len(d.queue.waiters) == 0 {
		for i := range d.instances {
			c := d.instances[(d.next+i)%len(d.instances)]
			if c.inflight.Load() < limit {
				c.inflight.Add(1)
				d.next = (d.next + i + 1) % len(d.instances)
				a.in = c
				break
			}
		}
	}
	if a.in == nil {
		if a.routing.QueueWait() <= 0 || len(d.queue.waiters) >= maxQueued {
			return a, &routeError{http.StatusTooManyRequests, a.dep, "too_many_requests",
				fmt.Sprintf("all %d instances of deployment %q are serving their maxConcurrentRequestsPerInstance (%d) and %d requests wait for them; retry later or scale out",
					len(d.instances), a.dep, limit, len(d.queue.waiters))}
		}
		a.queue, a.wait = d.queue, &waiter{ready: make(chan struct{})}
		d.queue.waiters = append(d.queue.waiters, a.wait)
	}
	if pinned == "" {
		a.mirrors = ep.mirrors()
	}
	return a, nil
}

// authorize checks the bearer token of a request to the endpoint.
func (ep *endpoint) authorize(auth, name string, now time.Time) *routeError {
	token := bearer(auth)
	deny := func(why string) *routeError {
		return &routeError{http.StatusUnauthorized, "", "unauthorized", fmt.Sprintf("endpoint %q: %s", name, why)}
	}
	if token == "" {
		return deny("no credentials: send Authorization: Bearer <key or token> (az ml online-endpoint get-credentials)")
	}
	switch ep.cfg.AuthMode {
	case inference.AuthKey:
		if !checkKey(token, ep.cfg.Keys) {
			return deny("the key is not one of the endpoint's keys")
		}
	case inference.AuthAMLToken:
		if ep.keyErr != nil {
			return deny(ep.keyErr.Error())
		}
		if err := checkToken(token, ep.tokenKey, name, ep.cfg.ID, now); err != nil {
			return deny("invalid token: " + err.Error())
		}
	default:
		return deny(fmt.Sprintf("unknown auth mode %q", ep.cfg.AuthMode))
	}
	return nil
}

// weighted picks a deployment by the traffic weights, smooth weighted round robin: over
// any 100 requests each deployment gets exactly its percent. "" when no weight is set.
func (ep *endpoint) weighted() string {
	total, best := 0, ""
	for _, d := range ep.order {
		w := ep.cfg.Traffic[d]
		if w <= 0 {
			continue
		}
		ep.current[d] += w
		total += w
		if best == "" || ep.current[d] > ep.current[best] {
			best = d
		}
	}
	if best != "" {
		ep.current[best] -= total
	}
	return best
}

// mirrors returns the deployments this request is copied to, after mirrorTraffic.
func (ep *endpoint) mirrors() []string {
	if len(ep.cfg.MirrorTraffic) == 0 {
		return nil
	}
	ep.seen++
	var out []string
	for _, d := range ep.order {
		pct := ep.cfg.MirrorTraffic[d]
		if pct <= 0 || ep.deployments[d] == nil {
			continue
		}
		// Copy when the running share falls behind the percent.
		if ep.mirrored[d]*100 < ep.seen*pct {
			ep.mirrored[d]++
			out = append(out, d)
		}
	}
	return out
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (h *Handler) score(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	epName := h.endpointName(r.PathValue("endpoint"))
	var body []byte
	var bodyErr error
	read := false
	readBody := func() error {
		if !read {
			read = true
			body, bodyErr = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		}
		return bodyErr
	}
	a, rerr := h.admit(r.Context(), epName, r.Header.Get(inference.HeaderDeployment), r.Header.Get("Authorization"), readBody)
	if rerr == nil && readBody() != nil {
		h.release(a.in)
		rerr = bodyError(a.dep, bodyErr)
	}
	if rerr != nil {
		label := epName
		if rerr.status == http.StatusNotFound && rerr.deployment == "" && rerr.reason == "endpoint_not_found" {
			label = "" // names that callers make up do not become series
		}
		h.metrics.observe(label, rerr.deployment, rerr.status, rerr.reason, time.Since(start))
		if rerr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mlfleet-endpoint"`)
		}
		writeError(w, rerr.status, rerr.msg)
		return
	}
	dep, in, routing, mirrors := a.dep, a.in, a.routing, a.mirrors
	defer h.release(in)
	w.Header().Set(inference.HeaderDeployment, dep)
	for _, m := range mirrors {
		go h.mirror(epName, m, r.Header.Get("Content-Type"), body)
	}
	ctx, cancel := context.WithTimeout(r.Context(), routing.Timeout())
	defer cancel()
	resp, err := h.forward(ctx, in.addr, r.Header.Get("Content-Type"), body)
	if err != nil {
		status, reason, msg := http.StatusBadGateway, "upstream_error", fmt.Sprintf("deployment %q: instance %s: %v", dep, in.addr, err)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			status, reason = http.StatusGatewayTimeout, "timeout"
			msg = fmt.Sprintf("deployment %q did not answer within its request timeout of %v (requestSettings.requestTimeout)", dep, routing.Timeout())
		}
		h.metrics.observe(epName, dep, status, reason, time.Since(start))
		writeError(w, status, msg)
		return
	}
	defer resp.Body.Close()
	for _, k := range []string{"Content-Type", "Content-Length"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, copyErr := io.Copy(w, resp.Body)
	reason := ""
	if resp.StatusCode >= 500 {
		reason = "instance_error"
	}
	if copyErr != nil {
		reason = "upstream_error"
	}
	h.metrics.observe(epName, dep, resp.StatusCode, reason, time.Since(start))
}

// swagger describes the endpoint's scoring API (OpenAPI 2.0), for the endpoint's
// swaggerUri; it asks for the same credentials as scoring.
func (h *Handler) swagger(w http.ResponseWriter, r *http.Request) {
	name := h.endpointName(r.PathValue("endpoint"))
	h.mu.Lock()
	ep := h.endpoints[name]
	var rerr *routeError
	if ep == nil {
		rerr = &routeError{status: http.StatusNotFound, msg: fmt.Sprintf("endpoint %q does not exist on this cluster", name)}
	} else {
		rerr = ep.authorize(r.Header.Get("Authorization"), name, h.now())
	}
	h.mu.Unlock()
	if rerr != nil {
		writeError(w, rerr.status, rerr.msg)
		return
	}
	doc := map[string]any{
		"swagger": "2.0",
		"info":    map[string]string{"title": name, "description": "Online endpoint " + name + " served by mlfleet", "version": "1.0"},
		"schemes": []string{"http", "https"}, "consumes": []string{"application/json"}, "produces": []string{"application/json"},
		"securityDefinitions": map[string]any{"Bearer": map[string]string{"type": "apiKey", "name": "Authorization", "in": "header",
			"description": "Bearer followed by the endpoint's key or token"}},
		"paths": map[string]any{"/api/v1/endpoint/" + name + "/score": map[string]any{"post": map[string]any{
			"description": "Runs the scoring script's run() on the request body",
			"security":    []map[string][]string{{"Bearer": {}}},
			"parameters": []map[string]any{
				{"name": "body", "in": "body", "required": true, "schema": map[string]string{"type": "object"}},
				{"name": inference.HeaderDeployment, "in": "header", "type": "string", "required": false,
					"description": "Pins the request to a deployment instead of the traffic split"},
			},
			"responses": map[string]any{"200": map[string]string{"description": "What run() returned, as JSON"}},
		}}},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// forward posts body to an instance's /score.
func (h *Handler) forward(ctx context.Context, addr, contentType string, body []byte) (*http.Response, error) {
	req, err := inference.NewScoreRequest(ctx, addr, contentType, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(body))
	return h.client.Do(req)
}

// mirror copies a request to a deployment and drops the answer, as mirrorTraffic does;
// a busy or missing deployment is skipped.
func (h *Handler) mirror(epName, dep, contentType string, body []byte) {
	h.mu.Lock()
	var in *instance
	var routing inference.DeploymentRouting
	if ep := h.endpoints[epName]; ep != nil && ep.deployments[dep] != nil {
		d := ep.deployments[dep]
		routing = d.routing
		for _, c := range d.instances {
			if c.inflight.Load() < int32(routing.Concurrency()) {
				c.inflight.Add(1)
				in = c
				break
			}
		}
	}
	h.mu.Unlock()
	if in == nil {
		return
	}
	defer h.release(in)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), routing.Timeout())
	defer cancel()
	resp, err := h.forward(ctx, in.addr, contentType, body)
	if err != nil {
		h.metrics.observe(epName, dep, http.StatusBadGateway, "mirror_error", time.Since(start))
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	h.metrics.observe(epName, dep, resp.StatusCode, "", time.Since(start))
}
