package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestVersion: `mlfleet version` prints mlfleet's version and, as hack/build.sh promises,
// the Kubernetes version of the embedded clusters, a line each; with -o the same as an
// object in that format (json, tsv), as az version does, and --query picks from it.
func TestVersion(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args); err != nil {
			t.Fatalf("%v: %v: %s", args, err, errb.String())
		}
		return out.String()
	}
	kube := embeddedKubernetes()
	if !strings.HasPrefix(kube, "v1.") {
		t.Fatalf("embedded Kubernetes version %q, want v1.x.y", kube)
	}

	lines := strings.Split(strings.TrimSuffix(run("version"), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "mlfleet ") || lines[1] != "kubernetes "+kube {
		t.Errorf("version printed %q, want 'mlfleet V' and 'kubernetes %s'", lines, kube)
	}

	var got map[string]string
	if err := json.Unmarshal([]byte(run("version", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got["kubernetes"] != kube || got["mlfleet"] != strings.TrimPrefix(lines[0], "mlfleet ") || len(got) != 2 {
		t.Errorf("version -o json = %v, want mlfleet and kubernetes %s", got, kube)
	}
	if out := run("version", "--query", "kubernetes", "-o", "tsv"); out != kube+"\n" {
		t.Errorf("version --query kubernetes -o tsv = %q, want %q", out, kube+"\n")
	}
}
