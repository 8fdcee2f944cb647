package clusterruntime

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/testutil"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

func TestNodesOfPools(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()

	tests := []struct {
		pool       NodePool
		wantCPU    string
		wantMemory string
		wantGPU    int64
	}{
		{poolD3, "4", "14336Mi", 0},
		{poolNC6, "6", "56Gi", 1},
	}
	for _, tt := range tests {
		t.Run(tt.pool.Name, func(t *testing.T) {
			nodes := poolNodes(t, c.client, tt.pool.Name)
			names := namesOf(nodes)
			if len(names) != tt.pool.Count {
				t.Fatalf("nodes = %v, want %d", names, tt.pool.Count)
			}
			pattern := regexp.MustCompile(`^aks-` + tt.pool.Name + `-([0-9]{8})-vmss00000([0-9])$`)
			for i, name := range names {
				m := pattern.FindStringSubmatch(name)
				if m == nil || m[2] != fmt.Sprint(i) {
					t.Errorf("node %d is named %s, want aks-%s-<8 digits>-vmss00000%d", i, name, tt.pool.Name, i)
				}
				if first := pattern.FindStringSubmatch(names[0]); m != nil && first != nil && m[1] != first[1] {
					t.Errorf("node %s: pool number differs from %s", name, names[0])
				}
			}

			for _, n := range nodes {
				wantLabels := map[string]string{
					"kubernetes.io/os":                 "linux",
					"kubernetes.io/arch":               "amd64",
					"kubernetes.io/hostname":           n.Name,
					"node.kubernetes.io/instance-type": tt.pool.VMSize,
					"beta.kubernetes.io/instance-type": tt.pool.VMSize,
					"kubernetes.azure.com/agentpool":   tt.pool.Name,
					"agentpool":                        tt.pool.Name,
					"kubernetes.azure.com/mode":        "system",
					"topology.kubernetes.io/region":    tt.pool.Location,
				}
				for k, v := range wantLabels {
					if n.Labels[k] != v {
						t.Errorf("node %s: label %s = %q, want %q", n.Name, k, n.Labels[k], v)
					}
				}
				for name, want := range map[v1.ResourceName]string{v1.ResourceCPU: tt.wantCPU, v1.ResourceMemory: tt.wantMemory, v1.ResourcePods: "110"} {
					if got := n.Status.Capacity[name]; got.Cmp(resource.MustParse(want)) != 0 {
						t.Errorf("node %s: capacity %s = %s, want %s", n.Name, name, got.String(), want)
					}
					alloc := n.Status.Allocatable[name]
					if alloc.IsZero() || alloc.Cmp(n.Status.Capacity[name]) > 0 {
						t.Errorf("node %s: allocatable %s = %s, capacity %s", n.Name, name, alloc.String(), want)
					}
				}
				gpu := n.Status.Capacity[ResourceGPU]
				if gpu.Value() != tt.wantGPU {
					t.Errorf("node %s: capacity %s = %s, want %d", n.Name, ResourceGPU, gpu.String(), tt.wantGPU)
				}
				if !kube.NodeReady(&n) {
					t.Errorf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
				}
				if len(n.Spec.Taints) != 0 {
					t.Errorf("node %s has taints %v", n.Name, n.Spec.Taints)
				}
				if got, want := n.Status.NodeInfo.KubeletVersion, "v"+tt.pool.KubernetesVersion; got != want {
					t.Errorf("node %s: kubelet version %s, want %s", n.Name, got, want)
				}
				ip, ok := internalIP(&n)
				if !ok || !netip.MustParsePrefix("10.224.0.0/16").Contains(ip) {
					t.Errorf("node %s: addresses %v, want an InternalIP in 10.224.0.0/16", n.Name, n.Status.Addresses)
				}
				lease, err := c.client.CoordinationV1().Leases(v1.NamespaceNodeLease).Get(ctx, n.Name, metav1.GetOptions{})
				if err != nil {
					t.Errorf("lease of node %s: %v", n.Name, err)
				} else if ptr.Deref(lease.Spec.HolderIdentity, "") != n.Name || lease.Spec.RenewTime == nil {
					t.Errorf("lease of node %s: %+v", n.Name, lease.Spec)
				}
			}
		})
	}

	got := c.runtime.Pools()
	if len(got) != 2 || !reflect.DeepEqual(got, []NodePool{poolNC6, poolD3}) {
		t.Errorf("Pools() = %+v, want %+v and %+v", got, poolNC6, poolD3)
	}
}

