package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// ClusterChangeAllowed checks a change made to a cluster itself (az aks scale, aks update,
// aks nodepool scale) against the compute attached to it, if any; otherwise the change
// would be accepted and leave the compute Failed. New authorized IP ranges must still let
// this control plane in (S15, as attach checks): else the compute could no longer be
// reached, updated or even detached. New node counts or autoscaling must still be enough
// for the compute's purpose (S5; S20 re-checks S5 on a scale-down), counting the
// autoscaling floor. containerservice calls it (its Config.ChangeGuard) before it accepts
// a change; nil means allowed.
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
	cur, err := s.cfg.Clusters.GetByID(ctx, next.ID)
	if err != nil {
		return err
	}
	if err := rangesAllowed(cur, next, holder); err != nil {
		return err
	}
	// A change that leaves every pool's size and floor as they are (new ranges, tags)
	// cannot make the cluster too small: what it is now is not this change's doing.
	if !poolSizesChanged(cur, next) {
		return nil
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
	var problems []string
	if len(fails) > 0 {
		problems = append(problems, fmt.Sprintf("Cluster '%s' is attached to %s, whose cluster purpose is %s: %s To go below that, detach the compute first ('mlfleet ml computetarget detach'), or change its purpose ('mlfleet ml computetarget update aks --cluster-purpose DevTest').",
			next.Name, describeCompute(holder), purpose, strings.Join(fails, " ")))
	}
	// Every reason is in the one 400, so that the user fixes them all in one round.
	msg, err := s.deploymentsFit(ctx, holder, next)
	if err != nil {
		return err
	}
	if msg != "" {
		problems = append(problems, msg)
	}
	if len(problems) == 0 {
		return nil
	}
	return arm.Errorf(http.StatusBadRequest, "InsufficientCapacity", "%s", strings.Join(problems, " ")).WithTarget("properties.agentPoolProfiles")
}

// deploymentsFit asks Config.DeploymentsFit whether the online deployments on compute
// computeID still fit its cluster as next leaves it: the message of its refusal, "" when
// they fit (or nothing is asked), or the error that kept it from answering.
func (s *Service) deploymentsFit(ctx context.Context, computeID string, next *armapi.ManagedCluster) (string, error) {
	if s.cfg.DeploymentsFit == nil {
		return "", nil
	}
	err := s.cfg.DeploymentsFit(ctx, computeID, next)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return ae.Message, nil
	}
	return "", err
}

// rangesAllowed refuses authorized IP ranges, new in next, that leave out the address this
// control plane connects to the cluster from, while compute holder is attached to it; the
// answer is the 400 an attach of such a cluster gets, with the range to add.
func rangesAllowed(cur, next *armapi.ManagedCluster, holder string) error {
	var was, ranges []string
	if ap := cur.Properties.APIServerAccessProfile; ap != nil {
		was = ap.AuthorizedIPRanges
	}
	if ap := next.Properties.APIServerAccessProfile; ap != nil {
		ranges = ap.AuthorizedIPRanges
	}
	if slices.Equal(was, ranges) {
		return nil
	}
	src, blocked := excludedSource(cur, ranges)
	if !blocked {
		return nil
	}
	id, _ := arm.ParseID(next.ID)
	return arm.Errorf(http.StatusBadRequest, "ControlPlaneNotAuthorized",
		"Cluster '%s' is attached to %s, and mlfleet's control plane connects to it from %s, which the authorized IP ranges %s leave out: the compute could no longer be reached, updated or detached. Add %s/%d to the ranges: %s. To restrict the cluster without it, detach the compute first ('mlfleet ml computetarget detach').",
		next.Name, describeCompute(holder), src, strings.Join(ranges, ", "), src, src.BitLen(), rangesFix(next, id.ResourceGroup, ranges, src)).
		WithTarget("properties.apiServerAccessProfile.authorizedIPRanges")
}

// poolSizesChanged reports whether next changes what the purpose rule counts: a pool's
// node count, VM size, autoscaling or minCount, or the pools themselves.
func poolSizesChanged(cur, next *armapi.ManagedCluster) bool {
	a, b := cur.Properties.AgentPoolProfiles, next.Properties.AgentPoolProfiles
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Count != y.Count || x.VMSize != y.VMSize || x.EnableAutoScaling != y.EnableAutoScaling ||
			(x.MinCount == nil) != (y.MinCount == nil) || (x.MinCount != nil && *x.MinCount != *y.MinCount) {
			return true
		}
	}
	return false
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
