package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestScaleDownBlockedByBudget: a Scale down that a PodDisruptionBudget blocks fails
// with a provider.DrainError naming the budget, and the cluster keeps its node count, as
// an AKS scale-down whose drain fails does.
func TestScaleDownBlockedByBudget(t *testing.T) {
	ctx := t.Context()
	p, spec, client := blockedCluster(t, ctx, "drain1", 3, 2*time.Second)

	shrunk := spec.Pools[0]
	shrunk.Count = 2
	err := p.Scale(ctx, spec.ID, shrunk)
	var de *provider.DrainError
	if !errors.As(err, &de) || de.Budget != "default/web-pdb" {
		t.Fatalf("Scale(2) under a budget = %v, want a provider.DrainError naming default/web-pdb", err)
	}
	st, err := p.Status(ctx, spec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pools) != 1 || st.Pools[0].Count != 3 {
		t.Errorf("pools after the failed scale-down %+v, want 3 nodes", st.Pools)
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 3 {
		t.Fatalf("nodes after the failed scale-down: %d (%v), want 3", len(nodes.Items), err)
	}
}

// blockedCluster starts a provider whose drains give up after drainTimeout, ensures on it
// the cluster id of one System pool of n Standard_D2_v2 nodes, and blocks the drains of
// its nodes (blockDrains). It returns the provider, the cluster's spec and a client of its
// admin.
func blockedCluster(t *testing.T, ctx context.Context, id string, n int32, drainTimeout time.Duration) (*Provider, provider.ClusterSpec, kubernetes.Interface) {
	t.Helper()
	if os.Getenv("TMP_KLOG") == "" {
		klog.SetLogger(logr.Discard())
	}
	p, err := New(t.TempDir(), catalog.DefaultVMSizes(), nil, WithDrainTimeout(drainTimeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	pool := provider.NodePool{Name: "nodepool1", Count: int(n), VMSize: "Standard_D2_v2", Mode: "System"}
	spec := provider.ClusterSpec{ID: id, Name: id, Location: "westeurope", Pools: []provider.NodePool{pool}}
	client := ensureCluster(t, ctx, p, spec)
	blockDrains(t, ctx, client, n)
	return p, spec, client
}

// blockDrains runs n pods of a Deployment "web" in namespace default under a
// PodDisruptionBudget "web-pdb" that needs all n: a drain that would evict one waits.
func blockDrains(t *testing.T, ctx context.Context, client kubernetes.Interface, n int32) {
	t.Helper()
	labels := map[string]string{"app": "web"}
	if _, err := client.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(n), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: v1.PodSpec{Containers: []v1.Container{{Name: "web", Image: "nginx"}}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	minAvailable := intstr.FromInt32(n)
	if _, err := client.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web-pdb"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: labels}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, time.Minute, fmt.Sprintf("the budget counts %d healthy pods", n), func() (bool, string) {
		b, err := client.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "web-pdb", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return b.Status.ObservedGeneration == b.Generation && b.Status.CurrentHealthy == n, fmt.Sprintf("%+v", b.Status)
	})
}

// ensureCluster ensures the cluster of spec on p and returns a client of its admin.
func ensureCluster(t *testing.T, ctx context.Context, p *Provider, spec provider.ClusterSpec) kubernetes.Interface {
	t.Helper()
	if _, err := p.Ensure(ctx, spec); err != nil {
		t.Fatal(err)
	}
	creds, err := p.Credentials(ctx, spec.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(creds.Admin)
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// TestReadsDuringBlockedScale: while a scale-down's drain waits on a PodDisruptionBudget
// (holding the cluster's change lock), the cluster's credentials and pod logs are still
// served: a user needs the kubeconfig to fix the budget that blocks the drain.
func TestReadsDuringBlockedScale(t *testing.T) {
	ctx := t.Context()
	p, spec, client := blockedCluster(t, ctx, "reads1", 2, 5*time.Minute)

	shrunk := spec.Pools[0]
	shrunk.Count = 1
	scaled := make(chan error, 1)
	go func() { scaled <- p.Scale(ctx, spec.ID, shrunk) }()
	testutil.WaitFor(t, time.Minute, "the scale-down to cordon the node it drains", func() (bool, string) {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, n := range nodes.Items {
			if n.Spec.Unschedulable {
				return true, ""
			}
		}
		return false, "no node cordoned yet"
	})
	// Whatever happens below, the budget goes, so that the drain and Close end.
	unblock := func() {
		_ = client.PolicyV1().PodDisruptionBudgets("default").Delete(context.WithoutCancel(ctx), "web-pdb", metav1.DeleteOptions{})
	}
	t.Cleanup(unblock)
	read := make(chan error, 1)
	go func() {
		if _, err := p.Credentials(ctx, spec.ID); err != nil {
			read <- fmt.Errorf("credentials: %w", err)
			return
		}
		if _, err := p.PodLogs(ctx, spec.ID, "default", "no-such-pod", "", 10); errors.Is(err, provider.ErrNotFound) {
			read <- fmt.Errorf("pod logs: %w", err)
			return
		}
		read <- nil
	}()
	select {
	case err := <-read:
		if err != nil {
			t.Fatalf("during the blocked drain: %v", err)
		}
	case err := <-scaled:
		t.Fatalf("the scale-down ended before the budget was removed (%v): the reads proved nothing", err)
	case <-time.After(time.Minute):
		t.Fatal("the reads still wait for the blocked drain after a minute")
	}
	unblock()
	if err := <-scaled; err != nil {
		t.Fatalf("scale-down once the budget is gone: %v", err)
	}
}
