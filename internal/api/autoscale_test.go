package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestAutoscaleRegisteredCluster: a registered cluster accepts az's update body as read
// (autoscaling off) and refuses to turn its autoscaler on, with the reason, on the cluster
// and on the agent pool; a bad autoscaler profile is a 400 naming every bad key.
func TestAutoscaleRegisteredCluster(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
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
	if status != http.StatusBadRequest || !strings.Contains(testutil.Field(out, "error.message").(string), "scaled where they run") {
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
	msg, _ := testutil.Field(out, "error.message").(string)
	if status != http.StatusBadRequest || !strings.Contains(msg, "'scan-interval' is 'soon'") || !strings.Contains(msg, "'expandr'") {
		t.Errorf("bad profile = %d %v", status, out)
	}
	// A scan interval of 0 would be shown but not used (the runtime scans at the
	// default): it is refused, naming the key.
	read["properties"].(map[string]any)["autoScalerProfile"] = map[string]any{"scan-interval": "0s"}
	status, out = a.call(t, a.owner, http.MethodPut, path, read)
	msg, _ = testutil.Field(out, "error.message").(string)
	if status != http.StatusBadRequest || testutil.Field(out, "error.target") != "properties.autoScalerProfile.scan-interval" || !strings.Contains(msg, "use a duration above zero") {
		t.Errorf("scan-interval 0s = %d %v", status, out)
	}
	// A key mlfleet's autoscaler does not implement takes only AKS's default.
	read["properties"].(map[string]any)["autoScalerProfile"] = map[string]any{"max-node-provision-time": "20m"}
	status, out = a.call(t, a.owner, http.MethodPut, path, read)
	msg, _ = testutil.Field(out, "error.message").(string)
	if status != http.StatusBadRequest || testutil.Field(out, "error.code") != "InvalidParameter" ||
		testutil.Field(out, "error.target") != "properties.autoScalerProfile.max-node-provision-time" ||
		!strings.Contains(msg, "'max-node-provision-time' is '20m': mlfleet's cluster autoscaler does not implement it, so it accepts only 15m") {
		t.Errorf("max-node-provision-time 20m = %d %v", status, out)
	}
}

// TestAutoscaleRegisteredAutoscaled: a registered cluster whose own autoscaler manages a
// pool (as record stores what the external provider read) shows its range; az's update
// body as read is accepted, and every change of the autoscaling, the count or the
// profile is a 400 that says the cluster is scaled where it runs.
func TestAutoscaleRegisteredAutoscaled(t *testing.T) {
	t.Parallel()
	a, id := clusterARM(t)
	ctx := context.Background()
	r, err := a.st.GetResource(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var mc armapi.ManagedCluster
	if err := json.Unmarshal(r.Body, &mc); err != nil {
		t.Fatal(err)
	}
	lo, hi := 2, 5
	ap := &mc.Properties.AgentPoolProfiles[0]
	ap.EnableAutoScaling, ap.MinCount, ap.MaxCount = true, &lo, &hi
	r.Body, _ = json.Marshal(&mc)
	if err := a.st.UpdateResource(ctx, r); err != nil {
		t.Fatal(err)
	}
	path := id + "?api-version=2022-11-01"
	_, read := a.call(t, a.owner, http.MethodGet, path, nil)
	if testutil.Field(read, "properties.agentPoolProfiles") == nil {
		t.Fatalf("GET = %v", read)
	}
	pool := read["properties"].(map[string]any)["agentPoolProfiles"].([]any)[0].(map[string]any)
	if pool["enableAutoScaling"] != true || pool["minCount"] != 2.0 || pool["maxCount"] != 5.0 || pool["count"] != 3.0 {
		t.Fatalf("pool = %v, want autoscaling 2..5 with count 3", pool)
	}
	if status, out := a.call(t, a.owner, http.MethodPut, path, read); status != http.StatusOK {
		t.Fatalf("PUT as read = %d %v", status, out)
	}
	changes := []struct {
		name   string
		change func(p, props map[string]any)
		msg    string
	}{
		{"max", func(p, _ map[string]any) { p["maxCount"] = 6 }, "scaled where they run"},
		{"disable", func(p, _ map[string]any) { p["enableAutoScaling"], p["minCount"], p["maxCount"] = false, nil, nil }, "scaled where they run"},
		{"count", func(p, _ map[string]any) { p["count"] = 4 }, "disable the cluster autoscaler first"},
		{"profile", func(_, props map[string]any) { props["autoScalerProfile"] = map[string]any{"scan-interval": "30s"} }, "scaled where they run"},
	}
	for _, c := range changes {
		_, body := a.call(t, a.owner, http.MethodGet, path, nil)
		props := body["properties"].(map[string]any)
		c.change(props["agentPoolProfiles"].([]any)[0].(map[string]any), props)
		status, out := a.call(t, a.owner, http.MethodPut, path, body)
		msg, _ := testutil.Field(out, "error.message").(string)
		if status != http.StatusBadRequest || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: PUT = %d %v, want 400 with %q", c.name, status, out, c.msg)
		}
	}
	status, out := a.call(t, a.owner, http.MethodPut, id+"/agentPools/nodepool1?api-version=2022-11-01",
		map[string]any{"properties": map[string]any{"enableAutoScaling": true, "minCount": 1, "maxCount": 4}})
	if status != http.StatusBadRequest {
		t.Errorf("agent pool PUT = %d %v", status, out)
	}
	_, after := a.call(t, a.owner, http.MethodGet, path, nil)
	if testutil.Field(after, "properties.provisioningState") != "Succeeded" {
		t.Errorf("cluster after refusals = %v", after)
	}
}
