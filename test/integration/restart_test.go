package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestRestartKeepsClusters stops `mlfleet serve` gracefully and starts it again: the
// cluster's API server comes back with its objects, its CA and its address (so existing
// kubeconfigs keep working).
func TestRestartKeepsClusters(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	p, cfg := startServerProcess(t, home, "127.0.0.1:0")
	port := serverPort(cfg)
	c := homeClient(t, home, "rg")
	ctx := context.Background()
	k := clusterWithSurvivor(t, c, "rg", "keep")

	p.terminate(t)
	if _, err := k.Discovery().ServerVersion(); err == nil {
		t.Fatal("the cluster's API server still answers after mlfleet stopped")
	}

	startServerProcess(t, home, "127.0.0.1:"+port)
	// The old kubeconfig works again once the cluster is back, and the object is there.
	testutil.Eventually(t, 60*time.Second, "cluster back after restart", func() error {
		_, err := k.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
		return err
	})
	testutil.Eventually(t, 30*time.Second, "node ready after restart", nodeCount(ctx, k, 1))
	mc, err := c.GetManagedCluster(ctx, "rg", "keep")
	if err != nil || mc.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("cluster after restart: %v %+v", err, mc)
	}
}

// clusterWithSurvivor creates the one-node cluster name in rg and in it the ConfigMap
// default/survivor with data k=v, the object a restart must keep; it returns the cluster's
// admin client.
func clusterWithSurvivor(t *testing.T, c *mlfleet.Client, rg, name string) *kubernetes.Clientset {
	t.Helper()
	ctx := context.Background()
	createCluster(t, c, rg, name, 1, "Standard_D2_v2", nil)
	admin, err := c.ClusterCredentials(ctx, rg, name, true)
	if err != nil {
		t.Fatal(err)
	}
	k := kubeClient(t, admin)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"k": "v"}}
	if _, err := k.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVersionsFile: `serve --versions-file` replaces the version catalog without a rebuild,
// per location (S7).
func TestVersionsFile(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	file := filepath.Join(home, "versions.json")
	catalog := `{"locations":{"*":[{"version":"1.37.2","default":true}],"westeurope":[{"version":"1.36.3"},{"version":"1.37.2","default":true,"preview":true}]}}`
	if err := os.WriteFile(file, []byte(catalog), 0o600); err != nil {
		t.Fatal(err)
	}
	startServerProcess(t, home, "127.0.0.1:0", "--versions-file", file)
	c := clientOf(t, home)
	o, err := c.KubernetesVersions(context.Background(), "West Europe")
	if err != nil {
		t.Fatal(err)
	}
	list := o.Properties.Orchestrators
	if len(list) != 2 || list[0].OrchestratorVersion != "1.37.2" || list[0].IsPreview == nil || !*list[0].IsPreview || list[1].OrchestratorVersion != "1.36.3" {
		t.Fatalf("westeurope from the file: %+v", list)
	}
	o, err = c.KubernetesVersions(context.Background(), "eastus")
	if err != nil || len(o.Properties.Orchestrators) != 1 {
		t.Fatalf("eastus from the file's '*': %+v %v", o, err)
	}
}
