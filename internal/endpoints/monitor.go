package endpoints

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The deployment monitor keeps what a deployment says of its instances true after its
// operation ended: a cluster scaled down under it leaves instances Pending, a Deployment
// deleted with kubectl leaves none, and the row would otherwise show the count its last
// operation saw for good. It records properties.mlfleet.readyInstances and, when not every
// instance is Ready, a message saying why. provisioningState is left alone: in ARM it is
// the outcome of the last PUT, not the health of what that PUT made (the compute monitor
// derives its state from conditions because computes carry them; deployments have none).

// observeTimeout bounds the observation of one compute's deployments, so that a cluster
// that does not answer delays the others by at most this much.
const observeTimeout = 20 * time.Second

// Start runs the deployment monitor until ctx ends or Close is called: every
// MonitorInterval it observes every deployment whose operation has ended (Refresh).
func (s *Service) Start(ctx context.Context) {
	s.monitor.once.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		s.monitor.stop = cancel
		s.monitor.done = make(chan struct{})
		go func() {
			defer close(s.monitor.done)
			background.Every(ctx, s.cfg.MonitorInterval, func(ctx context.Context) {
				if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("deployment monitor", "err", err)
				}
			})
		}()
	})
}

// Close stops the deployment monitor, waiting (bounded by ctx) for an observation in
// progress to end. It is a no-op when Start was never called.
func (s *Service) Close(ctx context.Context) error {
	if s.monitor.stop == nil {
		return nil
	}
	s.monitor.stop()
	return background.Wait(ctx, s.monitor.done)
}

// watched is a deployment row as Refresh listed it.
type watched struct {
	id, endpoint string
	version      int64
	d            *armapi.OnlineDeployment
}

// Refresh observes every deployment once (what the monitor does on each tick), one
// compute's cluster at a time. A deployment with an operation running is skipped: the
// operation records what it sees, and ends by recording its outcome.
func (s *Service) Refresh(ctx context.Context) error {
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: TypeDeployment})
	if err != nil {
		return fmt.Errorf("list deployments: %w", err)
	}
	byCompute := map[string][]watched{}
	var computes []string
	for _, r := range rows {
		d, err := decodeRow[armapi.OnlineDeployment](r)
		if err != nil || d.Properties.Compute == "" || inProgress(d.Properties.ProvisioningState) {
			continue
		}
		id, err := arm.ParseID(r.ID)
		if err != nil || len(id.Names) < 3 {
			continue
		}
		if s.cfg.Monitors != nil && !s.cfg.Monitors(d.Properties.Compute) {
			continue // another replica's
		}
		key := strings.ToLower(d.Properties.Compute)
		if _, ok := byCompute[key]; !ok {
			computes = append(computes, key)
		}
		byCompute[key] = append(byCompute[key], watched{id: r.ID, endpoint: id.Names[1], version: r.Version, d: d})
	}
	for _, key := range computes {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.observeCompute(ctx, byCompute[key])
	}
	return nil
}

// observeCompute observes the deployments ws, which run on one compute, and records
// what it saw on each. A cluster that cannot be read marks them all "cluster unreachable".
func (s *Service) observeCompute(ctx context.Context, ws []watched) {
	computeID := ws[0].d.Properties.Compute
	octx, cancel := context.WithTimeout(ctx, observeTimeout)
	defer cancel()
	kc, err := s.connect(octx, computeID)
	for _, w := range ws {
		if err != nil {
			break
		}
		var st *kube.InferenceStatus
		labels := InstanceLabels(w.endpoint, w.d.Name)
		st, err = kc.InferenceDeploymentStatus(octx, DeploymentName(w.endpoint, w.d.Name), labels)
		if err != nil {
			break
		}
		ready, msg := observed(w, st, lastSegment(computeID))
		s.record(ctx, w, func(m *armapi.OnlineDeploymentMlfleet) { m.ReadyInstances = ready }, msg)
	}
	if ctx.Err() != nil {
		return // the monitor stops: a cut-short read says nothing of the cluster
	}
	s.noteReachable(computeID, err)
	if err == nil {
		return
	}
	// The count last seen stays: nothing says the instances went, only that they cannot
	// be counted now; the message says so.
	why := err.Error()
	var ae *arm.Error
	if errors.As(err, &ae) {
		why = ae.Message
	}
	msg := fmt.Sprintf("cluster unreachable: the cluster of compute '%s' cannot be read (%s); readyInstances is the count last seen", lastSegment(computeID), why)
	for _, w := range ws {
		s.record(ctx, w, nil, msg)
	}
}

