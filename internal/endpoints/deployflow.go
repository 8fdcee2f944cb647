package endpoints

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// pollEvery is how often a deployment operation looks at its instances.
const pollEvery = 200 * time.Millisecond

// getDeployment reads a deployment row for an operation, which works on the row as it is
// now (steps after a restart see what earlier steps recorded, such as ModelDir).
func (s *Service) getDeployment(ctx context.Context, id string) (*armapi.OnlineDeployment, error) {
	r, err := s.cfg.Store.GetResource(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get deployment %s: %w", id, err)
	}
	var d armapi.OnlineDeployment
	return &d, decode(r, &d)
}

// deploymentPutFlow deploys a deployment in recorded steps, so that a resumed operation
// skips what is done: the model and code are materialized before the Deployment is applied
// (its pods' annotations name their directories), the endpoint's Secret is rewritten to
// include it before the wait for its instances, and the operation ends Succeeded only once
// every instance is Ready. The scoring URI is set last: the endpoint's first deployment is
// what gives it a compute to score through. An endpoint deleted meanwhile ends it with
// endpointDeletedUnder's 409, whatever step it was at.
func (s *Service) deploymentPutFlow(ctx context.Context, run *operations.Run, in opInput) error {
	err := s.deploymentPutSteps(ctx, run, in)
	if err != nil && ctx.Err() == nil {
		if lost := s.endpointDeletedUnder(ctx, in.ID); lost != nil {
			return lost
		}
	}
	return err
}

// endpointDeletedUnder is the error a deployment's operation ends with when its endpoint
// was deleted while it ran (the endpoint's delete removes its deployments, instances and
// rows, so whatever step the operation was at failed): a 409 saying so, not the step's
// error (the Deployment "disappeared from the cluster", the row is missing), which reads as
// a server fault. nil while the endpoint is there and not being deleted.
func (s *Service) endpointDeletedUnder(ctx context.Context, deploymentID string) error {
	id, err := arm.ParseID(deploymentID)
	if err != nil {
		return nil
	}
	epID := id.Parent()
	r, err := s.cfg.Store.GetResource(ctx, epID)
	if err == nil {
		ep, derr := decodeRow[armapi.OnlineEndpoint](r)
		if derr != nil || ep.Properties.ProvisioningState != armapi.StateDeleting {
			return nil
		}
	} else if !isNotFound(err) {
		return nil
	}
	return arm.Errorf(http.StatusConflict, arm.CodeConflict, "Online endpoint '%s' was deleted while deployment '%s' was being created or updated; the deployment was deleted with it. Create the endpoint and the deployment again if you still need them.",
		lastSegment(epID), id.Name())
}

// deploymentPutSteps are the steps of deploymentPutFlow.
func (s *Service) deploymentPutSteps(ctx context.Context, run *operations.Run, in opInput) error {
	d, err := s.getDeployment(ctx, in.ID)
	if err != nil {
		return err
	}
	epID := (func() string { id, _ := arm.ParseID(in.ID); return id.Parent() })()
	epName := lastSegment(epID)
	if d.Properties.Model != "" {
		if err := run.Step(ctx, "materialize model", func(ctx context.Context) error {
			return s.materializeAsset(ctx, in.ID, mlassets.Models, d.Properties.Model)
		}); err != nil {
			return err
		}
	}
	if c := d.Properties.CodeConfiguration; c != nil && c.CodeID != "" {
		if err := run.Step(ctx, "materialize code", func(ctx context.Context) error {
			return s.materializeAsset(ctx, in.ID, mlassets.Codes, c.CodeID)
		}); err != nil {
			return err
		}
	}
	if err := run.Step(ctx, "apply deployment", func(ctx context.Context) error {
		return s.applyDeployment(ctx, epName, in.ID)
	}); err != nil {
		return err
	}
	if err := run.Step(ctx, "write endpoint secret", func(ctx context.Context) error {
		return s.syncEndpoint(ctx, epID, "")
	}); err != nil {
		return err
	}
	if err := run.Step(ctx, "wait for instances", func(ctx context.Context) error {
		return s.waitReady(ctx, epName, in.ID)
	}); err != nil {
		return err
	}
	// A deployment moved to another compute leaves its old instances until the new ones
	// run, then removes them.
	if st := d.Properties.Mlfleet; st != nil && len(st.FormerComputes) > 0 {
		if err := run.Step(ctx, "remove instances from former computes", func(ctx context.Context) error {
			return s.removeFormerInstances(ctx, epName, in.ID)
		}); err != nil {
			return err
		}
	}
	return run.Step(ctx, "finish", func(ctx context.Context) error {
		if err := modify(ctx, s.cfg.Store, in.ID, func(d *armapi.OnlineDeployment) error {
			d.Properties.ProvisioningState = armapi.StateSucceeded
			d.Properties.Mlfleet.Message = ""
			return nil
		}); err != nil {
			return err
		}
		return s.refreshScoringURI(ctx, epID)
	})
}