// create creates obj with a typed client's Create method, such as
// client.AppsV1().Deployments(ns).Create; t fails when the apiserver refuses it.
func create[T any](t testing.TB, createFn func(context.Context, T, metav1.CreateOptions) (T, error), obj T) {
	t.Helper()
	if _, err := createFn(t.Context(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t testing.TB, client kubernetes.Interface, name string) string {
	t.Helper()
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	create(t, client.CoreV1().Namespaces().Create, ns)
	t.Cleanup(func() {
		client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

func deploymentOf(name string, replicas int32, requests v1.ResourceList) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: v1.PodSpec{Containers: []v1.Container{{
					Name:      "main",
					Image:     "mcr.microsoft.com/azureml/azureml-fe:latest",
					Ports:     []v1.ContainerPort{{ContainerPort: 8080}},
					Resources: v1.ResourceRequirements{Requests: requests},
				}}},
			},
		},
	}
}

func podOf(name string, resources v1.ResourceRequirements) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.PodSpec{Containers: []v1.Container{{
			Name: "main", Image: "busybox", Resources: resources,
		}}},
	}
}

// listNodes returns the cluster's nodes; t fails when they cannot be listed.
func listNodes(t testing.TB, client kubernetes.Interface) []v1.Node {
	t.Helper()
	list, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// runningPods returns the pods of ns matching selector once there are want of them, all
// Running and Ready.
func runningPods(t testing.TB, client kubernetes.Interface, ns, selector string, want int) []v1.Pod {
	t.Helper()
	var pods []v1.Pod
	testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("%d running pods %s in %s", want, selector, ns), func() (bool, string) {
		list, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err.Error()
		}
		var states []string
		ready := 0
		for _, p := range list.Items {
			states = append(states, fmt.Sprintf("%s:%s@%s", p.Name, p.Status.Phase, p.Spec.NodeName))
			if p.Status.Phase == v1.PodRunning && kube.PodReady(&p) && p.DeletionTimestamp == nil {
				ready++
			}
		}
		pods = list.Items
		return ready == want && len(list.Items) == want, strings.Join(states, " ")
	})
	return pods
}

func TestDeploymentRunsSpreadOverNodes(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "spread")

	d := deploymentOf("web", 3, v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")})
	create(t, c.client.AppsV1().Deployments(ns).Create, d)
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       v1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []v1.ServicePort{{Port: 80}}},
	}
	create(t, c.client.CoreV1().Services(ns).Create, svc)

	pods := runningPods(t, c.client, ns, "app=web", 3)
	nodes := map[string]bool{}
	for _, p := range pods {
		nodes[p.Spec.NodeName] = true
		node, err := c.client.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node of pod %s: %v", p.Name, err)
		}
		hostIP, _ := internalIP(node)
		if p.Status.HostIP != hostIP.String() {
			t.Errorf("pod %s: hostIP %s, want %s", p.Name, p.Status.HostIP, hostIP)
		}
		podIP, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil || !netip.MustParsePrefix(node.Spec.PodCIDR).Contains(podIP) || !netip.MustParsePrefix("10.244.0.0/16").Contains(podIP) {
			t.Errorf("pod %s: podIP %q, want one of its node's range %s", p.Name, p.Status.PodIP, node.Spec.PodCIDR)
		}
		for _, want := range []v1.PodConditionType{v1.PodScheduled, v1.PodInitialized, v1.ContainersReady, v1.PodReady} {
			found := false
			for _, cond := range p.Status.Conditions {
				found = found || (cond.Type == want && cond.Status == v1.ConditionTrue)
			}
			if !found {
				t.Errorf("pod %s: no condition %s=True in %+v", p.Name, want, p.Status.Conditions)
			}
		}
		if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Running == nil || !p.Status.ContainerStatuses[0].Ready {
			t.Errorf("pod %s: container statuses %+v", p.Name, p.Status.ContainerStatuses)
		}
	}
	if len(nodes) != 3 {
		t.Errorf("3 replicas on nodes %v, want 3 different nodes", nodes)
	}

	// The deployment controller sees them available; the endpointslice controller lists them.
	testutil.WaitFor(t, 30*time.Second, "deployment available", func() (bool, string) {
		d, err := c.client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return d.Status.AvailableReplicas == 3, fmt.Sprintf("%+v", d.Status)
	})
	testutil.WaitFor(t, 30*time.Second, "endpoints of the service", func() (bool, string) {
		slices, err := c.client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
		if err != nil {
			return false, err.Error()
		}
		ready := 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if ptr.Deref(e.Conditions.Ready, false) {
					ready++
				}
			}
		}
		return ready == 3, fmt.Sprintf("%d ready endpoints", ready)
	})
	// Scheduling is recorded as kube-scheduler records it.
	events, err := c.client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=Scheduled"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Error("no Scheduled events")
	}
}

