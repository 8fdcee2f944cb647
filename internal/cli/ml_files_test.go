package cli

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// recordingServer is a fake ARM server for the ml commands: it answers a PUT with its
// body (plus the id and name), a GET with what was last PUT at the path (or the endpoint of
// armEndpoint), a blob upload with a blob URI, and records the bodies it was sent.
func recordingServer(t *testing.T) (*httptest.Server, func(path string) map[string]any) {
	var mu sync.Mutex
	bodies := map[string]map[string]any{}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/blobs"):
			io.Copy(io.Discard, r.Body)
			w.Write([]byte(`{"uri": "mlfleet://blobs/abc", "digest": "abc", "size": 7}`))
		case r.Method == http.MethodPut:
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body["id"], body["name"] = r.URL.Path, r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			bodies[r.URL.Path] = body
			json.NewEncoder(w).Encode(body)
		case r.Method == http.MethodGet && bodies[r.URL.Path] != nil:
			json.NewEncoder(w).Encode(bodies[r.URL.Path])
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/versions"):
			var list []map[string]any
			for _, p := range slices.Sorted(maps.Keys(bodies)) {
				if strings.HasPrefix(p, r.URL.Path+"/") {
					list = append(list, bodies[p])
				}
			}
			json.NewEncoder(w).Encode(map[string]any{"value": list})
		case r.Method == http.MethodGet && r.URL.Path == azmlWS+"/onlineEndpoints/ep":
			w.Write([]byte(armEndpoint))
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(fake.Close)
	return fake, func(path string) map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return bodies[path]
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAssetCreateFromFile: `ml model|environment create --file` takes az ml's YAML (a
// number as the version, a path relative to the file), the flags win over it, and what
// mlfleet cannot honour is refused with what to do instead.
func TestAssetCreateFromFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "model.pkl", "weights")
	model := writeFile(t, dir, "model.yml", "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"+
		"name: m\nversion: 1\npath: model.pkl\ntype: mlflow_model\ndescription: from a file\ntags:\n  team: ml\n")
	env := writeFile(t, dir, "env.yml", "name: e\nversion: \"2\"\nimage: python:3.12\nos_type: linux\n")
	conda := writeFile(t, dir, "conda-env.yml", "name: e\nversion: 3\nimage: python:3.12\nconda_file: conda.yml\n")
	wrongKind := writeFile(t, dir, "wrong.yml", "name: e\nversion: 4\nimage: python:3.12\npath: model.pkl\n")
	gw := []string{"-g", "rg", "-w", "ws"}

	fake, body := recordingServer(t)
	out, errOut, code := runAgainst(t, fake, append([]string{"ml", "model", "create", "--file", model, "--query", "[name, version, type]", "-o", "tsv"}, gw...)...)
	if code != 0 || out != "m\n1\nmlflow_model\n" {
		t.Fatalf("model create --file: exit %d, %q, %s", code, out, errOut)
	}
	b := body(azmlWS + "/models/m/versions/1")
	if testutil.Field(b, "properties.modelUri") != "mlfleet://blobs/abc/model.pkl" || testutil.Field(b, "properties.description") != "from a file" ||
		testutil.Field(b, "properties.tags.team") != "ml" {
		t.Errorf("model version sent: %v", b)
	}
	// The flags win over the file.
	if _, errOut, code := runAgainst(t, fake, append([]string{"ml", "model", "create", "--file", model, "--version", "7", "--type", "custom_model"}, gw...)...); code != 0 ||
		testutil.Field(body(azmlWS+"/models/m/versions/7"), "properties.modelType") != "custom_model" {
		t.Errorf("flags over the file: exit %d, %s, sent %v", code, errOut, body(azmlWS+"/models/m/versions/7"))
	}

	out, errOut, code = runAgainst(t, fake, append([]string{"ml", "environment", "create", "--file", env, "--query", "image", "-o", "tsv"}, gw...)...)
	if code != 0 || out != "python:3.12\n" || testutil.Field(body(azmlWS+"/environments/e/versions/2"), "properties.osType") != "Linux" {
		t.Fatalf("environment create --file: exit %d, %q, %s, sent %v", code, out, errOut, body(azmlWS+"/environments/e/versions/2"))
	}
	for _, tc := range []struct{ file, want string }{{conda, "does not build environments"}, {wrongKind, "path is not a key of an environment's YAML"}} {
		_, errOut, code := runAgainst(t, fake, append([]string{"ml", "environment", "create", "--file", tc.file}, gw...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("environment create --file %s: exit %d, %s; want %q", filepath.Base(tc.file), code, errOut, tc.want)
		}
	}
}

