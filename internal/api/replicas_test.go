package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/store"
)

// TestListReplicas: the replica table with live and lost rows and the clusters by ARM id,
// for a principal with a role at the root; 403 for one whose role is in a subscription.
func TestListReplicas(t *testing.T) {
	a := newTestARM(t)
	ctx := context.Background()
	clusterID := subURL + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	a.group(t, "rg")
	a.row(t, &store.Resource{ID: clusterID, ParentID: subURL + "/resourceGroups/rg", Type: containerservice.TypeManagedCluster,
		Name: "c1", SubscriptionID: testSub, ResourceGroup: "rg"}, map[string]any{})
	for _, r := range []*store.Replica{
		{ID: "r1", Address: "10.0.0.1:8443", StartedAt: time.Now(), Clusters: []string{containerservice.ClusterID(clusterID), "cgone"}},
		{ID: "r2", Address: "10.0.0.2:8443", StartedAt: time.Now()},
	} {
		if err := a.st.HeartbeatReplica(ctx, r); err != nil {
			t.Fatal(err)
		}
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
	if r1["id"] != "r1" || r1["address"] != "10.0.0.1:8443" || r1["state"] != "Live" || len(clusters) != 1 || clusters[0] != clusterID {
		t.Fatalf("r1: %v", r1)
	}

	reader := a.principal(t, "Reader", subURL)
	if status, body := a.call(t, reader, http.MethodGet, "/mlfleet/v1/replicas", nil); status != http.StatusForbidden {
		t.Fatalf("a subscription reader lists replicas: %d %v", status, body)
	}
}