// removeFormerInstances deletes a deployment's Deployment from the clusters of the computes
// it was moved off, then forgets them on its row. A crash in between leaves them recorded,
// and the step, run again, finds nothing left to delete.
func (s *Service) removeFormerInstances(ctx context.Context, epName, id string) error {
	d, err := s.getDeployment(ctx, id)
	if err != nil {
		return err
	}
	if d.Properties.Mlfleet == nil {
		return nil
	}
	done := d.Properties.Mlfleet.FormerComputes
	if err := s.deleteInstances(ctx, epName, d.Name, done); err != nil {
		return err
	}
	return modify(ctx, s.cfg.Store, id, func(d *armapi.OnlineDeployment) error {
		if d.Properties.Mlfleet != nil {
			d.Properties.Mlfleet.FormerComputes = slices.DeleteFunc(d.Properties.Mlfleet.FormerComputes, func(c string) bool {
				return slices.ContainsFunc(done, func(x string) bool { return strings.EqualFold(x, c) })
			})
		}
		return nil
	})
}

// instanceComputes returns the computes whose clusters may hold a deployment's instances:
// its compute and those it was moved off that still may.
func instanceComputes(d *armapi.OnlineDeployment) []string {
	var out []string
	if d.Properties.Compute != "" {
		out = append(out, d.Properties.Compute)
	}
	if d.Properties.Mlfleet != nil {
		out = append(out, d.Properties.Mlfleet.FormerComputes...)
	}
	return out
}

// deleteInstances deletes a deployment's Deployment, and waits for its pods to go, in the
// clusters of computes. A compute or cluster that is gone took them along; any other
// error fails: an unreachable cluster must not be taken for a deleted one, or its
// instances would be left running.
func (s *Service) deleteInstances(ctx context.Context, epName, name string, computes []string) error {
	return s.onClusters(ctx, computes, func(c string, kc *kube.Cluster) error {
		if err := kc.DeleteInferenceDeployment(ctx, DeploymentName(epName, name)); err != nil {
			return fmt.Errorf("delete the instances of deployment %s on compute %s: %w", name, lastSegment(c), err)
		}
		return nil
	})
}

