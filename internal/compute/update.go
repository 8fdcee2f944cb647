package compute

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// update handles a PUT on an existing compute: TLS, load balancer, cluster purpose and node
// count change in place (S12, S20, B5); an identical PUT changes nothing (B2).
func (s *Service) update(ctx context.Context, w *armapi.Workspace, r *store.Resource, in armapi.Compute, opts Options) (*Result, error) {
	c, err := decode(r)
	if err != nil {
		return nil, err
	}
	ops, err := running(ctx, s.cfg.Store, r.ID)
	if err != nil {
		return nil, err
	}
	if len(ops) > 0 {
		return nil, operationInProgress(c.Name, c.Properties.ProvisioningState, ops[0])
	}
	if !c.Properties.Mlfleet.Attached {
		return nil, arm.Conflict("Compute '%s' is %s and has no working cluster to update: detach it ('mlfleet ml computetarget detach -n %s'), then create or attach it again.", c.Name, strings.ToLower(c.Properties.ProvisioningState), c.Name)
	}
	if rid := deref(in.Properties.ResourceID); rid != "" && !strings.EqualFold(rid, deref(c.Properties.ResourceID)) {
		return nil, arm.BadRequest(arm.CodeUserError, "Compute '%s' is on cluster %s; to use cluster %s, detach this compute first, or attach that cluster under another name.", c.Name, deref(c.Properties.ResourceID), rid).WithTarget("properties.resourceId")
	}
	base, err := s.settingsOf(ctx, c)
	if err != nil {
		return nil, err
	}
	var shape arm.Problems
	st := readSettings(in.Properties.Properties, base, s.cfg.Clusters.VMSizes(), false, &shape)
	if st.VMSize != base.VMSize {
		shape.Add(arm.CodeUserError, "properties.properties.agentVmSize", "The VM size of compute '%s' is %s and cannot be changed: create a new compute with the size you need.", c.Name, base.VMSize)
		st.VMSize = base.VMSize
	}
	l := &checkList{}
	l.shape(shape)
	mc, err := s.attachedCluster(ctx, c)
	if err != nil {
		return nil, err
	}
	var scale *int
	if st.AgentCount != base.AgentCount {
		scale = &st.AgentCount
		s.checkScale(mc, c, st, l)
		if len(mc.Properties.AgentPoolProfiles) == 1 && st.AgentCount < base.AgentCount {
			// A scale-down must leave room for the online deployments on the compute.
			next := *mc
			next.Properties.AgentPoolProfiles = slices.Clone(mc.Properties.AgentPoolProfiles)
			next.Properties.AgentPoolProfiles[0].Count = st.AgentCount
			msg, err := s.deploymentsFit(ctx, c.ID, &next)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				l.fail("Deployments", "InsufficientCapacity", "properties.properties.agentCount", "%s", msg)
			}
		}
		if len(mc.Properties.AgentPoolProfiles) == 1 {
			// Checked here so that a quota failure is in the one 400 with every other
			// problem (B1); checked again, atomically, when the operation scales the cluster.
			err := s.cfg.Clusters.CheckScale(ctx, mc, mc.Properties.AgentPoolProfiles[0].Name, st.AgentCount)
			var ae *arm.Error
			switch {
			case errors.As(err, &ae) && ae.Code == arm.CodeQuotaExceeded:
				l.fail("Quota", ae.Code, ae.Target, "%s", ae.Message)
			case err != nil:
				return nil, err
			}
		}
	} else if st.Purpose != base.Purpose {
		o := s.observe(ctx, mc, false)
		if o.Unreachable != nil {
			l.fail("Reachable", "ClusterUnreachable", "properties.resourceId", "Cluster '%s' cannot be reached to check the new cluster purpose: %v.", mc.Name, o.Unreachable)
		} else {
			fails, warns, _ := liveCapacity(st.Purpose, o.Nodes, fmt.Sprintf("cluster '%s'", mc.Name))
			for _, f := range append(fails, floorFailures(mc, st.Purpose, s.cfg.Clusters.VMSizes())...) {
				l.fail("Capacity", "InsufficientCapacity", "properties.properties.clusterPurpose", "%s", f)
			}
			l.warnings = append(l.warnings, warns...)
		}
	}
	if err := s.checkLeaf(ctx, c.Properties.ComputeLocation, c.ID, st.SSL, l); err != nil {
		return nil, err
	}
	if err := l.err(fmt.Sprintf("Compute '%s' cannot be updated", c.Name)); err != nil {
		return nil, err
	}
	if opts.ValidateOnly {
		return &Result{Validation: l.validation(), Warnings: l.warnings}, nil
	}
	renew := st.SSL.Renew || (st.SSL.Status == "Auto" && st.SSL.Overwrite)
	st.SSL.Renew, base.SSL.Renew = false, false
	descChanged := in.Properties.Description != nil && deref(in.Properties.Description) != deref(c.Properties.Description)
	// An identical PUT changes nothing (B2), but still answers with an operation that has
	// succeeded, for clients that always follow the Azure-AsyncOperation URL (A4).
	if reflect.DeepEqual(st, base) && !renew && !tagsChanged(in, c) && !descChanged {
		op, err := s.cfg.Engine.Completed(ctx, KindUpdate, r.ID, r.SubscriptionID)
		if err != nil {
			return nil, err
		}
		return &Result{Compute: c, Operation: op}, nil
	}
	// Claims, secret, state and operation commit together; the version read above guards
	// against a concurrent change, which gets a 409 instead of being overwritten.
	count := base.AgentCount
	op, err := s.submit(ctx, func(tx store.Store) (*store.Operation, error) {
		ops, err := running(ctx, tx, r.ID)
		if err != nil {
			return nil, err
		}
		if len(ops) > 0 {
			return nil, operationInProgress(c.Name, c.Properties.ProvisioningState, ops[0])
		}
		if err := s.claimLeaf(ctx, tx, c.Properties.ComputeLocation, c.ID, st.SSL); err != nil {
			return nil, err
		}
		// The old label is released in the same transaction the new one is claimed: a crash
		// must not leave the compute holding two labels, or none.
		if base.SSL.Status == "Auto" && (st.SSL.Status != "Auto" || !strings.EqualFold(st.SSL.Leaf, base.SSL.Leaf)) {
			if err := s.releaseLeaf(ctx, tx, c.Properties.ComputeLocation, base.SSL.Leaf, c.ID); err != nil {
				return nil, err
			}
		}
		if err := s.saveTLS(ctx, tx, r.ID, st.SSL); err != nil {
			return nil, err
		}
		if renew {
			if err := s.forgetIssuedCert(ctx, tx, r.ID); err != nil {
				return nil, err
			}
		}
		// With If-Match, only the compute as it was read may change; without, a change the
		// health monitor made meanwhile is kept and this one applied over it.
		guard := func(cur *store.Resource) error {
			if opts.Preconditions.IfMatch != "" && cur.Version != r.Version {
				return opts.Preconditions.CheckIfMatch(fmt.Sprintf("Compute '%s'", c.Name), true, arm.ETag(cur.Version))
			}
			return nil
		}
		_, err = store.Modify(ctx, tx, r.ID, func(cur *store.Resource) error {
			if err := guard(cur); err != nil {
				return err
			}
			next, err := decode(cur)
			if err != nil {
				return err
			}
			s.render(next, st)
			next.Properties.Properties.AgentCount = &count // changes when the cluster has scaled
			next.Properties.ProvisioningState = armapi.StateUpdating
			next.Properties.Mlfleet.Warnings = l.warnings
			if in.Tags != nil {
				next.Tags = in.Tags
			}
			if in.Properties.Description != nil {
				next.Properties.Description = in.Properties.Description
			}
			next.Properties.ModifiedOn = ptr(s.now().UTC())
			next.ETag = ""
			cur.Body = computeRecord.Encode(next)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return s.cfg.Engine.SubmitIn(ctx, tx, KindUpdate, r.ID, r.SubscriptionID, updateInput{ID: r.ID, Scale: scale})
	})
	if err != nil {
		return nil, err
	}
	c, err = s.getByID(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return &Result{Compute: c, Operation: op, Warnings: l.warnings}, nil
}

// checkScale checks a change of node count (S20): the cluster must be one mlfleet can
// scale, with one pool, and the new size must still satisfy the cluster purpose (S5).
func (s *Service) checkScale(mc *armapi.ManagedCluster, c *armapi.Compute, st settings, l *checkList) {
	pools := mc.Properties.AgentPoolProfiles
	switch {
	case mc.Properties.Mlfleet.Provider != "embedded":
		l.fail("Scale", arm.CodeUserError, "properties.properties.agentCount",
			"Cluster '%s' comes from the %s provider and is scaled where it runs, not through mlfleet.", mc.Name, mc.Properties.Mlfleet.Provider)
		return
	case len(pools) != 1:
		l.fail("Scale", arm.CodeUserError, "properties.properties.agentCount",
			"Cluster '%s' has %d node pools; scale the pool you mean with 'mlfleet aks scale --nodepool-name'.", mc.Name, len(pools))
		return
	}
	vm, ok := s.cfg.Clusters.VMSizes().Get(pools[0].VMSize)
	if !ok {
		return
	}
	fails, warns := capacity(st.Purpose, st.AgentCount, st.AgentCount*vm.Cores, fmt.Sprintf("cluster '%s' scaled to %d × %s", mc.Name, st.AgentCount, vm.Name))
	for _, f := range fails {
		l.fail("Capacity", "InsufficientCapacity", "properties.properties.agentCount", "%s", f)
	}
	if len(fails) == 0 {
		l.pass("Scale", "%d × %s = %d vCPUs: enough for %s", st.AgentCount, vm.Name, st.AgentCount*vm.Cores, st.Purpose)
	}
	l.warnings = append(l.warnings, warns...)
}

func tagsChanged(in armapi.Compute, c *armapi.Compute) bool {
	return in.Tags != nil && !reflect.DeepEqual(in.Tags, c.Tags) && !(len(in.Tags) == 0 && len(c.Tags) == 0)
}

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
			var body armapi.AgentPoolPut
			body.Properties.Count = in.Scale
			_, _, err := s.cfg.Clusters.ScalePool(ctx, cid.SubscriptionID, cid.ResourceGroup, cid.Name(), pool, body, arm.Preconditions{})
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
			return s.waitCluster(ctx, mc.ID, func(mc *armapi.ManagedCluster) bool {
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
	if err := s.applyAndRecord(ctx, run, c, mc, kc, st); err != nil {
		return err
	}
	if s.cfg.ServingChanged == nil {
		return nil
	}
	https := st.SSL.Status == "Enabled" || st.SSL.Status == "Auto"
	return run.Step(ctx, "refresh scoring URIs", func(ctx context.Context) error {
		return s.cfg.ServingChanged(ctx, c.ID, https)
	})
}
