package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// register sets the handlers of this package's operations and their cleanups, which the
// engine runs whenever an operation ends Failed, including when it gives one up.
func (s *Service) register(e *operations.Engine) {
	e.Register(KindCreate, operations.HandlerOf(s.createFlow))
	e.Register(KindAttach, operations.HandlerOf(s.attachFlow))
	e.Register(KindUpdate, operations.HandlerOf(s.updateFlow))
	e.Register(KindDelete, operations.HandlerOf(s.deleteFlow))
	// A failed create or attach removes what it made (B2) and leaves the compute Failed.
	e.OnFailure(KindCreate, operations.CleanupOf(func(ctx context.Context, in createInput, err error) error { return s.fail(ctx, in.ID, err, true) }))
	e.OnFailure(KindAttach, operations.CleanupOf(func(ctx context.Context, in attachInput, err error) error { return s.fail(ctx, in.ID, err, false) }))
	// A failed update leaves the compute working with what is in the cluster: the failure
	// goes on the operation and in provisioningErrors, and the conditions say the state.
	e.OnFailure(KindUpdate, operations.CleanupOf(func(ctx context.Context, in updateInput, err error) error {
		return s.recordFailure(ctx, in.ID, err, func(c *armapi.Compute) string { return derivedState(c.Properties.Mlfleet.Conditions) })
	}))
	e.OnFailure(KindDelete, operations.CleanupOf(func(ctx context.Context, in deleteInput, err error) error {
		return s.recordFailure(ctx, in.ID, err, func(*armapi.Compute) string { return armapi.StateFailed })
	}))
	// When a cleanup is given up, the compute is Failed with the operation's error and the
	// cleanup's: the user can delete it, or create or attach its name again to replace it.
	// What the cleanup did not remove is left; deleting the compute removes it.
	failed := func(*armapi.Compute) string { return armapi.StateFailed }
	e.OnGiveUp(KindCreate, giveUpOf(func(ctx context.Context, in createInput, err error) error { return s.givenUp(ctx, in.ID, err) }))
	e.OnGiveUp(KindAttach, giveUpOf(func(ctx context.Context, in attachInput, err error) error { return s.givenUp(ctx, in.ID, err) }))
	e.OnGiveUp(KindUpdate, giveUpOf(func(ctx context.Context, in updateInput, err error) error {
		return s.recordFailure(ctx, in.ID, err, func(c *armapi.Compute) string { return derivedState(c.Properties.Mlfleet.Conditions) })
	}))
	e.OnGiveUp(KindDelete, giveUpOf(func(ctx context.Context, in deleteInput, err error) error {
		return s.recordFailure(ctx, in.ID, err, failed)
	}))
}

// giveUpOf is operations.CleanupOf for a GiveUp.
func giveUpOf[In any](f func(context.Context, In, error) error) operations.GiveUp {
	return operations.GiveUp(operations.CleanupOf(f))
}

// givenUp records a compute whose failed create or attach could not be cleaned up: Failed,
// not attached, with the error. Its claims stay until it is deleted or replaced.
func (s *Service) givenUp(ctx context.Context, id string, err error) error {
	return s.recordFailure(ctx, id, err, func(c *armapi.Compute) string {
		c.Properties.Mlfleet.Attached = false
		return armapi.StateFailed
	})
}

// recordFailure puts err in a compute's provisioningErrors and sets its state.
func (s *Service) recordFailure(ctx context.Context, id string, err error, state func(*armapi.Compute) string) error {
	merr := s.modify(ctx, id, func(c *armapi.Compute) {
		c.Properties.ProvisioningErrors = []armapi.ProvisioningError{{Error: errorDetail(err)}}
		c.Properties.ProvisioningState = state(c)
	})
	if errors.Is(merr, store.ErrNotFound) {
		return nil
	}
	return merr
}

// pollEvery is how often operations look at a cluster or its components while waiting:
// an embedded cluster is ready within seconds (B3), so a coarser poll would dominate an
// attach's time, and one GET per 100 ms is nothing to an API server.
const pollEvery = 100 * time.Millisecond

func (s *Service) workspaceOf(ctx context.Context, c *armapi.Compute) (*armapi.Workspace, error) {
	p, err := arm.ParseID(c.ID)
	if err != nil || len(p.Names) < 1 {
		return nil, fmt.Errorf("compute id %s: %v", c.ID, err)
	}
	return s.cfg.Workspaces.Get(ctx, p.SubscriptionID, p.ResourceGroup, p.Names[0])
}

// clusterError wraps an error of the kube package as the ARM error users see. nil stays nil.
// The codes say who can act: an unreachable cluster is a 409 (the request is fine, the
// cluster's state conflicts with it, and the same request succeeds once it answers); a
// refusal is a 403 naming what the credentials may not do; an existing attachment is the
// 409 of S11; anything else the cluster answered is a 500, since the checks passed.
func clusterError(cluster, what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kube.ErrUnreachable):
		return arm.Errorf(http.StatusConflict, "ClusterUnreachable", "Cluster '%s' could not be reached to %s: %v", cluster, what, err)
	case errors.Is(err, kube.ErrForbidden):
		return arm.Errorf(http.StatusForbidden, "InsufficientPermissions", "Cluster '%s' refused to let mlfleet %s: %v", cluster, what, err)
	case errors.Is(err, kube.ErrAttached):
		return arm.Conflict("Cluster '%s': %v", cluster, err)
	}
	var ae *arm.Error
	if errors.As(err, &ae) {
		return err
	}
	return arm.Errorf(http.StatusInternalServerError, "ClusterOperationFailed", "Cluster '%s': could not %s: %v", cluster, what, err)
}

// errorDetail turns an error into the provisioningErrors shape.
func errorDetail(err error) armapi.ErrorDetail {
	var ae *arm.Error
	if !errors.As(err, &ae) {
		return armapi.ErrorDetail{Code: arm.CodeInternalServerError, Message: err.Error()}
	}
	d := armapi.ErrorDetail{Code: ae.Code, Message: ae.Message, Target: ae.Target}
	for _, x := range ae.Details {
		d.Details = append(d.Details, armapi.ErrorDetail{Code: x.Code, Message: x.Message, Target: x.Target})
	}
	return d
}
