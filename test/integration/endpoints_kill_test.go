package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKillDuringDeployment: the server dies (failpoint crash, as kill -9) right after a
// deployment's Deployment was applied; the restarted server resumes the operation, which
// finishes the deployment. The test is not parallel: the failpoint reaches the child
// server through the environment.
func TestKillDuringDeployment(t *testing.T) {
	const rg, ws = "kd-rg", "kd-ws"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := startCrashing(ctx, t, "op/onlinedeployments.put/apply deployment/after", rg, ws)
	c := srv.c
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
	got := srv.deploymentAfterRestart(ctx, t, 60*time.Second, dp, "kdep", "blue")
	if got.Properties.Mlfleet.ReadyInstances != 1 {
		t.Fatalf("deployment after restart: %+v", got.Properties)
	}
}

// TestKillDuringDeploymentMove: the server dies (failpoint crash) when a deployment moved
// to another compute runs there and its old instances are still on the compute it left;
// the restarted server resumes the update, which still knows that compute (recorded on
// the deployment) and removes them. Not parallel, as TestKillDuringDeployment.
func TestKillDuringDeploymentMove(t *testing.T) {
	const rg, ws = "km-rg", "km-ws"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	srv := startCrashing(ctx, t, "op/onlinedeployments.put/remove instances from former computes/before", rg, ws)
	c := srv.c
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
	got := srv.deploymentAfterRestart(ctx, t, 90*time.Second, dp, "kmep", "blue")
	if len(got.Properties.Mlfleet.FormerComputes) != 0 {
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

// crashingServer is a server process armed to crash (as kill -9) at one failpoint, with a
// client of its home and the workspace the test works in.
type crashingServer struct {
	p          *serverProcess
	home, port string
	failpoint  string
	c          *mlfleet.Client
	rg, ws     string
}

// startCrashing starts a server process whose failpoint crashes it, and creates the group
// rg and its workspace ws. The test must not be parallel: the failpoint reaches the child
// through the environment.
func startCrashing(ctx context.Context, t *testing.T, failpoint, rg, ws string) *crashingServer {
	t.Helper()
	t.Setenv("MLFLEET_FAILPOINTS", failpoint+"=crash")
	s := &crashingServer{home: t.TempDir(), failpoint: failpoint, rg: rg, ws: ws}
	var cfg *clientconfig.Config
	s.p, cfg = startServerProcess(t, s.home, "127.0.0.1:0")
	s.port = serverPort(cfg)
	s.c = homeClient(t, s.home, rg, mlfleet.WithPollInterval(200*time.Millisecond))
	if _, err := s.c.CreateWorkspace(ctx, rg, ws, "westus"); err != nil {
		t.Fatal(err)
	}
	return s
}

// restartAfterCrash waits (up to within) for the server to crash at its failpoint, fails
// the test if it does not or dies elsewhere, and starts it again on the same home and port
// with no failpoint armed.
func (s *crashingServer) restartAfterCrash(t *testing.T, within time.Duration) *serverProcess {
	t.Helper()
	select {
	case <-s.p.done:
	case <-time.After(within):
		t.Fatalf("the server did not crash at the failpoint:\n%s", s.p.logs)
	}
	if !strings.Contains(s.p.logs.String(), "failpoint: crash at "+s.failpoint) {
		t.Fatalf("the server died elsewhere:\n%s", s.p.logs)
	}
	t.Setenv("MLFLEET_FAILPOINTS", "")
	p2, _ := startServerProcess(t, s.home, "127.0.0.1:"+s.port)
	return p2
}

// deploymentAfterRestart restarts the server once it has crashed (see restartAfterCrash),
// waits for p, the operation of deployment name of endpoint, and returns the deployment,
// which the resumed operation must have left Succeeded.
func (s *crashingServer) deploymentAfterRestart(ctx context.Context, t *testing.T, within time.Duration, p *mlfleet.Poller, endpoint, name string) *mlfleet.OnlineDeployment {
	t.Helper()
	p2 := s.restartAfterCrash(t, within)
	if _, err := p.Wait(ctx, nil); err != nil {
		t.Fatalf("deployment %s/%s after restart: %v\n%s", endpoint, name, err, p2.logs)
	}
	got, err := s.c.GetOnlineDeployment(ctx, s.rg, s.ws, endpoint, name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties.ProvisioningState != "Succeeded" || got.Properties.Mlfleet == nil {
		t.Fatalf("deployment %s/%s after restart: %+v", endpoint, name, got.Properties)
	}
	return got
}
