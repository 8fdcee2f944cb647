package api

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	io.WriteString(w, "ok\n")
}

// withRequestID sets x-ms-request-id and x-ms-correlation-request-id (the client's, else
// the request id) on every response and echoes x-ms-client-request-id.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := uuid.NewString()
		w.Header().Set("x-ms-request-id", id)
		w.Header().Set(correlationHeader, correlationID(r, id))
		if id := r.Header.Get("x-ms-client-request-id"); id != "" {
			w.Header().Set("x-ms-client-request-id", id)
		}
		next.ServeHTTP(w, r)
	})
}

// serveAPI authenticates, checks api-version, routes and records metrics for API calls.
//
// The order of the checks is part of the API's behaviour: authentication first (401
// before anything else, and only known callers get a throttle bucket), then the request
// limits (a throttled request is neither served nor written to the activity log), then the
// activity log (so that a refused write is recorded too), then the path's shape, the
// route, the method, the caller's permission and last the api-version (a caller without
// the permission gets its 403, not advice about the api-version).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = withoutEmptyParent(r)
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
	// Role assignments and definitions hang under a scope of any depth, which no fixed
	// route can match; they are recognised before the route table and authorize
	// themselves (serveAuthorization).
	if scope, kind, name, ok := authorizationPath(r.URL.Path); ok {
		s.serveAuthorization(w, r, scope, kind, name)
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
// the same 401 as a wrong or expired token.
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

// decodeBody reads a JSON request body into v, answering bad input with 400
// InvalidRequestContent that says what is wrong and where: bad input is never a 500 (A3).
// Unknown fields are ignored: clients of newer api-versions send properties mlfleet does
// not know.
func decodeBody(r *http.Request, v any) error {
	// One byte past the limit tells a body of exactly 4 MiB from a larger one without
	// reading the rest of an oversized upload.
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20+1))
	if err != nil {
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request body could not be read: %v", err)
	}
	if len(body) > 4<<20 {
		return arm.Errorf(http.StatusRequestEntityTooLarge, arm.CodeInvalidRequestContent, "The request body is larger than 4 MiB.")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request body is empty; send a JSON object.")
	}
	// The decoder's own errors name Go types and struct paths; each case below says the
	// same in JSON's terms and names the property, which goes into the error's target.
	err = json.Unmarshal(body, v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		// ARM checks a resource's tags before its provider sees the body, whatever the
		// type; a tags that is not an object of strings was the typed decode's to refuse.
		var envelope struct {
			Tags map[string]string `json:"tags"`
		}
		if json.Unmarshal(body, &envelope) != nil {
			return nil
		}
		return arm.CheckTags(envelope.Tags)
	case errors.As(err, &syn):
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content is not valid JSON: %v (at byte %d).", syn, syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content must be a JSON object, not a %s.", typ.Value)
		}
		if lo, hi, ok := integerRange(typ.Type); ok {
			return arm.BadRequest(arm.CodeInvalidRequestContent, "The property '%s' must be an integer%s.", field, notInteger(typ.Value, lo, hi)).WithTarget(field)
		}
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The property '%s' must be of type %s, not %s.", field, jsonType(typ.Type.Kind().String()), typ.Value).WithTarget(field)
	default:
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content is not valid JSON: %v.", err)
	}
}

// integerRange returns the smallest and largest values of t when it is an integer type.
func integerRange(t reflect.Type) (lo, hi string, ok bool) {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		top := int64(math.MaxInt64) >> (64 - t.Bits())
		return strconv.FormatInt(-top-1, 10), strconv.FormatInt(top, 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "0", strconv.FormatUint(uint64(math.MaxUint64)>>(64-t.Bits()), 10), true
	}
	return "", "", false
}

// notInteger ends the message for value (as a json.UnmarshalTypeError spells it: "number
// 3.5", "string") given where an integer from lo to hi was expected: the number itself,
// not "number 3.5", and the range when the number is a whole one that does not fit.
func notInteger(value, lo, hi string) string {
	num, ok := strings.CutPrefix(value, "number ")
	switch {
	case !ok && value == "bool":
		return ", not a boolean"
	case !ok && (value == "object" || value == "array"):
		return ", not an " + value
	case !ok:
		return ", not a " + value
	case strings.ContainsAny(num, ".eE"):
		return ", not " + num
	default:
		return fmt.Sprintf(" from %s to %s, not %s", lo, hi, num)
	}
}

// jsonType names the JSON type a field of Go kind kind expects, for decodeBody's
// messages: a client sent JSON and should not read Go's "ptr" or "map".
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "ptr":
		return "object"
	default:
		return "number"
	}
}

// page reads where a list request's page starts and how long it is: $skiptoken (the
// nextLink's continuation, which ARM also spells $skipToken), $skip and $top. $top can only
// shrink a page below the server's page size, never grow it, so one request cannot ask for
// a whole large table. Within carries the caller's readable scopes, so that a caller with
// roles on some resource groups only pages through what it may read.
func (s *Server) page(r *http.Request) (resources.Page, error) {
	p := resources.Page{Top: s.cfg.PageSize, Within: readableWithin(r.Context())}
	q := r.URL.Query()
	if v := cmp.Or(q.Get("$skiptoken"), q.Get("$skipToken")); v != "" {
		after, err := decodeSkipToken(v)
		if err != nil {
			return p, err
		}
		p.After = after
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, arm.BadRequest(arm.CodeInvalidRequestContent, "The $skip parameter must be a non-negative integer, not '%s'.", v).WithTarget("$skip")
		}
		p.Skip = n
	}
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return p, arm.BadRequest(arm.CodeInvalidRequestContent, "The $top parameter must be a positive integer, not '%s'.", v).WithTarget("$top")
		}
		p.Top = min(n, p.Top)
	}
	return p, nil
}

// encodeSkipToken is the $skiptoken of the page after the item with id last. A page
// continues after its last item's id, not at a count of items, so that items deleted or
// added before it do not shift the next page (an offset would skip or repeat items). The
// token is opaque to clients, as ARM's are: they follow the nextLink as given.
func encodeSkipToken(last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(last))
}

// decodeSkipToken reads a $skiptoken of encodeSkipToken back into the id the page starts
// after; one this server could not have issued is a 400.
func decodeSkipToken(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !utf8.Valid(b) || !strings.HasPrefix(strings.ToLower(string(b)), "/subscriptions/") {
		return "", arm.BadRequest(arm.CodeInvalidRequestContent, "The $skiptoken '%s' is not one this server issued; follow the nextLink as given.", token).WithTarget("$skiptoken")
	}
	return string(b), nil
}

// listBody is an ARM list page. NextLink is omitted on the last page.
type listBody struct {
	Value    any    `json:"value"`
	NextLink string `json:"nextLink,omitempty"`
}

// writePage serves one list page, with a nextLink to the next one when next, the id of the
// page's last item, is not "". The nextLink continues by $skiptoken alone: a $skip of this
// request was spent on this page.
func writePage(w http.ResponseWriter, r *http.Request, items any, next string) {
	body := listBody{Value: items}
	if next != "" {
		body.NextLink = nextLink(r, func(q url.Values) {
			q.Del("$skip")
			q.Del("$skipToken")
			q.Set("$skiptoken", encodeSkipToken(next))
		})
	}
	writeJSON(w, http.StatusOK, body)
}

// nextLink returns the absolute URL of the request r with its query changed by edit: the
// link to the next page of a list.
func nextLink(r *http.Request, edit func(q url.Values)) string {
	u := *r.URL
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	return baseURL(r) + u.RequestURI()
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