// pendingCondition waits until the pod has PodScheduled=False and returns it.
func pendingCondition(t *testing.T, client kubernetes.Interface, ns, name string) v1.PodCondition {
	t.Helper()
	var cond v1.PodCondition
	testutil.WaitFor(t, 30*time.Second, "pod "+name+" marked unschedulable", func() (bool, string) {
		p, err := client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range p.Status.Conditions {
			if c.Type == v1.PodScheduled {
				cond = c
				return c.Status == v1.ConditionFalse, fmt.Sprintf("%+v", c)
			}
		}
		return false, fmt.Sprintf("phase %s node %q", p.Status.Phase, p.Spec.NodeName)
	})
	return cond
}

func TestPodTooBigStaysPending(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "toobig")

	pod := podOf("huge", v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("16")}})
	create(t, c.client.CoreV1().Pods(ns).Create, pod)
	cond := pendingCondition(t, c.client, ns, "huge")
	if cond.Reason != v1.PodReasonUnschedulable {
		t.Errorf("reason %q, want %q", cond.Reason, v1.PodReasonUnschedulable)
	}
	if want := "0/4 nodes are available: 4 Insufficient cpu."; cond.Message != want {
		t.Errorf("message %q, want %q", cond.Message, want)
	}
	testutil.Holds(t, time.Second, "pod huge unbound and Pending", func() (bool, string) {
		p, err := c.client.CoreV1().Pods(ns).Get(ctx, "huge", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return p.Spec.NodeName == "" && p.Status.Phase == v1.PodPending, fmt.Sprintf("on %q in phase %s", p.Spec.NodeName, p.Status.Phase)
	})
	events, err := c.client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedScheduling"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Error("no FailedScheduling event")
	}
}

func TestGPUPodLandsOnGPUPool(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "gpu")

	oneGPU := v1.ResourceRequirements{Limits: v1.ResourceList{ResourceGPU: resource.MustParse("1")}}
	create(t, c.client.CoreV1().Pods(ns).Create, podOf("train", oneGPU))
	var pod *v1.Pod
	testutil.WaitFor(t, 30*time.Second, "GPU pod running", func() (bool, string) {
		var err error
		pod, err = c.client.CoreV1().Pods(ns).Get(ctx, "train", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return pod.Status.Phase == v1.PodRunning, fmt.Sprintf("phase %s on %q", pod.Status.Phase, pod.Spec.NodeName)
	})
	if !strings.HasPrefix(pod.Spec.NodeName, "aks-gpupool-") {
		t.Errorf("GPU pod runs on %s, want a node of gpupool", pod.Spec.NodeName)
	}

	// The only GPU is taken now.
	create(t, c.client.CoreV1().Pods(ns).Create, podOf("train2", oneGPU))
	cond := pendingCondition(t, c.client, ns, "train2")
	if want := "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."; cond.Message != want {
		t.Errorf("message %q, want %q", cond.Message, want)
	}

	// Freeing the GPU lets the second pod run.
	if err := c.client.CoreV1().Pods(ns).Delete(ctx, "train", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "second GPU pod running", func() (bool, string) {
		p, err := c.client.CoreV1().Pods(ns).Get(ctx, "train2", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return p.Status.Phase == v1.PodRunning && strings.HasPrefix(p.Spec.NodeName, "aks-gpupool-"), fmt.Sprintf("phase %s on %q", p.Status.Phase, p.Spec.NodeName)
	})
}

func TestNodeSelectorAndAffinity(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "selector")

	bySelector := podOf("by-selector", v1.ResourceRequirements{})
	bySelector.Spec.NodeSelector = map[string]string{"agentpool": "gpupool"}
	byAffinity := podOf("by-affinity", v1.ResourceRequirements{})
	byAffinity.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
			MatchExpressions: []v1.NodeSelectorRequirement{{Key: "node.kubernetes.io/instance-type", Operator: v1.NodeSelectorOpIn, Values: []string{"Standard_NC6"}}},
		}}},
	}}
	nowhere := podOf("nowhere", v1.ResourceRequirements{})
	nowhere.Spec.NodeSelector = map[string]string{"agentpool": "nosuchpool"}
	for _, p := range []*v1.Pod{bySelector, byAffinity, nowhere} {
		create(t, c.client.CoreV1().Pods(ns).Create, p)
	}
	for _, name := range []string{"by-selector", "by-affinity"} {
		testutil.WaitFor(t, 30*time.Second, name+" running on gpupool", func() (bool, string) {
			p, err := c.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return p.Status.Phase == v1.PodRunning && strings.HasPrefix(p.Spec.NodeName, "aks-gpupool-"), fmt.Sprintf("phase %s on %q", p.Status.Phase, p.Spec.NodeName)
		})
	}
	cond := pendingCondition(t, c.client, ns, "nowhere")
	if want := "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector."; cond.Message != want {
		t.Errorf("message %q, want %q", cond.Message, want)
	}
}

