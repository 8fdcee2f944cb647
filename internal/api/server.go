package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mlfleet/mlfleet/internal/activity"
	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/policy"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/throttle"
	"github.com/mlfleet/mlfleet/internal/ui"
	"github.com/mlfleet/mlfleet/internal/workspaces"
)

// Config wires the API to the services it serves.
type Config struct {
	Store      store.Store
	Auth       *auth.Authenticator
	Resources  *resources.Service
	Workspaces *workspaces.Service
	Clusters   *containerservice.Service
	Computes   *compute.Service
	Policies   *policy.Service
	// Blobs keeps uploaded model and code content, each workspace's apart; nil means
	// uploads are refused.
	Blobs *blobs.Uploads
	// Assets serves model, code and environment versions; nil means they are not served.
	Assets *mlassets.Service
	// Endpoints serves online endpoints and deployments; nil means they are not served.
	Endpoints *endpoints.Service
	// Limiter throttles requests per principal and subscription (429 with Retry-After);
	// nil means no limits.
	Limiter *throttle.Limiter
	// Activity records every write that passed authentication and serves the activity
	// log; nil means none is kept.
	Activity *activity.Log
	// PageSize is the number of items per list page; 0 means 100.
	PageSize int
	// ReplicaInterval is the replicas' heartbeat interval, which tells live replicas from
	// lost ones; 0 means replicas.DefaultInterval.
	ReplicaInterval time.Duration
	// Ready reports whether the server can take traffic (for /readyz); nil means always.
	Ready func(ctx context.Context) error
	// Registry receives the API's Prometheus metrics; nil means a new registry.
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// Server is the HTTP handler of the API.
type Server struct {
	cfg     Config
	router  router
	log     *slog.Logger
	metrics *metrics
	handler http.Handler
}

// New returns the API handler.
func New(cfg Config) *Server {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "api"), metrics: newMetrics(cfg.Registry)}
	s.routes()
	s.clusterRoutes()
	s.computeRoutes()
	s.policyRoutes()
	s.vmSizeRoutes()
	s.usageRoutes()
	s.locationRoutes()
	s.identityRoutes()
	s.activityRoutes()
	s.providerRoutes()
	s.unsupportedRoutes()
	s.mlUnsupportedRoutes()
	s.mlLocationRoutes()
	s.blobRoutes()
	s.assetRoutes()
	s.endpointRoutes()
	s.replicaRoutes()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	// The Studio page at exactly "/" and its assets; every other path is the ARM API.
	studio := ui.Handler()
	mux.Handle("GET /{$}", studio)
	mux.Handle("GET "+ui.Prefix, studio)
	// API paths never go through the mux: it cleans paths and redirects (307 keeps the
	// method), which would turn PUT …/computes/.. into a PUT on the workspace.
	s.handler = s.withRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if servedByMux(r.Method, r.URL.Path) {
			mux.ServeHTTP(w, r)
			return
		}
		if anonymous(r.Method, r.URL.Path) {
			s.serveAnonymous(w, r)
			return
		}
		s.serveAPI(w, r)
	}))
	return s
}

// servedByMux reports whether a request is for one of the few non-API pages, which are
// read with GET (or HEAD): health, metrics and the Studio page.
func servedByMux(method, path string) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	switch path {
	case "/", "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, ui.Prefix)
}

// withoutEmptyParent returns r with the one empty segment ARM accepts taken out of its
// path: az resource show|tag|delete --resource-type NS/TYPE, with no --parent, sends
// /providers/NS//TYPE/… (an empty parent resource path), which means /providers/NS/TYPE/….
// Only an empty segment right after /providers/{namespace}/ and followed by a type goes;
// checkPath refuses every other one.
func withoutEmptyParent(r *http.Request) *http.Request {
	segs := strings.Split(r.URL.EscapedPath(), "/")
	changed := false
	for i := 0; i+3 < len(segs); i++ {
		if strings.EqualFold(segs[i], "providers") && segs[i+1] != "" && segs[i+2] == "" && segs[i+3] != "" {
			segs = slices.Delete(segs, i+2, i+3)
			changed = true
		}
	}
	if !changed {
		return r
	}
	escaped := strings.Join(segs, "/")
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return r // checkPath answers it
	}
	u := *r.URL
	u.Path, u.RawPath = path, escaped
	r2 := *r
	r2.URL = &u
	return &r2
}

