package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
	"k8s.io/apimachinery/pkg/util/wait"
)

// deleteFlow detaches or deletes a compute (S3).
func (s *Service) deleteFlow(ctx context.Context, run *operations.Run, in deleteInput) error {
	r, err := s.cfg.Store.GetResource(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := decode(r)
	if err != nil {
		return err
	}
	// The order makes every crash point safe to resume: the components go first, while the
	// claims still keep another attach away; the cluster (a created one, on Delete) next;
	// the compute and its claims last, so an interrupted delete still has its compute row
	// (Deleting) and its operation resumes from the first step not done.
	if err := run.Step(ctx, "remove components", func(ctx context.Context) error {
		return s.removeComponents(ctx, c, true)
	}); err != nil {
		return err
	}
	clusterID := deref(c.Properties.ResourceID)
	if in.Action == "Delete" && c.Properties.Mlfleet.CreatedCluster {
		if err := run.Step(ctx, "delete cluster", func(ctx context.Context) error {
			return s.deleteCluster(ctx, clusterID, in.ID)
		}); err != nil {
			return err
		}
	}
	return run.Step(ctx, "forget compute", func(ctx context.Context) error {
		return s.cfg.Store.InTx(ctx, func(tx store.Store) error {
			r, err := tx.GetResource(ctx, in.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			// A detached compute leaves the cluster it created to the user (S3). In the
			// same transaction as the forget: a cluster must never name as its creator a
			// compute that no longer exists.
			if c.Properties.Mlfleet.CreatedCluster && clusterID != "" {
				if err := s.cfg.Clusters.Disown(ctx, tx, clusterID, in.ID); err != nil {
					return err
				}
			}
			return s.forgetIn(ctx, tx, r, 0)
		})
	})
}

// removeComponents removes what mlfleet installed for a compute from its cluster. A cluster
// that no longer exists has nothing to remove. strict refuses to go on when the cluster
// cannot be reached (detach would otherwise leave the components behind). Not strict is
// for cascading deletes and cleanups, which an unreachable cluster must not block: the
// marker left behind is removed by SweepMarkers once the cluster answers.
func (s *Service) removeComponents(ctx context.Context, c *armapi.Compute, strict bool) error {
	clusterID := deref(c.Properties.ResourceID)
	if clusterID == "" {
		return nil
	}
	mc, err := s.cfg.Clusters.GetByID(ctx, clusterID)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if mc.Properties.ProvisioningState == armapi.StateCreating || mc.Properties.ProvisioningState == armapi.StateFailed {
		return nil // never attached: nothing was installed
	}
	holder, err := s.attachmentHolder(ctx, clusterID)
	if err != nil {
		return err
	}
	if holder != "" && !strings.EqualFold(holder, c.ID) {
		return nil // the cluster was taken over (forced attach): what is there is not ours
	}
	kc, err := s.connectWhenUp(ctx, mc)
	if err == nil {
		err = kc.Remove(ctx, c.Properties.Mlfleet.AttachmentID)
	}
	if err != nil {
		if !strict {
			s.log.Warn("components left in an unreachable cluster", "compute", c.ID, "cluster", clusterID, "err", err)
			return nil
		}
		return componentsUnreachable(mc, err)
	}
	return nil
}

// componentsUnreachable is the error of a detach that could not remove the components of
// cluster mc (err, mostly a bare EOF or a refused connection). When the cluster's
// authorized IP ranges leave out the address this control plane connects from, that is
// the cause, and the error says which range to add, as an attach would (S15).
func componentsUnreachable(mc *armapi.ManagedCluster, err error) error {
	var ranges []string
	if ap := mc.Properties.APIServerAccessProfile; ap != nil {
		ranges = ap.AuthorizedIPRanges
	}
	if src, blocked := excludedSource(mc, ranges); blocked {
		id, _ := arm.ParseID(mc.ID)
		return arm.Errorf(http.StatusConflict, "ClusterUnreachable",
			"The components mlfleet installed in cluster '%s' cannot be removed: %v. The cluster accepts API server connections only from %s, and mlfleet's control plane connects from %s. Add %s/%d to its authorized IP ranges (%s), then retry the detach.",
			mc.Name, err, strings.Join(ranges, ", "), src, src, src.BitLen(), rangesFix(mc, id.ResourceGroup, ranges, src))
	}
	return arm.Errorf(http.StatusConflict, "ClusterUnreachable",
		"The components mlfleet installed in cluster '%s' cannot be removed: %v. Make the cluster reachable and retry, or delete the cluster first ('mlfleet aks delete').", mc.Name, err)
}

// deleteCluster deletes a cluster compute computeID created, and waits until it is gone.
// A cluster the compute did not create is left alone (DeleteFor checks the owner).
// Waiting makes the compute's delete end only once its cluster is gone, so a client that
// polls the compute's operation knows the cluster is deleted too. Resumed after a crash,
// DeleteFor returns the delete operation already running.
func (s *Service) deleteCluster(ctx context.Context, clusterID, computeID string) error {
	if clusterID == "" {
		return nil
	}
	op, err := s.cfg.Clusters.DeleteFor(ctx, clusterID, computeID)
	if err != nil || op == nil {
		return err
	}
	cid, _ := arm.ParseID(clusterID)
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		cur, err := s.cfg.Store.GetOperation(ctx, op.ID)
		if err != nil {
			return false, err
		}
		switch cur.Status {
		case store.StatusSucceeded:
			return true, nil
		case store.StatusFailed, store.StatusCanceled:
			return false, fmt.Errorf("delete cluster %s: %s", cid.Name(), cur.Error)
		}
		return false, nil
	})
}

