package clusterruntime

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestUtilizationIgnoresDaemonSets: with ignore-daemonsets-utilization, a node's
// DaemonSet pods do not count toward its utilization; without it they do.
func TestUtilizationIgnoresDaemonSets(t *testing.T) {
	node := templateNode(poolD3) // 3860m allocatable
	ds := cpuPod("agent", "2")
	ds.OwnerReferences = []metav1.OwnerReference{{Kind: "DaemonSet", Name: "agent", UID: "ds", Controller: new(true)}}
	app := cpuPod("app", "386m")
	var used nodeUsage
	for _, p := range []*v1.Pod{ds, app} {
		used.add(p, podRequests(p))
	}
	pods := []*v1.Pod{ds, app}
	if got := utilization(node, used, pods, false); got < 0.5 {
		t.Errorf("counting DaemonSet pods: utilization %.2f, want above 0.5", got)
	}
	if got := utilization(node, used, pods, true); got < 0.09 || got > 0.11 {
		t.Errorf("ignoring DaemonSet pods: utilization %.2f, want 0.10", got)
	}
}

// resizeLog records the counts an autoscaler's Resize was called with.
type resizeLog struct {
	mu     sync.Mutex
	counts []int
}

func (l *resizeLog) resize(_ context.Context, _ string, count int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts = append(l.counts, count)
	return nil
}

func (l *resizeLog) calls() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.counts)
}

// TestAutoscalerBulkDeletesEmptyNodes: idle empty nodes go max-empty-bulk-delete at a
// time, in one resize, and no more go within scale-down-delay-after-delete; with the
// delay at zero the rest go together at the next scan.
func TestAutoscalerBulkDeletesEmptyNodes(t *testing.T) {
	pool := poolD3
	pool.Count = 5
	c := newRuntimeCluster(t, "autoscale-bulk", autoscalerOptions(), pool)
	rt := c.runtime
	var log resizeLog
	cfg := AutoscalerConfig{
		Settings: AutoscalerSettings{ScanInterval: time.Second, ScaleDownUnneededTime: time.Second, MaxEmptyBulkDelete: 2, ScaleDownDelayAfterDelete: time.Hour},
		Pools:    map[string]PoolBounds{pool.Name: {Min: 1, Max: 5}},
		Resize:   log.resize,
	}
	rt.SetAutoscaler(cfg)
	testutil.WaitFor(t, 30*time.Second, "two empty nodes removed at once", func() (bool, string) {
		n := len(nodeNames(t, c.client, pool.Name))
		return n == 3, fmt.Sprintf("%d nodes, Resize calls %v", n, log.calls())
	})
	testutil.Holds(t, 3*time.Second, "no removal within scale-down-delay-after-delete", func() (bool, string) {
		n := len(nodeNames(t, c.client, pool.Name))
		return n == 3, fmt.Sprintf("%d nodes", n)
	})
	if got := log.calls(); !slices.Equal(got, []int{3}) {
		t.Errorf("Resize calls %v, want [3]", got)
	}

	cfg.Settings.MaxEmptyBulkDelete, cfg.Settings.ScaleDownDelayAfterDelete = 0, 0 // 10, and the next scan
	rt.SetAutoscaler(cfg)
	testutil.WaitFor(t, 30*time.Second, "the pool at its minimum", func() (bool, string) {
		n := len(nodeNames(t, c.client, pool.Name))
		return n == 1, fmt.Sprintf("%d nodes, Resize calls %v", n, log.calls())
	})
	if got := log.calls(); !slices.Equal(got, []int{3, 1}) {
		t.Errorf("Resize calls %v, want [3 1]", got)
	}
	if got := len(eventsOf(t, c, "", EventScaleDown)); got < 4 {
		t.Errorf("%d ScaleDown events, want one per removed node", got)
	}
}

