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
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
	"k8s.io/apimachinery/pkg/util/wait"
)

// attach handles a PUT with resourceId: attach an existing cluster (S2).
func (s *Service) attach(ctx context.Context, w *armapi.Workspace, id, name string, in armapi.Compute, opts Options) (*Result, error) {
	var shape arm.Problems
	if p := in.Properties.Properties; p != nil && p.AKSNetworkingConfiguration != nil && *p.AKSNetworkingConfiguration != (armapi.AKSNetworkingConfiguration{}) {
		shape.Add(arm.CodeUserError, "properties.properties.aksNetworkingConfiguration", "A virtual network is chosen when a cluster is created; an attached cluster keeps its own.")
	}
	st := readSettings(in.Properties.Properties, defaults(), s.cfg.Clusters.VMSizes(), false, &shape)
	resourceID := *in.Properties.ResourceID
	if err := checkClusterAccess(ctx, resourceID); err != nil {
		return nil, err
	}
	// Force detaches the compute that holds the cluster: the caller must be allowed to,
	// checked before the cluster is reached. (attachChecks checks a holder known only by
	// the cluster's marker.)
	if opts.Force {
		if holder, err := s.attachmentHolder(ctx, resourceID); err != nil {
			return nil, err
		} else if holder != "" && !strings.EqualFold(holder, id) {
			if err := auth.PrincipalFrom(ctx).Check(actionDeleteCompute, holder); err != nil {
				return nil, err
			}
		}
	}
	l, t, err := s.attachChecks(ctx, w, id, resourceID, st, opts.Force)
	if err != nil {
		return nil, err
	}
	all := &checkList{}
	all.shape(shape)
	all.checks = append(all.checks, l.checks...)
	all.errs = append(all.errs, l.errs...)
	all.warnings = l.warnings
	if t != nil {
		if err := s.checkLeaf(ctx, t.Cluster.Location, id, st.SSL, all); err != nil {
			return nil, err
		}
	}
	if err := all.err(fmt.Sprintf("Cluster cannot be attached as compute '%s'", name)); err != nil {
		return nil, err
	}
	if opts.ValidateOnly {
		return &Result{Validation: all.validation(), Warnings: all.warnings}, nil
	}
	mc := t.Cluster
	st.AgentCount = len(t.Obs.Nodes)
	st.VMSize = ""
	if pools := mc.Properties.AgentPoolProfiles; len(pools) > 0 {
		st.VMSize = pools[0].VMSize
	}
	c := s.newCompute(id, name, mc.Location, in, st)
	c.Properties.ResourceID = &mc.ID
	c.Properties.IsAttachedCompute = true
	c.Properties.Mlfleet.Warnings = all.warnings
	c.Properties.Mlfleet.ClusterUID = t.Obs.UID
	c.Properties.Mlfleet.KubernetesVersion = t.Obs.Version
	c.Properties.Mlfleet.Autoscale = autoscaleOf(mc)
	// Claim the cluster with the compute, so that of two concurrent attaches exactly one is
	// accepted. A forced attach takes the claim over in its operation, after detaching the
	// holder.
	var claimCluster func(tx store.Store) error
	if t.Replace == nil {
		body, _ := json.Marshal(claim{ComputeID: id})
		cid, _ := arm.ParseID(mc.ID)
		claimCluster = func(tx store.Store) error {
			err := tx.CreateResource(ctx, &store.Resource{ID: attachmentClaimID(mc.ID), ParentID: mc.ID, Type: typeAttachment, Name: "current",
				SubscriptionID: cid.SubscriptionID, ResourceGroup: cid.ResourceGroup, Body: body, OwnerID: id})
			if errors.Is(err, store.ErrConflict) {
				return errClusterTaken
			}
			if err != nil {
				return fmt.Errorf("claim cluster %s: %w", mc.Name, err)
			}
			return nil
		}
	}
	op, err := s.insert(ctx, w, c, st, KindAttach, attachInput{ID: id, Replace: t.Replace}, opts, claimCluster)
	if errors.Is(err, errClusterTaken) {
		holder, _ := s.attachmentHolder(ctx, mc.ID)
		return nil, arm.Conflict("Cluster '%s' is already attached to %s. A cluster can be attached once: detach it there first, or attach with --force (REST: force=true) to detach it from there.", mc.Name, describeCompute(holder))
	}
	if err != nil {
		return nil, err
	}
	return &Result{Compute: redact(c), Created: true, Operation: op, Warnings: all.warnings}, nil
}

