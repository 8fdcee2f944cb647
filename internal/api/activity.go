package api

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/activity"
	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
)

func (s *Server) activityRoutes() {
	s.router.handle(http.MethodGet, subPath+"/providers/Microsoft.Insights/eventtypes/management/values", s.listActivity)
}

// correlationHeader ties the events of one client call together; a client may send its
// own, else the request id serves.
const correlationHeader = "x-ms-correlation-request-id"

// correlationID returns the request's correlation id: the client's, when it is a sane
// token, else the request id. The client's value is echoed in a header and stored in the
// activity log, where others filter by it, so anything longer than 128 characters or
// outside [A-Za-z0-9-_.:] is replaced rather than kept.
func correlationID(r *http.Request, requestID string) string {
	v := r.Header.Get(correlationHeader)
	if v == "" || len(v) > 128 || strings.IndexFunc(v, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c))
	}) >= 0 {
		return requestID
	}
	return v
}

// beginActivity starts the activity log record of a request that passed authentication
// and the request limits (writes only), and returns the request to serve, whose context
// makes the operations it submits record their end too.
func (s *Server) beginActivity(w http.ResponseWriter, r *http.Request, rt *route) (*activity.Request, *http.Request) {
	if s.cfg.Activity == nil {
		return nil, r
	}
	// The caller's address as the connection shows it; forwarded headers are not read,
	// since any client could set them.
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	act, ctx := s.cfg.Activity.Begin(r.Context(), r.Method, canonicalPath(r.URL.Path, rt), auth.PrincipalFrom(r.Context()).Name,
		w.Header().Get(correlationHeader), r.Header.Get("x-ms-client-request-id"), ip)
	return act, r.WithContext(ctx)
}

// endActivity records the answer of a request begun with beginActivity.
func (s *Server) endActivity(r *http.Request, act *activity.Request, rec *statusRecorder) {
	if act != nil {
		s.cfg.Activity.End(r.Context(), act, rec.status, rec.Header())
	}
}

// canonicalPath spells the literal segments of path as the route does, so that the
// activity log's operation names do not depend on the case a client used.
func canonicalPath(path string, rt *route) string {
	if rt == nil {
		return path
	}
	segs := split(path)
	if len(segs) != len(rt.segments) {
		return path
	}
	for i, lit := range rt.segments {
		if !strings.HasPrefix(lit, "{") {
			segs[i] = lit
		}
	}
	return "/" + strings.Join(segs, "/")
}

// listActivity serves the activity log of a subscription, as ARM's Microsoft.Insights
// activity logs API does.
func (s *Server) listActivity(w http.ResponseWriter, r *http.Request, p params) {
	if s.cfg.Activity == nil {
		writeError(w, r, arm.NotFound(arm.CodeNotFound, "This server keeps no activity log."))
		return
	}
	// A missing subscription is a 404, not an empty log.
	if _, err := s.cfg.Resources.GetSubscription(r.Context(), p["sub"]); err != nil {
		writeError(w, r, err)
		return
	}
	values := r.URL.Query()
	q, err := activity.ParseFilter(values.Get("$filter"), time.Now().UTC(), s.cfg.Activity.Retention())
	if err != nil {
		writeError(w, r, err)
		return
	}
	fields, err := activity.ParseSelect(values.Get("$select"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Clients spell the continuation both ways; the nextLink below uses $skiptoken only.
	skip := values.Get("$skiptoken")
	if skip == "" {
		skip = values.Get("$skipToken")
	}
	page, next, err := s.cfg.Activity.List(r.Context(), p["sub"], q, activity.ListOptions{Select: fields, SkipToken: skip, PageSize: s.cfg.PageSize,
		Within: readableWithin(r.Context())})
	if err != nil {
		writeError(w, r, err)
		return
	}
	body := listBody{Value: page}
	if next != "" {
		body.NextLink = nextLink(r, func(q url.Values) {
			q.Del("$skipToken")
			q.Set("$skiptoken", next)
		})
	}
	writeJSON(w, http.StatusOK, body)
}
