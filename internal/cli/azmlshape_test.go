package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

const azmlWS = "/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"

// The ARM bodies below are what mlfleet's server answers; the shapes are azure-ai-ml's
// entities as az ml prints them.
var (
	armEndpoint = `{
		"id": "` + azmlWS + `/onlineEndpoints/ep", "name": "ep", "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
		"location": "westus", "kind": "K8S", "identity": {"type": "SystemAssigned"},
		"systemData": {"createdAt": "2026-11-30T11:26:43Z"},
		"properties": {"authMode": "AMLToken", "compute": "` + azmlWS + `/computes/aks", "traffic": {"blue": 100},
			"scoringUri": "https://127.0.0.1:9000/ep/score", "swaggerUri": "https://127.0.0.1:9000/ep/swagger.json",
			"provisioningState": "Succeeded", "mlfleet": {"message": "ok"}}
	}`
	armDeployment = `{
		"id": "` + azmlWS + `/onlineEndpoints/ep/deployments/blue", "name": "blue", "location": "westus",
		"sku": {"name": "Default", "capacity": 2},
		"properties": {"endpointComputeType": "Kubernetes", "model": "` + azmlWS + `/models/m/versions/1",
			"codeConfiguration": {"codeId": "` + azmlWS + `/codes/c/versions/1", "scoringScript": "score.py"},
			"environmentId": "` + azmlWS + `/environments/e/versions/1", "environmentVariables": {"A": "1"},
			"instanceType": "defaultinstancetype", "scaleSettings": {"scaleType": "Default", "instanceCount": 2},
			"requestSettings": {"requestTimeout": "PT1.5S", "maxConcurrentRequestsPerInstance": 1, "maxQueueWait": "PT0.5S"},
			"livenessProbe": {"initialDelay": "PT10S", "period": "PT10S", "timeout": "PT2S", "successThreshold": 1, "failureThreshold": 30},
			"appInsightsEnabled": false, "provisioningState": "Succeeded", "mlfleet": {"instanceCount": 2, "readyInstances": 2}}
	}`
	armModel = `{
		"id": "` + azmlWS + `/models/m/versions/1", "name": "1",
		"systemData": {"createdAt": "2026-11-30T11:26:43.5Z", "createdBy": "ci", "createdByType": "Application"},
		"properties": {"modelType": "custom_model", "modelUri": "mlfleet://blobs/abc/model.pkl", "tags": {"t": "v"}, "isArchived": false, "provisioningState": "Succeeded"}
	}`
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAZMLShape: endpoints, deployments and assets are printed flat and snake_case, with
// az ml's spellings of values and references.
func TestAZMLShape(t *testing.T) {
	cases := []struct {
		name  string
		shape func(any) (any, error)
		in    string
		want  map[string]any
	}{
		{"endpoint", azmlEndpoints, armEndpoint, map[string]any{
			"id": azmlWS + "/onlineEndpoints/ep", "name": "ep", "location": "westus", "kind": "K8S", "resourceGroup": "rg",
			"tags": map[string]any{}, "description": nil, "properties": map[string]any{},
			"auth_mode": "aml_token", "compute": "azureml:" + azmlWS + "/computes/aks",
			"scoring_uri": "https://127.0.0.1:9000/ep/score", "openapi_uri": "https://127.0.0.1:9000/ep/swagger.json",
			"provisioning_state": "Succeeded", "traffic": map[string]any{"blue": 100.0}, "mirror_traffic": map[string]any{},
			"identity": map[string]any{"type": "system_assigned"}, "mlfleet": map[string]any{"message": "ok"},
		}},
		{"deployment", azmlDeployments, armDeployment, map[string]any{
			"id": azmlWS + "/onlineEndpoints/ep/deployments/blue", "name": "blue", "endpoint_name": "ep", "type": "kubernetes", "resourceGroup": "rg",
			"tags": map[string]any{}, "description": nil, "properties": map[string]any{},
			"model":                 "azureml:" + azmlWS + "/models/m/versions/1",
			"code_configuration":    map[string]any{"code": "azureml:" + azmlWS + "/codes/c/versions/1", "scoring_script": "score.py"},
			"environment":           "azureml:" + azmlWS + "/environments/e/versions/1",
			"environment_variables": map[string]any{"A": "1"},
			"instance_type":         "defaultinstancetype", "instance_count": 2.0, "app_insights_enabled": false, "provisioning_state": "Succeeded",
			"scale_settings":   map[string]any{"type": "default"},
			"request_settings": map[string]any{"request_timeout_ms": 1500.0, "max_concurrent_requests_per_instance": 1.0, "max_queue_wait_ms": 500.0},
			"liveness_probe":   map[string]any{"initial_delay": 10.0, "period": 10.0, "timeout": 2.0, "success_threshold": 1.0, "failure_threshold": 30.0},
			"readiness_probe":  nil,
			"mlfleet":          map[string]any{"instanceCount": 2.0, "readyInstances": 2.0},
		}},
		{"model version", azmlAssets, armModel, map[string]any{
			"id": azmlWS + "/models/m/versions/1", "name": "m", "version": "1", "resourceGroup": "rg",
			"type": "custom_model", "path": "mlfleet://blobs/abc/model.pkl", "stage": nil,
			"description": nil, "tags": map[string]any{"t": "v"}, "properties": map[string]any{},
			"creation_context": map[string]any{"created_at": "2026-11-30T11:26:43.500000+00:00", "created_by": "ci", "created_by_type": "Application",
				"last_modified_at": nil, "last_modified_by": nil, "last_modified_by_type": nil},
		}},
		{"environment version", azmlAssets, `{"id": "` + azmlWS + `/environments/e/versions/2", "name": "2", "properties": {"image": "python:3.12"}}`, map[string]any{
			"id": azmlWS + "/environments/e/versions/2", "name": "e", "version": "2", "resourceGroup": "rg",
			"image": "python:3.12", "os_type": "linux", "description": nil, "tags": map[string]any{}, "properties": map[string]any{}, "creation_context": nil,
		}},
		{"model container", azmlAssets, `{"id": "` + azmlWS + `/models/m", "name": "m", "properties": {"latestVersion": "3"}}`, map[string]any{
			"id": azmlWS + "/models/m", "name": "m", "latest_version": "3", "resourceGroup": "rg",
			"description": nil, "tags": map[string]any{}, "properties": map[string]any{}, "creation_context": nil,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.shape(decode(t, tc.in))
			if err != nil {
				t.Fatal(err)
			}
			// Through JSON, so that the numbers compare as az's output has them.
			b, _ := json.Marshal(got)
			if g := decode(t, string(b)); !reflect.DeepEqual(g, tc.want) {
				w, _ := json.Marshal(tc.want)
				t.Errorf("got  %s\nwant %s", b, w)
			}
			list, err := tc.shape([]any{decode(t, tc.in)})
			if l, ok := list.([]any); err != nil || !ok || len(l) != 1 {
				t.Errorf("a list of one: %v, %v", list, err)
			}
		})
	}
}

// TestAZMLQueries: the queries of the Azure ML docs work on what the ml commands print,
// -o tsv included; the table keeps its columns. The server is a fake that serves the ARM
// bodies above.
func TestAZMLQueries(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case azmlWS + "/onlineEndpoints/ep":
			w.Write([]byte(armEndpoint))
		case azmlWS + "/onlineEndpoints":
			w.Write([]byte(`{"value": [` + armEndpoint + `]}`))
		case azmlWS + "/onlineEndpoints/ep/deployments/blue":
			w.Write([]byte(armDeployment))
		case azmlWS + "/models/m/versions/1":
			w.Write([]byte(armModel))
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(fake.Close)
	gw := []string{"-g", "rg", "-w", "ws"}
	cases := []struct {
		name string
		args []string
		want string // the whole output, or a part of a table's
	}{
		{"scoring_uri", []string{"ml", "online-endpoint", "show", "-n", "ep", "--query", "scoring_uri", "-o", "tsv"}, "https://127.0.0.1:9000/ep/score\n"},
		{"traffic", []string{"ml", "online-endpoint", "show", "-n", "ep", "--query", "traffic.blue", "-o", "tsv"}, "100\n"},
		{"list", []string{"ml", "online-endpoint", "list", "--query", "[].provisioning_state", "-o", "tsv"}, "Succeeded\n"},
		{"table", []string{"ml", "online-endpoint", "list", "-o", "table"}, "aml_token"},
		{"instance_count", []string{"ml", "online-deployment", "show", "-n", "blue", "-e", "ep", "--query", "instance_count", "-o", "tsv"}, "2\n"},
		{"deployment state", []string{"ml", "online-deployment", "show", "-n", "blue", "-e", "ep", "--query", "provisioning_state", "-o", "tsv"}, "Succeeded\n"},
		{"deployment table", []string{"ml", "online-deployment", "show", "-n", "blue", "-e", "ep", "-o", "table"}, "defaultinstancetype"},
		{"model", []string{"ml", "model", "show", "-n", "m", "--version", "1", "--query", "[name, version, path]", "-o", "tsv"}, "m\n1\nmlfleet://blobs/abc/model.pkl\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runAgainst(t, fake, append(tc.args, gw...)...)
			table := strings.HasSuffix(tc.name, "table")
			if code != 0 || (!table && out != tc.want) || (table && !strings.Contains(out, tc.want)) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, tc.want)
			}
		})
	}
}
