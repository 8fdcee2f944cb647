package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The cascading delete: a resource (a resource group, a workspace, a cluster) and
// everything under it, as one operation.

// DeleteGroup starts deleting a resource group and everything in it. It returns the
// operation, which is the one already running when a delete is under way.
func (s *Service) DeleteGroup(ctx context.Context, sub, name string) (*store.Operation, error) {
	if _, err := s.GetGroup(ctx, sub, name); err != nil {
		return nil, err
	}
	return s.StartDelete(ctx, arm.ResourceGroupPath(sub, name), sub)
}

// StartDelete marks the resource with this id Deleting and starts a cascading delete of it
// and everything under it, in one transaction. A delete already under way is returned
// instead of a new one.
func (s *Service) StartDelete(ctx context.Context, id, sub string) (*store.Operation, error) {
	var op *store.Operation
	err := s.store.InTx(ctx, func(tx store.Store) error {
		var err error
		op, err = s.StartDeleteIn(ctx, tx, id, sub)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.engine.Wake()
	return op, nil
}

// StartDeleteIn is StartDelete through tx, a transaction of the store; call the engine's
// Wake once it committed.
func (s *Service) StartDeleteIn(ctx context.Context, tx store.Store, id, sub string) (*store.Operation, error) {
	ops, err := tx.ListOperations(ctx, store.OperationFilter{ResourceID: id, Status: store.StatusInProgress})
	if err != nil {
		return nil, fmt.Errorf("delete %s: %w", id, err)
	}
	for _, op := range ops {
		if op.Kind == KindDelete {
			return op, nil
		}
	}
	if len(ops) > 0 {
		return nil, arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
			"Another operation (%s) is in progress on '%s'; wait for it to finish, then retry the delete.", ops[0].ID, id)
	}
	if err := SetProvisioningState(ctx, tx, id, armapi.StateDeleting); err != nil {
		return nil, fmt.Errorf("delete %s: %w", id, err)
	}
	return s.engine.SubmitIn(ctx, tx, KindDelete, id, sub, deleteInput{ID: id})
}

// SetProvisioningState sets properties.provisioningState in the stored body of a resource.
// st may be a transaction.
func SetProvisioningState(ctx context.Context, st store.Store, id, state string) error {
	_, err := store.Modify(ctx, st, id, func(r *store.Resource) error {
		var doc map[string]any
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			return fmt.Errorf("decode %s: %w", id, err)
		}
		props, _ := doc["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			doc["properties"] = props
		}
		props["provisioningState"] = state
		r.Body, _ = json.Marshal(doc)
		return nil
	})
	return err
}

// failedDelete is the cleanup of a delete that failed or was given up: what is left of the
// target stays, usable again. A resource group or workspace is Succeeded again (it still
// holds what could not be deleted, and can be deleted again); any other resource is Failed,
// since part of it may be gone.
func (s *Service) failedDelete(ctx context.Context, run *operations.Run, cause error) error {
	var in deleteInput
	if err := run.Input(&in); err != nil {
		return err
	}
	state := "Failed"
	if r, err := s.store.GetResource(ctx, in.ID); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	} else if strings.EqualFold(r.Type, arm.TypeResourceGroup) || strings.HasSuffix(strings.ToLower(r.Type), "/workspaces") {
		state = armapi.StateSucceeded
	}
	return SetProvisioningState(ctx, s.store, in.ID, state)
}

type deleteInput struct {
	ID string `json:"id"`
}

// deleteRounds bounds how often a delete lists what is under its target again: a
// resource created under it meanwhile (by a request or an operation that checked the target
// before it was marked Deleting) is found by the next listing and deleted too.
const deleteRounds = 5

