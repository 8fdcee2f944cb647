package compute

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"k8s.io/apimachinery/pkg/util/wait"
)

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
	// Claim before install: the claim row is what makes another attach of this cluster a
	// 409 (S11), so nothing goes into the cluster until it is held.
	if err := run.Step(ctx, "claim cluster", func(ctx context.Context) error {
		return s.claimCluster(ctx, clusterID, in.ID)
	}); err != nil {
		return err
	}
	return s.install(ctx, run, in.ID)
}

// waitCluster waits until a cluster's provisioning ends (and done, when given, holds). It
// has no timeout of its own: the cluster's operation has its own bounds and ends Failed
// when it gives up, which ends this wait too.
func (s *Service) waitCluster(ctx context.Context, clusterID string, done func(*containerservice.ManagedCluster) bool) error {
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		mc, err := s.cfg.Clusters.GetByID(ctx, clusterID)
		if err != nil {
			return false, err
		}
		switch mc.Properties.ProvisioningState {
		case containerservice.StateSucceeded:
			if done == nil || done(mc) {
				return true, nil
			}
			// Not there yet: fine while an operation works on the cluster, an error once none
			// does (its update failed, or was given up).
			ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: clusterID, Status: store.StatusInProgress})
			if err != nil {
				return false, err
			}
			if len(ops) == 0 {
				if err := s.clusterFailure(ctx, clusterID); err != nil {
					return false, err
				}
				// 500: the request was valid, the cluster side failed it; the cluster
				// operation's own error, when there is one, is returned above instead.
				return false, arm.Errorf(http.StatusInternalServerError, "ClusterUpdateFailed", "Cluster '%s' did not reach the requested state; retry the request.", mc.Name)
			}
		case containerservice.StateFailed:
			if err := s.clusterFailure(ctx, clusterID); err != nil {
				return false, err
			}
			return false, arm.Errorf(http.StatusInternalServerError, "ClusterCreationFailed", "Cluster '%s' could not be created.", mc.Name)
		}
		return false, nil
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
