package clusterruntime

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestScaleDownDrains: a manual shrink drains the nodes it removes, as AKS's scale-down
// cordons and drains them. A PodDisruptionBudget that allows no disruption makes it fail
// with the budget named, and the pool keeps its nodes, uncordoned; without the budget
// the pods go through the eviction API (they carry the DisruptionTarget condition the
// eviction sets) and come back on the remaining nodes.
func TestScaleDownDrains(t *testing.T) {
	pool := poolD3
	c := newRuntimeCluster(t, "scale-drain", Options{Logger: testLogger(), DrainTimeout: 2 * time.Second}, pool)
	ctx, rt := t.Context(), c.runtime
	names := nodeNames(t, c.client, pool.Name)
	ns := newNamespace(t, c.client, "guarded")
	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 3, nil))
	pods := runningPods(t, c.client, ns, "app=app", 3) // one per node: replicas are spread
	i := slices.IndexFunc(pods, func(p v1.Pod) bool { return p.Spec.NodeName == names[2] })
	if i < 0 {
		t.Fatalf("no pod on %s", names[2])
	}
	victim := pods[i]

	minAvailable := intstr.FromInt32(3)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}}}}
	create(t, c.client.PolicyV1().PodDisruptionBudgets(ns).Create, pdb)
	budgetCounts(t, c, ns, "app", 3)

	shrunk := pool
	shrunk.Count = 2
	err := rt.SetPool(ctx, shrunk)
	var de *DrainError
	if !errors.As(err, &de) || de.Node != names[2] || de.Pod != ns+"/"+victim.Name || de.Budget != ns+"/app" {
		t.Fatalf("SetPool(2) under a budget = %v, want a DrainError of node %s, pod %s, budget %s/app", err, names[2], victim.Name, ns)
	}
	if got := nodeNames(t, c.client, pool.Name); !slices.Equal(got, names) {
		t.Errorf("nodes after the failed drain %v, want %v", got, names)
	}
	for _, n := range poolNodes(t, c.client, pool.Name) {
		if n.Spec.Unschedulable {
			t.Errorf("node %s still cordoned after the failed drain", n.Name)
		}
	}
	if got := rt.Pools(); len(got) != 1 || got[0].Count != 3 {
		t.Errorf("Pools() after the failed drain = %+v, want count 3", got)
	}
	runningPods(t, c.client, ns, "app=app", 3)

	// Without the budget the shrink goes through, by evictions.
	if err := c.client.PolicyV1().PodDisruptionBudgets(ns).Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := c.client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + victim.Name, ResourceVersion: victim.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := rt.SetPool(ctx, shrunk); err != nil {
		t.Fatalf("SetPool(2) without a budget: %v", err)
	}
	if got := nodeNames(t, c.client, pool.Name); !slices.Equal(got, names[:2]) {
		t.Errorf("nodes after the drain %v, want %v", got, names[:2])
	}
	if !evictedByAPI(t, w) {
		t.Errorf("pod %s was not evicted through the eviction API", victim.Name)
	}
	runningPods(t, c.client, ns, "app=app", 3)

	// A node its user cordoned goes first, and stays cordoned when its drain fails.
	pdb.ResourceVersion = ""
	create(t, c.client.PolicyV1().PodDisruptionBudgets(ns).Create, pdb)
	budgetCounts(t, c, ns, "app", 3)
	cordonByHand(t, c, names[0])
	shrunk.Count = 1
	if err := rt.SetPool(ctx, shrunk); !errors.As(err, &de) || de.Node != names[0] {
		t.Fatalf("SetPool(1) under a budget with %s cordoned = %v, want a DrainError of that node", names[0], err)
	}
	for _, n := range poolNodes(t, c.client, pool.Name) {
		if n.Spec.Unschedulable != (n.Name == names[0]) {
			t.Errorf("node %s cordoned %v after the failed drain; only %s, cordoned by its user, should be", n.Name, n.Spec.Unschedulable, names[0])
		}
	}
}

// budgetCounts waits until the PodDisruptionBudget ns/name has seen its spec and counts
// healthy pods.
func budgetCounts(t *testing.T, c *testCluster, ns, name string, healthy int32) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("the budget counts %d healthy pods", healthy), func() (bool, string) {
		p, err := c.client.PolicyV1().PodDisruptionBudgets(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return p.Status.ObservedGeneration == p.Generation && p.Status.CurrentHealthy == healthy, fmt.Sprintf("%+v", p.Status)
	})
}

// cordonByHand cordons node name as its user would (kubectl cordon), and waits until the
// runtime's node cache sees it.
func cordonByHand(t *testing.T, c *testCluster, name string) {
	t.Helper()
	node, err := c.client.CoreV1().Nodes().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Spec.Unschedulable = true
	if _, err := c.client.CoreV1().Nodes().Update(t.Context(), node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the cache sees the cordon", func() (bool, string) {
		n, err := c.runtime.nodes.lister.Get(name)
		return err == nil && n.Spec.Unschedulable, fmt.Sprint(err)
	})
}

// evictedByAPI reads the watch of one pod until the pod carries the DisruptionTarget
// condition of an eviction, or is deleted without it.
func evictedByAPI(t *testing.T, w watch.Interface) bool {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false
			}
			p, isPod := ev.Object.(*v1.Pod)
			if !isPod {
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == v1.DisruptionTarget && c.Reason == "EvictionByEvictionAPI" {
					return true
				}
			}
			if ev.Type == watch.Deleted {
				return false
			}
		case <-timeout:
			t.Fatal("no deletion of the pod seen within 30s")
		}
	}
}