// forgetIn removes a compute's rows through tx: its attachment claim and TLS label (if
// still its own), its TLS secret, its region name claim and itself. With ifVersion > 0 the
// compute is removed only as it was read. All in one transaction: a compute without its
// name claim would let another compute take the name while this one still exists, and a
// claim without its compute would hold the name for nobody (N7).
func (s *Service) forgetIn(ctx context.Context, tx store.Store, r *store.Resource, ifVersion int64) error {
	c, err := decode(r)
	if err != nil {
		return err
	}
	if clusterID := deref(c.Properties.ResourceID); clusterID != "" {
		if err := releaseClaim(ctx, tx, attachmentClaimID(clusterID), c.ID); err != nil {
			return err
		}
	}
	if ssl := c.Properties.Properties.SSLConfiguration; ssl != nil && ssl.Status == "Auto" {
		if err := s.releaseLeaf(ctx, tx, c.Properties.ComputeLocation, ssl.LeafDomainLabel, c.ID); err != nil {
			return err
		}
	}
	if err := tx.DeleteResource(ctx, tlsSecretID(r.ID), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete TLS secret of %s: %w", r.ID, err)
	}
	if err := tx.DeleteResource(ctx, r.ID, ifVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete compute %s: %w", r.ID, err)
	}
	return releaseClaim(ctx, tx, nameClaimID(c.Properties.ComputeLocation, c.Name), r.ID)
}

// cascadeDelete is the deleter of computes when their workspace or resource group goes:
// remove the components when the cluster can be reached, then forget the compute.
func (s *Service) cascadeDelete(ctx context.Context, run *operations.Run, r *store.Resource) error {
	c, err := decode(r)
	if err != nil {
		return err
	}
	if err := s.removeComponents(ctx, c, false); err != nil {
		return err
	}
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		cur, err := tx.GetResource(ctx, r.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		// A cluster the compute created outlives it here: it becomes the user's.
		if clusterID := deref(c.Properties.ResourceID); c.Properties.Mlfleet.CreatedCluster && clusterID != "" {
			if err := s.cfg.Clusters.Disown(ctx, tx, clusterID, r.ID); err != nil {
				return err
			}
		}
		return s.forgetIn(ctx, tx, cur, 0)
	})
	if err != nil && ctx.Err() == nil {
		// Its components are gone but the compute stays: say so, rather than leave it
		// Succeeded and attached until the delete is retried.
		if merr := s.modify(context.WithoutCancel(ctx), r.ID, func(c *armapi.Compute) {
			c.Properties.ProvisioningState = armapi.StateFailed
			// As the operation's error will say it: without the store's or the host's paths.
			c.Properties.ProvisioningErrors = []armapi.ProvisioningError{{Error: errorDetail(run.ClientError(err))}}
			c.Properties.Mlfleet.Attached = false
		}); merr != nil && !errors.Is(merr, store.ErrNotFound) {
			s.log.Error("record a compute its delete left behind", "compute", r.ID, "err", merr)
		}
	}
	return err
}