// checkPath refuses a path whose segments are not all names: "." or "..", an empty segment
// (//), or an encoded slash or backslash in a segment. Such a path must never reach the
// parent of the resource it names.
func checkPath(r *http.Request) error {
	raw := r.URL.EscapedPath()
	segs := strings.Split(strings.TrimPrefix(raw, "/"), "/")
	for i, seg := range segs {
		name, err := url.PathUnescape(seg)
		switch {
		case err != nil:
			return arm.BadRequest(arm.CodeInvalidResourceName, "Path segment %d ('%s') is not validly escaped.", i+1, seg)
		case name == "" && raw != "/":
			return arm.BadRequest(arm.CodeInvalidResourceName, "The path %s has an empty segment (// or a trailing /): every segment must be a name.", raw)
		case name == "." || name == "..":
			return arm.BadRequest(arm.CodeInvalidResourceName, "'%s' is not a valid resource name (path segment %d of %s): names cannot be '.' or '..'.", name, i+1, raw)
		case strings.ContainsAny(name, "/\\"):
			return arm.BadRequest(arm.CodeInvalidResourceName, "'%s' is not a valid resource name (path segment %d): names cannot contain '/' or '\\'. "+
				"A child resource's path names each level (…/workspaces/ws/computes/name): with az resource, use --ids, or --namespace NS --parent workspaces/ws --resource-type computes -n name.", name, i+1)
		}
	}
	return nil
}

// checkSubscription refuses a path under /subscriptions/{id} whose id is not a GUID with
// ARM's 400 InvalidSubscriptionId. It runs before authorization, as in ARM: az rest sends a
// placeholder it does not know ("{sub}") literally, and a 403 about the caller's role sent
// users looking at their roles instead of at the URL.
func checkSubscription(r *http.Request) error {
	segs := split(r.URL.Path)
	if len(segs) < 2 || !strings.EqualFold(segs[0], "subscriptions") || arm.IsSubscriptionID(segs[1]) {
		return nil
	}
	// /subscriptions/providers/… names no subscription at all (a role assignment's scope
	// of "/subscriptions"): the route or scope check says what is wrong with it.
	if len(segs) > 2 && strings.EqualFold(segs[1], "providers") {
		return nil
	}
	return arm.BadRequest(arm.CodeInvalidSubscriptionID, "%s; in az rest URLs write {subscriptionId}, which az replaces with the current subscription's id.",
		arm.InvalidSubscriptionIDMessage(segs[1]))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// readyz answers 503 with the reason while cfg.Ready fails (mlfleet serve checks that the
// store answers), so that a load balancer in front of several replicas sends no traffic
// to one that cannot serve. The check is bounded to 2 s, so that a store that hangs gives
// a prompt 503 rather than a probe that never ends.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			w.Header().Set("Retry-After", unavailableRetryAfter)
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	io.WriteString(w, "ok\n")
}

// withRequestID sets x-ms-request-id and x-ms-correlation-request-id (the client's, else
// the request id) on every response, echoes x-ms-client-request-id, and gives the request
// the server's logger, which writeError logs a 5xx with.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := uuid.NewString()
		w.Header().Set("x-ms-request-id", id)
		w.Header().Set(correlationHeader, correlationID(r, id))
		if id := r.Header.Get("x-ms-client-request-id"); id != "" {
			w.Header().Set("x-ms-client-request-id", id)
		}
		next.ServeHTTP(w, r.WithContext(withLogger(r.Context(), s.log)))
	})
}

