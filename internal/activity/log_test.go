package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

const (
	testSub = "00000000-0000-0000-0000-0000000000aa"
	mcID    = "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1"
)

// newLog returns a Log with cfg on a new SQLite store whose clock stands still at
// 2026-11-29 10:00 UTC, with that store and that time.
func newLog(t *testing.T, cfg Config) (*Log, store.Store, time.Time) {
	t.Helper()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cfg.Store = storetest.OpenSQLite(t)
	return New(cfg, WithClock(func() time.Time { return now })), cfg.Store, now
}

// submitter returns an operations engine on st that takes operations of kinds. It is
// never started: the tests submit operations through it and end them by hand
// (endedByHand).
func submitter(st store.Store, kinds ...string) *operations.Engine {
	engine := operations.New(st, operations.Config{})
	for _, kind := range kinds {
		engine.Register(kind, func(context.Context, *operations.Run) error { return nil })
	}
	return engine
}

// listAll returns every event of the subscription, newest first, as JSON objects.
func listAll(t *testing.T, l *Log, q Query) []map[string]any {
	t.Helper()
	var all []map[string]any
	opts := ListOptions{PageSize: 2}
	for {
		page, next, err := l.List(context.Background(), testSub, q, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(page)
		var items []map[string]any
		if err := json.Unmarshal(b, &items); err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		opts.SkipToken = next
	}
}

// TestRecordRequests: reads are not recorded; a write that starts an operation is Accepted
// with the operation's id, then the operation's end is recorded with the same caller and
// correlation id; an error answer is Failed with its code; an answer pointing at an
// operation that had already ended is Succeeded.
func TestRecordRequests(t *testing.T) {
	t.Parallel()
	l, st, now := newLog(t, Config{})
	engine := submitter(st, "managedclusters.create")
	ctx := context.Background()

	if req, got := l.Begin(ctx, "GET", mcID, "admin", "c-0", "", "127.0.0.1"); req != nil || got != ctx {
		t.Fatal("a read was recorded")
	}

	// A create: Accepted, then the operation's end.
	req, octx := l.Begin(ctx, "PUT", mcID, "admin", "c-1", "client-1", "127.0.0.1")
	op, err := engine.Submit(octx, "managedclusters.create", mcID, testSub, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("x-ms-request-id", "req-1")
	h.Set("Azure-AsyncOperation", "https://127.0.0.1:8443/subscriptions/"+testSub+"/providers/Microsoft.ContainerService/operationStatuses/"+op.ID+"?api-version=2025-02-01")
	l.End(ctx, req, http.StatusCreated, h)
	saved, origin := endedByHand(t, st, op.ID, now.Add(time.Minute))
	l.OperationEnded(ctx, saved, origin)

	// A forbidden delete.
	req, _ = l.Begin(ctx, "DELETE", mcID, "reader", "c-2", "", "10.0.0.2")
	h = http.Header{}
	h.Set("x-ms-request-id", "req-2")
	h.Set("x-ms-error-code", "AuthorizationFailed")
	l.End(ctx, req, http.StatusForbidden, h)

	// A PUT answered with an operation that had already ended (nothing to do).
	req, _ = l.Begin(ctx, "PUT", mcID, "admin", "c-3", "", "127.0.0.1")
	h = http.Header{}
	h.Set("x-ms-request-id", "req-3")
	h.Set("Azure-AsyncOperation", "https://127.0.0.1:8443/subscriptions/"+testSub+"/providers/Microsoft.ContainerService/operationStatuses/done-op?api-version=2025-02-01")
	l.End(ctx, req, http.StatusOK, h)

	// An operation without an origin (not started by a request) is not recorded.
	l.OperationEnded(ctx, &store.Operation{ID: "bg", Kind: "managedclusters.update", ResourceID: mcID, SubscriptionID: testSub, Status: store.StatusSucceeded, EndedAt: now}, nil)

	events := listAll(t, l, Query{From: now.Add(-time.Hour), To: now.Add(time.Hour)})
	type row struct{ status, subStatus, operationID, correlationID, caller, level string }
	var got []row
	for _, e := range events {
		got = append(got, row{
			status: e["status"].(map[string]any)["value"].(string), subStatus: e["subStatus"].(map[string]any)["value"].(string),
			operationID: e["operationId"].(string), correlationID: e["correlationId"].(string), caller: e["caller"].(string), level: e["level"].(string),
		})
	}
	want := []row{
		{"Succeeded", "OK", "req-3", "c-3", "admin", "Informational"},
		{"Failed", "Forbidden", "req-2", "c-2", "reader", "Error"},
		{"Succeeded", "", op.ID, "c-1", "admin", "Informational"},
		{"Accepted", "Created", op.ID, "c-1", "admin", "Informational"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// The ARM shape of the Accepted event.
	e := events[3]
	checks := map[string]any{
		"caller": "admin", "correlationId": "c-1", "resourceGroupName": "rg1", "resourceId": mcID, "subscriptionId": testSub,
		"eventTimestamp": "2026-11-29T10:00:00Z", "submissionTimestamp": "2026-11-29T10:00:00Z",
	}
	for k, v := range checks {
		if e[k] != v {
			t.Errorf("%s = %v, want %v", k, e[k], v)
		}
	}
	for path, v := range map[string]string{
		"authorization.action": "Microsoft.ContainerService/managedClusters/write", "authorization.scope": mcID,
		"operationName.value": "Microsoft.ContainerService/managedClusters/write", "eventName.value": "EndRequest",
		"category.value": "Administrative", "resourceProviderName.value": "Microsoft.ContainerService",
		"resourceType.value": "Microsoft.ContainerService/managedClusters", "httpRequest.method": "PUT",
		"httpRequest.clientRequestId": "client-1", "httpRequest.clientIpAddress": "127.0.0.1",
		"subStatus.localizedValue": "Created (HTTP Status Code: 201)", "properties.statusCode": "Created",
	} {
		k1, k2, _ := strings.Cut(path, ".")
		if m, _ := e[k1].(map[string]any); m == nil || m[k2] != v {
			t.Errorf("%s = %v, want %v", path, e[k1], v)
		}
	}
	if id, _ := e["id"].(string); !strings.HasPrefix(id, mcID+"/events/"+e["eventDataId"].(string)+"/ticks/6") {
		t.Errorf("id = %v", e["id"])
	}
	if sm := events[1]["properties"].(map[string]any)["statusMessage"]; sm != `{"error":{"code":"AuthorizationFailed"}}` {
		t.Errorf("a failure's statusMessage = %v", sm)
	}

	// Filters and $select.
	if got := listAll(t, l, Query{From: now.Add(-time.Hour), To: now.Add(time.Hour), CorrelationID: "c-1"}); len(got) != 2 {
		t.Errorf("correlationId c-1 lists %d events, want 2", len(got))
	}
	if got := listAll(t, l, Query{From: now.Add(time.Second), To: now.Add(time.Hour)}); len(got) != 1 {
		t.Errorf("after now lists %d events, want the operation's end", len(got))
	}
	fields, err := ParseSelect("caller, STATUS")
	if err != nil {
		t.Fatal(err)
	}
	page, _, err := l.List(ctx, testSub, Query{From: now.Add(-time.Hour), To: now.Add(time.Hour)}, ListOptions{PageSize: 1, Select: fields})
	if b, _ := json.Marshal(page); err != nil || string(b) != `[{"caller":"admin","status":{"value":"Succeeded","localizedValue":"Succeeded"}}]` {
		t.Errorf("$select=caller,status: %s, %v", b, err)
	}
	if _, err := ParseSelect("caller,body"); err == nil {
		t.Error("$select of an unknown property was accepted")
	}
	if _, _, err := l.List(ctx, testSub, Query{}, ListOptions{SkipToken: "x"}); err == nil {
		t.Error("a made-up $skiptoken was accepted")
	}
}

// TestPrune: events older than the retention go, in batches, the others stay.
func TestPrune(t *testing.T) {
	t.Parallel()
	l, _, now := newLog(t, Config{Retention: 24 * time.Hour})
	ctx := context.Background()
	for i := range pruneBatch + 5 {
		e := l.newEvent(Describe("PUT", mcID), origin{Caller: "admin", CorrelationID: "old"})
		e.Time = now.Add(-48*time.Hour + time.Duration(i)*time.Millisecond)
		l.record(ctx, e)
	}
	l.record(ctx, l.newEvent(Describe("PUT", mcID), origin{Caller: "admin", CorrelationID: "new"}))
	n, err := l.Prune(ctx)
	if err != nil || n != pruneBatch+5 {
		t.Fatalf("Prune = %d, %v; want %d", n, err, pruneBatch+5)
	}
	left := listAll(t, l, Query{From: now.Add(-72 * time.Hour), To: now})
	if len(left) != 1 || left[0]["correlationId"] != "new" {
		t.Fatalf("after Prune: %v", left)
	}
}

// TestSideEffect: a write an operation makes to another resource is recorded under the
// caller and correlation id of the request that started the operation, with that
// resource's delete operation name; an operation no request started records nothing.
func TestSideEffect(t *testing.T) {
	t.Parallel()
	l, _, now := newLog(t, Config{})
	ctx := context.Background()
	other := "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws2/computes/taken"
	origin, _ := json.Marshal(map[string]string{"caller": "alice", "correlationId": "c-9", "method": "PUT"})
	l.SideEffect(ctx, origin, http.MethodDelete, other)
	l.SideEffect(ctx, nil, http.MethodDelete, other)
	events := listAll(t, l, Query{From: now.Add(-time.Hour), To: now.Add(time.Hour)})
	if len(events) != 1 {
		t.Fatalf("%d events, want the one with an origin: %v", len(events), events)
	}
	e := events[0]
	name := e["operationName"].(map[string]any)["value"]
	if e["caller"] != "alice" || e["correlationId"] != "c-9" || !strings.EqualFold(e["resourceId"].(string), other) ||
		name != "Microsoft.MachineLearningServices/workspaces/computes/delete" || e["status"].(map[string]any)["value"] != StatusSucceeded {
		t.Errorf("event %v", e)
	}
}

// TestOperationEndNamedAsItsRequest: as in ARM, the end of an operation carries the
// operationName and resourceId of the request that started it, also when the operation
// runs on the request's parent (a node pool's PUT is its cluster's update) or the request
// was a POST action; another operation the same request submitted, on a resource of its
// own, is named after that resource.
func TestOperationEndNamedAsItsRequest(t *testing.T) {
	t.Parallel()
	l, st, now := newLog(t, Config{})
	engine := submitter(st, "managedclusters.update", "managedclusters.create", "managedclusters.delete", "computes.create")
	ctx := context.Background()
	compute := "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/c1"
	for _, tc := range []struct {
		name, method, path, correlation string
		// ops are the operations the request submits: kind and resource.
		ops [][2]string
		// want is each operation's end: operationName and resourceId.
		want [][2]string
	}{
		{"node pool PUT", http.MethodPut, mcID + "/agentPools/nodepool1", "c-pool",
			[][2]string{{"managedclusters.update", mcID}},
			[][2]string{{"Microsoft.ContainerService/managedClusters/agentPools/write", mcID + "/agentPools/nodepool1"}}},
		{"POST action", http.MethodPost, mcID + "/resetServicePrincipalProfile", "c-post",
			[][2]string{{"managedclusters.update", mcID}},
			[][2]string{{"Microsoft.ContainerService/managedClusters/resetServicePrincipalProfile/action", mcID}}},
		{"compute create with its cluster", http.MethodPut, compute, "c-compute",
			[][2]string{{"computes.create", compute}, {"managedclusters.create", mcID}},
			[][2]string{{"Microsoft.MachineLearningServices/workspaces/computes/write", compute}, {"Microsoft.ContainerService/managedClusters/write", mcID}}},
		{"cluster delete", http.MethodDelete, mcID, "c-delete",
			[][2]string{{"managedclusters.delete", mcID}},
			[][2]string{{"Microsoft.ContainerService/managedClusters/delete", mcID}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, octx := l.Begin(ctx, tc.method, tc.path, "alice", tc.correlation, "", "127.0.0.1")
			var ops []*store.Operation
			for _, o := range tc.ops {
				op, err := engine.Submit(octx, o[0], o[1], testSub, nil)
				if err != nil {
					t.Fatal(err)
				}
				ops = append(ops, op)
			}
			h := http.Header{}
			h.Set("Azure-AsyncOperation", "https://127.0.0.1:8443/subscriptions/"+testSub+"/providers/X/operationStatuses/"+ops[0].ID+"?api-version=2025-02-01")
			l.End(ctx, req, http.StatusAccepted, h)
			for _, op := range ops {
				saved, origin := endedByHand(t, st, op.ID, now.Add(time.Minute))
				l.OperationEnded(ctx, saved, origin)
			}
			events := listAll(t, l, Query{From: now.Add(-time.Hour), To: now.Add(time.Hour), CorrelationID: tc.correlation})
			ends := map[string][2]string{}
			var accepted [2]string
			for _, e := range events {
				got := [2]string{e["operationName"].(map[string]any)["value"].(string), e["resourceId"].(string)}
				if e["status"].(map[string]any)["value"] == StatusAccepted {
					accepted = got
				} else {
					ends[e["operationId"].(string)] = got
				}
			}
			if accepted != tc.want[0] {
				t.Errorf("Accepted event is %v, want %v", accepted, tc.want[0])
			}
			for i, op := range ops {
				if ends[op.ID] != tc.want[i] {
					t.Errorf("end of %s is %v, want %v", op.Kind, ends[op.ID], tc.want[i])
				}
			}
		})
	}
}

// TestOperationEndedBeforeItsRequest: an operation that ends before the request that
// submitted it has recorded its answer (a quick delete on a loaded server) is listed after
// the request's Accepted event, not before it, and not earlier in time.
func TestOperationEndedBeforeItsRequest(t *testing.T) {
	t.Parallel()
	q := newQuickDeletes(t)
	now := q.now
	d := q.begin(t, "c-quick")
	// The operation ends, a millisecond before the request's answer is recorded.
	d.op.EndedAt = now.Add(-time.Millisecond)
	q.l.OperationEnded(context.Background(), d.op, d.origin)
	q.l.End(context.Background(), d.req, http.StatusAccepted, d.header)

	at := now.Format(time.RFC3339Nano)
	if got, want := q.statuses(t, "c-quick", true), []string{StatusSucceeded + " " + at, StatusAccepted + " " + at}; !slices.Equal(got, want) {
		t.Errorf("events, newest first: %q, want %q", got, want)
	}
}

// TestOperationEndsRaceTheirRequests: requests whose operations end while they record their
// answer, all at once (run with -race): every event is recorded once, and each request's
// Accepted event comes before its operation's end.
func TestOperationEndsRaceTheirRequests(t *testing.T) {
	t.Parallel()
	q := newQuickDeletes(t)
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		d := q.begin(t, fmt.Sprintf("c-race-%d", i))
		wg.Go(func() { q.l.OperationEnded(context.Background(), d.op, d.origin) })
		wg.Go(func() { q.l.End(context.Background(), d.req, http.StatusAccepted, d.header) })
	}
	wg.Wait()
	for i := range n {
		if got, want := q.statuses(t, fmt.Sprintf("c-race-%d", i), false), []string{StatusSucceeded, StatusAccepted}; !slices.Equal(got, want) {
			t.Errorf("request %d: events, newest first: %q, want %q", i, got, want)
		}
	}
}

// quickDeletes is a Log at a fixed time whose cluster deletes, submitted by recorded
// requests, the tests end by hand.
type quickDeletes struct {
	l      *Log
	st     store.Store
	engine *operations.Engine
	now    time.Time
}

// quickDelete is one such request: its operation (ended Succeeded at now, until the test
// says otherwise), the origin the engine keeps for it and the answer's headers.
type quickDelete struct {
	req    *Request
	op     *store.Operation
	origin json.RawMessage
	header http.Header
}

func newQuickDeletes(t *testing.T) *quickDeletes {
	l, st, now := newLog(t, Config{})
	return &quickDeletes{l: l, st: st, engine: submitter(st, "managedclusters.delete"), now: now}
}

// begin starts a delete request with correlation id corr and submits its operation.
func (q *quickDeletes) begin(t *testing.T, corr string) quickDelete {
	t.Helper()
	ctx := context.Background()
	req, octx := q.l.Begin(ctx, http.MethodDelete, mcID, "alice", corr, "", "127.0.0.1")
	op, err := q.engine.Submit(octx, "managedclusters.delete", mcID, testSub, nil)
	if err != nil {
		t.Fatal(err)
	}
	saved, origin := endedByHand(t, q.st, op.ID, q.now)
	h := http.Header{}
	h.Set("Azure-AsyncOperation", "https://127.0.0.1:8443/subscriptions/"+testSub+"/providers/X/operationStatuses/"+op.ID+"?api-version=2025-02-01")
	return quickDelete{req: req, op: saved, origin: origin, header: h}
}

// endedByHand reads operation id back from st as Succeeded at t (the engine's EndHook gets
// it so), with the origin of the request that submitted it, which it must carry.
func endedByHand(t *testing.T, st store.Store, id string, at time.Time) (*store.Operation, json.RawMessage) {
	t.Helper()
	saved, err := st.GetOperation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	saved.Status, saved.EndedAt = store.StatusSucceeded, at
	var progress struct {
		Origin json.RawMessage `json:"origin"`
	}
	if err := json.Unmarshal(saved.Progress, &progress); err != nil || len(progress.Origin) == 0 {
		t.Fatalf("operation %s does not carry the request's origin: %s", id, saved.Progress)
	}
	return saved, progress.Origin
}

// statuses lists corr's events, newest first: their status, with their time when withTime.
func (q *quickDeletes) statuses(t *testing.T, corr string, withTime bool) []string {
	t.Helper()
	var out []string
	for _, e := range listAll(t, q.l, Query{From: q.now.Add(-time.Hour), To: q.now.Add(time.Hour), CorrelationID: corr}) {
		s := e["status"].(map[string]any)["value"].(string)
		if withTime {
			s += " " + e["eventTimestamp"].(string)
		}
		out = append(out, s)
	}
	return out
}