// TestAutoscalerKeepsNodesOfItsPods: a node whose only pod is a kube-system one, or one
// with an emptyDir volume, stays under the setting that keeps it
// (skip-nodes-with-system-pods, skip-nodes-with-local-storage) and is drained, its pod
// moving to the other node, once the setting lets it go.
func TestAutoscalerKeepsNodesOfItsPods(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ns          string
		volumes     []v1.Volume
		keep, letGo AutoscalerSettings
	}{
		{name: "system", ns: metav1.NamespaceSystem, letGo: AutoscalerSettings{EvictSystemPods: true}},
		{name: "local-storage", volumes: []v1.Volume{{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
			keep: AutoscalerSettings{SkipNodesWithLocalStorage: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := poolD3
			pool.Count = 2
			c := newRuntimeCluster(t, "autoscale-"+tc.name, autoscalerOptions(), pool)
			ctx, rt := t.Context(), c.runtime
			ns := tc.ns
			if ns == "" {
				ns = newNamespace(t, c.client, tc.name)
			}
			d := deploymentOf("keeper", 1, v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m")})
			d.Spec.Template.Spec.Volumes = tc.volumes
			create(t, c.client.AppsV1().Deployments(ns).Create, d)
			at := runningPods(t, c.client, ns, "app=keeper", 1)[0].Spec.NodeName
			// The other node stays, so that the pod's node is the one candidate.
			other := slices.DeleteFunc(nodeNames(t, c.client, pool.Name), func(n string) bool { return n == at })[0]
			node, err := c.client.CoreV1().Nodes().Get(ctx, other, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			metav1.SetMetaDataAnnotation(&node.ObjectMeta, annotationScaleDownDisabled, "true")
			if _, err := c.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			cfg := AutoscalerConfig{Pools: map[string]PoolBounds{pool.Name: {Min: 1, Max: 2}}}
			cfg.Settings = tc.keep
			cfg.Settings.ScanInterval, cfg.Settings.ScaleDownUnneededTime = time.Second, time.Second
			rt.SetAutoscaler(cfg)
			testutil.Holds(t, 4*time.Second, "the node of the pod kept", func() (bool, string) {
				got := nodeNames(t, c.client, pool.Name)
				return len(got) == 2, fmt.Sprintf("nodes %v", got)
			})
			cfg.Settings = tc.letGo
			cfg.Settings.ScanInterval, cfg.Settings.ScaleDownUnneededTime = time.Second, time.Second
			rt.SetAutoscaler(cfg)
			testutil.WaitFor(t, 30*time.Second, "the node of the pod drained and removed", func() (bool, string) {
				got := nodeNames(t, c.client, pool.Name)
				return slices.Equal(got, []string{other}), fmt.Sprintf("nodes %v", got)
			})
			if p := runningPods(t, c.client, ns, "app=keeper", 1)[0]; p.Spec.NodeName != other {
				t.Errorf("pod on %s, want %s", p.Spec.NodeName, other)
			}
		})
	}
}

// TestAutoscalerSetRestartsUnneededTime: the unneeded time of a node counts only while its
// pool is autoscaled. Turning the autoscaler off and on again (az aks update
// --disable-cluster-autoscaler, then --enable-cluster-autoscaler) starts it afresh: a node
// went 2 s after the enable, for the time it had been unneeded before the disable (QA11).
// A pool that stays autoscaled keeps its nodes' times.
func TestAutoscalerSetRestartsUnneededTime(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	kept, off := nodeName("keep", "00000001", 1), nodeName("nodepool1", "00000002", 1)
	a := &autoscaler{since: map[string]time.Time{kept: t0, off: t0},
		cfg: AutoscalerConfig{Pools: map[string]PoolBounds{"keep": {}, "nodepool1": {}}}}
	a.set(AutoscalerConfig{Pools: map[string]PoolBounds{"keep": {}}})
	a.set(AutoscalerConfig{Pools: map[string]PoolBounds{"keep": {}, "nodepool1": {}}})
	if _, ok := a.since[off]; ok {
		t.Errorf("the node of the pool turned off and on kept its unneeded time %v", a.since[off])
	}
	if a.since[kept] != t0 {
		t.Errorf("the node of the pool autoscaled all along: unneeded since %v, want %v", a.since[kept], t0)
	}
}
