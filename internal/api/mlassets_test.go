package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const assetWS = subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1"

func jsonCall(t *testing.T, a *testARM, url, token, method, path string, in any, headers ...string) (int, map[string]any) {
	t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	req, _ := http.NewRequest(method, url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// targets lists the targets of an ARM error body and its details.
func targets(body map[string]any) []string {
	e, _ := body["error"].(map[string]any)
	var out []string
	if t, ok := e["target"].(string); ok {
		out = append(out, t)
	}
	details, _ := e["details"].([]any)
	for _, d := range details {
		if t, ok := d.(map[string]any)["target"].(string); ok && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func TestAssetValidation(t *testing.T) {
	a, srv, _ := blobARM(t, 1<<20)
	q := "?api-version=2023-04-01"
	status, up := rawCall(t, srv, a.owner, http.MethodPut, assetWS+"/blobs"+q, []byte("model"))
	if status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, up)
	}
	var blob armapi.Blob
	_ = json.Unmarshal(up, &blob)
	missing := "mlfleet://blobs/" + strings.Repeat("a", 64)

	for _, tc := range []struct {
		name, path string
		props      map[string]any
		status     int
		targets    []string
	}{
		{"model", "/models/m/versions/1", map[string]any{"modelUri": blob.URI + "/model.pkl"}, 201, nil},
		{"model dir", "/models/m/versions/2", map[string]any{"modelUri": blob.URI, "modelType": "mlflow_model"}, 201, nil},
		{"code", "/codes/c/versions/1", map[string]any{"codeUri": blob.URI}, 201, nil},
		{"environment", "/environments/e/versions/1", map[string]any{"image": "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest"}, 201, nil},
		{"no uri", "/models/m/versions/3", map[string]any{}, 400, []string{"properties.modelUri"}},
		{"missing blob", "/models/m/versions/3", map[string]any{"modelUri": missing}, 400, []string{"properties.modelUri"}},
		{"foreign uri", "/codes/c/versions/2", map[string]any{"codeUri": "https://example.com/src.zip"}, 400, []string{"properties.codeUri"}},
		{"every problem", "/models/bad name/versions/-1", map[string]any{"modelUri": "x", "modelType": "onnx", "image": "busybox"},
			400, []string{"name", "properties.image", "properties.modelType", "properties.modelUri", "version"}},
		{"environment without image", "/environments/e/versions/2", map[string]any{"osType": "Windows"}, 400, []string{"properties.image", "properties.osType"}},
		{"environment conda file", "/environments/e/versions/2", map[string]any{"image": "python:3.11", "condaFile": "name: x\ndependencies:\n- numpy"}, 400, []string{"properties.condaFile"}},
		{"environment build", "/environments/e/versions/2", map[string]any{"build": map[string]any{"contextUri": "x"}}, 400, []string{"properties.build"}},
		{"bad image", "/environments/e/versions/2", map[string]any{"image": "Not An Image"}, 400, []string{"properties.image"}},
		{"content change", "/models/m/versions/1", map[string]any{"modelUri": blob.URI + "/other.pkl"}, 409, nil},
		{"description change", "/models/m/versions/1", map[string]any{"modelUri": blob.URI + "/model.pkl", "description": "v1"}, 200, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := jsonCall(t, a, srv.URL, a.owner, http.MethodPut, assetWS+tc.path+q, map[string]any{"properties": tc.props})
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.targets != nil && !slices.Equal(targets(body), tc.targets) {
				t.Errorf("targets %v, want %v: %v", targets(body), tc.targets, body)
			}
		})
	}

	status, body := jsonCall(t, a, srv.URL, a.owner, http.MethodPut, assetWS+"/models/m/versions/1"+q,
		map[string]any{"properties": map[string]any{"modelUri": blob.URI + "/model.pkl"}}, "If-None-Match", "*")
	if status != http.StatusConflict {
		t.Errorf("If-None-Match on an existing version: %d %v", status, body)
	}
	status, body = jsonCall(t, a, srv.URL, a.owner, http.MethodGet, assetWS+"/models/m/versions"+q, nil)
	if status != 200 || len(body["value"].([]any)) != 2 {
		t.Errorf("list versions: %d %v", status, body)
	}
	status, body = jsonCall(t, a, srv.URL, a.owner, http.MethodGet, assetWS+"/models/m"+q, nil)
	if status != 200 || testutil.Field(body, "properties.latestVersion") != "2" || testutil.Field(body, "properties.nextVersion") != "3" {
		t.Errorf("container: %d %v", status, body)
	}
	status, body = jsonCall(t, a, srv.URL, a.owner, http.MethodGet, assetWS+"/models/m/versions/1"+q, nil)
	if status != 200 || testutil.Field(body, "properties.description") != "v1" || testutil.Field(body, "properties.modelType") != "custom_model" {
		t.Errorf("get version: %d %v", status, body)
	}
	if status, _ := jsonCall(t, a, srv.URL, a.owner, http.MethodDelete, assetWS+"/models/m/versions/1"+q, nil); status != 200 {
		t.Errorf("delete: %d", status)
	}
	if status, _ := jsonCall(t, a, srv.URL, a.owner, http.MethodDelete, assetWS+"/models/m/versions/1"+q, nil); status != 204 {
		t.Errorf("delete again: %d", status)
	}
	if status, body := jsonCall(t, a, srv.URL, a.owner, http.MethodGet, assetWS+"/models/m/versions/1"+q, nil); status != 404 {
		t.Errorf("get deleted: %d %v", status, body)
	}
}