// loadBalancerIP waits until the Service has an ingress address and returns it.
func loadBalancerIP(t *testing.T, client kubernetes.Interface, ns, name string) netip.Addr {
	t.Helper()
	var ip netip.Addr
	testutil.WaitFor(t, 30*time.Second, "address of service "+name, func() (bool, string) {
		svc, err := client.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return false, "no ingress"
		}
		ip, err = netip.ParseAddr(svc.Status.LoadBalancer.Ingress[0].IP)
		return err == nil, fmt.Sprintf("%+v", svc.Status.LoadBalancer)
	})
	return ip
}

func loadBalancerService(name string, annotations map[string]string) *v1.Service {
	return &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: v1.ServiceSpec{
			Type:     v1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": name},
			Ports:    []v1.ServicePort{{Name: "http", Port: 80}},
		},
	}
}

func TestLoadBalancerAddresses(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "lb")
	services := c.client.CoreV1().Services(ns)
	internal := map[string]string{AnnotationLoadBalancerInternal: "true"}

	create(t, services.Create, loadBalancerService("public", nil))
	public := loadBalancerIP(t, c.client, ns, "public")
	if public.IsPrivate() || !netip.MustParsePrefix("198.18.0.0/15").Contains(public) {
		t.Errorf("public address %s, want one of 198.18.0.0/15", public)
	}

	create(t, services.Create, loadBalancerService("internal", internal))
	if ip := loadBalancerIP(t, c.client, ns, "internal"); ip != netip.MustParseAddr("10.240.0.4") {
		t.Errorf("internal address %s, want 10.240.0.4, the first free one of 10.240.0.0/16", ip)
	}

	asked := loadBalancerService("asked", internal)
	asked.Spec.LoadBalancerIP = "10.240.7.7"
	create(t, services.Create, asked)
	if ip := loadBalancerIP(t, c.client, ns, "asked"); ip != netip.MustParseAddr("10.240.7.7") {
		t.Errorf("address %s, want the requested 10.240.7.7", ip)
	}

	// The address is stable: an unrelated change keeps it.
	svc, err := services.Get(ctx, "public", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Labels = map[string]string{"touched": "yes"}
	if _, err := services.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Holds(t, time.Second, "address "+public.String()+" of service public", func() (bool, string) {
		ip := loadBalancerIP(t, c.client, ns, "public")
		return ip == public, "changed to " + ip.String()
	})

	// Changing the type takes the address away; deleting releases it for others.
	svc, err = services.Get(ctx, "internal", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Type = v1.ServiceTypeClusterIP
	svc.Spec.Ports[0].NodePort = 0
	if _, err := services.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "address removed from a ClusterIP service", func() (bool, string) {
		svc, err := services.Get(ctx, "internal", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(svc.Status.LoadBalancer.Ingress) == 0, fmt.Sprintf("%+v", svc.Status.LoadBalancer)
	})
	create(t, services.Create, loadBalancerService("internal2", internal))
	if ip := loadBalancerIP(t, c.client, ns, "internal2"); ip != netip.MustParseAddr("10.240.0.4") {
		t.Errorf("address %s, want the released 10.240.0.4", ip)
	}
}

func TestNamespaceDeletionCompletes(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "doomed")

	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 2, nil))
	create(t, c.client.CoreV1().Services(ns).Create, loadBalancerService("app", nil))
	cm := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"a": "b"}}
	create(t, c.client.CoreV1().ConfigMaps(ns).Create, cm)
	pods := runningPods(t, c.client, ns, "app=app", 2)

	start := time.Now()
	if err := c.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNamespaceGone(t, c.client, ns)
	t.Logf("namespace with a Deployment deleted in %v", time.Since(start).Round(10*time.Millisecond))
	for _, p := range pods {
		if _, err := c.client.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("pod %s still there (%v)", p.Name, err)
		}
	}
}

