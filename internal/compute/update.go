package compute

import (
	"context"
	"errors"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/operations"
)

// updateFlow applies changed settings in place: scale the cluster, re-apply the components.
func (s *Service) updateFlow(ctx context.Context, run *operations.Run, in updateInput) error {
	c, err := s.getByID(ctx, in.ID)
	if err != nil {
		return err
	}
	mc, err := s.attachedCluster(ctx, c)
	if err != nil {
		return err
	}
	if in.Scale != nil {
		pool := mc.Properties.AgentPoolProfiles[0].Name
		cid, _ := arm.ParseID(mc.ID)
		if err := run.Step(ctx, "scale cluster", func(ctx context.Context) error {
			var body containerservice.AgentPoolPut
			body.Properties.Count = in.Scale
			_, _, err := s.cfg.Clusters.ScalePool(ctx, cid.SubscriptionID, cid.ResourceGroup, cid.Name(), pool, body)
			var ae *arm.Error
			// An earlier attempt's scale still runs: this step crashed after submitting it.
			// Waiting for it, then checking the count in the next step, makes the step
			// idempotent without a second scale.
			if errors.As(err, &ae) && ae.Code == arm.CodeOperationInProgress {
				return s.waitCluster(ctx, mc.ID, nil)
			}
			return err
		}); err != nil {
			return err
		}
		if err := run.Step(ctx, "wait for scale", func(ctx context.Context) error {
			return s.waitCluster(ctx, mc.ID, func(mc *containerservice.ManagedCluster) bool {
				return mc.Properties.AgentPoolProfiles[0].Count == *in.Scale
			})
		}); err != nil {
			return err
		}
	}
	st, err := s.settingsOf(ctx, c)
	if err != nil {
		return err
	}
	kc, err := s.connectWhenUp(ctx, mc)
	if err != nil {
		return unreachable(mc.Name, err)
	}
	return s.applyAndRecord(ctx, run, c, mc, kc, st)
}
