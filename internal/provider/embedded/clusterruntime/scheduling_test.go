package clusterruntime

import (
	"net/netip"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/utils/ptr"
)

func testNode(name string, pool NodePool) *v1.Node {
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nodeLabels(pool, name)}}
	n.Status = nodeStatus(pool, name, netip.MustParseAddr("10.224.0.4"), nil, metav1.Now())
	return n
}

func requestsPod(requests v1.ResourceList) *v1.Pod {
	return &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: requests}}}}}
}

func TestUnfitReasons(t *testing.T) {
	d3 := testNode("d3", poolD3)
	gpu := testNode("gpu", poolNC6)
	cordoned := d3.DeepCopy()
	cordoned.Spec.Unschedulable = true
	tainted := d3.DeepCopy()
	tainted.Spec.Taints = []v1.Taint{{Key: "sku", Value: "gpu", Effect: v1.TaintEffectNoSchedule}}
	notReady := d3.DeepCopy()
	notReady.Status.Conditions[len(notReady.Status.Conditions)-1].Status = v1.ConditionFalse

	cpu := func(q string) v1.ResourceList { return v1.ResourceList{v1.ResourceCPU: resource.MustParse(q)} }
	tests := []struct {
		name string
		pod  *v1.Pod
		node *v1.Node
		used nodeUsage
		want []string
	}{
		{"fits", requestsPod(cpu("1")), d3, nodeUsage{}, nil},
		{"no requests fit anywhere", requestsPod(nil), d3, nodeUsage{}, nil},
		{"too much cpu", requestsPod(cpu("4")), d3, nodeUsage{}, []string{"Insufficient cpu"}},
		{"cpu taken", requestsPod(cpu("1")), d3, nodeUsage{requests: cpu("3")}, []string{"Insufficient cpu"}},
		{"cpu and memory", requestsPod(v1.ResourceList{v1.ResourceCPU: resource.MustParse("5"), v1.ResourceMemory: resource.MustParse("20Gi")}), d3, nodeUsage{},
			[]string{"Insufficient cpu", "Insufficient memory"}},
		{"gpu on a node without", requestsPod(v1.ResourceList{ResourceGPU: resource.MustParse("1")}), d3, nodeUsage{}, []string{"Insufficient nvidia.com/gpu"}},
		{"gpu on a gpu node", requestsPod(v1.ResourceList{ResourceGPU: resource.MustParse("1")}), gpu, nodeUsage{}, nil},
		{"full of pods", requestsPod(nil), d3, nodeUsage{pods: 110}, []string{"Too many pods"}},
		{"cordoned", requestsPod(nil), cordoned, nodeUsage{}, []string{reasonUnschedulableNode}},
		{"tainted", requestsPod(nil), tainted, nodeUsage{}, []string{"node(s) had untolerated taint {sku: gpu}"}},
		{"not ready", requestsPod(nil), notReady, nodeUsage{}, []string{"node(s) had untolerated taint {node.kubernetes.io/not-ready: }"}},
		{"selector", func() *v1.Pod {
			p := requestsPod(nil)
			p.Spec.NodeSelector = map[string]string{"agentpool": "gpupool"}
			return p
		}(), d3, nodeUsage{}, []string{reasonNodeAffinity}},
		{"toleration", func() *v1.Pod {
			p := requestsPod(nil)
			p.Spec.Tolerations = []v1.Toleration{{Key: "sku", Operator: v1.TolerationOpEqual, Value: "gpu", Effect: v1.TaintEffectNoSchedule}}
			return p
		}(), tainted, nodeUsage{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unfitReasons(tt.pod, podRequests(tt.pod), nodeaffinity.GetRequiredNodeAffinity(tt.pod), tt.node, tt.used)
			if !slices.Equal(got, tt.want) {
				t.Errorf("unfitReasons = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPodRequestsCountInitContainers(t *testing.T) {
	p := requestsPod(v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m")})
	p.Spec.InitContainers = []v1.Container{{Name: "init", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")}}}}
	if got := podRequests(p)[v1.ResourceCPU]; got.Cmp(resource.MustParse("2")) != 0 {
		t.Errorf("cpu request = %s, want 2 (the init container's)", got.String())
	}
}

func TestUnschedulableMessage(t *testing.T) {
	got := unschedulableMessage(4, map[string]int{"Insufficient cpu": 3, reasonNodeAffinity: 1})
	want := "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 Insufficient cpu."
	if got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if got := unschedulableMessage(0, nil); got != "no nodes available to schedule pods" {
		t.Errorf("message without nodes %q", got)
	}
}

func TestBetterPlacementSpreadsReplicas(t *testing.T) {
	owner := types.UID("rs-1")
	pod := requestsPod(nil)
	pod.OwnerReferences = []metav1.OwnerReference{{UID: owner, Controller: ptr.To(true)}}
	a, b, c := testNode("a", poolD3), testNode("b", poolD3), testNode("c", poolD3)

	var used [3]nodeUsage
	var order []string
	for range 6 {
		places := []placement{{a, used[0]}, {b, used[1]}, {c, used[2]}}
		best := slices.MinFunc(places, betterPlacement(owner, podRequests(pod)))
		order = append(order, best.node.Name)
		i := slices.IndexFunc(places, func(p placement) bool { return p.node == best.node })
		used[i].add(pod, podRequests(pod))
	}
	if want := []string{"a", "b", "c", "a", "b", "c"}; !slices.Equal(order, want) {
		t.Errorf("placements %v, want %v", order, want)
	}

	// Without an owner, the less loaded node wins.
	busy := nodeUsage{}
	busy.add(requestsPod(nil), v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")})
	best := slices.MinFunc([]placement{{a, busy}, {b, nodeUsage{}}}, betterPlacement("", nil))
	if best.node.Name != "b" {
		t.Errorf("placed on %s, want the idle node b", best.node.Name)
	}
}
