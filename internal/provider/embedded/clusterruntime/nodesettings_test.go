package clusterruntime

import (
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// TestPoolNodeSettings: a pool's labels, taints and maxPods reach its nodes (labels beside
// AKS's own, pods capacity and the memory AKS reserves for that many pods); a change of
// them relabels and retaints the existing nodes, taking off what the pool no longer has and
// keeping what others set.
func TestPoolNodeSettings(t *testing.T) {
	c := newRuntimeCluster(t, "nodesettings", Options{Logger: testLogger()})
	ctx, rt := t.Context(), c.runtime

	pool := poolD3
	pool.Name, pool.Count = "labelled", 2
	pool.Labels = map[string]string{"team": "qa", "tier": "gold"}
	pool.Taints = []v1.Taint{{Key: "sku", Value: "gpu", Effect: v1.TaintEffectNoSchedule}}
	pool.MaxPods = 50
	if err := rt.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	nodes := poolNodes(t, c.client, pool.Name)
	if len(nodes) != 2 {
		t.Fatalf("%d nodes, want 2", len(nodes))
	}
	for _, n := range nodes {
		for k, v := range map[string]string{"team": "qa", "tier": "gold", "kubernetes.azure.com/agentpool": "labelled", "kubernetes.io/hostname": n.Name} {
			if n.Labels[k] != v {
				t.Errorf("node %s: label %s = %q, want %q", n.Name, k, n.Labels[k], v)
			}
		}
		if !slices.ContainsFunc(n.Spec.Taints, sameTaint(pool.Taints[0])) || n.Spec.Taints[0].Value != "gpu" {
			t.Errorf("node %s: taints %v, want sku=gpu:NoSchedule", n.Name, n.Spec.Taints)
		}
		// 14336 MiB less 20 MiB for each of 50 pods, 50 MiB and the 100 MiB eviction threshold.
		for name, want := range map[v1.ResourceName]string{v1.ResourcePods: "50", v1.ResourceMemory: "13186Mi"} {
			if got := n.Status.Allocatable[name]; got.Cmp(resource.MustParse(want)) != 0 {
				t.Errorf("node %s: allocatable %s = %s, want %s", n.Name, name, got.String(), want)
			}
		}
		if got := n.Status.Capacity[v1.ResourcePods]; got.Value() != 50 {
			t.Errorf("node %s: pods capacity %s, want 50", n.Name, got.String())
		}
	}

	// Someone else labels and taints a node: theirs stay through the pool's changes.
	first := nodes[0].Name
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := c.client.CoreV1().Nodes().Get(ctx, first, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Labels["other"] = "x"
		n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: "other", Effect: v1.TaintEffectPreferNoSchedule})
		_, err = c.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	pool.Labels = map[string]string{"team": "dev"}
	pool.Taints = []v1.Taint{{Key: "dedicated", Value: "ml", Effect: v1.TaintEffectNoExecute}}
	if err := rt.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	for _, n := range poolNodes(t, c.client, pool.Name) {
		if n.Labels["team"] != "dev" || n.Labels["agentpool"] != "labelled" {
			t.Errorf("node %s: labels %v, want team=dev and AKS's", n.Name, n.Labels)
		}
		if _, ok := n.Labels["tier"]; ok {
			t.Errorf("node %s keeps label tier, which the pool no longer has", n.Name)
		}
		var taints []string
		for _, tt := range n.Spec.Taints {
			taints = append(taints, tt.ToString())
		}
		slices.Sort(taints)
		want := []string{"dedicated=ml:NoExecute"}
		if n.Name == first {
			want = append(want, "other:PreferNoSchedule")
			if n.Labels["other"] != "x" {
				t.Errorf("node %s: label other = %q, want x (set by someone else)", n.Name, n.Labels["other"])
			}
		}
		if !slices.Equal(taints, want) {
			t.Errorf("node %s: taints %v, want %v", n.Name, taints, want)
		}
	}

	// No labels and taints at all: only AKS's and the others' remain.
	pool.Labels, pool.Taints = nil, nil
	if err := rt.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	for _, n := range poolNodes(t, c.client, pool.Name) {
		if _, ok := n.Labels["team"]; ok {
			t.Errorf("node %s keeps label team after the pool dropped its labels", n.Name)
		}
		if n.Name != first && len(n.Spec.Taints) != 0 || n.Name == first && len(n.Spec.Taints) != 1 {
			t.Errorf("node %s: taints %v after the pool dropped its taints", n.Name, n.Spec.Taints)
		}
	}

	err = rt.SetPool(ctx, NodePool{Name: "bad", Count: 1, VMSize: "Standard_D3_v2", Cores: 4, MemoryMiB: 14336, KubernetesVersion: "1.33.2",
		MaxPods: 5, Labels: map[string]string{"bad key": "x"}, Taints: []v1.Taint{{Key: "k", Effect: "Sometimes"}}})
	if err == nil || !strings.Contains(err.Error(), "max pods 5") || !strings.Contains(err.Error(), "label bad key") || !strings.Contains(err.Error(), "taint k:Sometimes") {
		t.Errorf("SetPool(bad settings) = %v, want maxPods, the label and the taint named", err)
	}
}