// waitNamespaceGone waits until namespace ns no longer exists.
func waitNamespaceGone(t *testing.T, client kubernetes.Interface, ns string) {
	t.Helper()
	testutil.WaitFor(t, 90*time.Second, "namespace "+ns+" gone", func() (bool, string) {
		n, err := client.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		return false, fmt.Sprintf("%s %+v", n.Status.Phase, n.Status.Conditions)
	})
}

// TestEmptiedNamespaceDeletion logs how long a namespace whose content is already gone
// takes to go, as namespace azureml after a detach, which the attach that follows waits
// for: the upstream namespace controller alone takes its 5 s grace period and more, the
// namespace finisher about its settle time.
func TestEmptiedNamespaceDeletion(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "emptied")
	// What Kubernetes puts into every namespace is there, as in azureml after a detach.
	testutil.WaitFor(t, 30*time.Second, "service account default", func() (bool, string) {
		_, err := c.client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	start := time.Now()
	if err := c.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNamespaceGone(t, c.client, ns)
	t.Logf("emptied namespace deleted in %v", time.Since(start).Round(10*time.Millisecond))
}

// TestNamespaceWaitsForPods: a deleted namespace stays, Terminating, while a pod in it
// is still there (held by a finalizer here, as a kubelet holds one whose containers are
// stopping), and goes once the pod has gone.
func TestNamespaceWaitsForPods(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "held")
	pod := podOf("held", v1.ResourceRequirements{})
	pod.Finalizers = []string{"mlfleet.io/test-hold"}
	create(t, c.client.CoreV1().Pods(ns).Create, pod)
	runningPods(t, c.client, ns, "", 1)

	if err := c.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The deletion has run once it deleted the pod and wrote its conditions, which it
	// does at the end of each pass over the namespace's content.
	testutil.WaitFor(t, 30*time.Second, "the namespace's deletion to delete the pod", func() (bool, string) {
		p, err := c.client.CoreV1().Pods(ns).Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		n, err := c.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return p.DeletionTimestamp != nil && len(n.Status.Conditions) > 0, fmt.Sprintf("pod deleted %v, namespace %+v", p.DeletionTimestamp, n.Status)
	})
	n, err := c.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil || n.Status.Phase != v1.NamespaceTerminating || !slices.Contains(n.Spec.Finalizers, v1.FinalizerKubernetes) {
		t.Fatalf("namespace with a pod left: %+v, %v (want it Terminating, not finalized)", n, err)
	}
	if _, err := c.client.CoreV1().Pods(ns).Get(ctx, "held", metav1.GetOptions{}); err != nil {
		t.Fatalf("pod while its namespace is deleted: %v", err)
	}

	if _, err := c.client.CoreV1().Pods(ns).Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNamespaceGone(t, c.client, ns)
}

func TestGarbageCollectorCascades(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	ns := newNamespace(t, c.client, "cascade")

	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 2, nil))
	runningPods(t, c.client, ns, "app=app", 2)
	// Background propagation: the Deployment goes at once, the garbage collector takes
	// its ReplicaSet and then the pods.
	policy := metav1.DeletePropagationBackground
	if err := c.client.AppsV1().Deployments(ns).Delete(ctx, "app", metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 60*time.Second, "ReplicaSets and pods collected", func() (bool, string) {
		rs, err := c.client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		pods, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(rs.Items) == 0 && len(pods.Items) == 0, fmt.Sprintf("%d ReplicaSets, %d pods", len(rs.Items), len(pods.Items))
	})
}

// poolNodes returns the nodes of a pool, sorted by name.
func poolNodes(t *testing.T, client kubernetes.Interface, pool string) []v1.Node {
	t.Helper()
	nodes, err := client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{"agentpool": pool}).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(nodes.Items, func(a, b v1.Node) int { return strings.Compare(a.Name, b.Name) })
	return nodes.Items
}

// nodeNames returns the names of the nodes of a pool, sorted.
func nodeNames(t *testing.T, client kubernetes.Interface, pool string) []string {
	t.Helper()
	return namesOf(poolNodes(t, client, pool))
}