// onClusters runs f on the cluster of each of computes in turn, skipping those whose
// compute or cluster is gone (what was in them went along). Any other error stops it: an
// unreachable cluster must not be taken for a deleted one.
func (s *Service) onClusters(ctx context.Context, computes []string, f func(compute string, kc *kube.Cluster) error) error {
	for _, c := range computes {
		kc, err := s.clusterReady(ctx, c)
		if gone(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := f(c, kc); err != nil {
			return err
		}
	}
	return nil
}

// refreshScoringURI sets an endpoint's scoring URI once it has a compute through a
// deployment, without changing its state. An endpoint deleted meanwhile is no error: its
// own delete has nothing left to show a URI for.
func (s *Service) refreshScoringURI(ctx context.Context, epID string) error {
	uri, swagger, msg := s.scoringURI(ctx, epID)
	err := modify(ctx, s.cfg.Store, epID, func(ep *armapi.OnlineEndpoint) error {
		ep.Properties.ScoringURI, ep.Properties.SwaggerURI = uri, swagger
		setMessage(ep, msg)
		return nil
	})
	if err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// materializeAsset writes a model or code version's content under the home and records
// the directory on the deployment, relative to the inference directory (<key>/model): the
// same on every replica, and no path of the server's file system on the wire.
func (s *Service) materializeAsset(ctx context.Context, id string, k mlassets.Kind, ref string) error {
	abs, err := s.assetDir(ctx, k, ref)
	if err != nil {
		return err
	}
	dir, err := filepath.Rel(s.inferenceDir(), abs)
	if err != nil {
		return err
	}
	kind := "model"
	if k == mlassets.Codes {
		kind = "code"
	}
	return modify(ctx, s.cfg.Store, id, func(d *armapi.OnlineDeployment) error {
		if d.Properties.Mlfleet == nil {
			d.Properties.Mlfleet = &armapi.OnlineDeploymentMlfleet{}
		}
		if kind == "model" {
			d.Properties.Mlfleet.ModelDir = dir
		} else {
			d.Properties.Mlfleet.CodeDir = dir
		}
		return nil
	})
}

// seconds is d in whole seconds for a probe field, never negative: Kubernetes takes
// probe timings in int32 seconds.
func seconds(d time.Duration) int32 { return int32(max(d/time.Second, 0)) }

// applyDeployment applies the deployment's Deployment in its compute's cluster.
func (s *Service) applyDeployment(ctx context.Context, epName, id string) error {
	d, err := s.getDeployment(ctx, id)
	if err != nil {
		return err
	}
	// The stored row was validated at PUT; validating a copy again only derives the
	// normalized settings (instance type, probes), not stored on the row.
	copyOf := *d
	n, err := validateDeployment(d.Name, &copyOf)
	if err != nil {
		return err
	}
	image := inference.DefaultImage
	if d.Properties.EnvironmentID != "" {
		env, err := s.cfg.Assets.Resolve(ctx, mlassets.Environments, d.Properties.EnvironmentID, "properties.environmentId")
		if err != nil {
			return err
		}
		image = env.Properties.Image
	}
	labels := InstanceLabels(epName, d.Name)
	// The pods name no files: the runtime asks PodFiles for them.
	annotations := map[string]string{inference.AnnotationRuntime: inference.RuntimePython, inference.AnnotationFiles: filesDigest(d)}
	probe := func(path string, p probe) kube.Probe {
		return kube.Probe{Path: path, InitialDelaySeconds: seconds(p.InitialDelay), PeriodSeconds: max(seconds(p.Period), 1),
			TimeoutSeconds: max(seconds(p.Timeout), 1), FailureThreshold: int32(p.FailureThreshold), SuccessThreshold: int32(p.SuccessThreshold)}
	}
	kc, err := s.clusterReady(ctx, d.Properties.Compute)
	if err != nil {
		return err
	}
	// Requests and limits are the instance type's (InstanceType): what checkCapacity
	// counted is what the scheduler sees.
	err = kc.ApplyInferenceDeployment(ctx, kube.InferenceDeployment{
		Name: DeploymentName(epName, d.Name), Labels: labels, PodAnnotations: annotations,
		Replicas: int32(n.InstanceCount), Container: inference.ContainerName, Image: image, Port: inference.Port,
		Env: d.Properties.EnvironmentVariables, MilliCPU: n.InstanceType.MilliCPU, MemoryMiB: n.InstanceType.MemoryMiB,
		Liveness: probe("/", n.Liveness), Readiness: probe("/ready", n.Readiness),
	})
	// The cluster refusing the object is no server fault (A3): the deployment fails with
	// what the cluster said, which names the field, and what the user can do.
	if errors.Is(err, kube.ErrInvalid) {
		return arm.BadRequest(arm.CodeUserError, "The cluster of compute '%s' refused the instances of deployment '%s': %v. Delete the deployment and create it again; if the object is not mlfleet's, remove it from the cluster first.",
			lastSegment(d.Properties.Compute), d.Name, err)
	}
	return err
}

// waitReady waits until every instance of the deployment is Ready, recording progress on
// the deployment; a crash-looping container or the timeout fails it.
func (s *Service) waitReady(ctx context.Context, epName, id string) error {
	d, err := s.getDeployment(ctx, id)
	if err != nil {
		return err
	}
	kc, err := s.clusterReady(ctx, d.Properties.Compute)
	if err != nil {
		return err
	}
	name := DeploymentName(epName, d.Name)
	labels := InstanceLabels(epName, d.Name)
	deadline := time.Now().Add(s.cfg.ReadyTimeout)
	// The row is written only when the ready count or the pending reason changes, not on
	// each of the five polls a second.
	lastReady, lastMsg := -1, ""
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		st, err := kc.InferenceDeploymentStatus(ctx, name, labels)
		if err != nil {
			return false, err
		}
		if !st.Found {
			return false, fmt.Errorf("deployment %s disappeared from the cluster", name)
		}
		// A crash-looping container will not recover by waiting: fail now with its last
		// message instead of at the timeout.
		if st.Crashing != "" {
			return false, arm.BadRequest(arm.CodeUserError, "Deployment '%s' failed: %s. See 'mlfleet ml online-deployment get-logs -n %s -e %s'.", d.Name, st.Crashing, d.Name, epName)
		}
		// Nor will an instance the cluster autoscaler failed to make room for (its quota,
		// QA9 #8): fail now with the autoscaler's reason, which names the quota and numbers.
		if st.ScaleUpFailed != "" {
			return false, arm.BadRequest(arm.CodeUserError, "Deployment '%s' has %d of %d instances Ready and cannot get room for the others: %s. Lower the instance count or pick a smaller instanceType, or free or raise what stopped the autoscaler, then update the deployment.",
				d.Name, st.Ready, st.Replicas, strings.TrimSuffix(st.Pending, "."))
		}
		// Why it is not done yet: a reason the pods cannot run, else the first pod that
		// is not Ready (an init() still loading shows as Running but not Ready).
		msg := st.Pending
		if msg == "" {
			msg = st.NotReady
		}
		if int(st.Ready) != lastReady || msg != lastMsg {
			lastReady, lastMsg = int(st.Ready), msg
			if err := modify(ctx, s.cfg.Store, id, func(d *armapi.OnlineDeployment) error {
				if d.Properties.Mlfleet == nil {
					d.Properties.Mlfleet = &armapi.OnlineDeploymentMlfleet{}
				}
				d.Properties.Mlfleet.ReadyInstances, d.Properties.Mlfleet.Message = int(st.Ready), msg
				return nil
			}); err != nil {
				return false, err
			}
		}
		// Ready counts are only trusted once the Deployment's status is current (its
		// controller has seen this spec) and every replica runs the new template; else an
		// update would pass on the old instances' readiness.
		if st.Current && st.Ready >= st.Replicas && st.Updated >= st.Replicas {
			return true, nil
		}
		if time.Now().After(deadline) {
			// The scheduler's message ends in a period of its own ("... Insufficient cpu.").
			why := strings.TrimSuffix(msg, ".")
			if why == "" {
				why = "instances did not become Ready (readiness probe GET /ready)"
			}
			return false, arm.BadRequest(arm.CodeUserError, "Deployment '%s' has %d of %d instances Ready after %s: %s.", d.Name, st.Ready, st.Replicas, s.cfg.ReadyTimeout, why)
		}
		return false, nil
	})
}

