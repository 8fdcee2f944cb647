package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestComputeKeepsItsParentsCase: names are case-insensitive and case-preserving (A1). A
// compute attached through a path that cases its resource group and workspace otherwise
// than they were created gets an id built on the workspace's own id: its group and
// workspace segments as created, its own name as the attach spelled it. The attachment
// marker written into the cluster carries that id, a PUT through yet another casing
// renames nothing, and the generic resource list shows the group one way only.
func TestComputeKeepsItsParentsCase(t *testing.T) {
	t.Parallel()
	rg, ws := "case-rg", "case-ws"
	newWorkspace(t, rg, ws)
	mc := createCluster(t, sdk(t), rg, "casecluster", 2, "Standard_D3_v2", nil)
	want := wsPath(rg, ws) + "/computes/MixCase"

	attach := fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q,"properties":{"clusterPurpose":"DevTest"}}}`, mc.ID)
	a := putCompute(t, "CASE-RG", "Case-WS", "MixCase", attach, "")
	must(t, a, http.StatusCreated)
	if a.body["id"] != want {
		t.Errorf("attach answered id %v, want %s", a.body["id"], want)
	}
	op, c := waitPut(t, a, "Case-Rg", "CASE-WS", "mixcase")
	if op["status"] != "Succeeded" {
		t.Fatalf("attach: %v", op)
	}
	if c["id"] != want || c["name"] != "MixCase" {
		t.Errorf("GET through other cases: id %v name %v, want %s, MixCase", c["id"], c["name"], want)
	}
	cm, err := clusterAdmin(t, rg, "casecluster").CoreV1().ConfigMaps("kube-system").Get(context.Background(), "azureml-attachment", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["computeId"] != want {
		t.Errorf("the marker in the cluster says computeId %q, want %s", cm.Data["computeId"], want)
	}

	// An update through yet another casing keeps the id and name as created.
	up := putCompute(t, "case-RG", "case-ws", "MIXCASE", attach, "")
	if up.status != http.StatusOK && up.status != http.StatusCreated {
		t.Fatalf("update: %d %s", up.status, up.raw)
	}
	if up.body["id"] != want || up.body["name"] != "MixCase" {
		t.Errorf("update answered id %v name %v, want %s, MixCase", up.body["id"], up.body["name"], want)
	}
	waitOperation(t, up.header.Get("Azure-AsyncOperation"))

	list := do(t, call{method: "GET", path: rgPath(rg) + "/resources" + rgAPI})
	must(t, list, http.StatusOK)
	values, _ := list.body["value"].([]any)
	for _, v := range values {
		id, _ := v.(map[string]any)["id"].(string)
		if !strings.HasPrefix(id, rgPath(rg)+"/") {
			t.Errorf("resource list: %s does not spell the group %s as created", id, rg)
		}
	}
	if len(values) < 3 {
		t.Errorf("resource list of %s has %d resources, want the cluster, the workspace and the compute: %s", rg, len(values), list.raw)
	}
}