// observed returns a deployment's ready instances and the message that says why not all
// of them are Ready ("" when they are), from the status of its Deployment.
func observed(w watched, st *kube.InferenceStatus, compute string) (int, string) {
	name := DeploymentName(w.endpoint, w.d.Name)
	if !st.Found {
		return 0, fmt.Sprintf("0 instances: the Kubernetes Deployment azureml/%s is missing from the cluster of compute '%s'; update the deployment to create it again (mlfleet ml online-deployment update -n %s -e %s)",
			name, compute, w.d.Name, w.endpoint)
	}
	want := int(st.Replicas)
	if m := w.d.Properties.Mlfleet; m != nil && m.InstanceCount > 0 {
		want = m.InstanceCount
	}
	ready := int(st.Ready)
	if ready >= want {
		return ready, ""
	}
	msg := fmt.Sprintf("%d of %d instances ready", ready, want)
	for _, why := range []string{st.Crashing, st.Pending, st.NotReady} {
		if why != "" {
			return ready, msg + ": " + why
		}
	}
	if len(st.Pods) < want {
		return ready, fmt.Sprintf("%s: %d of %d pods exist", msg, len(st.Pods), want)
	}
	return ready, msg
}

// record writes an observation on a deployment: set, when not nil, changes the counts;
// msg is the message. The row is written only if it is still the version Refresh listed,
// so that an observation never lands on a row a request or an operation changed since it
// began (the next tick observes that row afresh), and only if it changes, so that a
// client's If-Match does not go stale on every tick. A Failed deployment keeps its message:
// it says why its last operation failed, which the observation does not replace.
func (s *Service) record(ctx context.Context, w watched, set func(*armapi.OnlineDeploymentMlfleet), msg string) {
	_, err := store.Modify(ctx, s.cfg.Store, w.id, func(r *store.Resource) error {
		if r.Version != w.version {
			return errStale
		}
		var d armapi.OnlineDeployment
		if err := decode(r, &d); err != nil {
			return err
		}
		before := encode(&d)
		if d.Properties.Mlfleet == nil {
			d.Properties.Mlfleet = &armapi.OnlineDeploymentMlfleet{}
		}
		if set != nil {
			set(d.Properties.Mlfleet)
		}
		if d.Properties.ProvisioningState != armapi.StateFailed {
			d.Properties.Mlfleet.Message = msg
		}
		after := encode(&d)
		if bytes.Equal(after, before) {
			return errStale
		}
		r.Body = after
		return nil
	})
	if err != nil && !errors.Is(err, errStale) && !isNotFound(err) && ctx.Err() == nil {
		s.log.Warn("record deployment status", "deployment", w.id, "err", err)
	}
}

// errStale stops a monitor write that has nothing to write, or whose row changed since it
// was listed.
var errStale = errors.New("nothing to record")

// noteReachable logs a compute's cluster becoming unreachable, and reachable again, once
// per change rather than on every tick.
func (s *Service) noteReachable(computeID string, err error) {
	key := strings.ToLower(computeID)
	s.monitor.mu.Lock()
	was := s.monitor.unreachable[key]
	if err != nil {
		s.monitor.unreachable[key] = true
	} else {
		delete(s.monitor.unreachable, key)
	}
	s.monitor.mu.Unlock()
	switch {
	case err != nil && !was:
		s.log.Warn("deployment monitor: cluster unreachable", "compute", computeID, "err", err)
	case err == nil && was:
		s.log.Info("deployment monitor: cluster reachable again", "compute", computeID)
	}
}
