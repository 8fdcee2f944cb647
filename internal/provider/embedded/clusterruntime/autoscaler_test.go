package clusterruntime

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

func cpuPod(name string, cpu string) *v1.Pod {
	p := podOf(name, v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}})
	p.UID = types.UID(name)
	return p
}

// TestPlanScaleUp: pending pods go first to the room existing nodes have left, then to as
// few new nodes as hold them, never past the maximum; pods larger than a node trigger
// nothing.
func TestPlanScaleUp(t *testing.T) {
	pool := poolD3 // 3860m allocatable: three pods of one cpu per node
	full := templateNode(pool)
	full.Name = "existing"
	usage := map[string]nodeUsage{}
	u := nodeUsage{}
	u.add(cpuPod("running", "2"), podRequests(cpuPod("running", "2")))
	usage["existing"] = u
	for _, tc := range []struct {
		name       string
		pods       int
		cpu        string
		count, max int
		wantGrow   int
		wantNone   int
		wantReason string
	}{
		{name: "one spare slot then new nodes", pods: 7, cpu: "1", count: 1, max: 6, wantGrow: 2},
		{name: "capped at max", pods: 20, cpu: "1", count: 1, max: 3, wantGrow: 2, wantNone: 13, wantReason: "max node group size reached"},
		{name: "larger than a node", pods: 1, cpu: "64", count: 1, max: 6, wantNone: 1, wantReason: "Insufficient cpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pending []*v1.Pod
			for i := range tc.pods {
				pending = append(pending, cpuPod(fmt.Sprintf("p%d", i), tc.cpu))
			}
			p := pool
			p.Count = tc.count
			plan := planScaleUp(pending, []*v1.Node{full}, usage, []autoscaledPool{{pool: p, PoolBounds: PoolBounds{Min: 1, Max: tc.max}}}, newExpander("", 1))
			if plan.grow[pool.Name] != tc.wantGrow || len(plan.noScaleUp) != tc.wantNone {
				t.Fatalf("grow %d, no scale-up for %d pods; want %d and %d", plan.grow[pool.Name], len(plan.noScaleUp), tc.wantGrow, tc.wantNone)
			}
			for _, msg := range plan.noScaleUp {
				if !strings.Contains(msg, tc.wantReason) {
					t.Errorf("reason %q lacks %q", msg, tc.wantReason)
				}
			}
		})
	}
}

// podEvents returns the reasons and messages of the events about pods in ns.
func eventsOf(t *testing.T, c *testCluster, ns, reason string) []v1.Event {
	t.Helper()
	list, err := c.client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "reason=" + reason})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// autoscalerOptions are the options of a runtime whose pending pods are looked at again
// every second, as often as the autoscalers of these tests scan.
func autoscalerOptions() Options {
	return Options{Logger: testLogger(), SchedulingRetryInterval: time.Second}
}

