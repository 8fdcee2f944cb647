package compute

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestLiveCapacity: only the nodes the front-end can be scheduled on count, and the check
// says which it left out; a cluster none of whose nodes can run it fails even for DevTest
// (the QA case: the only pool tainted sku=gpu:NoSchedule passed, then the attach timed out).
func TestLiveCapacity(t *testing.T) {
	node := func(name string, cores int, why string) kube.Node {
		return kube.Node{Name: name, Cores: cores, Ready: true, Unschedulable: why}
	}
	tainted := []kube.Node{node("aks-np-0", 2, "taint sku=gpu:NoSchedule"), node("aks-np-1", 2, "taint sku=gpu:NoSchedule")}
	tests := []struct {
		name        string
		purpose     string
		nodes       []kube.Node
		wantFail    []string // parts of the one failure; none means it passes
		wantSummary string
	}{
		{"all usable", "DevTest", []kube.Node{node("a", 2, ""), node("b", 2, "")}, nil, "2 nodes, 4 vCPUs"},
		{"only pool tainted", "DevTest", tainted,
			[]string{"No node of cluster 'aks1' can run the inference front-end", "aks-np-0 (taint sku=gpu:NoSchedule)", "--node-taints"}, ""},
		{"cordoned and tainted left out", "DevTest", []kube.Node{node("a", 4, ""), node("b", 4, "cordoned"), node("c", 4, "taint x:NoExecute")}, nil,
			"1 node, 4 vCPUs the front-end can be scheduled on (left out: b (cordoned), c (taint x:NoExecute))"},
		{"production counts usable cores only", "DenseProd", []kube.Node{node("a", 8, ""), node("b", 8, "cordoned")},
			[]string{"needs at least 12 vCPUs", "counting only the nodes the front-end can be scheduled on", "has 8"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fails, _, summary := liveCapacity(tt.purpose, tt.nodes, "cluster 'aks1'")
			if len(tt.wantFail) == 0 {
				if len(fails) != 0 || summary != tt.wantSummary {
					t.Fatalf("fails %q, summary %q; want none and %q", fails, summary, tt.wantSummary)
				}
				return
			}
			if len(fails) != 1 {
				t.Fatalf("fails %q; want one", fails)
			}
			for _, w := range tt.wantFail {
				if !strings.Contains(fails[0], w) {
					t.Errorf("failure %q lacks %q", fails[0], w)
				}
			}
		})
	}
}

// TestFrontEndTimeoutSaysWhy: an attach whose front-end does not become ready in time
// fails with the scheduler's reason for its Pending pod and what to change, and does not
// send the user to objects the failed attach removes. The pod is in client-go's fake
// clientset (a fake, so named): a real cluster would take the whole ready timeout.
func TestFrontEndTimeoutSaysWhy(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "azureml-fe-6d9f", Namespace: kube.Namespace, Labels: map[string]string{"app": kube.FrontEndName}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: "Unschedulable", Message: "0/2 nodes are available: 2 node(s) had untolerated taint {sku: gpu}."}}}}
	s := &Service{cfg: Config{ReadyTimeout: 3 * time.Minute}}
	mc := &armapi.ManagedCluster{Name: "aks1"}
	err := s.frontEndTimeout(context.Background(), mc, &kube.Cluster{Client: fake.NewClientset(pod)})
	want := "did not become ready within 3m0s: pod azureml-fe-6d9f is Pending: 0/2 nodes are available: 2 node(s) had untolerated taint {sku: gpu}. Give it a node"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "kubectl") {
		t.Fatalf("timeout error %v; want it to hold %q and no kubectl pointer", err, want)
	}
	// No pod at all (the Deployment never made one): still a sentence, no reason made up.
	err = s.frontEndTimeout(context.Background(), mc, &kube.Cluster{Client: fake.NewClientset()})
	if err == nil || !strings.Contains(err.Error(), "within 3m0s: its pods did not become Ready. ") {
		t.Fatalf("timeout error without pods %v", err)
	}
}
