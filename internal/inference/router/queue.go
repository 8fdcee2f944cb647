package router

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/mlfleet/mlfleet/internal/inference"
)

// A request over a deployment's concurrency (its instances times
// maxConcurrentRequestsPerInstance) waits here, first come first served, up to the
// deployment's maxQueueWait, as Azure's front end does: a slot given back goes straight to
// the first waiter (release), an update that adds instances or raises the limit fills the
// queue, and one that removes the deployment sends its waiters to be routed again.

// maxQueued bounds the requests that wait for a free instance of one deployment; more
// are refused at once, whatever the deployment's maxQueueWait.
const maxQueued = 1000

// queue holds, first come first served, the requests waiting for a free instance of a
// deployment. Under Handler.mu.
type queue struct {
	limit   int32 // the deployment's maxConcurrentRequestsPerInstance
	waiters []*waiter
}

// waiter is a request in a queue. ready is closed once the request has a slot (in), or
// once its deployment is gone (in stays nil) and it should be routed again.
type waiter struct {
	ready chan struct{}
	in    *instance
}

// give hands in's slot, already counted in its inflight, to the first waiter.
func (q *queue) give(in *instance) {
	w := q.waiters[0]
	q.waiters[0] = nil
	q.waiters = q.waiters[1:]
	w.in = in
	close(w.ready)
}

// remove takes w out of the queue if it is still there.
func (q *queue) remove(w *waiter) {
	if i := slices.Index(q.waiters, w); i >= 0 {
		q.waiters = slices.Delete(q.waiters, i, i+1)
	}
}

// fill gives the free slots of a deployment's instances to its waiters, after an
// update added instances or raised the limit.
func (q *queue) fill(instances []*instance) {
	for _, in := range instances {
		for len(q.waiters) > 0 && in.inflight.Load() < q.limit {
			in.inflight.Add(1)
			q.give(in)
		}
	}
}

// abandon wakes every waiter of a deployment that is gone, to be routed again.
func (q *queue) abandon() {
	for _, w := range q.waiters {
		close(w.ready)
	}
	q.waiters = nil
}

// release gives back a slot of in: to the first request waiting for one of its
// deployments, else to the instance.
func (h *Handler) release(in *instance) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, q := range in.queues {
		// The slot is still counted; handing it over keeps the count, which must then
		// be within the limit (an update may have lowered it).
		if len(q.waiters) > 0 && in.inflight.Load() <= q.limit {
			q.give(in)
			return
		}
	}
	in.inflight.Add(-1)
}

// admission is where a request goes: its deployment and, once it has one, a slot on one
// of the deployment's instances, which it gives back with Handler.release.
type admission struct {
	dep     string
	in      *instance
	routing inference.DeploymentRouting
	mirrors []string
	// queue and wait are set, and in nil, when the request waits for a slot.
	queue *queue
	wait  *waiter
}

// admit routes a request to a deployment and an instance slot, waiting up to the
// deployment's maxQueueWait for a slot when every instance is busy, as Azure's front end
// does. The wait ends early, with the client's error, when ctx ends. readBody reads the
// request's body; admit calls it before the request waits, because net/http notices a
// client that goes away (and ends ctx) only once the body is read, and so that a body
// that cannot be read does not wait.
func (h *Handler) admit(ctx context.Context, epName, pinned, auth string, readBody func() error) (admission, *routeError) {
	var expired <-chan time.Time
	for {
		a, rerr := h.pick(epName, pinned, auth)
		if rerr != nil || a.wait == nil {
			return a, rerr
		}
		if expired == nil { // one deadline, however often the request is routed again
			expired = h.after(a.routing.QueueWait())
		}
		if err := readBody(); err != nil {
			if in := h.leave(a.queue, a.wait); in != nil {
				h.release(in)
			}
			return a, bodyError(a.dep, err)
		}
		select {
		case <-a.wait.ready:
			if a.in = a.wait.in; a.in != nil {
				return a, nil
			}
			continue // the deployment is gone: route the request again
		case <-expired:
			if a.in = h.leave(a.queue, a.wait); a.in != nil {
				return a, nil // a slot came at the last moment
			}
			return a, &routeError{http.StatusTooManyRequests, a.dep, "too_many_requests",
				fmt.Sprintf("the instances of deployment %q stayed busy with their maxConcurrentRequestsPerInstance (%d) for the request's maxQueueWait of %v (requestSettings.maxQueueWait); retry later or scale out",
					a.dep, a.routing.Concurrency(), a.routing.QueueWait())}
		case <-ctx.Done():
			if in := h.leave(a.queue, a.wait); in != nil {
				h.release(in)
			}
			return a, &routeError{statusClientClosed, a.dep, "client_closed",
				fmt.Sprintf("the client went away while the request waited for deployment %q: %v", a.dep, context.Cause(ctx))}
		}
	}
}

// bodyError is the answer to a request whose body cannot be read.
func bodyError(dep string, err error) *routeError {
	return &routeError{http.StatusRequestEntityTooLarge, dep, "bad_request", fmt.Sprintf("request body: %v (at most %d bytes)", err, maxBody)}
}

// statusClientClosed is what the metrics count for a request whose client went away
// before it was served (nginx's 499); nobody reads the answer.
const statusClientClosed = 499

// leave takes a waiting request out of its queue; it returns the slot handed to it in
// the meantime, if one was.
func (h *Handler) leave(q *queue, w *waiter) *instance {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w.in == nil {
		q.remove(w)
	}
	return w.in
}
