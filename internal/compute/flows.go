package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
)

// handler makes an operation handler of a flow: it decodes the operation's input and runs
// the flow.
func handler[In any](flow func(context.Context, *operations.Run, In) error) operations.Handler {
	return func(ctx context.Context, run *operations.Run) error {
		var in In
		if err := run.Input(&in); err != nil {
			return err
		}
		return flow(ctx, run, in)
	}
}

// cleanup makes the engine's cleanup of a flow's failures from onFail.
func cleanup[In any](onFail func(context.Context, In, error) error) operations.Cleanup {
	return func(ctx context.Context, run *operations.Run, cause error) error {
		var in In
		if err := run.Input(&in); err != nil {
			return err
		}
		return onFail(ctx, in, cause)
	}
}

// register sets the handlers of this package's operations and their cleanups, which the
// engine runs whenever an operation ends Failed, including when it gives one up.
func (s *Service) register(e *operations.Engine) {
	e.Register(KindCreate, handler(s.createFlow))
	e.Register(KindAttach, handler(s.attachFlow))
	e.Register(KindUpdate, handler(s.updateFlow))
	e.Register(KindDelete, handler(s.deleteFlow))
	// A failed create or attach removes what it made (B2) and leaves the compute Failed.
	e.OnFailure(KindCreate, cleanup(func(ctx context.Context, in createInput, err error) error { return s.fail(ctx, in.ID, err, true) }))
	e.OnFailure(KindAttach, cleanup(func(ctx context.Context, in attachInput, err error) error { return s.fail(ctx, in.ID, err, false) }))
	// A failed update leaves the compute working with what is in the cluster: the failure
	// goes on the operation and in provisioningErrors, and the conditions say the state.
	e.OnFailure(KindUpdate, cleanup(func(ctx context.Context, in updateInput, err error) error {
		return s.recordFailure(ctx, in.ID, err, func(c *Compute) string { return derivedState(c.Properties.Mlfleet.Conditions) })
	}))
	e.OnFailure(KindDelete, cleanup(func(ctx context.Context, in deleteInput, err error) error {
		return s.recordFailure(ctx, in.ID, err, func(*Compute) string { return StateFailed })
	}))
}

// recordFailure puts err in a compute's provisioningErrors and sets its state.
func (s *Service) recordFailure(ctx context.Context, id string, err error, state func(*Compute) string) error {
	merr := s.modify(ctx, id, func(c *Compute) {
		c.Properties.ProvisioningErrors = []ProvisioningError{{Error: errorDetail(err)}}
		c.Properties.ProvisioningState = state(c)
	})
	if errors.Is(merr, store.ErrNotFound) {
		return nil
	}
	return merr
}

// pollEvery is how often operations look at a cluster or its components while waiting.
const pollEvery = 100 * time.Millisecond

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
		if !strings.EqualFold(mc.Properties.Mlfleet.CreatedFor, in.ID) {
			return arm.Conflict("Cluster '%s' was not created for compute '%s'; it is left as it is.", cid.Name(), c.Name)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := run.Step(ctx, "claim cluster", func(ctx context.Context) error {
		return s.claimCluster(ctx, clusterID, in.ID)
	}); err != nil {
		return err
	}
	return s.install(ctx, run, in.ID)
}

// attachFlow attaches an existing cluster: detach a forced-out holder, claim, check again,
// install.
func (s *Service) attachFlow(ctx context.Context, run *operations.Run, in attachInput) error {
	c, err := s.getByID(ctx, in.ID)
	if err != nil {
		return err
	}
	clusterID := deref(c.Properties.ResourceID)
	if in.Replace != nil {
		if err := run.Step(ctx, "detach previous attachment", func(ctx context.Context) error {
			return s.replace(ctx, clusterID, in.Replace)
		}); err != nil {
			return err
		}
		if err := run.Step(ctx, "claim cluster", func(ctx context.Context) error {
			return s.claimCluster(ctx, clusterID, in.ID)
		}); err != nil {
			return err
		}
	}
	return s.install(ctx, run, in.ID)
}

