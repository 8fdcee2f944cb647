package activity

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Statuses of events, as ARM spells them.
const (
	// StatusAccepted: the request started a long-running operation, whose end is another
	// event with the same operationId and correlationId.
	StatusAccepted = "Accepted"
	// StatusSucceeded: the request, or the operation, succeeded.
	StatusSucceeded = "Succeeded"
	// StatusFailed: the request was answered with an error (4xx, 5xx), or the operation
	// failed.
	StatusFailed = "Failed"
)

// DefaultRetention is how long events are kept unless configured: ARM's 90 days.
const DefaultRetention = 90 * 24 * time.Hour

// Config wires a Log.
type Config struct {
	// Store keeps the events.
	Store store.Store
	// Retention is how long events are kept before Prune removes them; 0 means 90 days.
	Retention time.Duration
	// Logger receives failures to record; nil means slog.Default().
	Logger *slog.Logger
}

// Log records and lists the activity log.
type Log struct {
	cfg Config
	now func() time.Time
	log *slog.Logger

	// open are the write requests begun and not yet ended. An operation a request
	// submitted can end before the request's own answer is recorded (a quick delete under
	// load); its end waits on the request (Request.parked), so that the Accepted event is
	// recorded first, as the log lists events in the order they were recorded.
	mu   sync.Mutex
	open map[*Request]struct{}
}

// Option configures New.
type Option func(*Log)

// WithClock makes the Log read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(l *Log) { l.now = now } }