// Delete starts detaching (action Detach) or deleting (action Delete) a compute. It returns
// nil, nil when the compute does not exist.
func (s *Service) Delete(ctx context.Context, sub, rg, ws, name, action string, pre arm.Preconditions) (*store.Operation, error) {
	what := fmt.Sprintf("Compute '%s'", name)
	switch {
	case action == "":
		return nil, arm.BadRequest(arm.CodeUserError, "The underlyingResourceAction query parameter is required: Detach keeps the cluster, Delete also deletes a cluster the compute created.").WithTarget("underlyingResourceAction")
	case strings.EqualFold(action, "detach"):
		action = "Detach"
	case strings.EqualFold(action, "delete"):
		action = "Delete"
	default:
		return nil, arm.BadRequest(arm.CodeUserError, "underlyingResourceAction '%s' is invalid: use Detach or Delete.", action).WithTarget("underlyingResourceAction")
	}
	r, err := s.getResource(ctx, sub, rg, ws, name)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Code == arm.CodeResourceNotFound {
		return nil, pre.CheckIfMatch(what, false, "")
	}
	if err != nil {
		return nil, err
	}
	c, err := decode(r)
	if err != nil {
		return nil, err
	}
	// Refused here, on the request, not in the operation: the user learns at once, and
	// nothing has been removed yet (S3).
	if action == "Delete" && c.Properties.IsAttachedCompute {
		return nil, arm.BadRequest(arm.CodeUserError,
			"Compute '%s' is attached to cluster %s, which it did not create, so underlyingResourceAction=Delete would delete a cluster mlfleet does not own. Detach it instead ('mlfleet ml computetarget detach -n %s'), then delete the cluster on its own ('mlfleet aks delete') if you mean to.",
			name, deref(c.Properties.ResourceID), name).WithTarget("underlyingResourceAction")
	}
	// The state and the operation commit together, checked against what runs now.
	return s.submit(ctx, func(tx store.Store) (*store.Operation, error) {
		// Detaching a compute removes what serves its deployments; they would go on saying
		// Succeeded while every request to them fails. Under the compute's use lock, which
		// a new deployment takes to store itself (UseIn): either it is committed and listed
		// here, or it reads this transaction's Deleting and is refused.
		if err := tx.Lock(ctx, useLock(r.ID)); err != nil {
			return nil, err
		}
		cur, err := tx.GetResource(ctx, r.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, pre.CheckIfMatch(what, false, "")
		}
		if err != nil {
			return nil, err
		}
		users, err := s.computeUsers(ctx, tx, r.ID)
		if err != nil {
			return nil, err
		}
		if len(users) > 0 {
			return nil, arm.Conflict("Compute '%s' is used by %s. Delete them, or move them to another compute (compute: azureml:<name> in the deployment's or endpoint's YAML, then 'mlfleet ml online-deployment update -f' or 'mlfleet ml online-endpoint update -f'), then retry the %s.",
				name, strings.Join(users, ", "), strings.ToLower(action))
		}
		if err := pre.CheckIfMatch(what, true, arm.ETag(cur.Version)); err != nil {
			return nil, err
		}
		ops, err := running(ctx, tx, r.ID)
		if err != nil {
			return nil, err
		}
		// A second DELETE while one runs answers with the running operation rather than a
		// conflict: the client polls the delete it asked for.
		for _, o := range ops {
			if o.Kind == KindDelete {
				return o, nil
			}
		}
		if len(ops) > 0 {
			return nil, operationInProgress(name, c.Properties.ProvisioningState, ops[0])
		}
		if err := s.modifyIn(ctx, tx, r.ID, func(c *armapi.Compute) { c.Properties.ProvisioningState = armapi.StateDeleting }); err != nil {
			return nil, err
		}
		return s.cfg.Engine.SubmitIn(ctx, tx, KindDelete, r.ID, r.SubscriptionID, deleteInput{ID: r.ID, Action: action})
	})
}
