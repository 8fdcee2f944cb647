package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// endedOp returns an operation on resourceID that started at start and ended with status
// a second later (or is still running, for StatusInProgress).
func endedOp(id, resourceID, status string, start time.Time) *Operation {
	op := operation(id, resourceID, start)
	op.Status = status
	if status != StatusInProgress {
		op.EndedAt = start.Add(time.Second)
	}
	return op
}

// testDeleteEndedOperations: operations that ended before the cut go, those that ended
// first first, in batches; running ones, recent ones, and each existing resource's newest
// operation and newest Failed one stay.
func testDeleteEndedOperations(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	live := mustCreate(t, s, resource(subID, rgType, "Live")).ID
	gone := subID + "/resourceGroups/Gone"
	cut := ms.Add(time.Hour)
	for _, op := range []*Operation{
		endedOp("live-old-ok", live, StatusSucceeded, ms),
		endedOp("live-old-failed", live, StatusFailed, ms.Add(time.Minute)),
		endedOp("live-old-ok-2", live, StatusSucceeded, ms.Add(2*time.Minute)),
		endedOp("live-newest", live, StatusSucceeded, ms.Add(3*time.Minute)),
		endedOp("gone-1", gone, StatusSucceeded, ms.Add(4*time.Minute)),
		endedOp("gone-2", gone, StatusFailed, ms.Add(5*time.Minute)),
		endedOp("gone-3", gone, StatusCanceled, ms.Add(6*time.Minute)),
		endedOp("gone-running", gone, StatusInProgress, ms),
		endedOp("gone-recent", gone, StatusSucceeded, cut),
	} {
		mustCreateOp(t, s, op)
	}

	if _, err := s.DeleteEndedOperationsBefore(ctx, cut, 0); err == nil {
		t.Fatal("DeleteEndedOperationsBefore with limit 0 succeeded")
	}
	// Five go (live-old-ok, live-old-ok-2, gone-1 to gone-3): a batch of 3, then 2, then none.
	for i, want := range []int{3, 2, 0} {
		n, err := s.DeleteEndedOperationsBefore(ctx, cut, 3)
		if err != nil || n != want {
			t.Fatalf("DeleteEndedOperationsBefore batch %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	var left []string
	ops, err := s.ListOperations(ctx, OperationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		left = append(left, op.ID)
	}
	slices.Sort(left)
	want := []string{"gone-recent", "gone-running", "live-newest", "live-old-failed"}
	if !slices.Equal(left, want) {
		t.Fatalf("operations left %v, want %v", left, want)
	}
	if _, err := s.GetOperation(ctx, "live-old-ok"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetOperation of a removed operation: %v, want ErrNotFound", err)
	}

	// A later Failed operation supersedes live-old-failed; the resource's removal frees
	// its newest.
	mustCreateOp(t, s, endedOp("live-failed-again", live, StatusFailed, ms.Add(10*time.Minute)))
	if n, err := s.DeleteEndedOperationsBefore(ctx, cut, 10); err != nil || n != 2 {
		t.Fatalf("after a newer failure: removed %d, %v; want live-old-failed and live-newest", n, err)
	}
	if err := s.DeleteResource(ctx, live, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteEndedOperationsBefore(ctx, cut, 10); err != nil || n != 1 {
		t.Fatalf("after the resource went: removed %d, %v; want live-failed-again", n, err)
	}
}