// TestEndpointMirrorTraffic: update --mirror-traffic and mirror_traffic in the endpoint's
// YAML are sent as properties.mirrorTraffic, the flag over the file; the traffic is kept.
func TestEndpointMirrorTraffic(t *testing.T) {
	dir := t.TempDir()
	spec := writeFile(t, dir, "endpoint.yml", "name: ep\nmirror_traffic:\n  blue: 10\n")
	gw := []string{"-g", "rg", "-w", "ws"}
	fake, body := recordingServer(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"flag", []string{"--mirror-traffic", "green=20"}, `{"green":20}`},
		{"file", []string{"--file", spec}, `{"blue":10}`},
		{"flag over the file", []string{"--file", spec, "--mirror-traffic", "green=0"}, `{"green":0}`},
		{"empty flag stops mirroring", []string{"--mirror-traffic", ""}, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runAgainst(t, fake, append(append([]string{"ml", "online-endpoint", "update", "-n", "ep", "--query", "mirror_traffic", "-o", "json"}, tc.args...), gw...)...)
			sent := body(azmlWS + "/onlineEndpoints/ep")
			got, _ := json.Marshal(testutil.Field(sent, "properties.mirrorTraffic"))
			if code != 0 || string(got) != tc.want || testutil.Field(sent, "properties.traffic.blue") != 100.0 {
				t.Errorf("exit %d, %s; sent %v; want mirrorTraffic %s", code, errOut, sent, tc.want)
			}
			var printed map[string]any
			if err := json.Unmarshal([]byte(out), &printed); err != nil {
				t.Errorf("printed %q: %v", out, err)
			}
		})
	}
	if _, errOut, code := runAgainst(t, fake, append([]string{"ml", "online-endpoint", "update", "-n", "ep", "--mirror-traffic", "green"}, gw...)...); code == 0 ||
		!strings.Contains(errOut, "--mirror-traffic takes deployment=percent pairs") {
		t.Errorf("--mirror-traffic green: exit %d, %s", code, errOut)
	}
}

// TestDeploymentScaleSettings: scale_settings of type default is sent as ARM's Default;
// target_utilization, which mlfleet does not do, is refused before anything is sent, with
// what to do instead.
func TestDeploymentScaleSettings(t *testing.T) {
	dir := t.TempDir()
	base := "name: blue\nendpoint_name: ep\nmodel: azureml:m:1\ninstance_count: 2\n"
	gw := []string{"-g", "rg", "-w", "ws"}
	deployment := azmlWS + "/onlineEndpoints/ep/deployments/blue"
	cases := []struct {
		name, yaml, wantErr string
	}{
		{"default", "scale_settings:\n  type: default\n", ""},
		{"target_utilization", "scale_settings:\n  type: target_utilization\n  min_instances: 1\n  max_instances: 3\n", "mlfleet does not autoscale deployments"},
		{"target_utilization_based", "scale_settings:\n  type: target_utilization_based\n", "mlfleet does not autoscale deployments"},
		{"default with a key of another type", "scale_settings:\n  type: default\n  max_instances: 3\n", "takes no max_instances"},
		{"no type", "scale_settings: {}\n", "needs type: default"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, body := recordingServer(t)
			spec := writeFile(t, dir, "blue.yml", base+tc.yaml)
			_, errOut, code := runAgainst(t, fake, append([]string{"ml", "online-deployment", "create", "--file", spec}, gw...)...)
			sent := body(deployment)
			if tc.wantErr == "" {
				if code != 0 || testutil.Field(sent, "properties.scaleSettings.scaleType") != "Default" || testutil.Field(sent, "sku.capacity") != 2.0 {
					t.Errorf("exit %d, %s; sent %v", code, errOut, sent)
				}
				return
			}
			if code == 0 || !strings.Contains(errOut, tc.wantErr) || sent != nil {
				t.Errorf("exit %d, %s, sent %v; want the error %q and nothing sent", code, errOut, sent, tc.wantErr)
			}
		})
	}
}