// runDelete removes every resource under the target, deepest first, then the target. It
// deletes the target only once a listing finds nothing under it, so that nothing created
// under it during the delete is left without its parent.
func (s *Service) runDelete(ctx context.Context, run *operations.Run) error {
	var in deleteInput
	if err := run.Input(&in); err != nil {
		return err
	}
	for round := 1; ; round++ {
		children, err := s.store.ListResources(ctx, store.ListOptions{Scope: in.ID})
		if err != nil {
			return fmt.Errorf("list resources under %s: %w", in.ID, err)
		}
		todo := s.toDelete(in.ID, children)
		if len(todo) == 0 {
			break
		}
		if round > deleteRounds {
			return arm.Conflict("Resources keep being created under '%s' while it is being deleted (%d left, e.g. '%s'); stop creating them, then delete it again.", in.ID, len(todo), todo[0].ID)
		}
		if err := s.deleteChildren(ctx, run, todo, round); err != nil {
			return err
		}
	}
	return run.Step(ctx, "delete "+strings.ToLower(in.ID), func(ctx context.Context) error {
		r, err := s.store.GetResource(ctx, in.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.deleteOne(ctx, run, r); err != nil {
			return err
		}
		// Role assignments at the deleted scope go with it, so that a group created again
		// with the same name does not inherit them. A crash before this leaves them to
		// the sweeper (auth.SweepAssignments).
		n, err := s.store.DeleteRoleAssignmentsAtOrBelow(ctx, r.ID)
		if n > 0 {
			s.AccessChanged()
		}
		return err
	})
}

// deleteOne deletes r through its type's Deleter, or as a plain row. The row is deleted
// whatever its version (0): the target is Deleting, and a row changed since it was listed
// is still under it and goes.
func (s *Service) deleteOne(ctx context.Context, run *operations.Run, r *store.Resource) error {
	if d, ok := s.deleters[strings.ToLower(r.Type)]; ok {
		return d(ctx, run, r)
	}
	if err := s.store.DeleteResource(ctx, r.ID, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete %s: %w", r.ID, err)
	}
	return nil
}

// toDelete returns the resources of children (those listed under target) that a delete
// removes one by one, deepest first. A row owned by the target or by another listed row (a
// compute's attachment claim on a cluster of the group, a cluster's kubeconfig) goes with
// its owner, whose deleter removes it in the same transaction: deleted on its own first, it
// would leave the owner without it if the owner's delete then failed. Among resources as
// deep, those of a type DeleteBefore puts first come first.
func (s *Service) toDelete(target string, children []*store.Resource) []*store.Resource {
	deleting := map[string]bool{strings.ToLower(target): true}
	for _, r := range children {
		deleting[strings.ToLower(r.ID)] = true
	}
	var out []*store.Resource
	for _, r := range children {
		if r.OwnerID == "" || !deleting[strings.ToLower(r.OwnerID)] {
			out = append(out, r)
		}
	}
	// Deepest first, so that a crash never leaves a row whose parent is gone: the resumed
	// operation lists again and finds whatever is left under a target that still exists.
	sort.SliceStable(out, func(i, j int) bool {
		if di, dj := depth(out[i].ID), depth(out[j].ID); di != dj {
			return di > dj
		}
		return s.rank(out[i].Type, 0) > s.rank(out[j].Type, 0)
	})
	return out
}

// rank orders the types of resources as deep in a cascade: a type goes before the types
// DeleteBefore named for it, so it ranks above them. seen bounds the walk, should the
// relations ever form a cycle.
func (s *Service) rank(armType string, seen int) int {
	r := 0
	if seen > len(s.before) {
		return r
	}
	for _, other := range s.before[strings.ToLower(armType)] {
		r = max(r, 1+s.rank(other, seen+1))
	}
	return r
}

// deleteChildren deletes todo, in order, in the given round of a delete.
func (s *Service) deleteChildren(ctx context.Context, run *operations.Run, todo []*store.Resource, round int) error {
	for _, r := range todo {
		// Step names carry the lower-cased id: ids are case-insensitive (A1), and a resumed
		// operation must recognise the steps it already did. A later round's steps are
		// named apart, for a resource deleted in an earlier round and created again.
		name := "delete " + strings.ToLower(r.ID)
		if round > 1 {
			name += fmt.Sprintf(" (round %d)", round)
		}
		if err := run.Step(ctx, name, func(ctx context.Context) error {
			return s.deleteOne(ctx, run, r)
		}); err != nil {
			return err
		}
	}
	return nil
}

func depth(id string) int { return strings.Count(id, "/") }