// TestAutoscaler: on a real apiserver, 20 pods of one cpu on a pool of 3 × D3_v2 (min 3,
// max 6) grow the pool to 6 nodes, 18 pods run and the 2 left get NotTriggerScaleUp; a
// pod of 64 cpus triggers nothing; every decision goes through Resize first.
func TestAutoscaler(t *testing.T) {
	pool := poolD3
	c := newRuntimeCluster(t, "autoscale", autoscalerOptions(), pool)
	ctx, rt := t.Context(), c.runtime
	var mu sync.Mutex
	var resized []int
	rt.SetAutoscaler(AutoscalerConfig{
		Settings: AutoscalerSettings{ScanInterval: time.Second, ScaleDownDelayAfterAdd: 0, ScaleDownUnneededTime: 5 * time.Second},
		Pools:    map[string]PoolBounds{pool.Name: {Min: 3, Max: 6}},
		Resize: func(_ context.Context, name string, count int) error {
			mu.Lock()
			defer mu.Unlock()
			resized = append(resized, count)
			return nil
		},
	})
	ns := newNamespace(t, c.client, "burst")
	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 20, v1.ResourceList{v1.ResourceCPU: resource.MustParse("1")}))
	testutil.WaitFor(t, 60*time.Second, "18 pods running on 6 nodes, 2 with NotTriggerScaleUp", func() (bool, string) {
		running, err := countRunning(ctx, c.client, ns)
		if err != nil {
			return false, err.Error()
		}
		nodes := len(nodeNames(t, c.client, pool.Name))
		none := 0
		for _, e := range eventsOf(t, c, ns, EventNotTriggerScaleUp) {
			if strings.Contains(e.Message, reasonMaxSizeReached) {
				none++
			}
		}
		return running == 18 && nodes == 6 && none >= 2, fmt.Sprintf("running %d, nodes %d, NotTriggerScaleUp at max %d", running, nodes, none)
	})
	if len(eventsOf(t, c, ns, EventTriggeredScaleUp)) == 0 {
		t.Error("no TriggeredScaleUp event")
	}
	mu.Lock()
	if len(resized) == 0 || resized[len(resized)-1] != 6 {
		t.Errorf("Resize calls %v, want the last to be 6", resized)
	}
	mu.Unlock()
	if got := rt.Pools()[0].Count; got != 6 {
		t.Errorf("pool count %d, want 6", got)
	}
	cm, err := c.client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, AutoscalerStatusConfigMap, metav1.GetOptions{})
	if err != nil || !strings.Contains(cm.Data["status"], "maxSize=6") {
		t.Errorf("status ConfigMap = %v, %v", cm, err)
	}

	// A pod larger than any node triggers nothing and says why.
	big := podOf("big", v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("64")}})
	create(t, c.client.CoreV1().Pods(ns).Create, big)
	testutil.WaitFor(t, 20*time.Second, "NotTriggerScaleUp for the 64-cpu pod", func() (bool, string) {
		for _, e := range eventsOf(t, c, ns, EventNotTriggerScaleUp) {
			if e.InvolvedObject.Name == "big" && strings.Contains(e.Message, "Insufficient cpu") {
				return true, ""
			}
		}
		return false, "no event"
	})
	if err := c.client.CoreV1().Pods(ns).Delete(ctx, "big", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// Scale the Deployment down under a PodDisruptionBudget: the idle nodes are drained
	// (through evictions) and removed, down to the minimum and no further.
	minAvailable := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}}}}
	create(t, c.client.PolicyV1().PodDisruptionBudgets(ns).Create, pdb)
	scale, err := c.client.AppsV1().Deployments(ns).GetScale(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 2
	if _, err := c.client.AppsV1().Deployments(ns).UpdateScale(ctx, "app", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 90*time.Second, "the pool back at 3 nodes", func() (bool, string) {
		nodes := len(nodeNames(t, c.client, pool.Name))
		return nodes == 3, fmt.Sprintf("%d nodes", nodes)
	})
	runningPods(t, c.client, ns, "app=app", 2)
	if len(eventsOf(t, c, "", EventScaleDown)) == 0 {
		t.Error("no ScaleDown event")
	}
	testutil.Holds(t, 3*time.Second, "the minimum of 3 nodes over a few more scans", func() (bool, string) {
		n := len(nodeNames(t, c.client, pool.Name))
		return n == 3, fmt.Sprintf("%d nodes", n)
	})
	// Idle as they are, the nodes of a pool at its minimum are no candidates.
	testutil.WaitFor(t, 10*time.Second, "the status says no candidates", func() (bool, string) {
		cm, err := c.client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, AutoscalerStatusConfigMap, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(cm.Data["status"], "ScaleDown: NoCandidates"), cm.Data["status"]
	})
	mu.Lock()
	if resized[len(resized)-1] != 3 {
		t.Errorf("Resize calls %v, want the last to be 3", resized)
	}
	mu.Unlock()
}