// serveAPI authenticates, checks api-version, routes and records metrics for API calls.
//
// The order of the checks is part of the API's behaviour: authentication first (401
// before anything else, and only known callers get a throttle bucket), then the request
// limits (a throttled request is neither served nor written to the activity log), then the
// activity log (so that a refused write is recorded too), then the path's shape and its
// subscription id (a malformed one is a 400 whoever asks, as in ARM), the route, the method, the caller's permission and last the api-version (a caller without
// the permission gets its 403, not advice about the api-version).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = withoutTrailingSlash(withoutEmptyParent(r))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rt, p := s.router.match(r.URL.Path)
	// Metrics are labelled by the route's pattern, never the path: ids in paths would
	// give every resource its own time series.
	routeName := "unknown"
	if rt != nil {
		routeName = "/" + strings.Join(rt.segments, "/")
	}
	var act *activity.Request
	// A panicking handler becomes a 500 with the request id instead of a dropped
	// connection, and the request is still logged, measured and recorded.
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panicked", "panic", v, "path", r.URL.Path)
			writeError(rec, r, fmt.Errorf("panic: %v", v))
		}
		s.endActivity(r, act, rec)
		s.metrics.observe(r.Method, routeName, rec.status, time.Since(start))
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "took", time.Since(start),
			"requestId", w.Header().Get("x-ms-request-id"))
	}()
	w = rec

	principal, err := s.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mlfleet"`)
		writeError(w, r, err)
		return
	}
	r = r.WithContext(auth.WithPrincipal(r.Context(), principal))
	if !s.admit(w, r) {
		return
	}
	act, r = s.beginActivity(w, r, rt)
	// The path's shape is checked before anything reads names out of it: a ".." or an
	// encoded slash must not turn into another resource's path (a compute named ".." once
	// deleted its workspace).
	if err := checkPath(r); err != nil {
		writeError(w, r, err)
		return
	}
	if err := checkSubscription(r); err != nil {
		writeError(w, r, err)
		return
	}
	// Role assignments and definitions hang under a scope of any depth, which no fixed
	// route can match; they are recognised before the route table and authorize
	// themselves (serveAuthorization).
	if scope, kind, name, ok := authorizationPath(r.URL.Path); ok {
		s.serveAuthorization(w, r, scope, kind, name)
		return
	}
	// Tags and locks hang under any scope too (az tag --resource-id, az lock).
	if scope, ok := tagsPath(r.URL.Path); ok {
		s.serveTags(w, r, scope)
		return
	}
	if list, ok := locksPath(r.URL.Path); ok {
		s.serveLocks(w, r, list)
		return
	}
	if rt == nil {
		writeError(w, r, arm.NotFound(arm.CodeNotFound, "No API answers %s %s. Check the path against the ARM reference (e.g. /subscriptions/{id}/resourceGroups/{name}).", r.Method, r.URL.Path))
		return
	}
	h, ok := rt.methods[r.Method]
	if !ok {
		writeError(w, r, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The method %s is not supported on %s.", r.Method, r.URL.Path))
		return
	}
	if r, err = authorize(r, rt); err != nil {
		writeError(w, r, err)
		return
	}
	// /mlfleet/v1/… is mlfleet's own API (principals, tokens, replicas), not ARM's, and
	// its clients send no api-version.
	if !strings.HasPrefix(routeName, "/mlfleet/") {
		if err := checkAPIVersion(r); err != nil {
			writeError(w, r, err)
			return
		}
	}
	h(w, r, p)
}

// authenticate reads the bearer token of the Authorization header (the scheme in any
// case, as RFC 7235 allows) and returns its principal. A missing or malformed header is
// auth.ErrUnauthenticated; a wrong or expired token fails as auth.Authenticate says, and
// toARM gives each its own ARM code.
func (s *Server) authenticate(r *http.Request) (*auth.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, auth.ErrUnauthenticated
	}
	return s.cfg.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
}

var apiVersionPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha)?$`)

// checkAPIVersion requires an api-version of ARM's form on every ARM call (A2), with ARM's
// code MissingApiVersionParameter when there is none. Any well-formed version is taken:
// mlfleet serves one shape for all of them, and official clients each send their own
// (see the providers' version lists), so refusing unknown dates would only break clients.
func checkAPIVersion(r *http.Request) error {
	v := r.URL.Query().Get("api-version")
	if v == "" {
		return arm.BadRequest(arm.CodeMissingAPIVersion, "The api-version query parameter (?api-version=) is required for all requests, e.g. ?api-version=2024-04-01.")
	}
	if !apiVersionPattern.MatchString(v) {
		return arm.BadRequest(arm.CodeInvalidAPIVersion, "The api-version '%s' is invalid: it must look like YYYY-MM-DD or YYYY-MM-DD-preview.", v)
	}
	return nil
}

// baseURL is the scheme and host the client used, for the absolute URLs ARM requires in
// Azure-AsyncOperation, Location and nextLink (A4, A5): the request's Host, so that the
// links work behind whatever name or replica address the client reached.
func baseURL(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// statusRecorder remembers the status a handler wrote, for the metrics, the debug log and
// the activity log. It starts at 200 because a handler that writes a body without
// WriteHeader answers 200.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
