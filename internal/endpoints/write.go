package endpoints

import (
	"context"
	"errors"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Every write of an endpoint or a deployment has one shape: check the request's
// preconditions against the row it changes, then, in one transaction, change the rows and
// submit the operation that carries the change into the clusters.

// opInput is the input of every endpoint and deployment operation: the row it works on,
// only its id. The operation reads the row when it runs, so that a resumed operation
// carries the row as it is then, not as it was at submit.
type opInput struct {
	ID string `json:"id"`
}

// replaced reads the row with this id that a PUT replaces, decoded into a T, and checks the
// request's preconditions against it. It returns nil, nil, nil when the PUT creates the
// row. exists is the error for If-None-Match: * on a row that exists; state reads a row's
// provisioning state: a row with an operation in progress is busy.
func replaced[T row](ctx context.Context, st store.Store, id, what string, pre arm.Preconditions, exists error, state func(*T) string) (*store.Resource, *T, error) {
	existing, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, pre.CheckIfMatch(what, false, "")
	}
	if err != nil {
		return nil, nil, err
	}
	if err := pre.CheckIfMatch(what, true, arm.ETag(existing.Version)); err != nil {
		return nil, nil, err
	}
	// If-None-Match: * means create only (N7: a create never modifies what exists).
	if pre.IfNoneMatch {
		return nil, nil, exists
	}
	prev := new(T)
	if err := decode(existing, prev); err != nil {
		return nil, nil, err
	}
	if s := state(prev); inProgress(s) {
		return nil, nil, busy(what, s)
	}
	return existing, prev, nil
}

// change is a write whose operation, of kind, carries it out on the row id of subscription
// sub.
type change struct {
	kind, sub, id string
	what          string // the row as messages name it, e.g. "Online endpoint 'e1'"
	retry         string // what to do after another request changed the row meanwhile
}

// Retry hints of a change: a PUT's body was made from a read, so its caller reads again.
const (
	retryRead = "read it again and retry."
	retryOnly = "retry."
)

// submit runs write and submits c's operation in one transaction, then wakes the engine.
// When another request changed the same rows meanwhile it returns a 409 that says so.
func (s *Service) submit(ctx context.Context, c change, write func(tx store.Store) error) (*store.Operation, error) {
	var op *store.Operation
	err := s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if err := write(tx); err != nil {
			return err
		}
		var err error
		op, err = s.cfg.Engine.SubmitIn(ctx, tx, c.kind, c.id, c.sub, opInput{ID: c.id})
		return err
	})
	// The rows were read before the transaction (replaced); a version conflict means a
	// concurrent write won, and this one is refused whole rather than merged.
	if errors.Is(err, store.ErrConflict) {
		return nil, arm.Conflict("%s was changed by another request at the same time; %s", c.what, c.retry)
	}
	if err != nil {
		return nil, err
	}
	// Wake only after the commit: an engine woken earlier would find no operation row.
	s.cfg.Engine.Wake()
	return op, nil
}

// startDelete checks a DELETE's If-Match against the row r, whose provisioning state is
// state, and returns the delete already running on it, or submits c with mark, which
// marks the row Deleting.
func (s *Service) startDelete(ctx context.Context, c change, pre arm.Preconditions, r *store.Resource, state string, mark func(tx store.Store) error) (*store.Operation, error) {
	if err := pre.CheckIfMatch(c.what, true, arm.ETag(r.Version)); err != nil {
		return nil, err
	}
	// A repeated DELETE answers the delete already running (202 with its URLs) instead
	// of a 409 or a second operation. A row left Deleting with no running operation gets
	// a new one.
	if state == armapi.StateDeleting {
		if op := s.running(ctx, r.ID); op != nil {
			return op, nil
		}
	}
	return s.submit(ctx, c, mark)
}

// update stores v as the body of row r.
func update[T row](ctx context.Context, tx store.Store, r *store.Resource, v *T) error {
	r.Body = encode(v)
	return tx.UpdateResource(ctx, r)
}

// etagOf returns the ETag of the row with this id, "" when it cannot be read.
func (s *Service) etagOf(ctx context.Context, id string) string {
	r, err := s.cfg.Store.GetResource(ctx, id)
	if err != nil || r == nil {
		return ""
	}
	return arm.ETag(r.Version)
}

// running returns the operation in progress on the row with this id, nil when none is
// (or they cannot be read).
func (s *Service) running(ctx context.Context, id string) *store.Operation {
	ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: id, Status: store.StatusInProgress})
	if err != nil || len(ops) == 0 {
		return nil
	}
	return ops[0]
}
