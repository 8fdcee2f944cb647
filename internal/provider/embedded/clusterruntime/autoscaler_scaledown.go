package clusterruntime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

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

// scaleDown removes the nodes of autoscaled pools above their minimum whose pods'
// requests have stayed under the utilization threshold for the unneeded time and would
// all come back elsewhere, the least used first (the highest index among equals). Empty
// nodes (nothing but DaemonSet and mirror pods) go together, up to max-empty-bulk-delete
// of them, each pool's in one resize; when there are none, one other node is drained:
// cordoned, its pods evicted through the eviction API (so that PodDisruptionBudgets
// hold; a refusal leaves the node and uncordons it), and once they are gone the pool
// shrinks by that node. Nothing is removed within the delays after a scale-up, a failed
// drain, or a removal. It returns how many nodes are candidates: underused in a pool
// above its minimum.
func (a *autoscaler) scaleDown(ctx context.Context, cfg AutoscalerConfig, st *state) (int, error) {
	now := a.clock.Now()
	set := cfg.Settings
	within := func(t time.Time, d time.Duration) bool { return !t.IsZero() && now.Sub(t) < d }
	a.mu.Lock()
	held := within(a.lastUp, set.ScaleDownDelayAfterAdd) || within(a.failed, set.ScaleDownDelayAfterFailure) ||
		within(a.removed, set.ScaleDownDelayAfterDelete)
	a.mu.Unlock()
	// Every underused node of an autoscaled pool starts its unneeded time at the first
	// scan that sees it so, and keeps it while it stays so.
	autoscaled := map[string]autoscaledPool{}
	for _, ap := range st.pools {
		autoscaled[ap.pool.Name] = ap
	}
	seen := map[string]bool{}
	util := map[string]float64{}
	pods := map[string][]*v1.Pod{}
	a.mu.Lock()
	for _, n := range st.nodes {
		pool, _, ok := parseNodeName(n.Name)
		if _, auto := autoscaled[pool]; !ok || !auto {
			continue
		}
		if n.Annotations[annotationScaleDownDisabled] == "true" {
			continue
		}
		pods[n.Name] = a.podSim.podsOn(n.Name)
		util[n.Name] = utilization(n, st.usage[n.Name], pods[n.Name], set.IgnoreDaemonSetsUtilization)
		if util[n.Name] < set.UtilizationThreshold && movable(pods[n.Name], set) {
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

	if held {
		return unneeded, nil
	}
	candidates := slices.DeleteFunc(slices.Clone(st.nodes), func(n *v1.Node) bool {
		pool, _, _ := parseNodeName(n.Name)
		ap := autoscaled[pool]
		return !seen[n.Name] || ap.pool.Count <= ap.Min || now.Sub(since[n.Name]) < set.ScaleDownUnneededTime
	})
	slices.SortStableFunc(candidates, func(x, y *v1.Node) int {
		_, i, _ := parseNodeName(x.Name)
		_, j, _ := parseNodeName(y.Name)
		return cmp.Or(cmp.Compare(util[x.Name], util[y.Name]), cmp.Compare(j, i))
	})
	// A pod the scheduler stand-in has just bound shows in the usage before the cache:
	// such a node is not empty.
	empty := slices.DeleteFunc(slices.Clone(candidates), func(n *v1.Node) bool {
		return !emptyNode(pods[n.Name]) || st.usage[n.Name].pods > len(pods[n.Name])
	})
	removed, err := a.removeEmpty(ctx, cfg, autoscaled, empty)
	if removed > 0 || err != nil {
		return unneeded, err
	}
	for _, node := range candidates {
		others := slices.DeleteFunc(slices.Clone(st.nodes), func(n *v1.Node) bool { return n.Name == node.Name })
		if !fitElsewhere(pods[node.Name], others, st.usage) {
			continue
		}
		poolName, _, _ := parseNodeName(node.Name)
		return unneeded, a.remove(ctx, cfg, autoscaled[poolName], []*v1.Node{node})
	}
	return unneeded, nil
}

// removeEmpty removes up to max-empty-bulk-delete of the empty nodes, never taking a
// pool below its minimum, each pool's in one resize. It returns how many it removed.
func (a *autoscaler) removeEmpty(ctx context.Context, cfg AutoscalerConfig, autoscaled map[string]autoscaledPool, empty []*v1.Node) (int, error) {
	byPool := map[string][]*v1.Node{}
	budget := cfg.Settings.MaxEmptyBulkDelete
	for _, n := range empty {
		pool, _, _ := parseNodeName(n.Name)
		if ap := autoscaled[pool]; budget > 0 && ap.pool.Count-len(byPool[pool]) > ap.Min {
			byPool[pool] = append(byPool[pool], n)
			budget--
		}
	}
	removed := 0
	for _, pool := range slices.Sorted(maps.Keys(byPool)) {
		if err := a.remove(ctx, cfg, autoscaled[pool], byPool[pool]); err != nil {
			return removed, err
		}
		removed += len(byPool[pool])
	}
	return removed, nil
}

// remove drains nodes of one pool and shrinks the pool by them. A failed drain starts
// the delay after a failure; a removal, the delay after a delete.
func (a *autoscaler) remove(ctx context.Context, cfg AutoscalerConfig, ap autoscaledPool, nodes []*v1.Node) error {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	now := a.clock.Now()
	if err := a.drainer.drain(ctx, names, drainLimits{timeout: cfg.Settings.MaxGracefulTermination}); err != nil {
		a.mu.Lock()
		a.failed = now
		a.mu.Unlock()
		return err
	}
	to := ap.pool.Count - len(nodes)
	if err := a.resize(ctx, cfg, ap.pool, to, names...); err != nil {
		return errors.Join(fmt.Errorf("scale down pool %s to %d: %w", ap.pool.Name, to, err), a.drainer.uncordon(ctx, names))
	}
	a.log.Info("cluster autoscaler scaled down", "pool", ap.pool.Name, "nodes", names, "to", to)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.removed = now
	for _, n := range nodes {
		a.recorder.Eventf(n, v1.EventTypeNormal, EventScaleDown, "node removed by cluster autoscaler: %s %d->%d (min: %d)",
			ap.pool.Name, ap.pool.Count, to, ap.Min)
		delete(a.since, n.Name)
	}
	return nil
}

// utilization is the larger share of the node's allocatable cpu and memory that the
// requests of its pods take; with ignoreDaemonSets, of its pods but DaemonSet pods.
func utilization(node *v1.Node, used nodeUsage, pods []*v1.Pod, ignoreDaemonSets bool) float64 {
	requests := used.requests
	if ignoreDaemonSets {
		requests = requests.DeepCopy()
		for _, p := range pods {
			if !daemonSetPod(p) {
				continue
			}
			for name, q := range podRequests(p) {
				if sum, ok := requests[name]; ok {
					sum.Sub(q)
					requests[name] = sum
				}
			}
		}
	}
	var worst float64
	for req, alloc := range cpuAndMemory(node, requests) {
		worst = max(worst, float64(req)/float64(alloc))
	}
	return worst
}

// movable tells whether every pod of a node would come back elsewhere: pods of a
// controller other than a DaemonSet (which runs on every node anyway). A bare pod keeps
// its node, as cluster-autoscaler's defaults do, and so does a kube-system pod unless
// set.EvictSystemPods, and a pod with local storage (emptyDir, hostPath) when
// set.SkipNodesWithLocalStorage; a pod annotated safe-to-evict "true" never keeps its
// node, one annotated "false" always does.
func movable(pods []*v1.Pod, set AutoscalerSettings) bool {
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
		if controllerOf(p) == "" || p.Namespace == metav1.NamespaceSystem && !set.EvictSystemPods ||
			set.SkipNodesWithLocalStorage && localStorage(p) {
			return false
		}
	}
	return true
}

// localStorage tells whether a pod has a volume on its node's disk, lost with the node.
func localStorage(p *v1.Pod) bool {
	return slices.ContainsFunc(p.Spec.Volumes, func(v v1.Volume) bool { return v.EmptyDir != nil || v.HostPath != nil })
}

// emptyNode tells whether a node runs nothing but DaemonSet and mirror pods, which go
// with the node, so that it can be removed without a drain.
func emptyNode(pods []*v1.Pod) bool {
	return !slices.ContainsFunc(pods, func(p *v1.Pod) bool {
		_, mirror := p.Annotations[v1.MirrorPodAnnotationKey]
		return !daemonSetPod(p) && !mirror
	})
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
