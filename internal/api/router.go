package api

import (
	"net/http"
	"strings"
)

// params holds the {name} segments a route matched.
type params map[string]string

// handlerFunc is an API handler: what serveAPI calls once the request is authenticated,
// authorized and its route matched.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p params)

type route struct {
	segments []string // literal (matched case-insensitively) or {name}
	methods  map[string]handlerFunc
	// selfAuthorized marks routes whose handler checks what the caller may do (operation
	// status, tokens, principals) instead of serveAPI's check of the route's action.
	selfAuthorized bool
}

// router matches ARM paths. Literal segments match case-insensitively, as ARM does.
// It is a list scanned in registration order, the first match winning, rather than
// net/http's ServeMux, which cleans paths and redirects (see New) and matches literals by
// case.
type router struct {
	routes []*route
}

// handle adds h for method on pattern and returns the route, so that the caller can mark
// it selfAuthorized. Patterns that differ only in case are one route with several methods.
func (rt *router) handle(method, pattern string, h handlerFunc) *route {
	segs := split(pattern)
	for _, r := range rt.routes {
		if equalPattern(r.segments, segs) {
			r.methods[method] = h
			return r
		}
	}
	r := &route{segments: segs, methods: map[string]handlerFunc{method: h}}
	rt.routes = append(rt.routes, r)
	return r
}

// resourceHandlers serve one ARM resource at its own path: PUT creates or replaces it,
// PATCH changes what it sends, GET reads it, HEAD says whether it exists (az … exists) and
// DELETE removes it.
type resourceHandlers struct {
	put, patch, get, head, delete handlerFunc
}

// resource adds h for the five methods of the resource at pattern, so that every resource
// answers them all, HEAD included.
func (rt *router) resource(pattern string, h resourceHandlers) {
	rt.handle(http.MethodPut, pattern, h.put)
	rt.handle(http.MethodPatch, pattern, h.patch)
	rt.handle(http.MethodGet, pattern, h.get)
	rt.handle(http.MethodHead, pattern, h.head)
	rt.handle(http.MethodDelete, pattern, h.delete)
}

// match returns the route for path and its parameters, or nil.
func (rt *router) match(path string) (*route, params) {
	segs := split(path)
	for _, r := range rt.routes {
		if len(r.segments) != len(segs) {
			continue
		}
		p := params{}
		ok := true
		for i, s := range r.segments {
			if strings.HasPrefix(s, "{") {
				// An empty name (//) never matches a parameter: it would name the parent.
				if segs[i] == "" {
					ok = false
					break
				}
				p[strings.Trim(s, "{}")] = segs[i]
			} else if !strings.EqualFold(s, segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return r, p
		}
	}
	return nil, nil
}

func split(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

func equalPattern(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Route is one method and path pattern the API serves, e.g. GET
// /subscriptions/{sub}/resourceGroups/{rg}.
type Route struct {
	Method  string
	Pattern string
}

// Routes lists every route of the API (not the role assignment paths, whose scope has any
// depth, nor the token endpoint), for tests that try each one.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.router.routes {
		for m := range r.methods {
			out = append(out, Route{Method: m, Pattern: "/" + strings.Join(r.segments, "/")})
		}
	}
	return out
}
