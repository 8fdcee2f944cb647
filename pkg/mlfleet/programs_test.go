package mlfleet_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

const finished = `Provisioning operation finished, operation "Succeeded"`

// TestExamplePrograms builds the programs of examples/ and runs each against the test
// server, as `go run ./examples/NAME` runs against `mlfleet serve` (MLFLEET_HOME points at
// the server's home), then checks with the SDK that it did what it says. The seed's story:
// create from the workspace (defaults, then dev/test), detach, attach the cluster that
// stayed by resource group and name, detach, attach it by resource id, detach.
func TestExamplePrograms(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example programs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the examples: %v", err)
	}
	bin := t.TempDir()
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin+string(os.PathSeparator), "./examples/...")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/...: %v\n%s", err, out)
	}

	const rg, wsName = "exprog-rg", "exprog-ws"
	c, err := mlfleet.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p, err := c.BeginDeleteResourceGroup(context.Background(), rg); err == nil && p != nil {
			_, _ = p.Wait(context.Background(), nil)
		}
	})
	run := func(t *testing.T, wantOK bool, prog string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, prog), args...)
		out, err := cmd.CombinedOutput()
		t.Logf("%s %s:\n%s", prog, strings.Join(args, " "), out)
		if (err == nil) != wantOK {
			t.Fatalf("%s: %v, want success %v", prog, err, wantOK)
		}
		return string(out)
	}
	at := []string{"-g", rg, "-w", wsName}
	compute := func(t *testing.T, name string) *mlfleet.AKSCompute {
		t.Helper()
		ws, err := c.GetWorkspace(ctx, rg, wsName)
		if err != nil {
			t.Fatal(err)
		}
		aks, err := ws.Compute(ctx, name)
		if err != nil {
			t.Fatalf("compute %s: %v", name, err)
		}
		return aks
	}
	detached := func(t *testing.T, name, cluster string) {
		t.Helper()
		out := run(t, true, "detach-aks", append(at, "-n", name)...)
		if !strings.Contains(out, finished+"\n") || !strings.Contains(out, "the cluster") {
			t.Errorf("detach-aks output:\n%s", out)
		}
		ws, err := c.GetWorkspace(ctx, rg, wsName)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ws.Compute(ctx, name); !mlfleet.IsNotFound(err) {
			t.Errorf("compute %s after detach-aks: %v", name, err)
		}
		if mc, err := c.GetManagedCluster(ctx, rg, cluster); err != nil || mc.Properties.ProvisioningState != "Succeeded" {
			t.Errorf("cluster %s after detach-aks: %v", cluster, err)
		}
	}

	t.Run("create-aks-devtest", func(t *testing.T) {
		out := run(t, true, "create-aks-devtest", append(at, "-n", "exprog-dev", "-agent-count", "1", "-vm-size", "Standard_D2_v2")...)
		for _, want := range []string{"Creating resource group " + rg, "Creating workspace " + wsName, "\nCreating", finished + "\n", "Compute exprog-dev is Succeeded"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		aks := compute(t, "exprog-dev")
		if aks.ProvisioningState() != "Succeeded" || aks.ClusterPurpose() != "DevTest" || aks.AgentCount() != 1 || aks.VMSize() != "Standard_D2_v2" || aks.IsAttached() {
			t.Errorf("created compute: %+v", aks.Compute().Properties)
		}
	})
	t.Run("create-aks-defaults", func(t *testing.T) {
		out := run(t, true, "create-aks-defaults", append(at, "-n", "exprog-aks")...)
		if strings.Contains(out, "Creating workspace") || !strings.Contains(out, finished+"\n") {
			t.Errorf("output:\n%s", out)
		}
		aks := compute(t, "exprog-aks")
		if aks.ProvisioningState() != "Succeeded" || aks.ClusterPurpose() != "FastProd" || aks.AgentCount() != 3 || aks.VMSize() != "Standard_D3_v2" ||
			aks.LoadBalancerType() != "PublicIp" || aks.IsAttached() {
			t.Errorf("created compute: %+v", aks.Compute().Properties)
		}
	})
	t.Run("detach-aks", func(t *testing.T) { detached(t, "exprog-aks", "exprog-aks") })
	t.Run("attach-aks-by-name", func(t *testing.T) {
		out := run(t, true, "attach-aks-by-name", append(at, "-n", "exprog-byname", "-cluster-group", rg, "-cluster", "exprog-aks")...)
		if !strings.Contains(out, finished+"\n") {
			t.Errorf("output:\n%s", out)
		}
		aks := compute(t, "exprog-byname")
		mc, err := c.GetManagedCluster(ctx, rg, "exprog-aks")
		if err != nil {
			t.Fatal(err)
		}
		if aks.ProvisioningState() != "Succeeded" || !aks.IsAttached() || !strings.EqualFold(aks.ClusterResourceID(), mc.ID) || aks.AgentCount() != 3 || aks.ClusterPurpose() != "FastProd" {
			t.Errorf("attached compute: %+v", aks.Compute().Properties)
		}
		detached(t, "exprog-byname", "exprog-aks")
	})
	t.Run("attach-aks-by-id", func(t *testing.T) {
		mc, err := c.GetManagedCluster(ctx, rg, "exprog-aks")
		if err != nil {
			t.Fatal(err)
		}
		out := run(t, true, "attach-aks-by-id", append(at, "-n", "exprog-byid", "-id", mc.ID, "-cluster-purpose", "DevTest")...)
		if !strings.Contains(out, "Attaching "+mc.ID) || !strings.Contains(out, finished+"\n") {
			t.Errorf("output:\n%s", out)
		}
		aks := compute(t, "exprog-byid")
		if aks.ProvisioningState() != "Succeeded" || !aks.IsAttached() || !strings.EqualFold(aks.ClusterResourceID(), mc.ID) || aks.ClusterPurpose() != "DevTest" {
			t.Errorf("attached compute: %+v", aks.Compute().Properties)
		}
		detached(t, "exprog-byid", "exprog-aks")

		// Without -id, the id is looked up as `aks show --query id` does.
		out = run(t, true, "attach-aks-by-id", append(at, "-n", "exprog-byid", "-cluster-group", rg, "-cluster", "exprog-aks")...)
		if !strings.Contains(out, "has the id "+mc.ID) || !strings.Contains(out, finished+"\n") {
			t.Errorf("output:\n%s", out)
		}
		detached(t, "exprog-byid", "exprog-aks")
	})
	t.Run("mistakes", func(t *testing.T) {
		out := run(t, false, "attach-aks-by-id", append(at, "-n", "exprog-bad", "-id", "/subscriptions/x/resourceGroups/rg")...)
		if !strings.Contains(out, "error: invalid AKS attach configuration: invalid ResourceID") {
			t.Errorf("bad id:\n%s", out)
		}
		out = run(t, false, "detach-aks", append(at, "-n", "exprog-none")...)
		if !strings.Contains(out, "error: (") || !strings.Contains(out, "NotFound") {
			t.Errorf("detach of a missing compute:\n%s", out)
		}
	})
}