// errClusterTaken is the conflict of an attachment claim: the cluster is attached already.
var errClusterTaken = errors.New("cluster attached already")

// heldBy says whether the claim row r is held by the compute old (nil: never).
func heldBy(r *store.Resource, old *store.Resource) bool {
	return old != nil && claimedBy(r, old.ID)
}

// claimedBy says whether the claim row r is held by the compute computeID.
func claimedBy(r *store.Resource, computeID string) bool {
	var c claim
	return json.Unmarshal(r.Body, &c) == nil && strings.EqualFold(c.ComputeID, computeID)
}

// attachFlow attaches an existing cluster: detach a forced-out holder, claim, check again,
// install.
func (s *Service) attachFlow(ctx context.Context, run *operations.Run, in attachInput) error {
	c, err := s.getByID(ctx, in.ID)
	if err != nil {
		return err
	}
	clusterID := deref(c.Properties.ResourceID)
	// Without Replace the claim was taken with the compute, on the request path. A forced
	// attach (S11) detaches the holder first and only then claims: the claim row is the
	// holder's until its components are gone, so no moment has two attachments' objects in
	// the cluster with both believing they own it.
	if in.Replace != nil {
		if err := run.Step(ctx, "detach previous attachment", func(ctx context.Context) error {
			if err := s.replace(ctx, clusterID, in.Replace); err != nil {
				return err
			}
			// The compute taken from is gone without a request of its own: the log says
			// who removed it, as the caller of this attach.
			if s.cfg.SideEffect != nil && in.Replace.ComputeID != "" {
				s.cfg.SideEffect(ctx, run.Origin(), http.MethodDelete, in.Replace.ComputeID)
			}
			return nil
		}); err != nil {
			return err
		}
		return s.claimAndInstall(ctx, run, clusterID, in.ID)
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
	if err := s.takeFrom(ctx, prev.ComputeID, mc.Name); err != nil {
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

// takeFrom stops the compute computeID, which a forced attach takes cluster clusterName
// from, taking new users before its components leave the cluster. The request checked its
// users, but a deployment may have been created on it since. Under the compute's use lock
// (useLock), such a user ends the attach with a 409; otherwise the compute is marked
// Deleting, which UseIn refuses from then on. Marking again is harmless, so a resumed step
// passes; a compute already gone, or none (a holder known only by the cluster's marker), is
// no error.
func (s *Service) takeFrom(ctx context.Context, computeID, clusterName string) error {
	if computeID == "" {
		return nil
	}
	return s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if err := tx.Lock(ctx, useLock(computeID)); err != nil {
			return err
		}
		if _, err := tx.GetResource(ctx, computeID); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		users, err := s.computeUsers(ctx, tx, computeID)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return arm.Conflict("Cluster '%s' was not taken from %s: %s started to use it after the attach was accepted. Delete them, or move them to another compute, then attach with --force again.",
				clusterName, describeCompute(computeID), strings.Join(users, ", "))
		}
		return s.modifyIn(ctx, tx, computeID, func(c *armapi.Compute) { c.Properties.ProvisioningState = armapi.StateDeleting })
	})
}

// claimCluster records computeID as the one attachment of a cluster; idempotent for the
// same compute, so the step passes again when it is resumed after a crash that followed
// its commit.
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