// namesOf returns the names of nodes.
func namesOf(nodes []v1.Node) []string {
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	return names
}

func TestScalePool(t *testing.T) {
	c := newRuntimeCluster(t, "scale", Options{Logger: testLogger()})
	ctx, rt := t.Context(), c.runtime

	pool := poolD3
	pool.Name = "scalepool"
	id := poolID(mustClusterUID(t, c.client), pool.Name)
	namesUpTo := func(n int) []string {
		var names []string
		for i := range n {
			names = append(names, nodeName(pool.Name, id, i))
		}
		return names
	}
	ns := newNamespace(t, c.client, "workload")
	for _, count := range []int{3, 5, 2} {
		pool.Count = count
		if err := rt.SetPool(ctx, pool); err != nil {
			t.Fatalf("SetPool(count %d): %v", count, err)
		}
		// SetPool returns with the nodes in place.
		if got, want := nodeNames(t, c.client, pool.Name), namesUpTo(count); !slices.Equal(got, want) {
			t.Errorf("after scaling to %d: nodes %v, want %v", count, got, want)
		}
		if got := rt.Pools(); len(got) != 1 || got[0].Count != count {
			t.Errorf("Pools() = %+v, want count %d", got, count)
		}
		if count == 5 {
			// One replica per node, so that scaling down strands some.
			create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 5, nil))
			runningPods(t, c.client, ns, "app=app", 5)
		}
	}
	// The pods of the removed nodes were replaced on the remaining ones.
	pods := runningPods(t, c.client, ns, "app=app", 5)
	for _, p := range pods {
		if !slices.Contains(namesUpTo(2), p.Spec.NodeName) {
			t.Errorf("pod %s runs on %s, which is gone", p.Name, p.Spec.NodeName)
		}
	}
	leases, err := c.client.CoordinationV1().Leases(v1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(leases.Items) != 2 {
		t.Errorf("%d node leases, want 2", len(leases.Items))
	}

	// SetPool is idempotent: the same pool again changes no node.
	before := listNodes(t, c.client)
	if err := rt.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	after := listNodes(t, c.client)
	for i := range before {
		if before[i].ResourceVersion != after[i].ResourceVersion {
			t.Errorf("node %s changed on a repeated SetPool", before[i].Name)
		}
	}

	// A new version (an upgrade) reaches the nodes in place.
	pool.KubernetesVersion = "1.34.1"
	if err := rt.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	upgraded := listNodes(t, c.client)
	for i, n := range upgraded {
		if n.UID != after[i].UID || n.Status.NodeInfo.KubeletVersion != "v1.34.1" {
			t.Errorf("node %s after upgrade: uid %s (was %s), kubelet %s", n.Name, n.UID, after[i].UID, n.Status.NodeInfo.KubeletVersion)
		}
	}

	// A deleted node comes back, as a VM's kubelet registers it again.
	victim := namesUpTo(2)[1]
	old, err := c.client.CoreV1().Nodes().Get(ctx, victim, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.client.CoreV1().Nodes().Delete(ctx, victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "deleted node registered again", func() (bool, string) {
		n, err := c.client.CoreV1().Nodes().Get(ctx, victim, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		ip, _ := internalIP(n)
		oldIP, _ := internalIP(old)
		return n.UID != old.UID && kube.NodeReady(n) && ip == oldIP && len(n.Spec.Taints) == 0, fmt.Sprintf("uid %s ready %v ip %s", n.UID, kube.NodeReady(n), ip)
	})

	// A bad pool is refused whole, with every problem named.
	err = rt.SetPool(ctx, NodePool{Name: "Bad_Name", Count: -1, KubernetesVersion: "v1.33"})
	if err == nil || !strings.Contains(err.Error(), "name") || !strings.Contains(err.Error(), "count") || !strings.Contains(err.Error(), "cores") {
		t.Errorf("SetPool(bad) = %v, want ErrInvalidPool naming name, count and cores", err)
	}

	if err := rt.DeletePool(ctx, pool.Name); err != nil {
		t.Fatal(err)
	}
	if got := nodeNames(t, c.client, pool.Name); len(got) != 0 {
		t.Errorf("nodes after DeletePool: %v", got)
	}
	if got := rt.Pools(); len(got) != 0 {
		t.Errorf("Pools() after DeletePool = %+v", got)
	}
}

func mustClusterUID(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Get(t.Context(), metav1.NamespaceSystem, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(ns.UID)
}
