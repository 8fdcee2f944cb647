package clusterruntime

import (
	"cmp"
	"math/rand/v2"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Expanders the autoscaler knows: how it picks the pool that grows when new nodes of
// several pools would take a pending pod (AKS's autoScalerProfile.expander).
const (
	ExpanderRandom     = "random"
	ExpanderLeastWaste = "least-waste"
	ExpanderMostPods   = "most-pods"
)

// expander picks one of the pools whose new node takes a pod.
type expander struct {
	name string
	rnd  *rand.Rand // random's choices; seeded so that a test can replay them
}

// newExpander returns the expander called name ("" is random), with its random choices
// drawn from seed.
func newExpander(name string, seed uint64) *expander {
	if name == "" {
		name = ExpanderRandom
	}
	return &expander{name: name, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// choose returns the index in options (pools by name, each of whose template node takes
// pod) of the pool to grow: random picks any; least-waste the one whose new node has the
// smallest share of cpu and memory left idle once the pod is on it; most-pods the one
// whose new node takes the most of the pods still to place (pending, pod first). Ties go
// to the first by name.
func (e *expander) choose(options []autoscaledPool, pod *v1.Pod, pending []*v1.Pod) int {
	if len(options) <= 1 {
		return 0
	}
	switch e.name {
	case ExpanderLeastWaste:
		return best(options, func(p autoscaledPool) float64 { return -waste(templateNode(p.pool), podRequests(pod)) })
	case ExpanderMostPods:
		return best(options, func(p autoscaledPool) float64 { return float64(podsOnOneNode(templateNode(p.pool), pending)) })
	default:
		return e.rnd.IntN(len(options))
	}
}

// best returns the index of the first option with the highest score.
func best(options []autoscaledPool, score func(autoscaledPool) float64) int {
	top, at := 0.0, -1
	for i, o := range options {
		if s := score(o); at < 0 || s > top {
			top, at = s, i
		}
	}
	return at
}

// waste is the share of a node's allocatable cpu plus the share of its memory that stay
// unrequested once requests are on it (0 to 2), as cluster-autoscaler's least-waste
// expander scores a node group.
func waste(node *v1.Node, requests v1.ResourceList) float64 {
	var w float64
	for req, alloc := range cpuAndMemory(node, requests) {
		w += float64(alloc-req) / float64(alloc)
	}
	return w
}

// podsOnOneNode counts the pods (in order) that one new node fits together.
func podsOnOneNode(node *v1.Node, pods []*v1.Pod) int {
	var used nodeUsage
	n := 0
	for _, p := range pods {
		requests := podRequests(p)
		if len(unfitReasons(p, requests, nodeaffinity.GetRequiredNodeAffinity(p), node, used)) == 0 {
			used.add(p, requests)
			n++
		}
	}
	return n
}

// expanderOptions are the pools (of pools, by name) whose new node takes pod and that may
// still grow; reasons counts why the others cannot.
func expanderOptions(pools []autoscaledPool, grow map[string]int, pod *v1.Pod, requests v1.ResourceList,
	affinity nodeaffinity.RequiredNodeAffinity, reasons map[string]int) []autoscaledPool {
	var out []autoscaledPool
	for _, p := range pools {
		why := unfitReasons(pod, requests, affinity, templateNode(p.pool), nodeUsage{})
		if len(why) == 0 && p.pool.Count+grow[p.pool.Name] >= p.Max {
			why = []string{reasonMaxSizeReached}
		}
		for _, r := range why {
			reasons[r]++
		}
		if len(why) == 0 {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b autoscaledPool) int { return cmp.Compare(a.pool.Name, b.pool.Name) })
	return out
}
