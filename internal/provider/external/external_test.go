package external

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
)

// fakeAPIServer answers what the provider reads: /version, the nodes and, when status is
// not "", kube-system/cluster-autoscaler-status.
func fakeAPIServer(t *testing.T, status string) *httptest.Server {
	t.Helper()
	node := func(name, pool string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": name, "labels": map[string]any{"agentpool": pool, "node.kubernetes.io/instance-type": "Standard_D3_v2"}},
			"status": map[string]any{"capacity": map[string]any{"cpu": "4", "memory": "14Gi"}}}
	}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/version", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]any{"major": "1", "minor": "31", "gitVersion": "v1.31.2"})
	})
	mux.HandleFunc("/api/v1/nodes", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]any{"kind": "NodeList", "apiVersion": "v1", "items": []any{
			node("aks-nodepool1-1-vmss000000", "nodepool1"), node("aks-nodepool1-1-vmss000001", "nodepool1"), node("aks-user-1-vmss000000", "user")}})
	})
	mux.HandleFunc("/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status", func(w http.ResponseWriter, _ *http.Request) {
		if status == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
				"message": `configmaps "cluster-autoscaler-status" not found`})
			return
		}
		reply(w, map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": map[string]any{"name": "cluster-autoscaler-status", "namespace": "kube-system"},
			"data": map[string]any{"status": status}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestAutoscalerReported: the pools the cluster's autoscaler names in its status come with
// its bounds; the others, and every pool of a cluster without that status, without.
func TestAutoscalerReported(t *testing.T) {
	status := "Cluster-autoscaler status at 2024-01-10 10:00:00 +0000 UTC:\nNodeGroups:\n  Name:        aks-nodepool1-1-vmss\n" +
		"  Health:      Healthy (ready=2 unready=0 registered=2 cloudProviderTarget=2 (minSize=1, maxSize=4))\n"
	for _, tt := range []struct {
		name   string
		status string
		want   map[string]*provider.PoolBounds
	}{
		{"autoscaled", status, map[string]*provider.PoolBounds{"nodepool1": {Min: 1, Max: 4}}},
		{"no autoscaler", "", map[string]*provider.PoolBounds{}},
	} {
		srv := fakeAPIServer(t, tt.status)
		p := New(catalog.DefaultVMSizes())
		st, err := p.Ensure(context.Background(), provider.ClusterSpec{ID: "c1", Name: "c1", Kubeconfig: providertest.Kubeconfig(srv.URL)})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(st.Pools) != 2 || st.Pools[0].Name != "nodepool1" || st.Pools[0].Count != 2 || st.Pools[1].Name != "user" {
			t.Fatalf("%s: pools = %+v", tt.name, st.Pools)
		}
		for _, pool := range st.Pools {
			got, want := pool.Autoscale, tt.want[pool.Name]
			if (got == nil) != (want == nil) || got != nil && *got != *want {
				t.Errorf("%s: pool %s autoscale = %v, want %v", tt.name, pool.Name, got, want)
			}
		}
		if err := p.Scale(context.Background(), "c1", provider.NodePool{Name: "nodepool1", Count: 3}); err != provider.ErrUnsupported {
			t.Errorf("%s: Scale = %v, want ErrUnsupported", tt.name, err)
		}
	}
}
