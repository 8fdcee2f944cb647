package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
)

// BenchmarkGetGroup measures the server's cost of one authenticated GET of a resource
// group (authentication with the caller's roles, authorization, request limits, the
// store read and the JSON answer), over loopback HTTP/1.1 on a real SQLite store.
//
//	go test -run '^$' -bench GetGroup ./internal/api/
func BenchmarkGetGroup(b *testing.B) {
	a := newAPIServer(b, Config{})
	benchGroup(b, a)
	benchGET(b, a, rgURL("bench"), "GET", nil)
}

// benchGroup makes the resource group bench.
func benchGroup(b testing.TB, a *apiServer) {
	b.Helper()
	if ans := a.call(b, a.admin, "PUT", rgURL("bench"), `{"location":"westus"}`); ans.status >= 300 {
		b.Fatalf("create group: %d %s", ans.status, ans.raw)
	}
}

// benchGET measures the reader's GET of url, which must answer 200 and pass check where
// check is not nil; what names the request when it does not.
func benchGET(b *testing.B, a *apiServer, url, what string, check func(answer) bool) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if ans := a.call(b, a.reader, "GET", url, ""); ans.status != http.StatusOK || check != nil && !check(ans) {
			b.Fatalf("%s: %d %s", what, ans.status, ans.raw)
		}
	}
}

// benchComputes makes a group, a workspace and n attached computes in it (rows as an
// attach leaves them; no cluster behind them) and returns the computes' URL.
func benchComputes(b testing.TB, a *apiServer, n int) string {
	b.Helper()
	benchGroup(b, a)
	wsURL := "/subscriptions/" + testSub + "/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	if ans := a.call(b, a.admin, "PUT", wsURL+"?api-version=2024-04-01", `{"location":"westus"}`); ans.status >= 300 {
		b.Fatalf("create workspace: %d %s", ans.status, ans.raw)
	}
	wsID := workspaces.ID(testSub, "bench", "ws1")
	for i := range n {
		name := fmt.Sprintf("c%d", i)
		id := compute.ID(testSub, "bench", "ws1", name)
		cluster := arm.ResourcePath(testSub, "bench", "Microsoft.ContainerService", "managedClusters", name)
		body, _ := json.Marshal(map[string]any{"id": id, "name": name, "type": compute.TypeCompute, "location": "westus",
			"properties": map[string]any{"computeType": "AKS", "computeLocation": "westus", "provisioningState": "Succeeded", "resourceId": cluster,
				"properties": map[string]any{"agentCount": 3, "agentVmSize": "Standard_D3_v2", "clusterPurpose": "DevTest", "clusterFqdn": name + ".westus.cloudapp.azure.com"}}})
		if err := a.store.CreateResource(context.Background(), &store.Resource{ID: id, ParentID: wsID, Type: compute.TypeCompute, Name: name,
			SubscriptionID: testSub, ResourceGroup: "bench", Location: "westus", Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	return wsURL + "/computes"
}

// BenchmarkGetCompute measures one authenticated GET of a compute (by a Reader of the
// subscription), client included, over loopback HTTP/1.1 on SQLite.
//
//	go test -run '^$' -bench 'GetCompute|ListComputes' ./internal/api/
func BenchmarkGetCompute(b *testing.B) {
	a := newAPIServer(b, Config{})
	url := benchComputes(b, a, 10) + "/c3?api-version=2024-04-01"
	benchGET(b, a, url, "GET", nil)
}

// BenchmarkListComputes measures one authenticated list of a workspace's ten computes.
func BenchmarkListComputes(b *testing.B) {
	a := newAPIServer(b, Config{})
	url := benchComputes(b, a, 10) + "?api-version=2024-04-01"
	benchGET(b, a, url, "list", func(ans answer) bool { return len(ans.body["value"].([]any)) == 10 })
}
