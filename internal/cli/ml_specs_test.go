package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestDeploymentSpecReferences: a deployment YAML's references in az ml's ARM-id form
// (azureml:/subscriptions/…) are sent as those ids, not escaped into a name; a compute
// given by name becomes the workspace's compute id. None of these forms asks the server.
func TestDeploymentSpecReferences(t *testing.T) {
	const ws = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
	c, err := mlfleet.NewClient(mlfleet.WithServer("https://127.0.0.1:1"), mlfleet.WithToken("t"), mlfleet.WithSubscription("s1"))
	if err != nil {
		t.Fatal(err)
	}
	a := &assetsClient{c: c, ctx: context.Background(), group: "rg", ws: "ws"}
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
			file := filepath.Join(t.TempDir(), "blue.yml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var spec deploymentSpec
			if err := readSpec(file, &spec); err != nil {
				t.Fatal(err)
			}
			d, err := a.deployment(&spec)
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