// TestAutoscalerRemovesAnyIdleNode: the idle nodes of a pool go even when its last node
// is busy, as a scale set loses the instances the autoscaler names, but for a node whose
// scale-down is disabled; the pool then grows back by the lowest free index.
func TestAutoscalerRemovesAnyIdleNode(t *testing.T) {
	pool := poolD3
	c := newRuntimeCluster(t, "autoscale-any", autoscalerOptions(), pool)
	rt := c.runtime
	names := nodeNames(t, c.client, pool.Name)
	if len(names) != 3 {
		t.Fatalf("nodes %v, want 3", names)
	}
	last := names[2]
	ns := newNamespace(t, c.client, "busy")
	busy := deploymentOf("busy", 3, v1.ResourceList{v1.ResourceCPU: resource.MustParse("1")})
	busy.Spec.Template.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
		NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{last}}}}}}}}
	create(t, c.client.AppsV1().Deployments(ns).Create, busy)
	runningPods(t, c.client, ns, "app=busy", 3)
	// The first node is idle too, but its users keep it.
	node, err := c.client.CoreV1().Nodes().Get(t.Context(), names[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	metav1.SetMetaDataAnnotation(&node.ObjectMeta, annotationScaleDownDisabled, "true")
	if _, err := c.client.CoreV1().Nodes().Update(t.Context(), node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rt.SetAutoscaler(AutoscalerConfig{
		Settings: AutoscalerSettings{ScanInterval: time.Second, ScaleDownUnneededTime: time.Second},
		Pools:    map[string]PoolBounds{pool.Name: {Min: 1, Max: 3}},
	})
	kept := []string{names[0], last}
	testutil.WaitFor(t, 60*time.Second, "the idle middle node gone", func() (bool, string) {
		got := nodeNames(t, c.client, pool.Name)
		return slices.Equal(got, kept), fmt.Sprintf("nodes %v", got)
	})
	testutil.Holds(t, 3*time.Second, "the node with scale-down disabled kept over more scans", func() (bool, string) {
		got := nodeNames(t, c.client, pool.Name)
		return slices.Equal(got, kept), fmt.Sprintf("nodes %v", got)
	})
	if got := rt.Pools()[0].Count; got != 2 {
		t.Errorf("pool count %d, want 2", got)
	}
	runningPods(t, c.client, ns, "app=busy", 3)

	rt.SetAutoscaler(AutoscalerConfig{})
	pool.Count = 3
	if err := rt.SetPool(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	if got := nodeNames(t, c.client, pool.Name); !slices.Equal(got, names) {
		t.Errorf("after growing back to 3: nodes %v, want %v", got, names)
	}
}

// TestMovable: a node's pods let it go when each would come back elsewhere, as
// cluster-autoscaler decides, with its safe-to-evict annotation either way, and with
// skip-nodes-with-system-pods and skip-nodes-with-local-storage.
func TestMovable(t *testing.T) {
	owned := func(kind string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{Kind: kind, Name: "x", UID: "x", Controller: new(true)}}
	}
	pod := func(ns string, owners []metav1.OwnerReference, safeToEvict string) *v1.Pod {
		p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns, OwnerReferences: owners}}
		if safeToEvict != "" {
			metav1.SetMetaDataAnnotation(&p.ObjectMeta, annotationSafeToEvict, safeToEvict)
		}
		return p
	}
	withVolume := func(p *v1.Pod, src v1.VolumeSource) *v1.Pod {
		p.Spec.Volumes = []v1.Volume{{Name: "data", VolumeSource: src}}
		return p
	}
	emptyDir := v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}
	hostPath := v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/data"}}
	configMap := v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "c"}}}
	evictSystem := AutoscalerSettings{EvictSystemPods: true}
	skipLocal := AutoscalerSettings{SkipNodesWithLocalStorage: true}
	for _, tc := range []struct {
		name string
		pod  *v1.Pod
		set  AutoscalerSettings
		want bool
	}{
		{"replica set pod", pod("default", owned("ReplicaSet"), ""), AutoscalerSettings{}, true},
		{"replica set pod not safe to evict", pod("default", owned("ReplicaSet"), "false"), AutoscalerSettings{}, false},
		{"bare pod", pod("default", nil, ""), AutoscalerSettings{}, false},
		{"bare pod safe to evict", pod("default", nil, "true"), AutoscalerSettings{}, true},
		{"system pod", pod(metav1.NamespaceSystem, owned("ReplicaSet"), ""), AutoscalerSettings{}, false},
		{"system pod safe to evict", pod(metav1.NamespaceSystem, owned("ReplicaSet"), "true"), AutoscalerSettings{}, true},
		{"system pod, skip-nodes-with-system-pods false", pod(metav1.NamespaceSystem, owned("ReplicaSet"), ""), evictSystem, true},
		{"bare system pod, skip-nodes-with-system-pods false", pod(metav1.NamespaceSystem, nil, ""), evictSystem, false},
		{"daemon set pod", pod(metav1.NamespaceSystem, owned("DaemonSet"), "false"), AutoscalerSettings{}, true},
		{"emptyDir pod", withVolume(pod("default", owned("ReplicaSet"), ""), emptyDir), AutoscalerSettings{}, true},
		{"emptyDir pod, skip-nodes-with-local-storage", withVolume(pod("default", owned("ReplicaSet"), ""), emptyDir), skipLocal, false},
		{"hostPath pod, skip-nodes-with-local-storage", withVolume(pod("default", owned("ReplicaSet"), ""), hostPath), skipLocal, false},
		{"configMap pod, skip-nodes-with-local-storage", withVolume(pod("default", owned("ReplicaSet"), ""), configMap), skipLocal, true},
		{"emptyDir pod safe to evict, skip-nodes-with-local-storage", withVolume(pod("default", owned("ReplicaSet"), "true"), emptyDir), skipLocal, true},
	} {
		if got := movable([]*v1.Pod{tc.pod}, tc.set); got != tc.want {
			t.Errorf("%s: movable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestAutoscalerUnderQuota: when Resize refuses the whole step (a quota short of it), the
// pool grows as far as Resize allows; the pods that triggered the step get a FailedScaleUp
// Warning saying why, and the status ConfigMap says Backoff.
func TestAutoscalerUnderQuota(t *testing.T) {
	pool := poolD3
	c := newRuntimeCluster(t, "autoscale-quota", autoscalerOptions(), pool)
	ctx, rt := t.Context(), c.runtime
	rt.SetAutoscaler(AutoscalerConfig{
		Settings: AutoscalerSettings{ScanInterval: time.Second},
		Pools:    map[string]PoolBounds{pool.Name: {Min: 3, Max: 6}},
		Resize: func(_ context.Context, _ string, count int) error {
			if count > 4 {
				return fmt.Errorf("(QuotaExceeded) %d nodes are over the subscription's vCPU quota", count)
			}
			return nil
		},
	})
	ns := newNamespace(t, c.client, "quota")
	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 20, v1.ResourceList{v1.ResourceCPU: resource.MustParse("1")}))
	testutil.WaitFor(t, 60*time.Second, "the pool at the 4 nodes the quota allows, with FailedScaleUp", func() (bool, string) {
		nodes := len(nodeNames(t, c.client, pool.Name))
		failed := 0
		for _, e := range eventsOf(t, c, ns, EventFailedScaleUp) {
			if e.Type == v1.EventTypeWarning && strings.Contains(e.Message, "QuotaExceeded") {
				failed++
			}
		}
		return nodes == 4 && failed > 0, fmt.Sprintf("nodes %d, FailedScaleUp events %d", nodes, failed)
	})
	testutil.WaitFor(t, 20*time.Second, "the status says Backoff", func() (bool, string) {
		cm, err := c.client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, AutoscalerStatusConfigMap, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(cm.Data["status"], "ScaleUp:   Backoff"), cm.Data["status"]
	})
	if got := rt.Pools()[0].Count; got != 4 {
		t.Errorf("pool count %d, want 4", got)
	}
}

// TestPlanScaleUpGPU: a pod asking for a GPU grows the GPU pool, not the CPU one, and
// triggers nothing where no autoscaled pool has GPUs.
func TestPlanScaleUpGPU(t *testing.T) {
	gpuPod := podOf("gpu", v1.ResourceRequirements{Requests: v1.ResourceList{ResourceGPU: resource.MustParse("1")},
		Limits: v1.ResourceList{ResourceGPU: resource.MustParse("1")}})
	gpuPod.UID = "gpu"
	cpu := autoscaledPool{pool: poolD3, PoolBounds: PoolBounds{Min: 1, Max: 6}}
	gpu := autoscaledPool{pool: poolNC6, PoolBounds: PoolBounds{Min: 1, Max: 3}}
	plan := planScaleUp([]*v1.Pod{gpuPod}, nil, nil, []autoscaledPool{cpu, gpu}, newExpander("", 1))
	if plan.grow[poolNC6.Name] != 1 || plan.grow[poolD3.Name] != 0 {
		t.Errorf("grow %v, want one %s node", plan.grow, poolNC6.Name)
	}
	plan = planScaleUp([]*v1.Pod{gpuPod}, nil, nil, []autoscaledPool{cpu}, newExpander("", 1))
	if msg := plan.noScaleUp["gpu"]; !strings.Contains(msg, "Insufficient "+string(ResourceGPU)) {
		t.Errorf("without a GPU pool: %q", msg)
	}
}

// countRunning counts the pods of ns that are Running.
func countRunning(ctx context.Context, client kubernetes.Interface, ns string) (int, error) {
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase == v1.PodRunning {
			running++
		}
	}
	return running, nil
}

