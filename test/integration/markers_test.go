package integration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestSweepMarkers (#10, "no orphaned marker"): a workspace deleted while its compute's
// cluster cannot be reached leaves the attachment marker and components in the cluster.
// Once the cluster can be reached again, the sweeper removes them, and the cluster can be
// attached again (without it, the marker would refuse every attach forever). mlfleet refuses
// ranges that leave its control plane out of an attached cluster, so the first compute is
// attached to the cluster registered a second time by its kubeconfig ('aks import'), and
// the ranges set on the first registration lock it out, as a change made outside mlfleet
// would. The new attach goes through the first registration while the second still knows
// the cluster: the sweeper, looking at the second, must tell the live marker from an
// orphan by the cluster's UID, not by the id the compute names.
func TestSweepMarkers(t *testing.T) {
	t.Parallel()
	p, c := ownServerWithCluster(t, "mk", "--sweep-interval", "1s", "--health-interval", "1h")
	ctx := context.Background()
	kc, err := c.ClusterCredentials(ctx, "mk", "mkc", true)
	if err != nil {
		t.Fatal(err)
	}
	_, ip, err := c.BeginImportManagedCluster(ctx, "mk", "mkreg", "westus", kc, "")
	finish(ctx, t, "import", ip, err)
	attach := func(ws, name, cluster string) {
		t.Helper()
		_, ap, err := c.BeginCreateOrUpdateCompute(ctx, "mk", ws, name, devTestAttach(c.AKSResourceID("mk", cluster)), nil)
		finish(ctx, t, "attach "+name, ap, err)
	}
	attach("mkws", "mkaks", "mkreg")
	k := kubeClient(t, kc)

	setRanges := func(ranges ...string) {
		t.Helper()
		in := &mlfleet.ClusterInput{}
		in.Properties.APIServerAccessProfile = &mlfleet.APIServerAccessProfile{AuthorizedIPRanges: ranges}
		_, up, err := c.BeginCreateManagedCluster(ctx, "mk", "mkc", in)
		finish(ctx, t, "update managed cluster", up, err)
	}
	setRanges("203.0.113.0/24") // the control plane can no longer reach the cluster
	dp, err := c.BeginDeleteWorkspace(ctx, "mk", "mkws")
	finish(ctx, t, "delete workspace", dp, err)
	setRanges()

	// Left behind, then swept.
	testutil.Eventually(t, 60*time.Second, "the sweeper to remove the orphaned marker and namespace", func() error {
		if _, err := k.CoreV1().ConfigMaps("kube-system").Get(ctx, kube.MarkerName, metav1.GetOptions{}); err == nil {
			return errors.New("the marker is still there")
		}
		if _, err := k.CoreV1().Namespaces().Get(ctx, "azureml", metav1.GetOptions{}); err == nil {
			return errors.New("namespace azureml is still there")
		}
		return nil
	})
	testutil.Eventually(t, 10*time.Second, "the sweeper to log what it removed", func() error {
		if !strings.Contains(p.logs.String(), "removed an orphaned attachment from a cluster") {
			return errors.New("not logged: was the marker left behind at all?")
		}
		return nil
	})
	// The cluster can be attached again.
	if _, err := c.CreateWorkspace(ctx, "mk", "mkws2", "westus"); err != nil {
		t.Fatal(err)
	}
	attach("mkws2", "mkaks2", "mkc")
	if _, err := k.CoreV1().ConfigMaps("kube-system").Get(ctx, kube.MarkerName, metav1.GetOptions{}); err != nil {
		t.Fatalf("marker after the new attach: %v\n%s", err, p.logs)
	}
}

// ownServerWithCluster starts a server of the test's own with flags, and in its resource
// group rg a workspace rg+"ws" and a one-node cluster rg+"c".
func ownServerWithCluster(t *testing.T, rg string, flags ...string) (*serverProcess, *mlfleet.Client) {
	t.Helper()
	home := t.TempDir()
	p, _ := startServerProcess(t, home, "127.0.0.1:0", flags...)
	c := homeClient(t, home, rg, mlfleet.WithPollInterval(100*time.Millisecond))
	ctx := context.Background()
	if _, err := c.CreateWorkspace(ctx, rg, rg+"ws", "westus"); err != nil {
		t.Fatal(err)
	}
	_, cp, err := c.BeginCreateManagedCluster(ctx, rg, rg+"c", oneNodeCluster())
	finish(ctx, t, "create managed cluster", cp, err)
	return p, c
}