// replace detaches the attachment a forced attach takes the cluster from (S11): its
// components leave the cluster, its compute (if this server has it) is forgotten, and its
// claim is released.
func (s *Service) replace(ctx context.Context, clusterID string, prev *replaceTarget) error {
	mc, err := s.cfg.Clusters.GetByID(ctx, clusterID)
	if err != nil {
		return err
	}
	kc, err := s.connectWhenUp(ctx, mc)
	if err != nil {
		return unreachable(mc.Name, err)
	}
	if err := kc.Remove(ctx, prev.AttachmentID); err != nil {
		return clusterError(mc.Name, "remove the previous attachment's components", err)
	}
	// The previous compute (if this server has it) goes with its claims, together.
	return s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if prev.ComputeID != "" {
			if r, err := tx.GetResource(ctx, prev.ComputeID); err == nil {
				if err := s.forgetIn(ctx, tx, r, 0); err != nil {
					return err
				}
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return releaseClaim(ctx, tx, attachmentClaimID(clusterID), prev.ComputeID)
	})
}

// claimCluster records computeID as the one attachment of a cluster; idempotent for the
// same compute.
func (s *Service) claimCluster(ctx context.Context, clusterID, computeID string) error {
	body, _ := json.Marshal(claim{ComputeID: computeID})
	cid, _ := arm.ParseID(clusterID)
	err := s.cfg.Store.CreateResource(ctx, &store.Resource{ID: attachmentClaimID(clusterID), ParentID: clusterID, Type: typeAttachment, Name: "current",
		SubscriptionID: cid.SubscriptionID, ResourceGroup: cid.ResourceGroup, Body: body, OwnerID: computeID})
	if errors.Is(err, store.ErrConflict) {
		holder, herr := s.attachmentHolder(ctx, clusterID)
		if herr != nil {
			return herr
		}
		if strings.EqualFold(holder, computeID) {
			return nil
		}
		return arm.Conflict("Cluster '%s' was attached to %s in the meantime.", cid.Name(), describeCompute(holder))
	}
	return err
}

// install checks the cluster again, marks it as attached, applies the components and waits
// until they are ready, then records the compute Succeeded. Shared by create, attach.
func (s *Service) install(ctx context.Context, run *operations.Run, id string) error {
	c, err := s.getByID(ctx, id)
	if err != nil {
		return err
	}
	mc, err := s.cfg.Clusters.GetByID(ctx, deref(c.Properties.ResourceID))
	if err != nil {
		return err
	}
	st, err := s.settingsOf(ctx, c)
	if err != nil {
		return err
	}
	w, err := s.workspaceOf(ctx, c)
	if err != nil {
		return err
	}
	kc, err := s.connectWhenUp(ctx, mc)
	if err != nil {
		return unreachable(mc.Name, err)
	}
	if err := run.Step(ctx, "check cluster", func(ctx context.Context) error {
		l, _, err := s.attachChecks(ctx, w, c.ID, mc.ID, st, false)
		if err != nil {
			return err
		}
		return l.err(fmt.Sprintf("Cluster '%s' cannot be attached as compute '%s'", mc.Name, c.Name))
	}); err != nil {
		return err
	}
	if err := run.Step(ctx, "mark cluster", func(ctx context.Context) error {
		uid, err := kc.UID(ctx)
		if err != nil {
			return clusterError(mc.Name, "read its identity", err)
		}
		_, err = kc.ClaimMarker(ctx, kube.Marker{AttachmentID: c.Properties.Mlfleet.AttachmentID, ComputeID: c.ID, ComputeName: c.Name,
			WorkspaceID: w.ID, ClusterUID: uid, AttachedAt: s.now().UTC()})
		if errors.Is(err, kube.ErrAttached) {
			return arm.Conflict("Cluster '%s' was attached by another control plane in the meantime: %v", mc.Name, err)
		}
		return clusterError(mc.Name, "write the attachment marker", err)
	}); err != nil {
		return err
	}
	return s.applyAndRecord(ctx, run, c, mc, kc, st)
}

