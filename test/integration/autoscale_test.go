package integration

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestClusterAutoscaler: through the CLI, a 3 × Standard_D3_v2 cluster gets the cluster
// autoscaler (min 3, max 6, fast profile); manual scaling is then refused; a Deployment of
// 20 pods of one cpu grows the pool to 6 nodes and the managedCluster's count follows;
// scaled down to 2 pods, the pool goes back to 3 nodes and the count with it (B6).
func TestClusterAutoscaler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const rg, name = "autoscale-rg", "asaks"
	mustCLI(t, "group", "create", "-n", rg, "-l", "westus")
	mustCLI(t, "aks", "create", "-n", name, "-g", rg, "--node-count", "3", "--node-vm-size", "Standard_D3_v2")
	out := mustCLI(t, "aks", "update", "-n", name, "-g", rg, "--enable-cluster-autoscaler", "--min-count", "3", "--max-count", "6",
		// A drain that fails on a loaded machine (an eviction not done in time) would otherwise
		// hold every scale-down for the default 3 minutes, past the wait below.
		"--cluster-autoscaler-profile", "scan-interval=1s scale-down-unneeded-time=5s scale-down-delay-after-add=0s scale-down-delay-after-failure=5s",
		"--query", "[agentPoolProfiles[0].enableAutoScaling, agentPoolProfiles[0].maxCount, autoScalerProfile.scanInterval, autoScalerProfile.expander]", "-o", "tsv")
	if got := strings.Fields(out); strings.Join(got, " ") != "True 6 1s random" && strings.Join(got, " ") != "true 6 1s random" {
		t.Fatalf("aks update --enable-cluster-autoscaler: %q", out)
	}
	r := mlfleetCLI(t, "aks", "scale", "-n", name, "-g", rg, "--node-count", "4")
	if r.code == 0 || !strings.Contains(r.err, "Cannot scale cluster autoscaler enabled node pool") {
		t.Fatalf("aks scale of an autoscaled pool: %+v", r)
	}

	c := sdk(t)
	k := clusterAdmin(t, rg, name)
	count := func(want int) func() error {
		return func() error {
			mc, err := c.GetManagedCluster(ctx, rg, name)
			if err != nil {
				return err
			}
			if got := mc.Properties.AgentPoolProfiles[0].Count; got != want {
				return fmt.Errorf("count %d, want %d", got, want)
			}
			return nodeCount(ctx, k, want)()
		}
	}
	if _, err := k.AppsV1().Deployments("default").Create(ctx, burstDeployment(20), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 90*time.Second, "the pool grown to its maximum, count following", count(6))
	// The deployment controller writes the object too: retry on a conflict, as kubectl does.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := k.AppsV1().Deployments("default").GetScale(ctx, "burst", metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = 2
		_, err = k.AppsV1().Deployments("default").UpdateScale(ctx, "burst", scale, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 120*time.Second, "the pool back at its minimum, count following", count(3))
	mustCLI(t, "aks", "delete", "-n", name, "-g", rg, "--yes")
}

// TestKillDuringAutoscale: the server is killed with SIGKILL as soon as the autoscaler has
// recorded a scale-up; after a restart the cluster comes back with the recorded count, the
// autoscaler goes on to the maximum, and the stored count matches the live nodes (B6, N5).
func TestKillDuringAutoscale(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	p, cfg := startServerProcess(t, home, "127.0.0.1:0")
	port := serverPort(cfg)
	const rg, name = "killscale", "killaks"
	c := homeClient(t, home, rg)
	ctx := context.Background()
	createCluster(t, c, rg, name, 3, "Standard_D3_v2", func(in *mlfleet.ClusterInput) {
		on, lo, hi := true, 3, 6
		ap := &in.Properties.AgentPoolProfiles[0]
		ap.EnableAutoScaling, ap.MinCount, ap.MaxCount = &on, &lo, &hi
		in.Properties.AutoScalerProfile = mlfleet.AutoScalerProfile{"scan-interval": "1s", "scale-down-delay-after-add": "10m"}
	})
	storedCount := func() int {
		mc, err := c.GetManagedCluster(ctx, rg, name)
		if err != nil {
			return -1
		}
		return mc.Properties.AgentPoolProfiles[0].Count
	}
	kc, err := c.ClusterCredentials(ctx, rg, name, true)
	if err != nil {
		t.Fatal(err)
	}
	k := kubeClient(t, kc)
	if _, err := k.AppsV1().Deployments("default").Create(ctx, burstDeployment(20), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 60*time.Second, "a recorded scale-up", func() error {
		if n := storedCount(); n <= 3 {
			return fmt.Errorf("count %d", n)
		}
		return nil
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p2, _ := startServerProcess(t, home, "127.0.0.1:"+port)
	kc, err = c.ClusterCredentials(ctx, rg, name, true)
	if err != nil {
		t.Fatalf("credentials after restart: %v\n%s", err, p2.logs)
	}
	k = kubeClient(t, kc)
	testutil.Eventually(t, 90*time.Second, "the pool at its maximum after the restart, count following", func() error {
		if n := storedCount(); n != 6 {
			return fmt.Errorf("count %d", n)
		}
		return nodeCount(ctx, k, 6)()
	})
}

// burstDeployment is a Deployment "burst" of pods requesting one cpu each.
func burstDeployment(replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "burst"}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "burst"}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}},
	}}
}
