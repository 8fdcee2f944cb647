package endpoints

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// register sets the handlers and the cleanups, which leave a resource Failed with the
// reason when its operation fails.
func (s *Service) register(e *operations.Engine) {
	e.Register(KindEndpointPut, operations.HandlerOf(s.endpointPutFlow))
	e.Register(KindEndpointDelete, operations.HandlerOf(s.endpointDeleteFlow))
	e.Register(KindDeploymentPut, operations.HandlerOf(s.deploymentPutFlow))
	e.Register(KindDeploymentDelete, operations.HandlerOf(s.deploymentDeleteFlow))
	fail := operations.CleanupOf(func(ctx context.Context, in opInput, cause error) error {
		return s.markFailed(ctx, in.ID, cause)
	})
	for _, k := range []string{KindEndpointPut, KindEndpointDelete, KindDeploymentPut, KindDeploymentDelete} {
		e.OnFailure(k, fail)
		// The cleanup only writes the row; should it fail every time, the same write with
		// the final error (the operation's and the cleanup's) is tried once more.
		e.OnGiveUp(k, operations.GiveUp(fail))
	}
}

// markFailed sets an endpoint or deployment Failed with the cause in its message. It runs
// as the cleanup of every failed operation, so that no row stays Creating, Updating or
// Deleting after its operation ended; a row already gone needs nothing.
func (s *Service) markFailed(ctx context.Context, id string, cause error) error {
	// An ARM error is shown by its message alone, without the "(Code) … [target …]"
	// that its Error adds.
	msg := cause.Error()
	var ae *arm.Error
	if errors.As(cause, &ae) {
		msg = ae.Message
	}
	var err error
	// The id's type segment tells a deployment from an endpoint; a group or workspace named
	// "deployments" must not.
	if isDeploymentID(id) {
		err = modify(ctx, s.cfg.Store, id, func(d *armapi.OnlineDeployment) error {
			d.Properties.ProvisioningState = armapi.StateFailed
			if d.Properties.Mlfleet == nil {
				d.Properties.Mlfleet = &armapi.OnlineDeploymentMlfleet{}
			}
			d.Properties.Mlfleet.Message = msg
			return nil
		})
	} else {
		err = modify(ctx, s.cfg.Store, id, func(ep *armapi.OnlineEndpoint) error {
			ep.Properties.ProvisioningState = armapi.StateFailed
			setMessage(ep, msg)
			return nil
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// endpointPutFlow carries an endpoint's create, update or key change into its clusters:
// the Secret first, then the row Succeeded, so that the endpoint never shows Succeeded
// with a router that still has the old keys or traffic.
func (s *Service) endpointPutFlow(ctx context.Context, run *operations.Run, in opInput) error {
	if err := run.Step(ctx, "write endpoint secret", func(ctx context.Context) error {
		return s.syncEndpoint(ctx, in.ID, "")
	}); err != nil {
		return err
	}
	return run.Step(ctx, "finish", func(ctx context.Context) error {
		return s.finishEndpoint(ctx, in.ID)
	})
}

// finishEndpoint sets an endpoint Succeeded with its scoring URI.
func (s *Service) finishEndpoint(ctx context.Context, id string) error {
	uri, swagger, msg := s.scoringURI(ctx, id)
	return modify(ctx, s.cfg.Store, id, func(ep *armapi.OnlineEndpoint) error {
		// Only the states this operation set are ended: a Deleting set by a delete that
		// came in meanwhile is the delete's to end.
		if ep.Properties.ProvisioningState == armapi.StateCreating || ep.Properties.ProvisioningState == armapi.StateUpdating {
			ep.Properties.ProvisioningState = armapi.StateSucceeded
		}
		ep.Properties.ScoringURI, ep.Properties.SwaggerURI = uri, swagger
		setMessage(ep, msg)
		return nil
	})
}

// setMessage sets (or clears) an endpoint's status message, keeping the rest of its status.
func setMessage(ep *armapi.OnlineEndpoint, msg string) {
	if ep.Properties.Mlfleet == nil {
		ep.Properties.Mlfleet = &armapi.OnlineEndpointMlfleet{}
	}
	ep.Properties.Mlfleet.Message = msg
	if msg == "" && len(ep.Properties.Mlfleet.SecretComputes) == 0 {
		ep.Properties.Mlfleet = nil
	}
}

// computesOf returns the computes an endpoint's Secret belongs on: the endpoint's and
// those of its deployments (but except's).
func computesOf(ep *armapi.OnlineEndpoint, ds []*armapi.OnlineDeployment, except string) []string {
	var out []string
	add := func(id string) {
		if id != "" && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, id) }) {
			out = append(out, id)
		}
	}
	add(ep.Properties.Compute)
	for _, d := range ds {
		if !strings.EqualFold(d.Name, except) {
			add(d.Properties.Compute)
		}
	}
	return out
}

// endpointConfig is the Secret's content for an endpoint and its deployments (but
// except, being deleted).
func (s *Service) endpointConfig(ctx context.Context, ep *armapi.OnlineEndpoint, ds []*armapi.OnlineDeployment, except string) (*inference.EndpointConfig, error) {
	cfg := &inference.EndpointConfig{Name: ep.Name, ID: ep.ID, AuthMode: ep.Properties.AuthMode, Traffic: map[string]int{}, MirrorTraffic: map[string]int{}, Deployments: map[string]inference.DeploymentRouting{}}
	keys, err := s.loadKeys(ctx, s.cfg.Store, ep.ID)
	if err != nil {
		return nil, err
	}
	if cfg.AuthMode == AuthKey {
		cfg.Keys = []string{keys.PrimaryKey, keys.SecondaryKey}
	} else if cfg.TokenKeyPEM, err = s.tokenKeyPEM(); err != nil {
		return nil, err
	}
	for _, d := range ds {
		if strings.EqualFold(d.Name, except) {
			continue
		}
		r := routingOf(d)
		if id, err := arm.ParseID(cmp.Or(d.Properties.Compute, ep.Properties.Compute)); err == nil {
			r.Compute = id.Name()
		}
		cfg.Deployments[d.Name] = r
		// Traffic names deployments in any case (names compare case-insensitively); the
		// router gets them spelled as the deployment is.
		for name, w := range ep.Properties.Traffic {
			if strings.EqualFold(name, d.Name) {
				cfg.Traffic[d.Name] = w
			}
		}
		for name, w := range ep.Properties.MirrorTraffic {
			if strings.EqualFold(name, d.Name) && w > 0 {
				cfg.MirrorTraffic[d.Name] = w
			}
		}
	}
	return cfg, nil
}

// routingOf is what the router needs of a deployment's request settings, with the same
// defaults as validateDeployment's (PT5S, 1, PT0.5S) for a row without them.
func routingOf(d *armapi.OnlineDeployment) inference.DeploymentRouting {
	r := inference.DeploymentRouting{RequestTimeoutMS: 5000, MaxConcurrentRequestsPerInstance: 1,
		MaxQueueWaitMS: new(int(inference.DefaultMaxQueueWait / time.Millisecond))}
	rs := d.Properties.RequestSettings
	if rs == nil {
		return r
	}
	if t, err := ParseDuration(rs.RequestTimeout); err == nil && t > 0 {
		r.RequestTimeoutMS = int(t / time.Millisecond)
	}
	// PT0S is a choice too: refuse at once what no instance can take.
	if t, err := ParseDuration(rs.MaxQueueWait); err == nil {
		r.MaxQueueWaitMS = new(int(t / time.Millisecond))
	}
	if rs.MaxConcurrentRequestsPerInstance > 0 {
		r.MaxConcurrentRequestsPerInstance = rs.MaxConcurrentRequestsPerInstance
	}
	return r
}

// syncEndpoint writes an endpoint's Secret into the cluster of every compute it or its
// deployments use, leaving except out (a deployment being deleted); a cluster that only
// except used loses the Secret.
func (s *Service) syncEndpoint(ctx context.Context, endpointID, except string) error {
	r, err := s.cfg.Store.GetResource(ctx, endpointID)
	if err != nil {
		return fmt.Errorf("get endpoint %s: %w", endpointID, err)
	}
	ep, ds, err := s.withDeployments(ctx, r, endpointID)
	if err != nil {
		return err
	}
	cfg, err := s.endpointConfig(ctx, &ep, ds, except)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(cfg)
	// Copies are written before stale ones are deleted, so that a failure in between
	// never leaves a compute that serves the endpoint without its Secret.
	keep := computesOf(&ep, ds, except)
	for _, c := range keep {
		kc, err := s.clusterReady(ctx, c)
		if err != nil {
			return err
		}
		labels := map[string]string{inference.LabelEndpoint: ep.Name, inference.LabelEndpointConfig: "true"}
		if err := kc.ApplySecret(ctx, SecretName(ep.Name), labels, map[string][]byte{inference.SecretKeyConfig: data}); err != nil {
			return fmt.Errorf("write the secret of endpoint %s on compute %s: %w", ep.Name, lastSegment(c), err)
		}
	}
	// Clusters that held the Secret and no longer should: a compute the endpoint moved off,
	// the compute of a deployment being deleted.
	stale := computesOf(&ep, ds, "")
	if ep.Properties.Mlfleet != nil {
		stale = append(stale, ep.Properties.Mlfleet.SecretComputes...)
	}
	stale = slices.DeleteFunc(stale, func(c string) bool {
		return slices.ContainsFunc(keep, func(k string) bool { return strings.EqualFold(k, c) })
	})
	if err := s.deleteSecrets(ctx, ep.Name, stale); err != nil {
		return err
	}
	// Recorded once every copy is written and every stale one deleted: it is the list a
	// later sync, or the endpoint's delete, removes the Secret from after the endpoint or
	// its deployments left those computes.
	return modify(ctx, s.cfg.Store, endpointID, func(ep *armapi.OnlineEndpoint) error {
		if ep.Properties.Mlfleet == nil {
			ep.Properties.Mlfleet = &armapi.OnlineEndpointMlfleet{}
		}
		ep.Properties.Mlfleet.SecretComputes = keep
		return nil
	})
}

// scoringURI is where an endpoint is scored: through the router of servingCompute.
// msg says why there is none. It never fails: a URI it cannot find yet is a message on
// the endpoint, not a failed operation, since the router may get its address later.
func (s *Service) scoringURI(ctx context.Context, endpointID string) (uri, swagger, msg string) {
	r, err := s.cfg.Store.GetResource(ctx, endpointID)
	if err != nil {
		return "", "", ""
	}
	var ep armapi.OnlineEndpoint
	if decode(r, &ep) != nil {
		return "", "", ""
	}
	ds, _ := s.deploymentsOf(ctx, s.cfg.Store, endpointID)
	c := servingCompute(&ep, ds)
	if c == "" {
		return "", "", "The endpoint has no compute yet: create a deployment on an AKS compute (or set the endpoint's compute) to get a scoring URI."
	}
	kc, err := s.clusterReady(ctx, c)
	if err != nil {
		return "", "", fmt.Sprintf("The cluster of compute '%s' could not be reached: %v", lastSegment(c), err)
	}
	addr, err := kc.FrontEndAddress(ctx, inference.AnnotationLocalAddress, inference.AnnotationLocalScheme)
	switch {
	case err != nil || addr.Host == "":
		return "", "", fmt.Sprintf("The router (azureml-fe) of compute '%s' has no address yet; on an external cluster it needs serve --router-image.", lastSegment(c))
	case addr.Placeholder:
		return "", "", fmt.Sprintf("Compute '%s' runs no router (its azureml-fe is the placeholder image), so the endpoint cannot be scored there: start mlfleet with serve --router-image and update the compute.", lastSegment(c))
	}
	base := addr.Scheme + "://" + addr.Host + "/api/v1/endpoint/" + ep.Name
	return base + "/score", base + "/swagger.json", ""
}

// servingCompute is the compute whose router the scoring URI names, "" when the endpoint
// has none. A router forwards only to the instances in its own cluster (router.Server
// watches the pods of its namespace azureml), so an endpoint is served where its
// deployments run: once they all moved off the endpoint's own compute, the router there
// still holds the endpoint's Secret (a deployment created without a compute lands there)
// but answers 503, no ready instance, for every deployment. With deployments on several
// computes no router serves them all, and the URI names the compute that carries the most
// traffic (on a tie the first in computesOf's order: the endpoint's own, then its
// deployments' in order). The endpoint's own compute is named only while no deployment
// runs anywhere.
func servingCompute(ep *armapi.OnlineEndpoint, ds []*armapi.OnlineDeployment) string {
	best, bestTraffic := "", -1
	for _, c := range computesOf(ep, ds, "") {
		traffic, runs := 0, false
		for _, d := range ds {
			if !strings.EqualFold(d.Properties.Compute, c) {
				continue
			}
			runs = true
			for name, w := range ep.Properties.Traffic {
				if strings.EqualFold(name, d.Name) {
					traffic += w
				}
			}
		}
		if runs && traffic > bestTraffic {
			best, bestTraffic = c, traffic
		}
	}
	if best == "" {
		return ep.Properties.Compute
	}
	return best
}

// endpointDeleteFlow deletes an endpoint's deployments one step each, then its Secrets,
// then its rows: a crash in between resumes with the row still there to say what is
// left.
func (s *Service) endpointDeleteFlow(ctx context.Context, run *operations.Run, in opInput) error {
	ds, err := s.deploymentsOf(ctx, s.cfg.Store, in.ID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := run.Step(ctx, "delete deployment "+d.Name, func(ctx context.Context) error {
			return s.removeDeployment(ctx, in.ID, d)
		}); err != nil {
			return err
		}
	}
	if err := run.Step(ctx, "delete endpoint secret", func(ctx context.Context) error {
		return s.removeEndpointSecrets(ctx, in.ID, true)
	}); err != nil {
		return err
	}
	return run.Step(ctx, "delete endpoint", func(ctx context.Context) error {
		return s.deleteEndpointRows(ctx, in.ID)
	})
}

// deleteEndpointRows deletes an endpoint's row and its keys', together: keys without
// their endpoint would be a secret nothing shows or removes but the sweeper. The role
// assignments at the endpoint's scope (or its deployments') go in the same transaction, as
// ARM deletes a resource's assignments with it: a new endpoint of the same name must not
// grant a principal the keys of an endpoint it was never given.
func (s *Service) deleteEndpointRows(ctx context.Context, id string) error {
	var revoked int
	err := s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		for _, id := range []string{keysID(id), id} {
			if err := tx.DeleteResource(ctx, id, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		var err error
		revoked, err = tx.DeleteRoleAssignmentsAtOrBelow(ctx, id)
		return err
	})
	if err == nil && revoked > 0 {
		s.cfg.Resources.AccessChanged()
	}
	return err
}

// removeDeployment deletes a deployment's objects, on its compute and on those it was
// moved off that may still hold them, and then its row.
func (s *Service) removeDeployment(ctx context.Context, endpointID string, d *armapi.OnlineDeployment) error {
	if err := s.deleteInstances(ctx, lastSegment(endpointID), d.Name, instanceComputes(d)); err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteResource(ctx, d.ID, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// gone reports whether an error says the compute or its cluster no longer exists, so
// that there is nothing left in it to delete. Any other error fails the step: a cluster
// that is unreachable must not be taken for a deleted one, or its objects would be left
// behind.
func gone(err error) bool {
	var ae *arm.Error
	return errors.As(err, &ae) && ae.Status == 404
}

// withDeployments decodes r, the row of the endpoint endpointID, and reads its
// deployments.
func (s *Service) withDeployments(ctx context.Context, r *store.Resource, endpointID string) (armapi.OnlineEndpoint, []*armapi.OnlineDeployment, error) {
	var ep armapi.OnlineEndpoint
	if err := decode(r, &ep); err != nil {
		return ep, nil, err
	}
	ds, err := s.deploymentsOf(ctx, s.cfg.Store, endpointID)
	return ep, ds, err
}

// removeEndpointSecrets deletes the endpoint's Secret from every cluster it is on. strict
// fails on a cluster that cannot be reached; otherwise its Secret is left there, logged.
func (s *Service) removeEndpointSecrets(ctx context.Context, endpointID string, strict bool) error {
	r, err := s.cfg.Store.GetResource(ctx, endpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ep, ds, err := s.withDeployments(ctx, r, endpointID)
	if err != nil {
		return err
	}
	all := computesOf(&ep, ds, "")
	if ep.Properties.Mlfleet != nil {
		for _, c := range ep.Properties.Mlfleet.SecretComputes {
			if !slices.ContainsFunc(all, func(x string) bool { return strings.EqualFold(x, c) }) {
				all = append(all, c)
			}
		}
	}
	if strict {
		return s.deleteSecrets(ctx, ep.Name, all)
	}
	for _, c := range all {
		if err := s.deleteSecrets(ctx, ep.Name, []string{c}); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("endpoint secret left in a cluster that cannot be reached", "endpoint", endpointID, "compute", c, "err", err)
		}
	}
	return nil
}

// deleteSecrets deletes an endpoint's Secret from the clusters of computes, but for those
// of computes that are gone.
func (s *Service) deleteSecrets(ctx context.Context, endpoint string, computes []string) error {
	return s.onClusters(ctx, computes, func(_ string, kc *kube.Cluster) error {
		return kc.DeleteSecret(ctx, SecretName(endpoint))
	})
}

// cascadeDeleteDeployment removes a deployment's objects and its row when its workspace
// or group is deleted (a Deleter: the cascade deletes only what no Deleter handles).
// It leaves the endpoint's Secret alone: the endpoint's own Deleter, which runs after it
// (the cascade deletes deepest first) and before the computes' (DeleteBefore), removes
// the Secret from every compute it was on.
func (s *Service) cascadeDeleteDeployment(ctx context.Context, run *operations.Run, r *store.Resource) error {
	var d armapi.OnlineDeployment
	if err := decode(r, &d); err != nil {
		return err
	}
	d.ID = r.ID
	return s.removeDeployment(ctx, r.ParentID, &d)
}

// cascadeDeleteEndpoint removes an endpoint's Secrets in its clusters, then its rows, in
// a cascading delete. A cluster that is gone took the Secret along; one that cannot be
// reached keeps it, logged, rather than hold up the delete of the workspace or group, as
// the computes' own cascade does with their components.
func (s *Service) cascadeDeleteEndpoint(ctx context.Context, run *operations.Run, r *store.Resource) error {
	if err := s.removeEndpointSecrets(ctx, r.ID, false); err != nil {
		return err
	}
	return s.deleteEndpointRows(ctx, r.ID)
}

// isDeploymentID tells whether id names an online deployment
// (…/onlineEndpoints/{ep}/deployments/{d}) rather than an endpoint.
func isDeploymentID(id string) bool {
	parts := strings.Split(strings.TrimSuffix(id, "/"), "/")
	return len(parts) >= 4 && strings.EqualFold(parts[len(parts)-2], "deployments") && strings.EqualFold(parts[len(parts)-4], "onlineEndpoints")
}
