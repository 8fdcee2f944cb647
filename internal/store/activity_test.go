package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

const (
	actSub   = "00000000-0000-0000-0000-00000000000A"
	otherSub = "00000000-0000-0000-0000-00000000000B"
)

// activityEvent returns an event of the request kind the API records.
func activityEvent(t *testing.T, sub, rg, resource string, at time.Time) *ActivityEvent {
	id := "/subscriptions/" + sub + "/resourceGroups/" + rg
	if resource != "" {
		id += "/providers/Microsoft.ContainerService/managedClusters/" + resource
	}
	return &ActivityEvent{
		ID: randomHex(t, 16), Time: at, SubscriptionID: sub, ResourceGroup: rg, ResourceID: id,
		ResourceProvider: "Microsoft.ContainerService", OperationName: "Microsoft.ContainerService/managedClusters/write",
		OperationID: randomHex(t, 8), Status: "Accepted", HTTPStatus: 201, Caller: "admin",
		CorrelationID: randomHex(t, 8), ClientRequestID: "client-1", Method: "PUT", ClientIP: "127.0.0.1",
	}
}

func testActivityEvents(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	base := ms
	var made []*ActivityEvent
	for i, e := range []*ActivityEvent{
		activityEvent(t, actSub, "RG1", "aks1", base),
		activityEvent(t, actSub, "rg1", "", base.Add(time.Minute)),
		activityEvent(t, actSub, "rg2", "aks2", base.Add(2*time.Minute)),
		activityEvent(t, otherSub, "rg1", "aks1", base.Add(3*time.Minute)),
		activityEvent(t, actSub, "rg2", "aks2", base.Add(4*time.Minute)),
	} {
		if i == 4 {
			e.Status, e.HTTPStatus, e.ErrorCode, e.Caller = "Failed", 403, "AuthorizationFailed", "reader"
			e.CorrelationID = made[2].CorrelationID
		}
		if err := s.CreateActivityEvent(ctx, e); err != nil {
			t.Fatalf("CreateActivityEvent %d: %v", i, err)
		}
		if e.Seq <= 0 || (i > 0 && e.Seq <= made[i-1].Seq) {
			t.Fatalf("event %d got seq %d after %d", i, e.Seq, made[len(made)-1].Seq)
		}
		made = append(made, e)
	}
	dup := *made[0]
	wantErr(t, "CreateActivityEvent duplicate", s.CreateActivityEvent(ctx, &dup), ErrConflict)

	got, err := s.ListActivityEvents(ctx, ActivityFilter{SubscriptionID: made[0].SubscriptionID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].ID != made[4].ID || got[3].ID != made[0].ID {
		t.Fatalf("list of the subscription = %v, want the 4 events newest first", eventIDs(got))
	}
	if g, w := *got[3], *made[0]; g != w || g.Time.Location() != time.UTC {
		t.Fatalf("stored event = %+v, want %+v in UTC", g, w)
	}

	for _, tt := range []struct {
		name string
		f    ActivityFilter
		want []*ActivityEvent
	}{
		{"lower-case subscription", ActivityFilter{SubscriptionID: "00000000-0000-0000-0000-00000000000a"}, []*ActivityEvent{made[4], made[2], made[1], made[0]}},
		{"other subscription", ActivityFilter{SubscriptionID: otherSub}, []*ActivityEvent{made[3]}},
		{"unknown subscription", ActivityFilter{SubscriptionID: "nope"}, nil},
		{"time range", ActivityFilter{SubscriptionID: actSub, From: base.Add(time.Minute), To: base.Add(2 * time.Minute)}, []*ActivityEvent{made[2], made[1]}},
		{"group any case", ActivityFilter{SubscriptionID: actSub, ResourceGroup: "RG1"}, []*ActivityEvent{made[1], made[0]}},
		{"resource id any case", ActivityFilter{SubscriptionID: actSub, ResourceID: made[2].ResourceID + "X"}, nil},
		{"resource id", ActivityFilter{SubscriptionID: actSub, ResourceID: made[0].ResourceID}, []*ActivityEvent{made[0]}},
		{"provider", ActivityFilter{SubscriptionID: actSub, ResourceProvider: "microsoft.containerservice"}, []*ActivityEvent{made[4], made[2], made[1], made[0]}},
		{"correlation", ActivityFilter{SubscriptionID: actSub, CorrelationID: made[2].CorrelationID}, []*ActivityEvent{made[4], made[2]}},
		{"caller", ActivityFilter{SubscriptionID: actSub, Caller: "READER"}, []*ActivityEvent{made[4]}},
		{"status", ActivityFilter{SubscriptionID: actSub, Status: "failed"}, []*ActivityEvent{made[4]}},
		{"page 1", ActivityFilter{SubscriptionID: actSub, Limit: 3}, []*ActivityEvent{made[4], made[2], made[1]}},
		{"page 2", ActivityFilter{SubscriptionID: actSub, Limit: 3, BeforeSeq: made[1].Seq}, []*ActivityEvent{made[0]}},
	} {
		got, err := s.ListActivityEvents(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if g, w := eventIDs(got), eventIDs(tt.want); fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: got %v, want %v", tt.name, g, w)
		}
	}
	if _, err := s.ListActivityEvents(ctx, ActivityFilter{}); err == nil {
		t.Error("ListActivityEvents without a subscription succeeded")
	}

	// Concurrent recorders (other pools, as other replicas) all land, each with its own seq.
	others := []Store{open(), open(), open(), open()}
	testutil.Race(t, len(others), func(i int) error {
		for range 10 {
			if err := others[i].CreateActivityEvent(ctx, activityEvent(t, "concurrent", "rg", "", base.Add(time.Hour))); err != nil {
				return fmt.Errorf("concurrent CreateActivityEvent: %w", err)
			}
		}
		return nil
	})
	if got, err := s.ListActivityEvents(ctx, ActivityFilter{SubscriptionID: "concurrent"}); err != nil || len(got) != 40 {
		t.Fatalf("concurrent events listed: %d, %v; want 40", len(got), err)
	}

	// Pruning removes the oldest first, in batches, and only what is older than the cut.
	n, err := s.DeleteActivityEventsBefore(ctx, base.Add(150*time.Second), 2)
	if err != nil || n != 2 {
		t.Fatalf("DeleteActivityEventsBefore batch 1 = %d, %v; want 2", n, err)
	}
	n, err = s.DeleteActivityEventsBefore(ctx, base.Add(150*time.Second), 2)
	if err != nil || n != 1 {
		t.Fatalf("DeleteActivityEventsBefore batch 2 = %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteActivityEventsBefore(ctx, base.Add(150*time.Second), 2); err != nil || n != 0 {
		t.Fatalf("DeleteActivityEventsBefore again = %d, %v; want 0", n, err)
	}
	got, err = s.ListActivityEvents(ctx, ActivityFilter{SubscriptionID: actSub})
	if err != nil || fmt.Sprint(eventIDs(got)) != fmt.Sprint(eventIDs([]*ActivityEvent{made[4]})) {
		t.Fatalf("after pruning: %v, %v; want only the newest", eventIDs(got), err)
	}
}

func eventIDs(es []*ActivityEvent) []string {
	ids := []string{}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}
