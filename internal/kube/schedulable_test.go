package kube

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mlfleet/mlfleet/internal/catalog"
)

// schedNode is a Ready node of 2 cores with the given taints, cordoned or not.
func schedNode(name string, cordoned bool, taints ...corev1.Taint) *corev1.Node {
	room := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.NodeSpec{Unschedulable: cordoned, Taints: taints},
		Status: corev1.NodeStatus{Capacity: room, Allocatable: room,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

// TestNodesSayWhyUnschedulable: a node the front-end and the inference pods (which
// tolerate no taint) cannot be scheduled on says why, in az's taint notation; a taint
// that only discourages scheduling (PreferNoSchedule) does not count. The deployment
// capacity check's Room leaves such nodes out. The nodes are in client-go's fake
// clientset (a fake, so named): only their spec is read.
func TestNodesSayWhyUnschedulable(t *testing.T) {
	ctx := context.Background()
	c := &Cluster{Client: fake.NewClientset(
		schedNode("free", false, corev1.Taint{Key: "soft", Value: "x", Effect: corev1.TaintEffectPreferNoSchedule}),
		schedNode("cordoned", true),
		schedNode("gpu", false, corev1.Taint{Key: "sku", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}),
		schedNode("draining", false, corev1.Taint{Key: "drain", Effect: corev1.TaintEffectNoExecute}),
	)}
	nodes, err := c.Nodes(ctx, catalog.DefaultVMSizes())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"free": "", "cordoned": "cordoned", "gpu": "taint sku=gpu:NoSchedule", "draining": "taint drain:NoExecute"}
	for _, n := range nodes {
		if n.Unschedulable != want[n.Name] {
			t.Errorf("node %s: Unschedulable %q, want %q", n.Name, n.Unschedulable, want[n.Name])
		}
	}
	rooms, err := c.Room(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 1 || rooms[0].Name != "free" {
		t.Errorf("Room = %+v; want only node free", rooms)
	}
}

// TestFrontEndNotReady: the reason a front-end pod is not Ready is the scheduler's, as
// for an inference pod; a Ready front-end has none.
func TestFrontEndNotReady(t *testing.T) {
	ctx := context.Background()
	pod := func(name string, labels map[string]string, conds ...corev1.PodCondition) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace, Labels: labels},
			Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: conds}}
	}
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
	unscheduled := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "0/2 nodes are available: 2 node(s) had untolerated taint {sku: gpu}."}
	// A pod of another app in the namespace is not the front-end's.
	c := &Cluster{Client: fake.NewClientset(pod("another-app", map[string]string{"app": "other"}, unscheduled), pod("azureml-fe-a", frontEndSelector, unscheduled))}
	why, err := c.FrontEndNotReady(ctx)
	if err != nil || !strings.HasPrefix(why, "pod azureml-fe-a is Pending: ") || !strings.Contains(why, "untolerated taint {sku: gpu}") {
		t.Fatalf("FrontEndNotReady = %q, %v; want the scheduler's reason for azureml-fe-a", why, err)
	}
	c = &Cluster{Client: fake.NewClientset(pod("azureml-fe-b", frontEndSelector, ready))}
	if why, err := c.FrontEndNotReady(ctx); why != "" || err != nil {
		t.Errorf("FrontEndNotReady of a Ready front-end = %q, %v; want none", why, err)
	}
}

// TestNodesServing: the nodes serving a model are those with a Running pod of mlfleet's
// namespace that is not the front-end's; a pending pod, a pod on its way out and a pod
// of another namespace do not count. The pods are in client-go's fake clientset (a fake,
// so named), which ignores the field selector: the phase is checked again.
func TestNodesServing(t *testing.T) {
	pod := func(name, ns, node string, phase corev1.PodPhase, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
	}
	leaving := pod("leaving", Namespace, "n5", corev1.PodRunning, nil)
	leaving.DeletionTimestamp = &metav1.Time{}
	c := &Cluster{Client: fake.NewClientset(
		pod("blue-1", Namespace, "n1", corev1.PodRunning, map[string]string{"app": "ep-blue"}),
		pod("fe", Namespace, "n2", corev1.PodRunning, frontEndSelector),
		pod("blue-2", Namespace, "n3", corev1.PodPending, map[string]string{"app": "ep-blue"}),
		pod("web", "default", "n4", corev1.PodRunning, nil),
		leaving)}
	got, err := c.NodesServing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got["n1"] {
		t.Errorf("NodesServing = %v, want n1 alone", got)
	}
}