// TestAssetArchive: `ml model archive|restore` PUT the version back with isArchived set
// and everything else as it was; --version is required.
func TestAssetArchive(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "model.pkl", "weights")
	gw := []string{"-g", "rg", "-w", "ws"}
	fake, body := recordingServer(t)
	path := azmlWS + "/models/m/versions/1"
	if _, errOut, code := runAgainst(t, fake, append([]string{"ml", "model", "create", "-n", "m", "--version", "1", "--path", filepath.Join(dir, "model.pkl"), "--description", "kept"}, gw...)...); code != 0 {
		t.Fatalf("model create: exit %d, %s", code, errOut)
	}
	for _, tc := range []struct {
		verb string
		want bool
	}{{"archive", true}, {"restore", false}} {
		if _, errOut, code := runAgainst(t, fake, append([]string{"ml", "model", tc.verb, "-n", "m", "--version", "1", "-o", "none"}, gw...)...); code != 0 {
			t.Fatalf("model %s: exit %d, %s", tc.verb, code, errOut)
		}
		b := body(path)
		if testutil.Field(b, "properties.isArchived") != tc.want || testutil.Field(b, "properties.description") != "kept" ||
			testutil.Field(b, "properties.modelUri") != "mlfleet://blobs/abc/model.pkl" {
			t.Errorf("after %s the version is %v, want isArchived %v and the rest kept", tc.verb, b, tc.want)
		}
	}
	// Version 2 archived: listed only when asked for, as az ml lists.
	if _, errOut, code := runAgainst(t, fake, append([]string{"ml", "model", "create", "-n", "m", "--version", "2", "--path", filepath.Join(dir, "model.pkl")}, gw...)...); code != 0 {
		t.Fatalf("model create: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runAgainst(t, fake, append([]string{"ml", "model", "archive", "-n", "m", "--version", "2", "-o", "none"}, gw...)...); code != 0 {
		t.Fatalf("model archive: exit %d, %s", code, errOut)
	}
	for flag, want := range map[string]string{"": "1\n", "--include-archived": "1\n2\n", "--archived-only": "2\n"} {
		args := append([]string{"ml", "model", "list", "-n", "m", "--query", "[].version", "-o", "tsv"}, gw...)
		if flag != "" {
			args = append(args, flag)
		}
		if out, errOut, code := runAgainst(t, fake, args...); code != 0 || out != want {
			t.Errorf("model list %s: exit %d, %q, %s; want %q", flag, code, out, errOut, want)
		}
	}
	if _, errOut, code := runAgainst(t, fake, append([]string{"ml", "model", "archive", "-n", "m"}, gw...)...); code == 0 || !strings.Contains(errOut, "--version") {
		t.Errorf("archive without --version: exit %d, %s", code, errOut)
	}
}

// TestDeploymentLogsLines: a negative --lines is refused by the CLI, naming the flag (the
// API would name its own parameter, tail), before anything is sent.
func TestDeploymentLogsLines(t *testing.T) {
	fake, _ := recordingServer(t)
	_, errOut, code := runAgainst(t, fake, "ml", "online-deployment", "get-logs", "-n", "blue", "-e", "ep", "--lines", "-5", "-g", "rg", "-w", "ws")
	if code != 2 || !strings.Contains(errOut, "--lines is -5; ask for 0 (all) to 10000 lines") {
		t.Errorf("get-logs --lines -5: exit %d, %s", code, errOut)
	}
}
