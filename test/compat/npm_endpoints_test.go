package compat

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestNpmOnlineEndpoints runs test/compat/npm/compat_endpoints.mjs: the official npm client
// @azure/arm-machinelearning 2.1.1 registers a model version, creates endpoints (Key and
// AMLToken) and a Kubernetes deployment on an AKS compute, scales and tags it with
// beginUpdate (PATCH), reads keys and a token, routes traffic and deletes, all through its own LRO pollers and models (#17).
func TestNpmOnlineEndpoints(t *testing.T) {
	node := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const rg, ws, location, computeName = "compat-ep-rg", "compat-ep-ws", "westus", "npmepaks"
	c := npmWorkspace(ctx, t, rg, ws, location)
	purpose, count := "DevTest", 1
	in := &mlfleet.Compute{Location: location}
	in.Properties.ComputeType = mlfleet.ComputeTypeAKS
	in.Properties.Properties = &mlfleet.AKSProperties{ClusterPurpose: &purpose, AgentCount: &count}
	_, p, err := c.BeginCreateOrUpdateCompute(ctx, rg, ws, computeName, in, &mlfleet.ComputeOptions{IfNoneMatch: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx, nil); err != nil {
		t.Fatalf("create compute: %v", err)
	}
	blob, err := c.UploadBlob(ctx, rg, ws, strings.NewReader("npm model"))
	if err != nil {
		t.Fatal(err)
	}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	score := "def init():\n    pass\n\ndef run(raw):\n    return raw\n"
	if err := tw.WriteHeader(&tar.Header{Name: "score.py", Mode: 0o644, Size: int64(len(score)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(score))
	tw.Close()
	code, err := c.UploadBlob(ctx, rg, ws, &tarball)
	if err != nil {
		t.Fatal(err)
	}
	steps, _ := runNpmScript(ctx, t, node, "compat_endpoints.mjs", rg, ws, location,
		"MLFLEET_COMPUTE_ID="+c.ComputeID(rg, ws, computeName),
		"MLFLEET_MODEL_URI="+blob.URI+"/model.pkl",
		"MLFLEET_CODE_URI="+code.URI,
	)
	get := func(name string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(steps[name].Raw, &m); err != nil || m["error"] != nil {
			t.Fatalf("step %s: %s", name, steps[name].Raw)
		}
		return m
	}
	refused := func(name string, status float64) {
		t.Helper()
		var m map[string]any
		_ = json.Unmarshal(steps[name].Raw, &m)
		e, _ := m["error"].(map[string]any)
		if e == nil || e["statusCode"] != status {
			t.Errorf("step %s: want a %v error, got %s", name, status, steps[name].Raw)
		}
	}

	if m := get("model-create"); m["modelUri"] != blob.URI+"/model.pkl" || m["modelType"] != "custom_model" {
		t.Errorf("model-create: %v", m)
	}
	if m := get("model-get"); m["description"] != "from npm" {
		t.Errorf("model-get: %v", m)
	}
	refused("model-create-bad-uri", 400)
	if m := get("endpoint-create"); m["provisioningState"] != "Succeeded" || m["authMode"] != "Key" {
		t.Errorf("endpoint-create: %v", m)
	}
	keys, regen := get("endpoint-keys"), get("endpoint-regenerate")
	if keys["primaryLength"].(float64) < 16 || regen["primary"] != keys["primary"] {
		t.Errorf("keys %v, after regenerating the secondary %v", keys, regen)
	}
	refused("endpoint-token-on-key", 400)
	if m := get("token"); m["tokenType"] != "Bearer" || m["parts"] != 3.0 || m["expiry"].(float64) < float64(time.Now().Unix()) {
		t.Errorf("token: %v", m)
	}
	if m := get("deployment-create"); m["provisioningState"] != "Succeeded" || m["endpointComputeType"] != "Kubernetes" || m["capacity"] != 1.0 {
		t.Errorf("deployment-create: %v", m)
	}
	if m := get("deployment-get"); m["instanceType"] != "smallinstancetype" || m["requestTimeout"] != "PT3S" {
		t.Errorf("deployment-get: %v", m)
	}
	if m := get("deployment-skus"); m["count"] != 1.0 || m["maximum"] != 100.0 {
		t.Errorf("deployment-skus: %v", m)
	}
	if m := get("deployment-update"); m["provisioningState"] != "Succeeded" || m["capacity"] != 2.0 ||
		!reflect.DeepEqual(m["tags"], map[string]any{"team": "ml"}) || m["instanceType"] != "smallinstancetype" {
		t.Errorf("deployment-update: %v", m)
	}
	refused("deployment-update-tier", 400)
	if m := get("traffic"); m["traffic"].(map[string]any)["blue"] != 100.0 {
		t.Errorf("traffic: %v", m)
	}
	if names, _ := get("endpoint-list")["names"].([]any); !slices.Equal(names, []any{"npmep", "npmtoken"}) {
		t.Errorf("endpoint-list: %v", names)
	}
	refused("endpoint-get-deleted", 404)
}
