package api

import (
	"net/http"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Most resource handlers have one shape: read what the request says, call a service, answer
// its result or its error. The helpers here are that shape, so that a handler states only
// the call and which kind of answer it gives.

// servedIf wraps the handlers of a service the server may run without: when configured is
// false they answer that this server does not serve what.
func servedIf(configured bool, what string, h handlerFunc) handlerFunc {
	if configured {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, _ params) {
		writeError(w, r, notServed(what))
	}
}

// reply answers v with status, or err as an ARM error.
func reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// replyTagged answers a read resource with its ETag, or err.
func replyTagged(w http.ResponseWriter, r *http.Request, v any, etag string, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	setETag(w, etag)
	writeJSON(w, http.StatusOK, v)
}

// replyPage serves the page of a collection the request asks for ($skiptoken, $skip, $top):
// list reads it and returns the id of its last item when more follow, "" on the last page.
func replyPage[T any](s *Server, w http.ResponseWriter, r *http.Request, list func(resources.Page) ([]T, string, error)) {
	pg, err := s.page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, next, err := list(pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, items, next)
}

// servePut serves a conditional write, a PUT or a PATCH: it reads the
// If-Match/If-None-Match preconditions and decodes the body into an In, then answers what
// put wrote (replyWritten).
func servePut[In any](s *Server, w http.ResponseWriter, r *http.Request, namespace string, put func(In, arm.Preconditions) (written, error)) {
	in, pre, ok := decodeWrite[In](w, r)
	if !ok {
		return
	}
	res, err := put(in, pre)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.replyWritten(w, r, namespace, res)
}

// decodeWrite reads what every conditional write starts with: the If-Match/If-None-Match
// preconditions, then the body as an In. On a bad header or body it has answered the
// error, and ok is false.
func decodeWrite[In any](w http.ResponseWriter, r *http.Request) (in In, pre arm.Preconditions, ok bool) {
	pre, err := preconditions(r)
	if err == nil {
		err = decodeBody(r, &in)
	}
	if err != nil {
		writeError(w, r, err)
		return in, pre, false
	}
	return in, pre, true
}

// servePutNow serves a PUT done at once (no preconditions, no operation): it decodes the
// body into an In and answers what put wrote with the status statusOf gives for whether
// put created the resource: each ARM operation lists its own success statuses, and the
// generated clients refuse any other (createdStatus, putOK, putCreated).
func servePutNow[In, Out any](w http.ResponseWriter, r *http.Request, statusOf func(created bool) int, put func(In) (Out, bool, error)) {
	var in In
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	v, created, err := put(in)
	reply(w, r, statusOf(created), v, err)
}

// written is what a PUT made: the resource, its ETag, whether it is new, and the operation
// that finishes it, if one runs.
type written struct {
	Value     any
	ETag      string
	Created   bool
	Operation *store.Operation
}

// replyWritten answers a PUT: Azure-AsyncOperation while its operation runs, the ETag, and
// 201 when it created the resource (200 when it changed one). The body is the resource as
// written, provisioningState non-terminal while the operation runs (A4); clients poll the
// operation, then GET the resource for its final state.
func (s *Server) replyWritten(w http.ResponseWriter, r *http.Request, namespace string, res written) {
	if res.Operation != nil {
		s.setAsyncHeaders(w, r, res.Operation, namespace)
	}
	setETag(w, res.ETag)
	writeJSON(w, createdStatus(res.Created), res.Value)
}

// serveDelete serves a DELETE that honours If-Match: it reads the preconditions and answers
// what del started.
func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request, namespace string, del func(arm.Preconditions) (*store.Operation, error)) {
	pre, err := preconditions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	op, err := del(pre)
	s.replyDeleted(w, r, namespace, op, err)
}

// replyDeleted answers a DELETE: 204 when nothing is left to do, 202 with the operation's
// URLs while one deletes, or err.
func (s *Server) replyDeleted(w http.ResponseWriter, r *http.Request, namespace string, op *store.Operation, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	if op == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.accepted(w, r, op, namespace)
}

// replyRemoved answers a DELETE done at once: 200 when the resource existed, 204 when there
// was none, or err. A missing resource is not a 404: ARM's DELETE is idempotent, so a
// retried delete succeeds.
func replyRemoved(w http.ResponseWriter, r *http.Request, existed bool, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !existed {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusOK)
}