// applyAndRecord applies the components for st, waits until they are ready and records the
// compute's live state. Shared by install and update.
func (s *Service) applyAndRecord(ctx context.Context, run *operations.Run, c *Compute, mc *containerservice.ManagedCluster, kc *kube.Cluster, st settings) error {
	tls, fqdn, err := s.tlsFor(ctx, c, st)
	if err != nil {
		return err
	}
	comp := kube.Components{AttachmentID: c.Properties.Mlfleet.AttachmentID, ComputeID: c.ID, Replicas: replicas(st.Purpose),
		LoadBalancer: st.LB, Subnet: st.Subnet, TLS: tls,
		// External clusters run the router image of serve --router-image as azureml-fe;
		// embedded ones route in-process and keep the placeholder.
		Image: s.cfg.Clusters.ProviderInfo(mc).RouterImage}
	if err := run.Step(ctx, "install components", func(ctx context.Context) error {
		return clusterError(mc.Name, "install the components", kc.Apply(ctx, comp))
	}); err != nil {
		return err
	}
	// Wait for the front-end: ready replicas, and its address when a load balancer gives one.
	deadline := time.Now().Add(s.cfg.ReadyTimeout)
	addressBy := time.Now().Add(20 * time.Second)
	for {
		fe, err := kc.FrontEnd(ctx)
		if err != nil {
			return clusterError(mc.Name, "read the front-end", err)
		}
		if fe != nil && fe.ReadyReplicas >= comp.Replicas && (fe.Address != "" || time.Now().After(addressBy)) {
			break
		}
		if time.Now().After(deadline) {
			return arm.Errorf(http.StatusInternalServerError, "ComponentsNotReady",
				"The inference front-end of cluster '%s' did not become ready within %v; see 'kubectl -n azureml describe deployment azureml-fe'.", mc.Name, s.cfg.ReadyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
	o := s.observe(ctx, mc, false)
	return s.modify(ctx, c.ID, func(c *Compute) {
		c.Properties.Mlfleet.Attached = true
		c.Properties.Mlfleet.FrontEndFqdn = fqdn
		c.Properties.Mlfleet.ComponentsVersion = kube.ComponentsVersion
		s.apply(c, o)
		c.Properties.ProvisioningState = derivedState(c.Properties.Mlfleet.Conditions)
	})
}

// connectWhenUp connects to a cluster, waiting (bounded) while its provider brings it back
// up, as after a restart of the server that runs it.
func (s *Service) connectWhenUp(ctx context.Context, mc *containerservice.ManagedCluster) (*kube.Cluster, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		kc, err := s.access.connect(ctx, mc)
		var ae *arm.Error
		if err == nil || !errors.As(err, &ae) || ae.Code != containerservice.CodeClusterNotRunning || time.Now().After(deadline) {
			return kc, err
		}
		// Waiting only makes sense for a cluster that is coming up, not one that failed or
		// is going away.
		cur, gerr := s.cfg.Clusters.GetByID(ctx, mc.ID)
		if gerr != nil {
			return nil, gerr
		}
		switch cur.Properties.ProvisioningState {
		case containerservice.StateFailed, StateDeleting:
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// replicas of the inference front-end per cluster purpose (S6).
func replicas(purpose string) int32 {
	if purpose == "DevTest" {
		return 1
	}
	return 3
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
			var body containerservice.AgentPoolPut
			body.Properties.Count = in.Scale
			_, _, err := s.cfg.Clusters.ScalePool(ctx, cid.SubscriptionID, cid.ResourceGroup, cid.Name(), pool, body)
			var ae *arm.Error
			if errors.As(err, &ae) && ae.Code == arm.CodeOperationInProgress {
				return s.waitCluster(ctx, mc.ID, nil) // an earlier attempt's scale still runs
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
			// A detached compute leaves the cluster it created to the user.
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
// cannot be reached (detach would otherwise leave the components behind).
func (s *Service) removeComponents(ctx context.Context, c *Compute, strict bool) error {
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
	if mc.Properties.ProvisioningState == containerservice.StateCreating || mc.Properties.ProvisioningState == containerservice.StateFailed {
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
		return arm.Errorf(http.StatusConflict, "ClusterUnreachable",
			"The components mlfleet installed in cluster '%s' cannot be removed: %v. Make the cluster reachable and retry, or delete the cluster first ('mlfleet aks delete').", mc.Name, err)
	}
	return nil
}

// deleteCluster deletes a cluster compute computeID created, and waits until it is gone.
// A cluster the compute did not create is left alone (DeleteFor checks the owner).
func (s *Service) deleteCluster(ctx context.Context, clusterID, computeID string) error {
	if clusterID == "" {
		return nil
	}
	op, err := s.cfg.Clusters.DeleteFor(ctx, clusterID, computeID)
	if err != nil || op == nil {
		return err
	}
	cid, _ := arm.ParseID(clusterID)
	for {
		cur, err := s.cfg.Store.GetOperation(ctx, op.ID)
		if err != nil {
			return err
		}
		switch cur.Status {
		case store.StatusSucceeded:
			return nil
		case store.StatusFailed, store.StatusCanceled:
			return fmt.Errorf("delete cluster %s: %s", cid.Name(), cur.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// forgetIn removes a compute's rows through tx: its attachment claim and TLS label (if
// still its own), its TLS secret, its region name claim and itself. With ifVersion > 0 the
// compute is removed only as it was read.
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
		if merr := s.modify(context.WithoutCancel(ctx), r.ID, func(c *Compute) {
			c.Properties.ProvisioningState = StateFailed
			c.Properties.ProvisioningErrors = []ProvisioningError{{Error: errorDetail(err)}}
			c.Properties.Mlfleet.Attached = false
		}); merr != nil && !errors.Is(merr, store.ErrNotFound) {
			s.log.Error("record a compute its delete left behind", "compute", r.ID, "err", merr)
		}
	}
	return err
}

// fail is the cleanup of a failed create or attach: what was installed is removed, a
// cluster the create made for this compute is deleted (B2), the cluster claim, the region
// name and the TLS label are released, and the compute is Failed with the reason, so that
// a new create or attach of its name replaces it. Idempotent.
func (s *Service) fail(ctx context.Context, id string, cause error, created bool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := s.getByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var ae *arm.Error
	conflict := errors.As(cause, &ae) && ae.Code == arm.CodeConflict
	if !conflict { // never touch a cluster another compute holds
		if err := s.removeComponents(ctx, c, false); err != nil {
			s.log.Warn("clean up failed compute", "compute", id, "err", err)
		}
	}
	clusterID := deref(c.Properties.ResourceID)
	if created {
		if err := s.deleteCluster(ctx, clusterID, id); err != nil {
			return err
		}
	}
	return s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if clusterID != "" {
			if err := releaseClaim(ctx, tx, attachmentClaimID(clusterID), id); err != nil {
				return err
			}
		}
		if ssl := c.Properties.Properties.SSLConfiguration; ssl != nil && ssl.Status == "Auto" {
			if err := s.releaseLeaf(ctx, tx, c.Properties.ComputeLocation, ssl.LeafDomainLabel, id); err != nil {
				return err
			}
		}
		if err := releaseClaim(ctx, tx, nameClaimID(c.Properties.ComputeLocation, c.Name), id); err != nil {
			return err
		}
		if err := tx.DeleteResource(ctx, tlsSecretID(id), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.modifyIn(ctx, tx, id, func(c *Compute) {
			c.Properties.ProvisioningState = StateFailed
			c.Properties.ProvisioningErrors = []ProvisioningError{{Error: errorDetail(cause)}}
			c.Properties.Mlfleet.Attached = false
		})
	})
}

// waitCluster waits until a cluster's provisioning ends (and done, when given, holds).
func (s *Service) waitCluster(ctx context.Context, clusterID string, done func(*containerservice.ManagedCluster) bool) error {
	for {
		mc, err := s.cfg.Clusters.GetByID(ctx, clusterID)
		if err != nil {
			return err
		}
		switch mc.Properties.ProvisioningState {
		case containerservice.StateSucceeded:
			if done == nil || done(mc) {
				return nil
			}
			// Not there yet: fine while an operation works on the cluster, an error once none
			// does (its update failed, or was given up).
			ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: clusterID, Status: store.StatusInProgress})
			if err != nil {
				return err
			}
			if len(ops) == 0 {
				if err := s.clusterFailure(ctx, clusterID); err != nil {
					return err
				}
				return arm.Errorf(http.StatusInternalServerError, "ClusterUpdateFailed", "Cluster '%s' did not reach the requested state; retry the request.", mc.Name)
			}
		case containerservice.StateFailed:
			if err := s.clusterFailure(ctx, clusterID); err != nil {
				return err
			}
			return arm.Errorf(http.StatusInternalServerError, "ClusterCreationFailed", "Cluster '%s' could not be created.", mc.Name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
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

func (s *Service) workspaceOf(ctx context.Context, c *Compute) (*workspaces.Workspace, error) {
	p, err := arm.ParseID(c.ID)
	if err != nil || len(p.Names) < 1 {
		return nil, fmt.Errorf("compute id %s: %v", c.ID, err)
	}
	return s.cfg.Workspaces.Get(ctx, p.SubscriptionID, p.ResourceGroup, p.Names[0])
}

// clusterError wraps an error of the kube package as the ARM error users see. nil stays nil.
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
func errorDetail(err error) ErrorDetail {
	var ae *arm.Error
	if !errors.As(err, &ae) {
		return ErrorDetail{Code: arm.CodeInternalServerError, Message: err.Error()}
	}
	d := ErrorDetail{Code: ae.Code, Message: ae.Message, Target: ae.Target}
	for _, x := range ae.Details {
		d.Details = append(d.Details, ErrorDetail{Code: x.Code, Message: x.Message, Target: x.Target})
	}
	return d
}
