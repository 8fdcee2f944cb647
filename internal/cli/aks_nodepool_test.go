package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// poolServer is a fake of the agent pool np1 of cluster c1 in rg1: it answers GET and
// PUT with the pool and records the properties of every PUT body.
func poolServer(t *testing.T) (*httptest.Server, func() []map[string]any) {
	const path = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/np1"
	var mu sync.Mutex
	var puts []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path || r.Method != http.MethodGet && r.Method != http.MethodPut {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
			return
		}
		if r.Method == http.MethodPut {
			var body struct {
				Properties map[string]any `json:"properties"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mu.Lock()
			puts = append(puts, body.Properties)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": path, "name": "np1", "type": "Microsoft.ContainerService/managedClusters/agentPools",
			"properties": map[string]any{"count": 2, "vmSize": "Standard_D3_v2", "provisioningState": "Succeeded"}})
	}))
	t.Cleanup(srv.Close)
	return srv, func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return append([]map[string]any(nil), puts...)
	}
}

// TestNodepoolUpdateLabelsTaints: --labels and --node-taints take az's grammar (labels
// space-separated key=value, in one value or several; taints comma-separated) and become
// the PUT body's nodeLabels and nodeTaints; "" sends an empty map or list, which clears
// them; a flag not given leaves its field out, which keeps what the pool has.
func TestNodepoolUpdateLabelsTaints(t *testing.T) {
	fake, puts := poolServer(t)
	update := []string{"aks", "nodepool", "update", "--cluster-name", "c1", "-g", "rg1", "-n", "np1", "-o", "none"}
	// The fields the flags set; any other field of the body is the same for every case.
	fields := []string{"nodeLabels", "nodeTaints", "enableAutoScaling", "minCount", "maxCount"}
	cases := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"one label", []string{"--labels", "team=qa"}, map[string]any{"nodeLabels": map[string]any{"team": "qa"}}},
		{"labels as several words", []string{"--labels", "team=qa", "tier=gpu", "empty="},
			map[string]any{"nodeLabels": map[string]any{"team": "qa", "tier": "gpu", "empty": ""}}},
		{"several words, then a flag", []string{"--labels", "team=qa", "tier=gpu", "--node-taints", ""},
			map[string]any{"nodeLabels": map[string]any{"team": "qa", "tier": "gpu"}, "nodeTaints": []any{}}},
		{"labels in one quoted value", []string{"--labels", "team=qa tier=gpu"}, map[string]any{"nodeLabels": map[string]any{"team": "qa", "tier": "gpu"}}},
		{"clear labels", []string{"--labels", ""}, map[string]any{"nodeLabels": map[string]any{}}},
		{"taints", []string{"--node-taints", "sku=gpu:NoSchedule, dedicated=ml:NoExecute"},
			map[string]any{"nodeTaints": []any{"sku=gpu:NoSchedule", "dedicated=ml:NoExecute"}}},
		{"clear taints", []string{"--node-taints", ""}, map[string]any{"nodeTaints": []any{}}},
		{"labels, taints and autoscaler", []string{"--labels", "a=1", "--node-taints", "k=v:NoSchedule", "--enable-cluster-autoscaler", "--min-count", "1", "--max-count", "3"},
			map[string]any{"nodeLabels": map[string]any{"a": "1"}, "nodeTaints": []any{"k=v:NoSchedule"}, "enableAutoScaling": true, "minCount": 1.0, "maxCount": 3.0}},
		{"autoscaler alone", []string{"--enable-cluster-autoscaler", "--min-count", "2", "--max-count", "4"}, map[string]any{"enableAutoScaling": true, "minCount": 2.0, "maxCount": 4.0}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runAgainst(t, fake, append(update, tc.args...)...)
			sent := puts()
			if code != 0 || len(sent) != i+1 {
				t.Fatalf("exit %d, %d PUTs, stderr %q", code, len(sent), errOut)
			}
			got := map[string]any{}
			for _, f := range fields {
				if v, ok := sent[i][f]; ok {
					got[f] = v
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PUT body sets %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNodepoolUpdateUsage: a label that is not key=value, words with no --labels to
// belong to, and an update with nothing to change are usage errors, with no request sent.
func TestNodepoolUpdateUsage(t *testing.T) {
	fake, puts := poolServer(t)
	update := []string{"aks", "nodepool", "update", "--cluster-name", "c1", "-g", "rg1", "-n", "np1"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"label without value", []string{"--labels", "team"}, `invalid label "team"`},
		{"label without key", []string{"--labels", "=qa"}, `invalid label "=qa"`},
		{"label with two =", []string{"--labels", "a=b=c"}, `invalid label "a=b=c"`},
		{"words without --labels", []string{"--node-taints", "k=v:NoSchedule", "extra"}, `unknown command "extra"`},
		{"words after another flag", []string{"--labels", "a=1", "--node-taints", "k=v:NoSchedule", "b=2"}, `unknown command "b=2"`},
		{"nothing to update", nil, "nothing to update"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runAgainst(t, fake, append(update, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
		})
	}
	if sent := puts(); len(sent) != 0 {
		t.Errorf("%d PUTs sent, want none", len(sent))
	}
}
