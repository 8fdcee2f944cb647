package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestComputeKillAndVersions runs its own server process: it is killed with SIGKILL in the
// middle of a compute create and of an attach, and restarted; each operation ends in a
// terminal state with nothing orphaned and nothing installed twice (A4, N5). Then the
// server restarts with a version catalog that no longer supports the clusters' version:
// an attach of a cluster that is too small and too old reports both together (S5, S9, B1),
// and a preview version attaches with a warning (S9).
func TestComputeKillAndVersions(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	p, cfg := startServerProcess(t, home, "127.0.0.1:0", "--fault-step-delay", "300ms")
	port := serverPort(cfg)
	addr := "127.0.0.1:" + port
	c := homeClient(t, home, "kv", mlfleet.WithPollInterval(100*time.Millisecond))
	ctx := context.Background()
	if _, err := c.CreateWorkspace(ctx, "kv", "kvws", "westus"); err != nil {
		t.Fatal(err)
	}
	kill := func(p *serverProcess, why string) {
		t.Helper()
		t.Logf("killing the server: %s", why)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
	}
	admin := func(cluster string) kubernetes.Interface {
		t.Helper()
		var k kubernetes.Interface
		testutil.Eventually(t, 60*time.Second, "cluster "+cluster+" to answer", func() error {
			kc, err := c.ClusterCredentials(ctx, "kv", cluster, true)
			if err != nil {
				return err
			}
			k = kubeClient(t, kc)
			_, err = k.Discovery().ServerVersion()
			return err
		})
		return k
	}
	waitCompute := func(name string) *mlfleet.Compute {
		t.Helper()
		var got *mlfleet.Compute
		testutil.Eventually(t, 90*time.Second, "compute "+name+" to finish", func() error {
			var err error
			if got, err = c.GetCompute(ctx, "kv", "kvws", name); err != nil {
				return err
			}
			if s := got.Properties.ProvisioningState; s == "Creating" || s == "Updating" {
				return fmt.Errorf("still %s", s)
			}
			return nil
		})
		return got
	}

	// 1. Kill during a create from the workspace, once its cluster exists.
	dev := func(n int) *mlfleet.AKSProperties {
		return &mlfleet.AKSProperties{AgentCount: &n, ClusterPurpose: strp("DevTest")}
	}
	in := &mlfleet.Compute{Location: "westus", Properties: mlfleet.ComputeProperties{ComputeType: "AKS", Properties: dev(1)}}
	if _, _, err := c.BeginCreateOrUpdateCompute(ctx, "kv", "kvws", "kvcreate", in, nil); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 60*time.Second, "the created cluster to run", func() error {
		mc, err := c.GetManagedCluster(ctx, "kv", "kvcreate")
		if err != nil {
			return err
		}
		if mc.Properties.ProvisioningState != "Succeeded" {
			return fmt.Errorf("cluster %s", mc.Properties.ProvisioningState)
		}
		return nil
	})
	kill(p, "compute create under way, its cluster just created")
	p, _ = startServerProcess(t, home, addr)
	got := waitCompute("kvcreate")
	if got.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("create after restart: %s %+v\n%s", got.Properties.ProvisioningState, got.Properties.ProvisioningErrors, p.logs)
	}
	clusters, err := c.ListManagedClusters(ctx, "kv")
	if err != nil || len(clusters) != 1 {
		t.Fatalf("clusters after the resumed create: %d %v", len(clusters), err)
	}
	k := admin("kvcreate")
	deps, err := k.AppsV1().Deployments("azureml").List(ctx, metav1.ListOptions{})
	if err != nil || len(deps.Items) != 1 || deps.Items[0].Status.ReadyReplicas != 1 {
		t.Fatalf("components after the resumed create: %v %+v", err, deps)
	}
	if !strings.Contains(p.logs.String(), "resuming operation") {
		t.Errorf("the restarted server did not log resuming the operation")
	}

	// 2. Kill during an attach, between marking the cluster and installing the components.
	_, cp, err := c.BeginCreateManagedCluster(ctx, "kv", "kvsmall", oneNodeCluster())
	finish(ctx, t, "create managed cluster", cp, err)
	preview := oneNodeCluster()
	preview.Location = "eastus"
	_, cp, err = c.BeginCreateManagedCluster(ctx, "kv", "kvpreview", preview)
	finish(ctx, t, "create managed cluster", cp, err)
	p2ready := p
	kill(p2ready, "restart with the step delay for the attach")
	p, _ = startServerProcess(t, home, addr, "--fault-step-delay", "300ms")
	ks := admin("kvsmall")
	small, _ := c.GetManagedCluster(ctx, "kv", "kvsmall")
	attach := &mlfleet.Compute{Location: "westus", Properties: mlfleet.ComputeProperties{ComputeType: "AKS", ResourceID: &small.ID,
		Properties: &mlfleet.AKSProperties{ClusterPurpose: strp("DevTest")}}}
	if _, _, err := c.BeginCreateOrUpdateCompute(ctx, "kv", "kvws", "kvattach", attach, nil); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 60*time.Second, "the attachment marker", func() error {
		_, err := ks.CoreV1().ConfigMaps("kube-system").Get(ctx, "azureml-attachment", metav1.GetOptions{})
		return err
	})
	kill(p, "attach under way, cluster marked")
	p, _ = startServerProcess(t, home, addr)
	if got := waitCompute("kvattach"); got.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("attach after restart: %s %+v", got.Properties.ProvisioningState, got.Properties.ProvisioningErrors)
	}
	ks = admin("kvsmall")
	deps, err = ks.AppsV1().Deployments("azureml").List(ctx, metav1.ListOptions{})
	if err != nil || len(deps.Items) != 1 {
		t.Fatalf("components after the resumed attach: %v %d", err, len(deps.Items))
	}
	dp, err := c.BeginDeleteCompute(ctx, "kv", "kvws", "kvattach", mlfleet.ActionDetach)
	finish(ctx, t, "delete compute", dp, err)

	// 3. A catalog without the clusters' version: westus supports 1.35.4 and 1.36.3 only;
	// elsewhere 1.37.2 is a preview.
	catalog := filepath.Join(t.TempDir(), "versions.json")
	if err := os.WriteFile(catalog, []byte(`{"locations":{
		"westus":[{"version":"1.35.4"},{"version":"1.36.3","default":true}],
		"*":[{"version":"1.36.3","default":true},{"version":"1.37.2","preview":true}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	kill(p, "restart with another version catalog")
	startServerProcess(t, home, addr, "--versions-file", catalog)
	admin("kvsmall")
	_, _, err = c.BeginCreateOrUpdateCompute(ctx, "kv", "kvws", "kvold", &mlfleet.Compute{Properties: mlfleet.ComputeProperties{ComputeType: "AKS", ResourceID: &small.ID}}, nil)
	var e *mlfleet.Error
	if !asError(err, &e) || e.StatusCode != 400 || e.Code != "UserError" || len(e.Details) != 3 {
		t.Fatalf("attach of a small, unsupported cluster: %v", err)
	}
	all := fmt.Sprint(e.Message)
	for _, want := range []string{"Kubernetes 1.37.2, which is not supported in westus", "1.35.4, 1.36.3", "at least 12 vCPUs", "at least 3 nodes"} {
		if !strings.Contains(all, want) {
			t.Errorf("error lacks %q: %s", want, all)
		}
	}
	admin("kvpreview")
	pv, _ := c.GetManagedCluster(ctx, "kv", "kvpreview")
	res, poller, err := c.BeginCreateOrUpdateCompute(ctx, "kv", "kvws", "kvpreview", &mlfleet.Compute{Properties: mlfleet.ComputeProperties{ComputeType: "AKS", ResourceID: &pv.ID,
		Properties: &mlfleet.AKSProperties{ClusterPurpose: strp("DevTest")}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Properties.Mlfleet.Warnings) == 0 || !strings.Contains(res.Properties.Mlfleet.Warnings[0], "preview") {
		t.Fatalf("preview attach without a warning: %+v", res.Properties.Mlfleet)
	}
	if _, err := poller.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func asError(err error, target **mlfleet.Error) bool {
	e, ok := err.(*mlfleet.Error)
	if ok {
		*target = e
	}
	return ok
}