// New returns a Log over cfg.Store.
func New(cfg Config, opts ...Option) *Log {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Log{cfg: cfg, now: time.Now, log: cfg.Logger.With("component", "activity"), open: map[*Request]struct{}{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Retention returns how long events are kept.
func (l *Log) Retention() time.Duration { return l.cfg.Retention }

// origin is what an operation remembers of the request that submitted it.
type origin struct {
	Caller          string `json:"caller"`
	CorrelationID   string `json:"correlationId"`
	ClientRequestID string `json:"clientRequestId,omitempty"`
	ClientIP        string `json:"clientIp,omitempty"`
	Method          string `json:"method"`
	// OperationName and ResourceID are the request's (Describe): the end of an operation
	// the request started on this resource or on its parent (a node pool's PUT runs as
	// its cluster's update) carries them too, as both events of an operation do in ARM.
	// Operations begun before they were kept have neither, and are named by their resource.
	OperationName string `json:"operationName,omitempty"`
	ResourceID    string `json:"resourceId,omitempty"`
}

// Request is a write request being served, from Begin to End.
type Request struct {
	target    Target
	origin    origin
	submitted func() []string
	// parked are the ends of the operations it submitted that ended before it did, to be
	// recorded after its own event (under Log.mu).
	parked []*store.ActivityEvent
}

// Begin starts the record of a request that passed authentication. For reads (GET, HEAD)
// it returns nil and ctx. For writes it returns the Request to hand to End, and ctx
// carrying the request's origin, so that the operations the request submits record their
// end with the same caller and correlation id. path should be canonicalised (see Describe).
func (l *Log) Begin(ctx context.Context, method, path, caller, correlationID, clientRequestID, clientIP string) (*Request, context.Context) {
	if method == http.MethodGet || method == http.MethodHead {
		return nil, ctx
	}
	req := &Request{
		target: Describe(method, path),
		origin: origin{Caller: caller, CorrelationID: correlationID, ClientRequestID: clientRequestID, ClientIP: clientIP, Method: method},
	}
	req.origin.OperationName, req.origin.ResourceID = req.target.OperationName, req.target.ResourceID
	data, _ := json.Marshal(req.origin)
	ctx, req.submitted = operations.WithOrigin(ctx, data)
	l.mu.Lock()
	l.open[req] = struct{}{}
	l.mu.Unlock()
	return req, ctx
}

// End records the event of a request begun with Begin, from its answer: the status code
// and the response headers (x-ms-request-id, x-ms-error-code, Azure-AsyncOperation). Only
// these are read, never a body. A nil req does nothing.
func (l *Log) End(ctx context.Context, req *Request, status int, header http.Header) {
	if req == nil {
		return
	}
	e := l.newEvent(req.target, req.origin)
	e.HTTPStatus = status
	e.OperationID = header.Get("x-ms-request-id")
	switch {
	case status >= 400:
		e.Status, e.ErrorCode = StatusFailed, header.Get("x-ms-error-code")
	case startedOperation(header, req.submitted()) != "":
		e.Status, e.OperationID = StatusAccepted, startedOperation(header, req.submitted())
	default:
		e.Status = StatusSucceeded
	}
	// Recorded before the request stops being open: an end that comes meanwhile is
	// parked, and one that comes after finds it recorded.
	l.record(ctx, e)
	l.mu.Lock()
	delete(l.open, req)
	parked := req.parked
	req.parked = nil
	l.mu.Unlock()
	for _, end := range parked {
		// An operation is not over before it was accepted.
		if end.Time.Before(e.Time) {
			end.Time = e.Time
		}
		l.record(ctx, end)
	}
}

// park keeps e, the end of operation opID, on the open request that submitted it, for
// End to record after the request's own event; false when no open request did.
func (l *Log) park(opID string, e *store.ActivityEvent) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for req := range l.open {
		if slices.Contains(req.submitted(), opID) {
			req.parked = append(req.parked, e)
			return true
		}
	}
	return false
}

// startedOperation returns the id of the operation the answer points at with
// Azure-AsyncOperation, if this request submitted it (rather than answering with an
// operation that already ended), else "".
func startedOperation(header http.Header, submitted []string) string {
	u, err := url.Parse(header.Get("Azure-AsyncOperation"))
	if err != nil || u.Path == "" {
		return ""
	}
	if id := path.Base(u.Path); slices.Contains(submitted, id) {
		return id
	}
	return ""
}

// OperationEnded records the end of an operation that a recorded request started: it is
// the operations engine's EndHook. Operations without an origin (not started by an API
// request) are not recorded.
func (l *Log) OperationEnded(ctx context.Context, op *store.Operation, raw json.RawMessage) {
	var o origin
	if len(raw) == 0 || json.Unmarshal(raw, &o) != nil || o.CorrelationID == "" {
		return
	}
	method := http.MethodPut
	if strings.HasSuffix(op.Kind, ".delete") {
		method = http.MethodDelete
	}
	e := l.newEvent(operationTarget(method, op, o), o)
	e.Time, e.OperationID, e.Status = op.EndedAt, op.ID, op.Status
	if op.Status != store.StatusSucceeded {
		e.Status = StatusFailed
		var ae arm.Error
		if json.Unmarshal(op.Error, &ae) == nil {
			e.ErrorCode = ae.Code
		}
	}
	if l.park(op.ID, e) {
		return
	}
	l.record(ctx, e)
}

// operationTarget is what the end of op is recorded on: the target of the request that
// started it when op works on that request's resource or on a parent of it, so that the
// Accepted event and the end share their operationName and resourceId (ARM's two events of
// one operation). Another operation the same request submitted (the cluster a compute
// create makes) is its own resource's write or delete.
func operationTarget(method string, op *store.Operation, o origin) Target {
	t := Describe(method, op.ResourceID)
	if o.OperationName != "" && o.ResourceID != "" && auth.Within(o.ResourceID, op.ResourceID) {
		t.ResourceID, t.OperationName = o.ResourceID, o.OperationName
	}
	return t
}

// SideEffect records, under the caller and correlation id of the request that started an
// operation (its origin, as the engine hands it to its EndHook and operations.Run.Origin
// returns it), a write the operation made to another resource than its own: a forced
// attach that detaches and removes another compute, say. method is the write's (DELETE
// for a removal). Without an origin nothing is recorded, as for OperationEnded.
func (l *Log) SideEffect(ctx context.Context, raw json.RawMessage, method, resourceID string) {
	var o origin
	if len(raw) == 0 || json.Unmarshal(raw, &o) != nil || o.CorrelationID == "" {
		return
	}
	e := l.newEvent(Describe(method, resourceID), o)
	e.Status = StatusSucceeded
	l.record(ctx, e)
}

func (l *Log) newEvent(t Target, o origin) *store.ActivityEvent {
	return &store.ActivityEvent{
		ID: uuid.NewString(), Time: l.now().UTC(), SubscriptionID: t.SubscriptionID, ResourceGroup: t.ResourceGroup,
		ResourceID: t.ResourceID, ResourceProvider: t.Provider, OperationName: t.OperationName,
		Caller: o.Caller, CorrelationID: o.CorrelationID, ClientRequestID: o.ClientRequestID, ClientIP: o.ClientIP, Method: o.Method,
	}
}

// record stores e even when the request's context has ended (the client went away after
// the write took effect); a failure is logged, not returned: the write happened anyway.
func (l *Log) record(ctx context.Context, e *store.ActivityEvent) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := l.cfg.Store.CreateActivityEvent(ctx, e); err != nil {
		l.log.Error("record activity event", "err", err, "operation", e.OperationName, "resource", e.ResourceID,
			"status", e.Status, "correlationId", e.CorrelationID)
	}
}

// ListOptions are the parts of a list request other than its $filter.
type ListOptions struct {
	// Select keeps only these EventData properties (nil: all), see ParseSelect.
	Select []string
	// SkipToken continues a listing where its previous page ended ("" for the first).
	SkipToken string
	// PageSize is the number of events per page.
	PageSize int
	// Within, when not nil, keeps only events on resources at or under these scopes (what
	// the caller may read); a page may then hold fewer events than PageSize.
	Within []string
}

// List returns one page of the events of subscription that q selects, newest first, and
// the skip token of the next page ("" on the last). Every listing goes through here, so
// that what a caller may see is decided in one place.
func (l *Log) List(ctx context.Context, subscription string, q Query, opts ListOptions) (page []any, next string, err error) {
	f := store.ActivityFilter{
		SubscriptionID: subscription, From: q.From, To: q.To, ResourceGroup: q.ResourceGroup, ResourceID: q.ResourceID,
		ResourceProvider: q.ResourceProvider, CorrelationID: q.CorrelationID, Caller: q.Caller, Status: q.Status,
		Limit: max(opts.PageSize, 1) + 1,
	}
	if opts.SkipToken != "" {
		seq, err := strconv.ParseInt(opts.SkipToken, 10, 64)
		if err != nil || seq <= 0 {
			return nil, "", arm.BadRequest(arm.CodeInvalidRequestContent, "The $skiptoken '%s' is not one this server gave out; follow the nextLink of the previous page.", opts.SkipToken).WithTarget("$skiptoken")
		}
		f.BeforeSeq = seq
	}
	events, err := l.cfg.Store.ListActivityEvents(ctx, f)
	if err != nil {
		return nil, "", err
	}
	if len(events) == f.Limit {
		events = events[:len(events)-1]
		next = strconv.FormatInt(events[len(events)-1].Seq, 10)
	}
	data := make([]EventData, 0, len(events))
	for _, e := range events {
		if opts.Within == nil || withinAny(e.ResourceID, opts.Within) {
			data = append(data, toEventData(e))
		}
	}
	return project(data, opts.Select), next, nil
}

// pruneBatch is how many events one delete removes; Prune runs at most pruneBatches of
// them, leaving the rest for its next run.
const (
	pruneBatch   = 1000
	pruneBatches = 100
)

// Prune removes events older than the retention and returns how many it removed. It is a
// sweep for the sweeper (sweeper.Config.Also), safe on several replicas at once.
func (l *Log) Prune(ctx context.Context) (int, error) {
	cut := l.now().Add(-l.cfg.Retention)
	total := 0
	for range pruneBatches {
		n, err := l.cfg.Store.DeleteActivityEventsBefore(ctx, cut, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
	return total, nil
}

// withinAny reports whether id is one of scopes or lies under one.
func withinAny(id string, scopes []string) bool {
	for _, s := range scopes {
		if auth.Within(id, s) {
			return true
		}
	}
	return false
}
