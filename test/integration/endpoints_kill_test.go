package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	p2 := restartAfterCrash(t, p, "op/onlinedeployments.put/apply deployment/after", 60*time.Second, home, port)
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

// TestKillDuringDeploymentMove: the server dies (failpoint crash) when a deployment moved
// to another compute runs there and its old instances are still on the compute it left;
// the restarted server resumes the update, which still knows that compute (recorded on
// the deployment) and removes them. Not parallel, as TestKillDuringDeployment.
func TestKillDuringDeploymentMove(t *testing.T) {
	t.Setenv("MLFLEET_FAILPOINTS", "op/onlinedeployments.put/remove instances from former computes/before=crash")
	home := t.TempDir()
	p, cfg := startServerProcess(t, home, "127.0.0.1:0")
	port := serverPort(cfg)
	const rg, ws = "km-rg", "km-ws"
	c := homeClient(t, home, rg, mlfleet.WithPollInterval(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := c.CreateWorkspace(ctx, rg, ws, "westus"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kmfp1", "kmcff"} {
		_, cp, err := c.BeginCreateOrUpdateCompute(ctx, rg, ws, name, devTest(1), &mlfleet.ComputeOptions{IfNoneMatch: true})
		finish(ctx, t, "compute "+name, cp, err)
	}
	_, codeID := registerEcho(t, c, rg, ws, "echo", "1")
	_, epp, err := c.BeginCreateOrUpdateOnlineEndpoint(ctx, rg, ws, "kmep", &mlfleet.OnlineEndpoint{Location: "westus"}, true)
	finish(ctx, t, "endpoint", epp, err)
	d := &mlfleet.OnlineDeployment{Location: "westus"}
	d.Properties.EndpointComputeType = "Kubernetes"
	d.Properties.Compute = c.ComputeID(rg, ws, "kmfp1")
	d.Properties.CodeConfiguration = &mlfleet.CodeConfiguration{CodeID: codeID, ScoringScript: "score.py"}
	_, dp, err := c.BeginCreateOrUpdateOnlineDeployment(ctx, rg, ws, "kmep", "blue", d, true)
	finish(ctx, t, "deployment on kmfp1", dp, err)

	d.Properties.Compute = c.ComputeID(rg, ws, "kmcff")
	if _, dp, err = c.BeginCreateOrUpdateOnlineDeployment(ctx, rg, ws, "kmep", "blue", d, false); err != nil {
		t.Fatal(err)
	}
	p2 := restartAfterCrash(t, p, "op/onlinedeployments.put/remove instances from former computes/before", 90*time.Second, home, port)
	if _, err := dp.Wait(ctx, nil); err != nil {
		t.Fatalf("deployment move after restart: %v\n%s", err, p2.logs)
	}
	got, err := c.GetOnlineDeployment(ctx, rg, ws, "kmep", "blue")
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties.ProvisioningState != "Succeeded" || got.Properties.Mlfleet == nil || len(got.Properties.Mlfleet.FormerComputes) != 0 {
		t.Fatalf("deployment after restart: %+v", got.Properties)
	}
	kc, err := c.ClusterCredentials(ctx, rg, "kmfp1", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubeClient(t, kc).AppsV1().Deployments("azureml").Get(ctx, "kmep-blue", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment kmep-blue left on the compute it moved off: %v", err)
	}
}

// restartAfterCrash waits (up to within) for the server p to crash at failpoint, fails the
// test if it does not or dies elsewhere, and starts it again on the same home and port with
// no failpoint armed.
func restartAfterCrash(t *testing.T, p *serverProcess, failpoint string, within time.Duration, home, port string) *serverProcess {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("the server did not crash at the failpoint:\n%s", p.logs)
	}
	if !strings.Contains(p.logs.String(), "failpoint: crash at "+failpoint) {
		t.Fatalf("the server died elsewhere:\n%s", p.logs)
	}
	t.Setenv("MLFLEET_FAILPOINTS", "")
	p2, _ := startServerProcess(t, home, "127.0.0.1:"+port)
	return p2
}