// TestAutoscalerGPU: on a real apiserver, pods asking for a GPU each grow the GPU pool
// (NC6, one GPU a node) by a node, up to its maximum; the one beyond it stays Pending with
// NotTriggerScaleUp.
func TestAutoscalerGPU(t *testing.T) {
	c := newRuntimeCluster(t, "autoscale-gpu", autoscalerOptions(), poolNC6)
	ctx, rt := t.Context(), c.runtime
	rt.SetAutoscaler(AutoscalerConfig{
		Settings: AutoscalerSettings{ScanInterval: time.Second, ScaleDownDelayAfterAdd: time.Hour, ScaleDownUnneededTime: time.Hour},
		Pools:    map[string]PoolBounds{poolNC6.Name: {Min: 1, Max: 3}},
		Resize:   func(context.Context, string, int) error { return nil },
	})
	ns := newNamespace(t, c.client, "gpu")
	gpu := v1.ResourceList{ResourceGPU: resource.MustParse("1")}
	for i := range 4 {
		p := podOf(fmt.Sprintf("train-%d", i), v1.ResourceRequirements{Requests: gpu, Limits: gpu})
		create(t, c.client.CoreV1().Pods(ns).Create, p)
	}
	testutil.WaitFor(t, 60*time.Second, "3 GPU pods running on 3 GPU nodes, the 4th refused", func() (bool, string) {
		running, err := countRunning(ctx, c.client, ns)
		if err != nil {
			return false, err.Error()
		}
		nodes := len(nodeNames(t, c.client, poolNC6.Name))
		refused := len(eventsOf(t, c, ns, EventNotTriggerScaleUp))
		return running == 3 && nodes == 3 && refused > 0, fmt.Sprintf("running %d, GPU nodes %d, NotTriggerScaleUp %d", running, nodes, refused)
	})
}

