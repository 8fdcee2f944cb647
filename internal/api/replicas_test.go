package api

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/store"
)

// TestListReplicas: the replica table with live and lost rows and the clusters by ARM id,
// for a principal with a role at the root; 403 for one whose role is in a subscription. A
// cluster that moved to another replica after a failover (its lease held by r2 now, while
// r1's row still reports it) is listed under r2 and marked stale under r1, not under both.
func TestListReplicas(t *testing.T) {
	a := newTestARM(t)
	ctx := context.Background()
	clusterID := subURL + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	movedID := subURL + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c2"
	a.group(t, "rg")
	for _, id := range []string{clusterID, movedID} {
		a.row(t, &store.Resource{ID: id, ParentID: subURL + "/resourceGroups/rg", Type: containerservice.TypeManagedCluster,
			Name: path.Base(id), SubscriptionID: testSub, ResourceGroup: "rg"}, map[string]any{})
	}
	moved := containerservice.ClusterID(movedID)
	for _, r := range []*store.Replica{
		{ID: "r1", Address: "10.0.0.1:8443", StartedAt: time.Now(), Clusters: []string{containerservice.ClusterID(clusterID), moved, "cgone"}},
		{ID: "r2", Address: "10.0.0.2:8443", StartedAt: time.Now()},
	} {
		if err := a.st.HeartbeatReplica(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// r1 held c2's lease and lost it (released here, as an expiry would leave it); r2 took
	// it over and has not beaten since.
	l, ok, err := a.st.AcquireClusterLease(ctx, moved, "r1", time.Minute)
	if err != nil || !ok {
		t.Fatalf("lease of c2 for r1: %v, %v", ok, err)
	}
	if err := a.st.ReleaseClusterLease(ctx, moved, "r1", l.Token); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.st.AcquireClusterLease(ctx, moved, "r2", time.Minute); err != nil || !ok {
		t.Fatalf("lease of c2 for r2: %v, %v", ok, err)
	}
	status, body := a.call(t, a.owner, http.MethodGet, "/mlfleet/v1/replicas", nil)
	if status != http.StatusOK {
		t.Fatalf("GET replicas: %d %v", status, body)
	}
	list, _ := body["value"].([]any)
	if len(list) != 2 {
		t.Fatalf("replicas: %v", body)
	}
	r1 := list[0].(map[string]any)
	clusters, _ := r1["clusters"].([]any)
	if r1["id"] != "r1" || r1["address"] != "10.0.0.1:8443" || r1["state"] != "Live" || fmt.Sprint(clusters) != "["+clusterID+"]" ||
		fmt.Sprint(r1["staleClusters"]) != "["+movedID+"]" {
		t.Fatalf("r1: %v; want clusters [%s] and staleClusters [%s]", r1, clusterID, movedID)
	}
	r2 := list[1].(map[string]any)
	if fmt.Sprint(r2["clusters"]) != "["+movedID+"]" || r2["staleClusters"] != nil {
		t.Fatalf("r2: %v; want clusters [%s] (its lease), no staleClusters", r2, movedID)
	}

	reader := a.principal(t, "Reader", subURL)
	if status, body := a.call(t, reader, http.MethodGet, "/mlfleet/v1/replicas", nil); status != http.StatusForbidden {
		t.Fatalf("a subscription reader lists replicas: %d %v", status, body)
	}
}
