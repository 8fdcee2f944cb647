package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// ClusterChangeAllowed applies the purpose rule (S5) to a change made to a cluster itself
// (az aks scale, aks update, aks nodepool scale; S20 re-checks S5 on a scale-down): when a
// compute is attached to the cluster, the nodes next will have, and its autoscaling floor,
// must still be enough for the compute's purpose. Otherwise the change would be accepted
// and leave the compute Failed. containerservice calls it (its Config.ChangeGuard) before
// it accepts a change; nil means allowed.
func (s *Service) ClusterChangeAllowed(ctx context.Context, next *armapi.ManagedCluster) error {
	holder, err := s.attachmentHolder(ctx, next.ID)
	if err != nil || holder == "" {
		return err
	}
	r, err := s.cfg.Store.GetResource(ctx, holder)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the claim of a compute being deleted; the sweeper removes it
	}
	if err != nil {
		return fmt.Errorf("read compute %s: %w", holder, err)
	}
	c, err := decode(r)
	if err != nil {
		return err
	}
	purpose := ""
	if p := c.Properties.Properties; p != nil {
		purpose = normalizePurpose(deref(p.ClusterPurpose))
	}
	nodes, cores := 0, 0
	for _, p := range next.Properties.AgentPoolProfiles {
		if vm, ok := s.cfg.Clusters.VMSizes().Get(p.VMSize); ok {
			nodes, cores = nodes+p.Count, cores+p.Count*vm.Cores
		}
	}
	fails, _ := capacity(purpose, nodes, cores, fmt.Sprintf("cluster '%s' after this change", next.Name))
	fails = append(fails, floorFailures(next, purpose, s.cfg.Clusters.VMSizes())...)
	if len(fails) == 0 {
		return nil
	}
	return arm.Errorf(http.StatusBadRequest, "InsufficientCapacity",
		"Cluster '%s' is attached to %s, whose cluster purpose is %s: %s To go below that, detach the compute first ('mlfleet ml computetarget detach'), or change its purpose ('mlfleet ml computetarget update aks --cluster-purpose DevTest').",
		next.Name, describeCompute(holder), purpose, strings.Join(fails, " ")).WithTarget("properties.agentPoolProfiles")
}

// ClusterDeleteAllowed refuses the delete of a cluster (az aks delete) while online
// deployments run on it through the compute attached to it: they would go on saying
// Succeeded while every request to them fails, and only deleting their endpoint would get
// out of it. A detach of that compute is refused for the same reason. containerservice
// calls it (its Config.DeleteGuard) in tx, the transaction that starts the delete; nil
// means allowed. It takes the compute's use lock, as Delete does, so that a deployment
// stored meanwhile is either listed here or sees the cluster Deleting (UseIn).
func (s *Service) ClusterDeleteAllowed(ctx context.Context, tx store.Store, mc *armapi.ManagedCluster) error {
	holder, err := claimHolder(ctx, tx, attachmentClaimID(mc.ID), "attachment of "+mc.ID)
	if err != nil || holder == "" {
		return err
	}
	if err := tx.Lock(ctx, useLock(holder)); err != nil {
		return err
	}
	users, err := s.computeUsers(ctx, tx, holder)
	if err != nil || len(users) == 0 {
		return err
	}
	return arm.Conflict("Cluster '%s' is attached to %s, which %s use. Delete them, or move them to another compute, then delete the cluster.",
		mc.Name, describeCompute(holder), strings.Join(users, ", "))
}