// TestAutoscalerRespectsPDB: an idle node whose pod a PodDisruptionBudget protects is not
// removed: the eviction is refused, the node is uncordoned and stays.
func TestAutoscalerRespectsPDB(t *testing.T) {
	pool := poolD3
	pool.Count = 2
	c := newRuntimeCluster(t, "autoscale-pdb", autoscalerOptions(), pool)
	ctx, rt := t.Context(), c.runtime
	ns := newNamespace(t, c.client, "guarded")
	minAvailable := intstr.FromInt32(2)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}}}}
	create(t, c.client.PolicyV1().PodDisruptionBudgets(ns).Create, pdb)
	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 2, v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m")}))
	runningPods(t, c.client, ns, "app=app", 2) // one per node: replicas are spread
	rt.SetAutoscaler(AutoscalerConfig{
		Settings: AutoscalerSettings{ScanInterval: time.Second, ScaleDownUnneededTime: time.Second, ScaleDownDelayAfterFailure: time.Minute},
		Pools:    map[string]PoolBounds{pool.Name: {Min: 1, Max: 3}},
	})
	testutil.WaitFor(t, 30*time.Second, "a refused eviction", func() (bool, string) {
		for _, e := range eventsOf(t, c, ns, EventScaleDown) {
			if e.Type == v1.EventTypeWarning {
				return true, ""
			}
		}
		return false, "no warning"
	})
	// Within scale-down-delay-after-failure it does not try again.
	testutil.Holds(t, 3*time.Second, "1 refused eviction within the delay after a failure", func() (bool, string) {
		var warnings int32
		for _, e := range eventsOf(t, c, ns, EventScaleDown) {
			if e.Type == v1.EventTypeWarning {
				warnings += max(e.Count, 1)
			}
		}
		return warnings == 1, fmt.Sprintf("%d refused evictions", warnings)
	})
	names := nodeNames(t, c.client, pool.Name)
	if len(names) != 2 {
		t.Fatalf("nodes %v, want both kept", names)
	}
	runningPods(t, c.client, ns, "app=app", 2)
	for _, name := range names {
		// A scan may be between its cordon and its uncordon.
		testutil.WaitFor(t, 3*time.Second, "node "+name+" not cordoned", func() (bool, string) {
			n, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return !n.Spec.Unschedulable, "cordoned"
		})
	}
}

