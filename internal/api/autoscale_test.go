package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestAutoscaleRegisteredCluster: a registered cluster accepts az's update body as read
// (autoscaling off) and refuses to turn its autoscaler on, with the reason, on the cluster
// and on the agent pool; a bad autoscaler profile is a 400 naming every bad key.
func TestAutoscaleRegisteredCluster(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	id := succeededCluster(t, a, "rg1", "aks1", "1.36.3")
	path := id + "?api-version=2022-11-01"
	_, read := a.call(t, a.owner, http.MethodGet, path, nil)
	pool := read["properties"].(map[string]any)["agentPoolProfiles"].([]any)[0].(map[string]any)
	if pool["enableAutoScaling"] != false {
		t.Fatalf("pool = %v, want enableAutoScaling false", pool)
	}
	if status, out := a.call(t, a.owner, http.MethodPut, path, read); status != http.StatusOK {
		t.Fatalf("PUT as read = %d %v", status, out)
	}
	pool["enableAutoScaling"], pool["minCount"], pool["maxCount"] = true, 3, 6
	status, out := a.call(t, a.owner, http.MethodPut, path, read)
	if status != http.StatusBadRequest || !strings.Contains(dig(out, "error.message").(string), "scaled where they run") {
		t.Errorf("enable autoscaler on a registered cluster = %d %v", status, out)
	}
	status, out = a.call(t, a.owner, http.MethodPut, id+"/agentPools/nodepool1?api-version=2022-11-01",
		map[string]any{"properties": map[string]any{"enableAutoScaling": true, "minCount": 3, "maxCount": 6}})
	if status != http.StatusBadRequest {
		t.Errorf("agent pool PUT = %d %v", status, out)
	}
	_, read = a.call(t, a.owner, http.MethodGet, path, nil)
	read["properties"].(map[string]any)["autoScalerProfile"] = map[string]any{"scan-interval": "soon", "expandr": "random"}
	status, out = a.call(t, a.owner, http.MethodPut, path, read)
	msg, _ := dig(out, "error.message").(string)
	if status != http.StatusBadRequest || !strings.Contains(msg, "'scan-interval' is 'soon'") || !strings.Contains(msg, "'expandr'") {
		t.Errorf("bad profile = %d %v", status, out)
	}
}
