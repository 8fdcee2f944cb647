package endpoints

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestSweepMaterialized: the sweep removes an unpacked model or code directory no
// deployment names, once unused for the grace period; it keeps those a deployment names
// and those unpacked (or reused) lately, which a deployment may be about to record.
func TestSweepMaterialized(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000cc", "rg", "wsmat"
	stack, _ := workspaceStack(t, sub, rg, ws)
	_, eps, _ := wire(t, stack)
	root := eps.inferenceDir()
	old := time.Now().Add(-2 * materializedGrace)
	for name, at := range map[string]time.Time{"used-model": old, "used-code": old, "unused-old": old, "unused-new": time.Now()} {
		dir := filepath.Join(root, name, "model")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(root, name), at, at); err != nil {
			t.Fatal(err)
		}
	}
	epID := EndpointID(sub, rg, ws, "ep")
	id := DeploymentID(sub, rg, ws, "ep", "blue")
	d := &armapi.OnlineDeployment{ID: id, Name: "blue", Type: TypeDeployment, Location: "westus", Properties: armapi.OnlineDeploymentProperties{
		ProvisioningState: armapi.StateSucceeded, Mlfleet: &armapi.OnlineDeploymentMlfleet{
			ModelDir: filepath.Join(root, "used-model", "model"), CodeDir: filepath.Join("used-code", "code")}}} // an older row's whole path; a key
	if err := stack.Store.CreateResource(ctx, &store.Resource{ID: id, ParentID: epID, Type: TypeDeployment, Name: "blue", SubscriptionID: sub,
		ResourceGroup: rg, Location: "westus", Body: encode(d)}); err != nil {
		t.Fatal(err)
	}

	n, err := eps.SweepMaterialized(ctx)
	if err != nil || n != 1 {
		t.Fatalf("SweepMaterialized = %d, %v; want 1 removed", n, err)
	}
	for name, want := range map[string]bool{"used-model": true, "used-code": true, "unused-old": false, "unused-new": true} {
		if _, err := os.Stat(filepath.Join(root, name)); (err == nil) != want {
			t.Errorf("%s: kept %v, want %v", name, err == nil, want)
		}
	}
}