// TestAutoscalerNewPodScaleUpDelay: pending pods younger than new-pod-scale-up-delay
// trigger no scale-up; with the delay at zero they do.
func TestAutoscalerNewPodScaleUpDelay(t *testing.T) {
	pool := poolD3
	pool.Count = 1
	c := newRuntimeCluster(t, "autoscale-delay", autoscalerOptions(), pool)
	rt := c.runtime
	cfg := AutoscalerConfig{
		Settings: AutoscalerSettings{ScanInterval: time.Second, ScaleDownDelayAfterAdd: time.Hour, NewPodScaleUpDelay: time.Hour},
		Pools:    map[string]PoolBounds{pool.Name: {Min: 1, Max: 3}},
	}
	rt.SetAutoscaler(cfg)
	ns := newNamespace(t, c.client, "young")
	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 6, v1.ResourceList{v1.ResourceCPU: resource.MustParse("1")}))
	testutil.WaitFor(t, 30*time.Second, "3 pods running, 3 pending", func() (bool, string) {
		running, err := countRunning(t.Context(), c.client, ns)
		return err == nil && running == 3, fmt.Sprintf("%d running, err %v", running, err)
	})
	testutil.Holds(t, 3*time.Second, "no scale-up for the young pods", func() (bool, string) {
		n := len(nodeNames(t, c.client, pool.Name))
		return n == 1, fmt.Sprintf("%d nodes", n)
	})
	cfg.Settings.NewPodScaleUpDelay = 0
	rt.SetAutoscaler(cfg)
	testutil.WaitFor(t, 30*time.Second, "a node added for the pending pods", func() (bool, string) {
		running, _ := countRunning(t.Context(), c.client, ns)
		n := len(nodeNames(t, c.client, pool.Name))
		return n == 2 && running == 6, fmt.Sprintf("%d nodes, %d running", n, running)
	})
}
