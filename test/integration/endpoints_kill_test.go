package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestKillDuringDeployment: the server dies (failpoint crash, as kill -9) right after a
// deployment's Deployment was applied; the restarted server resumes the operation, which
// finishes the deployment. The test is not parallel: the failpoint reaches the child
// server through the environment.
func TestKillDuringDeployment(t *testing.T) {
	t.Setenv("MLFLEET_FAILPOINTS", "op/onlinedeployments.put/apply deployment/after=crash")
	home := t.TempDir()
	p, cfg := startServerProcess(t, home, "127.0.0.1:0")
	port := serverPort(cfg)
	const rg, ws = "kd-rg", "kd-ws"
	c := homeClient(t, home, rg, mlfleet.WithPollInterval(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.CreateWorkspace(ctx, rg, ws, "westus"); err != nil {
		t.Fatal(err)
	}
	_, cp, err := c.BeginCreateOrUpdateCompute(ctx, rg, ws, "kdaks", devTest(1), &mlfleet.ComputeOptions{IfNoneMatch: true})
	finish(ctx, t, "compute", cp, err)
	modelID, codeID := registerEcho(t, c, rg, ws, "echo", "1")
	ep := &mlfleet.OnlineEndpoint{Location: "westus"}
	ep.Properties.Compute = c.ComputeID(rg, ws, "kdaks")
	_, epp, err := c.BeginCreateOrUpdateOnlineEndpoint(ctx, rg, ws, "kdep", ep, true)
	finish(ctx, t, "endpoint", epp, err)
	d := &mlfleet.OnlineDeployment{Location: "westus"}
	d.Properties.EndpointComputeType = "Kubernetes"
	d.Properties.Model = modelID
	d.Properties.CodeConfiguration = &mlfleet.CodeConfiguration{CodeID: codeID, ScoringScript: "score.py"}
	_, dp, err := c.BeginCreateOrUpdateOnlineDeployment(ctx, rg, ws, "kdep", "blue", d, true)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not crash at the failpoint:\n%s", p.logs)
	}
	if !strings.Contains(p.logs.String(), "failpoint: crash at op/onlinedeployments.put/apply deployment/after") {
		t.Fatalf("the server died elsewhere:\n%s", p.logs)
	}

	t.Setenv("MLFLEET_FAILPOINTS", "")
	p2, _ := startServerProcess(t, home, "127.0.0.1:"+port)
	if _, err := dp.Wait(ctx, nil); err != nil {
		t.Fatalf("deployment after restart: %v\n%s", err, p2.logs)
	}
	got, err := c.GetOnlineDeployment(ctx, rg, ws, "kdep", "blue")
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties.ProvisioningState != "Succeeded" || got.Properties.Mlfleet == nil || got.Properties.Mlfleet.ReadyInstances != 1 {
		t.Fatalf("deployment after restart: %+v", got.Properties)
	}
}
