package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestOnlineEndpointCLI walks az ml's v2 grammar: a model uploaded from a file, an endpoint
// and a deployment from YAML files (code from a local directory), traffic, credentials,
// deletes.
func TestOnlineEndpointCLI(t *testing.T) {
	t.Parallel()
	rg, ws := "epcli-rg", "epcli-ws"
	newWorkspaceWithCompute(t, rg, ws, "epcliaks")
	gw := []string{"-g", rg, "-w", ws}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	model := write("model.pkl", "weights")
	write("src/score.py", echoScore)
	epFile := write("endpoint.yml", "$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineEndpoint.schema.json\nname: cliep\ncompute: azureml:epcliaks\nauth_mode: key\n")
	depFile := write("blue.yml", "name: blue\nendpoint_name: cliep\nmodel: azureml:m:1\ncode_configuration:\n  code: ./src\n  scoring_script: score.py\n"+
		"instance_type: smallinstancetype\ninstance_count: 1\nrequest_settings:\n  request_timeout_ms: 3000\n  max_queue_wait_ms: 2000\n  max_concurrent_requests_per_instance: 2\n")
	typo := write("typo.yml", "name: blue\nendpoint_name: cliep\nmodle: azureml:m:1\n")

	out := mustCLI(t, append([]string{"ml", "model", "create", "-n", "m", "--version", "1", "--path", model}, gw...)...)
	var mv map[string]any
	if err := json.Unmarshal([]byte(out), &mv); err != nil || !strings.HasSuffix(testutil.Field(mv, "path").(string), "/model.pkl") {
		t.Fatalf("model create printed %s (%v)", out, err)
	}
	if r := mlfleetCLI(t, append([]string{"ml", "model", "create", "-n", "m", "--version", "1", "--path", model}, gw...)...); r.code == 0 || !strings.Contains(r.err, "already exists") {
		t.Errorf("registering version 1 again: exit %d, %s", r.code, r.err)
	}
	if out := mustCLI(t, append([]string{"ml", "model", "show", "-n", "m", "--query", "[name, version]", "-o", "tsv"}, gw...)...); out != "m\n1\n" {
		t.Errorf("model show: %q", out)
	}

	out = mustCLI(t, append([]string{"ml", "online-endpoint", "create", "--file", epFile}, gw...)...)
	if !strings.Contains(out, `"provisioning_state": "Succeeded"`) {
		t.Fatalf("endpoint create: %s", out)
	}
	if r := mlfleetCLI(t, append([]string{"ml", "online-deployment", "create", "--file", typo}, gw...)...); r.code == 0 || !strings.Contains(r.err, "modle") {
		t.Errorf("a typo in the YAML: exit %d, %s", r.code, r.err)
	}
	out = mustCLI(t, append([]string{"ml", "online-deployment", "create", "--file", depFile, "--all-traffic"}, gw...)...)
	var dep map[string]any
	if err := json.Unmarshal([]byte(out), &dep); err != nil || testutil.Field(dep, "provisioning_state") != "Succeeded" ||
		testutil.Field(dep, "request_settings.request_timeout_ms") != 3000.0 || testutil.Field(dep, "request_settings.max_queue_wait_ms") != 2000.0 ||
		testutil.Field(dep, "request_settings.max_concurrent_requests_per_instance") != 2.0 || !strings.Contains(testutil.Field(dep, "code_configuration.code").(string), "/codes/anonymous-code/versions/") {
		t.Fatalf("deployment create printed %s (%v)", out, err)
	}
	if out := mustCLI(t, append([]string{"ml", "online-endpoint", "show", "-n", "cliep", "--query", "traffic.blue", "-o", "tsv"}, gw...)...); out != "100\n" {
		t.Errorf("--all-traffic: traffic %q", out)
	}
	// The Azure ML docs' idiom: SCORING_URI=$(az ml online-endpoint show … --query scoring_uri -o tsv).
	if out := mustCLI(t, append([]string{"ml", "online-endpoint", "show", "-n", "cliep", "--query", "scoring_uri", "-o", "tsv"}, gw...)...); !strings.HasPrefix(out, "http") || !strings.HasSuffix(out, "/cliep/score\n") {
		t.Errorf("scoring_uri: %q", out)
	}
	if r := mlfleetCLI(t, append([]string{"ml", "online-endpoint", "update", "-n", "cliep", "--traffic", "blue=90 green=10"}, gw...)...); r.code == 0 || !strings.Contains(r.err, "green") {
		t.Errorf("traffic to a missing deployment: exit %d, %s", r.code, r.err)
	}
	if out := mustCLI(t, append([]string{"ml", "online-endpoint", "get-credentials", "-n", "cliep", "--query", "primaryKey", "-o", "tsv"}, gw...)...); len(strings.TrimSpace(out)) < 16 {
		t.Errorf("get-credentials: %q", out)
	}
	sample := write("sample.json", `{"data": [[1, 2, 3]]}`)
	if out := mustCLI(t, append([]string{"ml", "online-endpoint", "invoke", "-n", "cliep", "--request-file", sample, "--deployment-name", "blue"}, gw...)...); !strings.Contains(out, "data") {
		t.Errorf("invoke printed %q", out)
	}
	if out := mustCLI(t, append([]string{"ml", "online-deployment", "get-logs", "-n", "blue", "-e", "cliep", "--lines", "20"}, gw...)...); out == "" {
		t.Error("get-logs printed nothing")
	}
	if out := mustCLI(t, append([]string{"ml", "online-deployment", "list", "-e", "cliep", "-o", "table"}, gw...)...); !strings.Contains(out, "blue") || !strings.Contains(out, "Succeeded") {
		t.Errorf("deployment list:\n%s", out)
	}
	// The node that runs blue's one instance is running, as Azure calls a busy node.
	var nodes []map[string]any
	if err := json.Unmarshal([]byte(mustCLI(t, append([]string{"ml", "computetarget", "list-nodes", "-n", "epcliaks"}, gw...)...)), &nodes); err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, n := range nodes {
		if n["nodeState"] == "running" {
			running++
		}
	}
	if running != 1 {
		t.Errorf("list-nodes %v, want one node running", nodes)
	}
	mustCLI(t, append([]string{"ml", "online-endpoint", "update", "-n", "cliep", "--traffic", "blue=0"}, gw...)...)
	mustCLI(t, append([]string{"ml", "online-deployment", "delete", "-n", "blue", "-e", "cliep", "-y"}, gw...)...)
	mustCLI(t, append([]string{"ml", "online-endpoint", "delete", "-n", "cliep", "-y"}, gw...)...)
	if r := mlfleetCLI(t, append([]string{"ml", "online-endpoint", "show", "-n", "cliep"}, gw...)...); r.code == 0 {
		t.Error("endpoint still there after delete")
	}
}
