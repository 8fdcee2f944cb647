package clusterruntime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// The annotations of cluster-autoscaler that users set to keep a node, or a pod's node,
// from a scale-down (or to let a pod that would keep its node go).
const (
	// annotationScaleDownDisabled "true" on a node keeps it.
	annotationScaleDownDisabled = "cluster-autoscaler.kubernetes.io/scale-down-disabled"
	// annotationSafeToEvict "false" on a pod keeps its node; "true" lets a bare pod or a
	// kube-system pod be evicted.
	annotationSafeToEvict = "cluster-autoscaler.kubernetes.io/safe-to-evict"
)

// scaleDown removes at most one node per scan: a node of an autoscaled pool above its
// minimum whose pods' requests have stayed under the utilization threshold for the
// unneeded time and all fit on the other nodes, the least used first (the highest index
// among equals). The node is cordoned, its pods are evicted through the eviction API (so
// that PodDisruptionBudgets hold; a refusal leaves the node and uncordons it), and once
// they are gone the pool shrinks by that node. Nothing is removed within the delay after
// a scale-up. It returns how many nodes are candidates: underused in a pool above its
// minimum.
func (a *autoscaler) scaleDown(ctx context.Context, cfg AutoscalerConfig, st *state) (int, error) {
	now := a.clock.Now()
	a.mu.Lock()
	recentUp := !a.lastUp.IsZero() && now.Sub(a.lastUp) < cfg.Settings.ScaleDownDelayAfterAdd ||
		!a.failed.IsZero() && now.Sub(a.failed) < cfg.Settings.ScaleDownDelayAfterFailure
	a.mu.Unlock()
	// Every underused node of an autoscaled pool starts its unneeded time at the first
	// scan that sees it so, and keeps it while it stays so.
	autoscaled := map[string]autoscaledPool{}
	for _, ap := range st.pools {
		autoscaled[ap.pool.Name] = ap
	}
	seen := map[string]bool{}
	a.mu.Lock()
	for _, n := range st.nodes {
		pool, _, ok := parseNodeName(n.Name)
		if _, auto := autoscaled[pool]; !ok || !auto {
			continue
		}
		if n.Annotations[annotationScaleDownDisabled] == "true" {
			continue
		}
		if utilization(n, st.usage[n.Name]) < cfg.Settings.UtilizationThreshold && movable(a.podSim.podsOn(n.Name)) {
			seen[n.Name] = true
			if _, ok := a.since[n.Name]; !ok {
				a.since[n.Name] = now
			}
		}
	}
	for name := range a.since {
		if !seen[name] {
			delete(a.since, name)
		}
	}
	since := maps.Clone(a.since)
	a.mu.Unlock()
	// What the status counts as candidates: the underused nodes of pools above their
	// minimum (a pool at it has none to give).
	unneeded := 0
	for name := range seen {
		pool, _, _ := parseNodeName(name)
		if ap := autoscaled[pool]; ap.pool.Count > ap.Min {
			unneeded++
		}
	}

	if recentUp {
		return unneeded, nil
	}
	candidates := slices.DeleteFunc(slices.Clone(st.nodes), func(n *v1.Node) bool {
		pool, _, _ := parseNodeName(n.Name)
		ap := autoscaled[pool]
		return !seen[n.Name] || ap.pool.Count <= ap.Min || now.Sub(since[n.Name]) < cfg.Settings.ScaleDownUnneededTime
	})
	slices.SortStableFunc(candidates, func(x, y *v1.Node) int {
		_, i, _ := parseNodeName(x.Name)
		_, j, _ := parseNodeName(y.Name)
		return cmp.Or(cmp.Compare(utilization(x, st.usage[x.Name]), utilization(y, st.usage[y.Name])), cmp.Compare(j, i))
	})
	for _, node := range candidates {
		pods := a.podSim.podsOn(node.Name)
		others := slices.DeleteFunc(slices.Clone(st.nodes), func(n *v1.Node) bool { return n.Name == node.Name })
		if !fitElsewhere(pods, others, st.usage) {
			continue
		}
		poolName, _, _ := parseNodeName(node.Name)
		ap := autoscaled[poolName]
		if err := a.drainer.drain(ctx, []string{node.Name}, drainLimits{timeout: cfg.Settings.MaxGracefulTermination}); err != nil {
			a.mu.Lock()
			a.failed = now
			a.mu.Unlock()
			return unneeded, err
		}
		if err := a.resize(ctx, cfg, ap.pool, ap.pool.Count-1, node.Name); err != nil {
			return unneeded, errors.Join(fmt.Errorf("scale down pool %s to %d: %w", ap.pool.Name, ap.pool.Count-1, err), a.drainer.uncordon(ctx, []string{node.Name}))
		}
		a.log.Info("cluster autoscaler scaled down", "pool", ap.pool.Name, "node", node.Name, "to", ap.pool.Count-1)
		a.recorder.Eventf(node, v1.EventTypeNormal, EventScaleDown, "node removed by cluster autoscaler: %s %d->%d (min: %d)",
			ap.pool.Name, ap.pool.Count, ap.pool.Count-1, ap.Min)
		a.mu.Lock()
		delete(a.since, node.Name)
		a.mu.Unlock()
		return unneeded, nil
	}
	return unneeded, nil
}

// utilization is the larger share of the node's allocatable cpu and memory that the
// requests of its pods take.
func utilization(node *v1.Node, used nodeUsage) float64 {
	var worst float64
	for _, name := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
		alloc := node.Status.Allocatable[name]
		if alloc.IsZero() {
			continue
		}
		q := used.requests[name]
		worst = max(worst, float64(q.MilliValue())/float64(alloc.MilliValue()))
	}
	return worst
}

// movable tells whether every pod of a node would come back elsewhere: pods of a
// controller other than a DaemonSet (which runs on every node anyway) outside kube-system.
// A bare pod, or a system pod, keeps its node, as cluster-autoscaler's defaults do, unless
// annotated safe-to-evict "true"; any pod annotated safe-to-evict "false" keeps its node.
func movable(pods []*v1.Pod) bool {
	for _, p := range pods {
		if daemonSetPod(p) {
			continue
		}
		switch p.Annotations[annotationSafeToEvict] {
		case "false":
			return false
		case "true":
			continue
		}
		if controllerOf(p) == "" || p.Namespace == metav1.NamespaceSystem {
			return false
		}
	}
	return true
}

func daemonSetPod(p *v1.Pod) bool {
	for _, ref := range p.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// fitElsewhere tells whether the pods (but DaemonSet pods) fit on nodes next to what they run.
func fitElsewhere(pods []*v1.Pod, nodes []*v1.Node, usage map[string]nodeUsage) bool {
	used := map[string]nodeUsage{}
	for name, u := range usage {
		used[name] = u.clone()
	}
next:
	for _, pod := range pods {
		if daemonSetPod(pod) {
			continue
		}
		requests := podRequests(pod)
		affinity := nodeaffinity.GetRequiredNodeAffinity(pod)
		for _, n := range nodes {
			u := used[n.Name]
			if len(unfitReasons(pod, requests, affinity, n, u)) == 0 {
				u.add(pod, requests)
				used[n.Name] = u
				continue next
			}
		}
		return false
	}
	return true
}
