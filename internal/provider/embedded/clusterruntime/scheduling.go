package clusterruntime

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/kube"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	resourcehelper "k8s.io/component-helpers/resource"
	schedulinghelper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// The reasons a node cannot take a pod, worded as kube-scheduler words them in the
// PodScheduled condition and the FailedScheduling event.
const (
	reasonUnschedulableNode = "node(s) were unschedulable"
	reasonNodeAffinity      = "node(s) didn't match Pod's node affinity/selector"
	reasonTooManyPods       = "Too many pods"
)

// nodeUsage is what the pods on one node take.
type nodeUsage struct {
	requests v1.ResourceList
	pods     int
	owners   map[types.UID]int // pods per controller
}

func (u *nodeUsage) add(pod *v1.Pod, requests v1.ResourceList) {
	if u.requests == nil {
		u.requests = v1.ResourceList{}
	}
	for name, q := range requests {
		sum := u.requests[name]
		sum.Add(q)
		u.requests[name] = sum
	}
	u.pods++
	if ref := controllerOf(pod); ref != "" {
		if u.owners == nil {
			u.owners = map[types.UID]int{}
		}
		u.owners[ref]++
	}
}

func controllerOf(pod *v1.Pod) types.UID {
	for _, ref := range pod.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return ref.UID
		}
	}
	return ""
}

// podRequests is the sum of a pod's requests the way the scheduler counts them: the
// largest of its init containers and the sum of its containers, plus overhead, or the
// pod-level requests when set.
func podRequests(pod *v1.Pod) v1.ResourceList {
	return resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
}

// cpuAndMemory yields, for cpu and then memory, the milli-value that requests ask of
// node and the milli-value the node has allocatable, passing over a resource the node
// has none of: the resources the autoscaler weighs a node by.
func cpuAndMemory(node *v1.Node, requests v1.ResourceList) iter.Seq2[int64, int64] {
	return func(yield func(requested, allocatable int64) bool) {
		for _, name := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
			alloc := node.Status.Allocatable[name]
			if alloc.IsZero() {
				continue
			}
			req := requests[name]
			if !yield(req.MilliValue(), alloc.MilliValue()) {
				return
			}
		}
	}
}

// unfitReasons returns why node cannot take pod (which requests requests) next to what
// the node already runs, checking what kube-scheduler's filters check in the same order:
// cordoned nodes, node selector and required node affinity, untolerated NoSchedule and
// NoExecute taints (a node that is not Ready counts as tainted not-ready), and room for
// every requested resource and for one more pod. It returns nil when the pod fits.
func unfitReasons(pod *v1.Pod, requests v1.ResourceList, affinity nodeaffinity.RequiredNodeAffinity, node *v1.Node, used nodeUsage) []string {
	logger := klog.Background()
	if node.Spec.Unschedulable {
		cordon := v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}
		if !schedulinghelper.TolerationsTolerateTaint(logger, pod.Spec.Tolerations, &cordon, false) {
			return []string{reasonUnschedulableNode}
		}
	}
	if ok, err := affinity.Match(node); err != nil || !ok {
		return []string{reasonNodeAffinity}
	}
	taints := node.Spec.Taints
	if !kube.NodeReady(node) {
		taints = append(slices.Clip(taints), v1.Taint{Key: v1.TaintNodeNotReady, Effect: v1.TaintEffectNoSchedule})
	}
	if taint, found := schedulinghelper.FindMatchingUntoleratedTaint(logger, taints, pod.Spec.Tolerations, func(t *v1.Taint) bool {
		return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
	}, false); found {
		return []string{fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value)}
	}

	var reasons []string
	if allowed, ok := node.Status.Allocatable[v1.ResourcePods]; ok && int64(used.pods+1) > allowed.Value() {
		reasons = append(reasons, reasonTooManyPods)
	}
	names := make([]string, 0, len(requests))
	for name := range requests {
		names = append(names, string(name))
	}
	slices.Sort(names)
	for _, name := range names {
		want := requests[v1.ResourceName(name)]
		if want.IsZero() || v1.ResourceName(name) == v1.ResourcePods {
			continue
		}
		free := node.Status.Allocatable[v1.ResourceName(name)].DeepCopy()
		free.Sub(used.requests[v1.ResourceName(name)])
		if free.Cmp(want) < 0 {
			reasons = append(reasons, "Insufficient "+name)
		}
	}
	return reasons
}

// unschedulableMessage words the failure of a pod that fits nowhere as kube-scheduler
// does: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node
// affinity/selector."
func unschedulableMessage(nodes int, reasons map[string]int) string {
	if nodes == 0 {
		return "no nodes available to schedule pods"
	}
	parts := make([]string, 0, len(reasons))
	for r, n := range reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	slices.Sort(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", nodes, strings.Join(parts, ", "))
}

// placement is a node that can take the pod, with what it runs already.
type placement struct {
	node *v1.Node
	used nodeUsage
}

// betterPlacement orders the nodes that fit, best first: fewer pods of the pod's own
// controller (spreading replicas like the default topology spreading), then the lower
// share of cpu and memory in use (like the LeastAllocated score), then fewer pods, then
// the name, so that equal nodes are filled in a stable order.
func betterPlacement(owner types.UID, requests v1.ResourceList) func(a, b placement) int {
	load := func(p placement) float64 {
		var worst float64
		for _, name := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
			alloc := p.node.Status.Allocatable[name]
			if alloc.IsZero() {
				continue
			}
			used := p.used.requests[name].DeepCopy()
			used.Add(nonZeroRequest(requests, name))
			worst = max(worst, float64(used.MilliValue())/float64(alloc.MilliValue()))
		}
		return worst
	}
	return func(a, b placement) int {
		if owner != "" {
			if d := a.used.owners[owner] - b.used.owners[owner]; d != 0 {
				return d
			}
		}
		if la, lb := load(a), load(b); la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		if d := a.used.pods - b.used.pods; d != 0 {
			return d
		}
		return strings.Compare(a.node.Name, b.node.Name)
	}
}

// nonZeroRequest is the request the scheduler's scoring assumes for a container that
// sets none: 100m of cpu and 200 MiB of memory.
func nonZeroRequest(requests v1.ResourceList, name v1.ResourceName) resource.Quantity {
	if q, ok := requests[name]; ok && !q.IsZero() {
		return q
	}
	switch name {
	case v1.ResourceCPU:
		return *resource.NewMilliQuantity(100, resource.DecimalSI)
	case v1.ResourceMemory:
		return *resource.NewQuantity(200<<20, resource.BinarySI)
	}
	return resource.Quantity{}
}
