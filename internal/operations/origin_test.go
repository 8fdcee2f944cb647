package operations_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
)

// TestEngineEndHook: an operation submitted with an origin keeps it through its steps and
// hands it to the end hook once its result is saved, whether it succeeded or failed; an
// operation without one ends with a nil origin; the submitting request learns the ids.
func TestEngineEndHook(t *testing.T) {
	eachStore(t, true, func(t *testing.T, s store.Store) {
		type ended struct {
			op     *store.Operation
			origin string
		}
		ends := make(chan ended, 3)
		e := newEngine(t, s, operations.Config{}, func(ctx context.Context, run *operations.Run) error {
			var fail bool
			if err := run.Input(&fail); err != nil {
				return err
			}
			if err := run.Step(ctx, "one", func(context.Context) error { return nil }); err != nil {
				return err
			}
			if fail {
				return arm.BadRequest("Broken", "it broke")
			}
			return nil
		})
		e.OnEnd(func(ctx context.Context, op *store.Operation, origin json.RawMessage) {
			saved, err := s.GetOperation(ctx, op.ID)
			if err != nil || saved.Status != op.Status {
				t.Errorf("the hook ran before the result was saved: %+v, %v", saved, err)
			}
			ends <- ended{op: op, origin: string(origin)}
		})
		start(t, e)

		ctx, submitted := operations.WithOrigin(context.Background(), json.RawMessage(`{"caller":"admin"}`))
		ok, err := e.Submit(ctx, kind, resourceID, subID, false)
		if err != nil {
			t.Fatal(err)
		}
		failed, err := e.Submit(ctx, kind, resourceID, subID, true)
		if err != nil {
			t.Fatal(err)
		}
		if ids := submitted(); !slices.Equal(ids, []string{ok.ID, failed.ID}) {
			t.Errorf("submitted = %v, want %v", ids, []string{ok.ID, failed.ID})
		}
		plain := submit(t, e, false)

		got := map[string]ended{}
		for range 3 {
			end := await(t, ends, "the end hook")
			got[end.op.ID] = end
		}
		for _, c := range []struct {
			op             *store.Operation
			status, origin string
		}{
			{ok, store.StatusSucceeded, `{"caller":"admin"}`},
			{failed, store.StatusFailed, `{"caller":"admin"}`},
			{plain, store.StatusSucceeded, ""},
		} {
			end, found := got[c.op.ID]
			switch {
			case !found:
				t.Errorf("no end hook for %s", c.op.ID)
			case end.op.Status != c.status || end.origin != c.origin:
				t.Errorf("end hook for %s: status %s, origin %q; want %s, %q", c.op.ID, end.op.Status, end.origin, c.status, c.origin)
			}
		}
		if ae := errorOf(t, getOperation(t, s, failed.ID)); ae == nil || ae.Code != "Broken" {
			t.Errorf("failed operation's error = %+v", ae)
		}
		select {
		case end := <-ends:
			t.Errorf("the hook ran again for %s", end.op.ID)
		default:
		}
	})
}
