package clusterruntime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/mlfleet/mlfleet/internal/provider"
)

// drainComponent is the source of the events of a manual scale-down's drain.
const drainComponent = "node-drain"

// drainRetryInterval is how often a drain tries again the evictions a
// PodDisruptionBudget refused, and looks whether the evicted pods are gone.
const drainRetryInterval = time.Second

// DrainError says why nodes could not be drained for a scale-down; the nodes were kept
// and uncordoned.
type DrainError = provider.DrainError

// drainer cordons nodes and evicts their pods through the eviction API, so that
// PodDisruptionBudgets hold, as `kubectl drain` does. The autoscaler drains the node it
// removes with it, and SetPool the nodes a manual scale-down removes.
type drainer struct {
	client   kubernetes.Interface
	pods     *podSimulator
	clock    clock.Clock
	recorder record.EventRecorder
}

// drainLimits bound a drain.
type drainLimits struct {
	// timeout bounds the whole drain, and caps the pods' termination grace periods.
	timeout time.Duration
	// retryRefused tries evictions that a PodDisruptionBudget refuses again until the
	// timeout, as `kubectl drain` and AKS do; false fails at the first refusal, as the
	// autoscaler does (it tries another node at a later scan).
	retryRefused bool
}

// drain cordons nodes, evicts their pods (DaemonSet pods stay, as they would with
// `kubectl drain --ignore-daemonsets`) and waits for them to go. On failure the nodes it
// cordoned are uncordoned (one cordoned before stays so) and the error is a *DrainError
// (or the context's).
func (d *drainer) drain(ctx context.Context, nodes []string, limits drainLimits) error {
	var cordoned []string
	for _, name := range nodes {
		changed, err := d.cordon(ctx, name, true)
		if changed {
			cordoned = append(cordoned, name)
		}
		if err != nil {
			return errors.Join(err, d.uncordon(ctx, cordoned))
		}
	}
	if err := d.evictAll(ctx, nodes, limits); err != nil {
		return errors.Join(err, d.uncordon(ctx, cordoned))
	}
	return nil
}

// evictAll evicts the pods of the cordoned nodes and waits for them to go.
func (d *drainer) evictAll(ctx context.Context, nodes []string, limits drainLimits) error {
	deadline := d.clock.Now().Add(limits.timeout)
	grace := int64(limits.timeout / time.Second)
	evicted := map[string]bool{} // by pod UID
	for {
		var refused *DrainError
		left := 0
		for _, name := range nodes {
			for _, p := range d.pods.podsOn(name) {
				if daemonSetPod(p) {
					continue
				}
				left++
				if evicted[string(p.UID)] {
					continue
				}
				err := d.evict(ctx, p, grace)
				if err == nil {
					evicted[string(p.UID)] = true
					continue
				}
				d.recorder.Eventf(p, v1.EventTypeWarning, EventScaleDown, "failed to evict pod for scale-down: %v", err)
				if refused == nil {
					refused = &DrainError{Node: name, Pod: podKey(p), Budget: refusingBudget(p.Namespace, err), Err: err}
				}
				if !limits.retryRefused {
					return refused
				}
			}
		}
		switch {
		case left == 0:
			return nil
		case d.clock.Now().After(deadline):
			if refused != nil {
				refused.Err = fmt.Errorf("%w (still refused after %v)", refused.Err, limits.timeout)
				return refused
			}
			return d.timedOut(nodes, limits.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.clock.After(drainRetryInterval):
		}
	}
}

// evict asks the eviction API to remove p, with its grace period capped by grace
// seconds. A pod already gone is not an error.
func (d *drainer) evict(ctx context.Context, p *v1.Pod, grace int64) error {
	if g := p.Spec.TerminationGracePeriodSeconds; g != nil && *g < grace {
		grace = *g
	}
	err := d.client.PolicyV1().Evictions(p.Namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
		DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: &grace, Preconditions: metav1.NewUIDPreconditions(string(p.UID))},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	d.recorder.Event(p, v1.EventTypeNormal, EventScaleDown, "deleting pod for node scale down")
	return nil
}

// timedOut is the error of a drain whose evicted pods outlasted the timeout.
func (d *drainer) timedOut(nodes []string, timeout time.Duration) error {
	for _, name := range nodes {
		for _, p := range d.pods.podsOn(name) {
			if !daemonSetPod(p) {
				return &DrainError{Node: name, Pod: podKey(p), Err: fmt.Errorf("still there %v after its eviction", timeout)}
			}
		}
	}
	return nil
}

// refusingBudget returns the namespace/name of the PodDisruptionBudget an eviction
// error names, or "".
func refusingBudget(ns string, err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return ""
	}
	for _, c := range status.Status().Details.Causes {
		// "The disruption budget web needs 2 healthy pods and has 2 currently"
		if c.Type == policyv1.DisruptionBudgetCause {
			if f := strings.Fields(strings.TrimPrefix(c.Message, "The disruption budget ")); len(f) > 0 {
				return ns + "/" + f[0]
			}
		}
	}
	return ""
}

// uncordon makes the nodes schedulable again after a failed drain.
func (d *drainer) uncordon(ctx context.Context, nodes []string) error {
	var errs []error
	for _, name := range nodes {
		if _, err := d.cordon(context.WithoutCancel(ctx), name, false); err != nil && !apierrors.IsNotFound(errors.Unwrap(err)) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cordon marks a node unschedulable (or schedulable again), and says whether it changed
// it.
func (d *drainer) cordon(ctx context.Context, name string, on bool) (bool, error) {
	node, err := d.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("cordon node %s: %w", name, err)
	}
	if node.Spec.Unschedulable == on {
		return false, nil
	}
	node.Spec.Unschedulable = on
	if _, err := d.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("cordon node %s: %w", name, err)
	}
	if on {
		d.recorder.Event(node, v1.EventTypeNormal, EventScaleDown, "marked the node as toBeDeleted/unschedulable")
	}
	return true, nil
}

// leavingFirst returns the nodes a SetPool of pool would remove: what the pool has
// beyond pool.Count, in the order setPool picks them (cordoned nodes first, then the
// highest indexes).
func (s *nodeSimulator) leavingFirst(pool NodePool) []string {
	id := poolID(s.clusterUID, pool.Name)
	s.mu.RLock()
	defer s.mu.RUnlock()
	members := s.removalOrder(pool.Name, id, nil)
	var out []string
	for _, m := range slices.Backward(members) {
		if len(members)-len(out) <= pool.Count {
			break
		}
		out = append(out, nodeName(pool.Name, id, m.index))
	}
	return out
}
