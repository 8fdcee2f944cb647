package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// offlineAssets returns an assetsClient for workspace ws of group rg in subscription s1
// whose server is unreachable, for resolving the references that need no server.
func offlineAssets(tb testing.TB) *assetsClient {
	tb.Helper()
	c, err := mlfleet.NewClient(mlfleet.WithServer("https://127.0.0.1:1"), mlfleet.WithToken("t"), mlfleet.WithSubscription("s1"))
	if err != nil {
		tb.Fatal(err)
	}
	return &assetsClient{c: c, ctx: context.Background(), group: "rg", ws: "ws"}
}

// deploymentFromYAML resolves, through a, the deployment YAML spec, written to a file as az ml reads
// it, into the body the CLI sends.
func deploymentFromYAML(t *testing.T, a *assetsClient, spec string) (*mlfleet.OnlineDeployment, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "blue.yml")
	if err := os.WriteFile(file, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	var s deploymentSpec
	if err := readSpec(file, &s); err != nil {
		t.Fatal(err)
	}
	return a.deployment(&s)
}

// TestDeploymentSpecReferences: a deployment YAML's references in az ml's ARM-id form
// (azureml:/subscriptions/…) are sent as those ids, not escaped into a name; a compute
// given by name becomes the workspace's compute id. None of these forms asks the server.
func TestDeploymentSpecReferences(t *testing.T) {
	const ws = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
	a := offlineAssets(t)
	for _, tc := range []struct {
		name, yaml                string
		model, code, env, compute string
	}{
		{name: "ARM ids", yaml: "model: azureml:" + ws + "/models/m1/versions/1\n" +
			"code_configuration: {code: 'azureml:" + ws + "/codes/c1/versions/2', scoring_script: score.py}\n" +
			"environment: azureml:" + ws + "/environments/e1/versions/3\n" +
			"compute: azureml:" + ws + "/computes/exatt\n",
			model: ws + "/models/m1/versions/1", code: ws + "/codes/c1/versions/2", env: ws + "/environments/e1/versions/3", compute: ws + "/computes/exatt"},
		{name: "compute by name", yaml: "compute: azureml:exatt\n", compute: ws + "/computes/exatt"},
		{name: "compute by id without azureml:", yaml: "compute: " + ws + "/computes/exatt\n", compute: ws + "/computes/exatt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := deploymentFromYAML(t, a, tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			p := d.Properties
			var code string
			if p.CodeConfiguration != nil {
				code = p.CodeConfiguration.CodeID
			}
			if p.Model != tc.model || code != tc.code || p.EnvironmentID != tc.env || p.Compute != tc.compute {
				t.Errorf("model %q, code %q, environment %q, compute %q; want %q, %q, %q, %q", p.Model, code, p.EnvironmentID, p.Compute, tc.model, tc.code, tc.env, tc.compute)
			}
		})
	}
}

// TestDeploymentSpecRequestSettings: az ml's request_settings keys, in milliseconds, become
// ARM's requestSettings, in ISO 8601 durations; an unset key stays unset, so that the
// server's default applies.
func TestDeploymentSpecRequestSettings(t *testing.T) {
	a := offlineAssets(t)
	for _, tc := range []struct {
		name, yaml string
		want       *mlfleet.RequestSettings
		fails      string
	}{
		{name: "all three", yaml: "request_settings: {request_timeout_ms: 1500, max_concurrent_requests_per_instance: 4, max_queue_wait_ms: 2000}\n",
			want: &mlfleet.RequestSettings{RequestTimeout: "PT1.5S", MaxConcurrentRequestsPerInstance: 4, MaxQueueWait: "PT2S"}},
		{name: "no waiting", yaml: "request_settings: {max_queue_wait_ms: 0}\n", want: &mlfleet.RequestSettings{MaxQueueWait: "PT0S"}},
		{name: "queue wait alone", yaml: "request_settings: {max_queue_wait_ms: 250}\n", want: &mlfleet.RequestSettings{MaxQueueWait: "PT0.25S"}},
		{name: "none", yaml: "instance_count: 1\n"},
		{name: "negative wait", yaml: "request_settings: {max_queue_wait_ms: -1}\n", fails: "max_queue_wait_ms is -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := deploymentFromYAML(t, a, tc.yaml)
			if testutil.WantErr(t, err, tc.fails) {
				return
			}
			got := d.Properties.RequestSettings
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("requestSettings = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestMissingLocalPath: a local path that is not there is named with the YAML key it came
// from, and, for a path in a YAML file, the folder it was looked for in.
func TestMissingLocalPath(t *testing.T) {
	a := offlineAssets(t)
	if _, err := a.modelID("nosuch.pkl"); err == nil || err.Error() != "model: 'nosuch.pkl' does not exist" {
		t.Errorf("model from the working directory: %v", err)
	}
	a.dir = t.TempDir()
	_, err := a.codeID("nosuchdir")
	if err == nil || !strings.Contains(err.Error(), "code_configuration.code: 'nosuchdir' does not exist ("+filepath.Join(a.dir, "nosuchdir")+"); a path in a YAML file is relative to the file's folder") {
		t.Errorf("code from a YAML file's folder: %v", err)
	}
}
