package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAttachCountsSchedulableNodes: a cluster whose only pool is tainted NoSchedule has no
// node the inference front-end can be scheduled on, so the attach's Capacity check refuses
// it up front, naming the taint, instead of passing and timing out minutes later. Once
// the taint is removed, the same dry run passes.
func TestAttachCountsSchedulableNodes(t *testing.T) {
	t.Parallel()
	const rg, ws, cluster = "at-rg", "at-ws", "attaint"
	newWorkspace(t, rg, ws)
	mc := createCluster(t, sdk(t), rg, cluster, 1, "Standard_D3_v2", func(in *mlfleet.ClusterInput) {
		in.Properties.AgentPoolProfiles[0].NodeTaints = []string{"sku=gpu:NoSchedule"}
	})
	k := clusterAdmin(t, rg, cluster)
	tainted := func(want bool) func() (bool, string) {
		return func() (bool, string) {
			nodes, err := k.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
			if err != nil || len(nodes.Items) == 0 {
				return false, fmt.Sprintf("nodes: %v", err)
			}
			for _, n := range nodes.Items {
				if (len(n.Spec.Taints) > 0) != want {
					return false, fmt.Sprintf("node %s taints %v", n.Name, n.Spec.Taints)
				}
			}
			return true, ""
		}
	}
	testutil.WaitFor(t, 30*time.Second, "the pool's taint on its node", tainted(true))
	body := fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q,"properties":{"clusterPurpose":"DevTest"}}}`, mc.ID)
	dry := putCompute(t, rg, ws, "atcomp", body, "&validateOnly=true")
	must(t, dry, http.StatusBadRequest)
	for _, want := range []string{"No node of cluster 'attaint' can run the inference front-end", "taint sku=gpu:NoSchedule", "--node-taints"} {
		if !strings.Contains(dry.raw, want) {
			t.Errorf("refusal lacks %q: %s", want, dry.raw)
		}
	}

	mustCLI(t, "aks", "nodepool", "update", "--cluster-name", cluster, "-g", rg, "-n", "nodepool1", "--node-taints", "")
	testutil.WaitFor(t, 30*time.Second, "the taint gone from the node", tainted(false))
	dry = putCompute(t, rg, ws, "atcomp", body, "&validateOnly=true")
	must(t, dry, http.StatusOK)
	if !strings.Contains(dry.raw, "1 node, 4 vCPUs: enough for DevTest") {
		t.Errorf("dry run after the taint went: %s", dry.raw)
	}
}
