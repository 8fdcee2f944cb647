package ha

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// modelScore is a scoring script whose init() reads its model: it starts only where the
// model was unpacked.
const modelScore = `import os
def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl")) as f:
        model = f.read()
def run(raw):
    return {"model": model}
`

// TestDeploymentMovesWithItsCluster: an online deployment made through the replica hosting
// its cluster, which unpacks the model and code in its own home, keeps running when that
// replica dies and another takes the cluster over, on another machine as far as the files
// go (the dead replica's unpacked files are removed): the new host finds the deployment's
// files in the database and unpacks them in its own home.
func TestDeploymentMovesWithItsCluster(t *testing.T) {
	t.Parallel()
	dsn := freshDB(t)
	db := openDB(t, dsn)
	rs := startReplicas(t, dsn, 2)
	ctx := context.Background()
	const rg, ws = "serve", "wsserve"
	id, _ := newCluster(t, rs[0].c, rg, "srv1")
	host, other := hostAndOther(t, db, rs, id)

	// Everything through the host, which so unpacks the model and code in its home.
	c := host.c
	if _, err := c.CreateWorkspace(ctx, rg, ws, "westus"); err != nil {
		t.Fatal(err)
	}
	mc, err := c.GetManagedCluster(ctx, rg, "srv1")
	if err != nil {
		t.Fatal(err)
	}
	attach := &mlfleet.Compute{Location: "westus", Properties: mlfleet.ComputeProperties{ComputeType: "AKS", ResourceID: &mc.ID,
		Properties: &mlfleet.AKSProperties{ClusterPurpose: ptr("DevTest")}}}
	_, p, err := c.BeginCreateOrUpdateCompute(ctx, rg, ws, "inf", attach, &mlfleet.ComputeOptions{IfNoneMatch: true})
	wait(ctx, t, "attach", p, err)
	model, err := c.UploadBlob(ctx, rg, ws, strings.NewReader("the model"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOrUpdateAssetVersion(ctx, rg, ws, mlfleet.AssetModels, "m", "1",
		&mlfleet.AssetVersion{Properties: mlfleet.AssetVersionProperties{ModelURI: model.URI + "/model.pkl"}}, true); err != nil {
		t.Fatal(err)
	}
	code, err := c.UploadBlob(ctx, rg, ws, bytes.NewReader(tarOf(t, "score.py", modelScore)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOrUpdateAssetVersion(ctx, rg, ws, mlfleet.AssetCodes, "c", "1",
		&mlfleet.AssetVersion{Properties: mlfleet.AssetVersionProperties{CodeURI: code.URI}}, true); err != nil {
		t.Fatal(err)
	}
	ep := &mlfleet.OnlineEndpoint{Location: "westus"}
	ep.Properties.Compute = c.ComputeID(rg, ws, "inf")
	_, p, err = c.BeginCreateOrUpdateOnlineEndpoint(ctx, rg, ws, "ep1", ep, true)
	wait(ctx, t, "endpoint", p, err)
	d := &mlfleet.OnlineDeployment{Location: "westus"}
	d.Properties.EndpointComputeType = "Kubernetes"
	d.Properties.Model = c.AssetVersionID(rg, ws, mlfleet.AssetModels, "m", "1")
	d.Properties.CodeConfiguration = &mlfleet.CodeConfiguration{CodeID: c.AssetVersionID(rg, ws, mlfleet.AssetCodes, "c", "1"), ScoringScript: "score.py"}
	_, p, err = c.BeginCreateOrUpdateOnlineDeployment(ctx, rg, ws, "ep1", "blue", d, true)
	wait(ctx, t, "deployment", p, err)

	// The host dies; its machine, with the files it unpacked, is gone with it.
	if err := host.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-host.done
	if err := os.RemoveAll(filepath.Join(host.home, "inference")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 60*time.Second, other.name+" holds the lease of srv1", func() error {
		if l := leases(t, db)[id]; l.holder != other.id || l.expired {
			return fmt.Errorf("lease %+v", l)
		}
		return nil
	})
	// A new instance (the old one's Ready status is from before the move) starts on the
	// new host only with the model it unpacked itself.
	file := writeKubeconfig(t, other.c, rg, "srv1")
	if _, err := kubectl(t, file, "", "-n", "azureml", "delete", "pods", "-l", "ml.mlfleet.io/deployment=blue", "--wait=false"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 120*time.Second, "a new instance of blue Ready on "+other.name, func() error {
		out, err := kubectl(t, file, "", "-n", "azureml", "get", "pods", "-l", "ml.mlfleet.io/deployment=blue",
			"-o", `jsonpath={range .items[*]}{.metadata.deletionTimestamp}|{.status.containerStatuses[0].ready}|{.status.containerStatuses[0].state.waiting.message}{"\n"}{end}`)
		if err != nil {
			return err
		}
		if lines := strings.Fields(strings.TrimSpace(out)); len(lines) != 1 || lines[0] != "|true|" {
			return fmt.Errorf("pods (deleting|ready|waiting): %q", out)
		}
		return nil
	})
	unpacked, _ := filepath.Glob(filepath.Join(other.home, "inference", "*", "model", "model.pkl"))
	if len(unpacked) != 1 {
		t.Fatalf("model unpacked on %s: %v", other.name, unpacked)
	}
}

// wait fails t unless the operation p (begun with err) succeeds.
func wait(ctx context.Context, t *testing.T, what string, p *mlfleet.Poller, err error) {
	t.Helper()
	if err == nil {
		_, err = p.Wait(ctx, nil)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// tarOf is a tar archive of one file.
func tarOf(t *testing.T, name, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