// claimAndInstall claims a cluster for the compute id, then installs into it: the claim
// row is what makes another attach of the cluster a 409 (S11), so nothing goes into the
// cluster until it is held. Shared by create, attach.
func (s *Service) claimAndInstall(ctx context.Context, run *operations.Run, clusterID, id string) error {
	if err := run.Step(ctx, "claim cluster", func(ctx context.Context) error {
		return s.claimCluster(ctx, clusterID, id)
	}); err != nil {
		return err
	}
	return s.install(ctx, run, id)
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
	// Checked again: the request's checks may be minutes old (a create waited for its
	// cluster, a restart came between), and a cluster that lost its nodes or changed its
	// version since must not be installed into (B1).
	if err := run.Step(ctx, "check cluster", func(ctx context.Context) error {
		var failed error
		err := s.whileUnreachable(ctx, mc, func(ctx context.Context) error {
			l, t, err := s.attachChecks(ctx, w, c.ID, mc.ID, st, false)
			if err != nil {
				return err
			}
			failed = l.err(fmt.Sprintf("Cluster '%s' cannot be attached as compute '%s'", mc.Name, c.Name))
			if t != nil && t.Obs != nil && errors.Is(t.Obs.Unreachable, kube.ErrUnreachable) {
				return t.Obs.Unreachable // checked again once the cluster answers
			}
			return failed
		})
		if errors.Is(err, kube.ErrUnreachable) {
			return failed // the checks' own account of it
		}
		return err
	}); err != nil {
		return err
	}
	// The marker before the components: the store's claim cannot see the same cluster
	// registered under another id or attached by another control plane; the marker in the
	// cluster can, and of concurrent claims exactly one wins. ClaimMarker returns the
	// existing marker for the same attachment id, so a resumed step passes.
	if err := run.Step(ctx, "mark cluster", func(ctx context.Context) error {
		var uid string
		if err := s.whileUnreachable(ctx, mc, func(ctx context.Context) (err error) {
			uid, err = kc.UID(ctx)
			return err
		}); err != nil {
			return clusterError(mc.Name, "read its identity", err)
		}
		err := s.whileUnreachable(ctx, mc, func(ctx context.Context) error {
			_, err := kc.ClaimMarker(ctx, kube.Marker{AttachmentID: c.Properties.Mlfleet.AttachmentID, ComputeID: c.ID, ComputeName: c.Name,
				WorkspaceID: w.ID, ClusterUID: uid, AttachedAt: s.now().UTC()})
			return err
		})
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
func (s *Service) applyAndRecord(ctx context.Context, run *operations.Run, c *armapi.Compute, mc *armapi.ManagedCluster, kc *kube.Cluster, st settings) error {
	info := s.cfg.Clusters.ProviderInfo(mc)
	tls, fqdn, err := s.tlsFor(ctx, c, st, info.LocalRouter)
	if err != nil {
		return err
	}
	comp := kube.Components{AttachmentID: c.Properties.Mlfleet.AttachmentID, ComputeID: c.ID, Replicas: replicas(st.Purpose),
		LoadBalancer: st.LB, Subnet: st.Subnet, TLS: tls,
		// External clusters run the router image of serve --router-image as azureml-fe;
		// embedded ones route in-process and keep the placeholder.
		Image: info.RouterImage}
	if err := run.Step(ctx, "install components", func(ctx context.Context) error {
		return clusterError(mc.Name, "install the components", s.whileUnreachable(ctx, mc, func(ctx context.Context) error {
			return kc.Apply(ctx, comp)
		}))
	}); err != nil {
		return err
	}
	// Wait for the front-end: ready replicas, and its address when a load balancer gives one.
	// A cluster without a load balancer controller (kind, k3s without servicelb) never
	// assigns one; after 20 s ready replicas are enough, and the monitor records the
	// address if it comes later.
	addressBy := time.Now().Add(20 * time.Second)
	err = wait.PollUntilContextTimeout(ctx, pollEvery, s.cfg.ReadyTimeout, true, func(ctx context.Context) (bool, error) {
		var fe *kube.FrontEnd
		err := s.whileUnreachable(ctx, mc, func(ctx context.Context) (err error) {
			fe, err = kc.FrontEnd(ctx)
			return err
		})
		if err != nil {
			return false, clusterError(mc.Name, "read the front-end", err)
		}
		return fe != nil && fe.ReadyReplicas >= comp.Replicas && (fe.Address != "" || time.Now().After(addressBy)), nil
	})
	// A timeout of ours, not a cancelled operation: say why, as the scheduler or the
	// kubelet said it. Not "see kubectl describe": a failed attach removes the front-end.
	if wait.Interrupted(err) && ctx.Err() == nil {
		return s.frontEndTimeout(ctx, mc, kc)
	}
	if err != nil {
		return err
	}
	o := s.observe(ctx, mc, false)
	return s.modify(ctx, c.ID, func(c *armapi.Compute) {
		c.Properties.Mlfleet.Attached = true
		c.Properties.Mlfleet.FrontEndFqdn = fqdn
		c.Properties.Mlfleet.ComponentsVersion = kube.ComponentsVersion
		s.apply(c, o)
		c.Properties.ProvisioningState = derivedState(c.Properties.Mlfleet.Conditions)
	})
}

// frontEndTimeout is the error of a front-end that did not become ready in time: the
// reason one of its pods is not Ready (a Pending pod's scheduler message, such as an
// untolerated taint), and what to change.
func (s *Service) frontEndTimeout(ctx context.Context, mc *armapi.ManagedCluster, kc *kube.Cluster) error {
	why, err := kc.FrontEndNotReady(ctx)
	if err != nil || why == "" {
		why = "its pods did not become Ready"
	}
	// The scheduler's message ends in a period of its own.
	return arm.Errorf(http.StatusInternalServerError, "ComponentsNotReady",
		"The inference front-end (azureml-fe) of cluster '%s' did not become ready within %v: %s. Give it a node it can run on (it tolerates no taint and needs an uncordoned, Ready node with room), then try again.",
		mc.Name, s.cfg.ReadyTimeout, strings.TrimSuffix(why, "."))
}

// unreachableFor bounds how long whileUnreachable tries again: longer than a cluster takes
// to come back on another replica (a lease's expiry and a start).
const unreachableFor = 2 * time.Minute

// whileUnreachable runs fn, an idempotent call to mc's cluster, again while the cluster
// cannot be reached, for up to unreachableFor. With several replicas, the one that hosts
// an embedded cluster may die in the middle of a step; another brings the cluster back a
// few seconds later, and failing the whole operation for that would undo an attach that
// was nearly done. The cached client is probed meanwhile, so that one whose connections
// died is dropped. Any other error, and the last unreachable one, is returned.
func (s *Service) whileUnreachable(ctx context.Context, mc *armapi.ManagedCluster, fn func(ctx context.Context) error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, unreachableFor, true, func(ctx context.Context) (bool, error) {
		last = fn(ctx)
		if !errors.Is(last, kube.ErrUnreachable) {
			return true, last
		}
		s.log.Info("cluster unreachable; trying again", "cluster", mc.Name, "err", last)
		_ = s.cfg.Clusters.ProbeClient(ctx, mc)
		return false, nil
	})
	if wait.Interrupted(err) && last != nil {
		return last
	}
	return err
}

// connectWhenUp connects to a cluster, waiting (bounded) while its provider brings it back
// up, as after a restart of the server that runs it. Two minutes: Resume starts clusters
// a few at a time (attached ones first), so on a server with many clusters one may wait
// for others; longer than that, something is wrong and the operation should say so.
func (s *Service) connectWhenUp(ctx context.Context, mc *armapi.ManagedCluster) (*kube.Cluster, error) {
	var kc *kube.Cluster
	var notRunning error
	err := wait.PollUntilContextTimeout(ctx, pollEvery, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		kc, err = s.cfg.Clusters.Client(ctx, mc)
		var ae *arm.Error
		if err == nil || !errors.As(err, &ae) || ae.Code != containerservice.CodeClusterNotRunning {
			return true, err
		}
		notRunning = err
		// Waiting only makes sense for a cluster that is coming up, not one that failed or
		// is going away.
		cur, err := s.cfg.Clusters.GetByID(ctx, mc.ID)
		if err != nil {
			return false, err
		}
		switch cur.Properties.ProvisioningState {
		case armapi.StateFailed, armapi.StateDeleting:
			return false, notRunning
		}
		return false, nil
	})
	if wait.Interrupted(err) && ctx.Err() == nil {
		return nil, notRunning // still not running after the wait
	}
	return kc, err
}

// replicas of the inference front-end per cluster purpose (S6).
func replicas(purpose string) int32 {
	if purpose == "DevTest" {
		return 1
	}
	return 3
}

// What a caller must be allowed on a cluster to attach it: the compute's listKeys hands out
// the cluster's admin kubeconfig, so the right to write computes in a workspace must not be
// a way around the cluster's own access control.
const (
	actionReadCluster        = "Microsoft.ContainerService/managedClusters/read"
	actionClusterAdminConfig = "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"
	actionDeleteCompute      = "Microsoft.MachineLearningServices/workspaces/computes/delete"
)

// checkClusterAccess refuses, with ARM's 403, a caller that may not read the cluster
// resourceID and list its admin credentials. It runs before the cluster is looked up, so
// that a caller learns nothing of clusters it may not see (a 403, not a 404). A malformed id
// (one whose subscription is not a GUID, too) is left to the checks, which say what is
// wrong with it. Background work (the operation
// that resumes an attach) runs as auth.System, which may do anything.
func checkClusterAccess(ctx context.Context, resourceID string) error {
	if id, err := arm.ParseID(resourceID); err != nil || !arm.IsSubscriptionID(id.SubscriptionID) {
		return nil
	}
	caller := auth.PrincipalFrom(ctx)
	for _, action := range []string{actionReadCluster, actionClusterAdminConfig} {
		if err := caller.Check(action, resourceID); err != nil {
			return err
		}
	}
	return nil
}
