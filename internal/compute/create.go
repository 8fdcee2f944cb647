package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
	"k8s.io/apimachinery/pkg/util/wait"
)

// create handles a PUT without resourceId: a new cluster from the workspace (S1).
func (s *Service) create(ctx context.Context, w *armapi.Workspace, id, name string, in armapi.Compute, opts Options) (*Result, error) {
	loc, err := computeLocation(w, in)
	if err != nil {
		return nil, err
	}
	if r, err := s.cfg.Store.GetResource(ctx, nameClaimID(loc, name)); err == nil && !heldBy(r, opts.replace) {
		return nil, s.nameTaken(ctx, loc, name)
	}
	var shape arm.Problems
	st := readSettings(in.Properties.Properties, defaults(), s.cfg.Clusters.VMSizes(), true, &shape)
	l := &checkList{}
	l.shape(shape)
	if vm, ok := s.cfg.Clusters.VMSizes().Get(st.VMSize); ok {
		fails, warns := capacity(st.Purpose, st.AgentCount, st.AgentCount*vm.Cores,
			fmt.Sprintf("the requested cluster (%d × %s, %d vCPUs each)", st.AgentCount, vm.Name, vm.Cores))
		for _, f := range fails {
			l.fail("Capacity", "InsufficientCapacity", "properties.properties.agentCount", "%s", f)
		}
		if len(fails) == 0 {
			l.pass("Capacity", "%d × %s = %d vCPUs: enough for %s", st.AgentCount, vm.Name, st.AgentCount*vm.Cores, st.Purpose)
		}
		l.warnings = append(l.warnings, warns...)
	}
	if err := s.checkLeaf(ctx, loc, id, st.SSL, l); err != nil {
		return nil, err
	}
	parsed, _ := arm.ParseID(id)
	forCluster := st
	for _, e := range shape {
		if strings.HasPrefix(e.Target, "properties.properties.aksNetworkingConfiguration") {
			forCluster.Network = nil // already reported, in the compute's terms
		}
	}
	// The cluster is reserved in the same transaction as the compute (below), recording the
	// compute as the one that created it: a user's cluster of that name is never taken for it.
	nc, err := s.cfg.Clusters.Validate(ctx, parsed.SubscriptionID, parsed.ResourceGroup, name, clusterInput(loc, forCluster), id)
	var ae *arm.Error
	switch {
	case err == nil:
		l.pass("Cluster", "a cluster named %s can be created in resource group %s", name, parsed.ResourceGroup)
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return nil, err // a policy refuses it (S16): served as ARM serves it
	case errors.As(err, &ae) && ae.Code == arm.CodeQuotaExceeded:
		l.fail("Quota", ae.Code, ae.Target, "%s", ae.Message)
	case errors.As(err, &ae) && ae.Status == http.StatusConflict:
		l.fail("Cluster", arm.CodeConflict, "name",
			"Resource group '%s' already has a managed cluster named '%s'. To use it, attach it ('mlfleet ml computetarget attach aks -n %s -i %s'); to create a new one, choose another compute name.",
			parsed.ResourceGroup, name, name, containerservice.ID(parsed.SubscriptionID, parsed.ResourceGroup, name))
	case errors.As(err, &ae) && len(ae.Details) > 0:
		for _, d := range ae.Details {
			l.fail("Cluster", d.Code, d.Target, "%s", d.Message)
		}
	case errors.As(err, &ae):
		l.fail("Cluster", ae.Code, ae.Target, "%s", ae.Message)
	default:
		return nil, err
	}
	if err := l.err(fmt.Sprintf("Compute '%s' cannot be created", name)); err != nil {
		return nil, err
	}
	if opts.ValidateOnly {
		return &Result{Validation: l.validation(), Warnings: l.warnings}, nil
	}
	clusterID := nc.ID()
	c := s.newCompute(id, name, loc, in, st)
	c.Properties.ResourceID = &clusterID
	c.Properties.Mlfleet.CreatedCluster = true
	c.Properties.Mlfleet.Warnings = l.warnings
	op, err := s.insert(ctx, w, c, st, KindCreate, createInput{ID: id}, opts, func(tx store.Store) error {
		_, err := s.cfg.Clusters.Insert(ctx, tx, nc)
		if errors.Is(err, store.ErrConflict) {
			return arm.Conflict("Resource group '%s' already has a managed cluster named '%s' (created a moment ago). To use it, attach it ('mlfleet ml computetarget attach aks -n %s -i %s'); to create a new one, choose another compute name.",
				parsed.ResourceGroup, name, name, clusterID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Result{Compute: redact(c), Created: true, Operation: op, Warnings: l.warnings}, nil
}

// clusterInput is the managed cluster a compute creates: basic load balancer, the
// location's default version, one system pool (S1, S8, S14, S26).
func clusterInput(loc string, st settings) armapi.ClusterInput {
	var ci armapi.ClusterInput
	ci.Location = loc
	ci.Tags = map[string]string{"createdBy": "mlfleet-workspace"}
	count := st.AgentCount
	ci.Properties.AgentPoolProfiles = []armapi.AgentPoolInput{{Name: "agentpool", Count: &count, VMSize: st.VMSize, Mode: "System"}}
	np := &armapi.NetworkProfile{LoadBalancerSku: "basic", OutboundType: "loadBalancer"}
	if n := st.Network; n != nil {
		// kubenet, as every mlfleet cluster: its pods get addresses from the pod CIDR, not
		// from the subnet (which Azure CNI would mean).
		np.ServiceCidr, np.DNSServiceIP, np.DockerBridgeCidr, np.SubnetID = n.ServiceCidr, n.DNSServiceIP, n.DockerBridgeCidr, n.SubnetID
	}
	ci.Properties.NetworkProfile = &armapi.NetworkProfileInput{NetworkProfile: *np}
	return ci
}

// createFlow creates the cluster of a compute, then attaches it.
func (s *Service) createFlow(ctx context.Context, run *operations.Run, in createInput) error {
	c, err := s.getByID(ctx, in.ID)
	if err != nil {
		return err
	}
	clusterID := deref(c.Properties.ResourceID)
	cid, _ := arm.ParseID(clusterID)
	// The cluster was reserved with the compute, and its own create operation brings it up.
	if err := run.Step(ctx, "wait for cluster", func(ctx context.Context) error {
		if err := s.waitCluster(ctx, clusterID, nil); err != nil {
			return err
		}
		mc, err := s.cfg.Clusters.GetByID(ctx, clusterID)
		if err != nil {
			return err
		}
		// The reservation can have been replaced meanwhile (its create failed, and a
		// user's PUT created a cluster of the same name): then the cluster is not ours to
		// attach, and above all not ours to delete in the cleanup.
		if !strings.EqualFold(mc.Properties.Mlfleet.CreatedFor, in.ID) {
			return arm.Conflict("Cluster '%s' was not created for compute '%s'; it is left as it is.", cid.Name(), c.Name)
		}
		return nil
	}); err != nil {
		return err
	}
	return s.claimAndInstall(ctx, run, clusterID, in.ID)
}

// waitCluster waits until a cluster's provisioning ends (and done, when given, holds). It
// has no timeout of its own: the cluster's operation has its own bounds and ends Failed
// when it gives up, which ends this wait too, and a cluster in a transitional state that no
// operation works on is an error at once.
func (s *Service) waitCluster(ctx context.Context, clusterID string, done func(*armapi.ManagedCluster) bool) error {
	// abandoned is an error when no operation works on the cluster seen any more (the
	// cluster's own failure, when it has one, else orphan), nil while one does. An
	// operation writes the cluster before it ends: a cluster changed since it was seen was
	// the last write of an operation that has just ended, and is looked at again.
	abandoned := func(ctx context.Context, seen *armapi.ManagedCluster, orphan *arm.Error) error {
		ops, err := running(ctx, s.cfg.Store, clusterID)
		if err != nil || len(ops) > 0 {
			return err
		}
		if now, err := s.cfg.Clusters.GetByID(ctx, clusterID); err != nil || now.ETag != seen.ETag {
			return err
		}
		if err := s.clusterFailure(ctx, clusterID); err != nil {
			return err
		}
		return orphan
	}
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		mc, err := s.cfg.Clusters.GetByID(ctx, clusterID)
		if err != nil {
			return false, err
		}
		switch mc.Properties.ProvisioningState {
		case armapi.StateSucceeded:
			if done == nil || done(mc) {
				return true, nil
			}
			// Not there yet: fine while an operation works on the cluster, an error once none
			// does (its update failed, or was given up). 500: the request was valid, the
			// cluster side failed it.
			return false, abandoned(ctx, mc, arm.Errorf(http.StatusInternalServerError, "ClusterUpdateFailed",
				"Cluster '%s' did not reach the requested state; retry the request.", mc.Name))
		case armapi.StateFailed:
			if err := s.clusterFailure(ctx, clusterID); err != nil {
				return false, err
			}
			return false, arm.Errorf(http.StatusInternalServerError, "ClusterCreationFailed", "Cluster '%s' could not be created.", mc.Name)
		default:
			// Creating or Updating: fine while an operation works on the cluster. Once none
			// does, nothing will ever end the state (a cluster left so by an older server
			// whose cleanup failed), and waiting would never end.
			return false, abandoned(ctx, mc, arm.Errorf(http.StatusInternalServerError, "ClusterCreationFailed",
				"Cluster '%s' is %s, but no operation works on it any more; delete the compute and retry.", mc.Name, mc.Properties.ProvisioningState))
		}
	})
}

// clusterFailure returns the error of the cluster's last failed operation.
func (s *Service) clusterFailure(ctx context.Context, clusterID string) error {
	ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: clusterID, Status: store.StatusFailed})
	if err != nil || len(ops) == 0 {
		return err
	}
	e := &arm.Error{}
	if json.Unmarshal(ops[len(ops)-1].Error, e) == nil && e.Code != "" {
		if e.Status == 0 {
			e.Status = http.StatusInternalServerError
		}
		return e
	}
	return nil
}