// deploymentDeleteFlow removes a deployment: its objects in the cluster, then its name
// from the endpoint's Secret (so the router stops routing to it), then its row. The row
// goes last so that a crash in between leaves a Deleting row whose resumed operation
// still knows the compute to clean up.
func (s *Service) deploymentDeleteFlow(ctx context.Context, run *operations.Run, in opInput) error {
	d, err := s.getDeployment(ctx, in.ID)
	// The row gone means an earlier run of this operation finished its last step.
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	id, _ := arm.ParseID(in.ID)
	epID := id.Parent()
	epName := lastSegment(epID)
	if err := run.Step(ctx, "delete deployment objects", func(ctx context.Context) error {
		return s.deleteInstances(ctx, epName, d.Name, instanceComputes(d))
	}); err != nil {
		return err
	}
	if err := run.Step(ctx, "write endpoint secret", func(ctx context.Context) error {
		return s.syncEndpoint(ctx, epID, d.Name)
	}); err != nil {
		return err
	}
	return run.Step(ctx, "delete deployment", func(ctx context.Context) error {
		if err := s.cfg.Store.DeleteResource(ctx, in.ID, 0); err != nil && !isNotFound(err) {
			return err
		}
		return s.refreshScoringURI(ctx, epID)
	})
}

// servingWait bounds how long ComputeServingChanged waits for a compute's router to serve
// with the new scheme. The embedded router switches within a reconcile (seconds).
const servingWait = time.Minute

// ComputeServingChanged brings the scoring URIs of the endpoints served through compute
// computeID up to date after its router changed how it serves: TLS turned on or off (https)
// or another certificate. It first waits (bounded by servingWait) until the router serves
// with the scheme asked for, so that the URIs name the address it serves at; past that it
// records what the router serves then, and the next change records the rest. An endpoint
// is refreshed when the compute is its own or one of its deployments'.
func (s *Service) ComputeServingChanged(ctx context.Context, computeID string, https bool) error {
	id, err := arm.ParseID(computeID)
	if err != nil || len(id.Names) < 2 {
		return fmt.Errorf("parse compute id %s: %w", computeID, err)
	}
	ws := arm.ResourcePath(id.SubscriptionID, id.ResourceGroup, Namespace, "workspaces", id.Names[0])
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Scope: ws, Type: TypeEndpoint})
	if err != nil {
		return err
	}
	var served []string
	for _, r := range rows {
		ep, err := decodeRow[armapi.OnlineEndpoint](r)
		if err != nil {
			return err
		}
		ds, err := s.deploymentsOf(ctx, s.cfg.Store, r.ID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(computesOf(ep, ds, ""), func(c string) bool { return strings.EqualFold(c, computeID) }) {
			served = append(served, r.ID)
		}
	}
	if len(served) == 0 {
		return nil
	}
	want := "http"
	if https {
		want = "https"
	}
	kc, err := s.clusterReady(ctx, computeID)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, servingWait, true, func(ctx context.Context) (bool, error) {
		addr, err := kc.FrontEndAddress(ctx, inference.AnnotationLocalAddress, inference.AnnotationLocalScheme)
		return err == nil && addr.Scheme == want, nil
	})
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		s.log.Warn("the router does not serve with the new scheme yet; scoring URIs keep what it serves now", "compute", computeID, "scheme", want)
	}
	for _, epID := range served {
		if err := s.refreshScoringURI(ctx, epID); err != nil {
			return err
		}
	}
	return nil
}
