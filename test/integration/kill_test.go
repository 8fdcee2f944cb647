package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// serverProcess is `mlfleet serve` in its own process (this test binary re-executed).
type serverProcess struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{} // closed when the process has exited
}

// terminate stops the server with SIGTERM, as a service manager does, and waits up to 60s
// for it to exit.
func (p *serverProcess) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not stop within 60s of SIGTERM\n%s", p.logs)
	}
}

func startServerProcess(t *testing.T, home, addr string, extra ...string) (*serverProcess, *clientconfig.Config) {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--log-level", "debug"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "MLFLEET_HOME="+home, secrets.ReplicaKeyEnv+"="+testserver.ReplicaKey)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	// A previous process's config names its port; wait for this one's to answer.
	cfg, err := waitReadyProcess(home, p)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	return p, cfg
}

// waitReadyProcess waits up to 60s for the server process p with home home to answer
// /readyz and returns its client configuration.
func waitReadyProcess(home string, p *serverProcess) (*clientconfig.Config, error) {
	var cfg *clientconfig.Config
	exited := false
	_, ready := testutil.Poll(context.Background(), 60*time.Second, func() (bool, string) {
		select {
		case <-p.done:
			exited = true
			return true, ""
		default:
		}
		c, err := clientconfig.Load(home)
		if err != nil || c.Server == "" {
			return false, ""
		}
		resp, err := httpClient(c).Get(c.Server + "/readyz")
		if err != nil {
			return false, ""
		}
		resp.Body.Close()
		cfg = c
		return resp.StatusCode == 200 && strings.Contains(p.logs.String(), "serving"), ""
	})
	switch {
	case exited:
		return nil, fmt.Errorf("server exited")
	case !ready:
		return nil, fmt.Errorf("server not ready in 60s")
	}
	return cfg, nil
}

// serverPort returns the port of the server cfg names, for starting the next process on it.
func serverPort(cfg *clientconfig.Config) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(cfg.Server, "https://"))
	return port
}

// clientOf returns a client, with opts, of the server whose home is home.
func clientOf(t testing.TB, home string, opts ...mlfleet.Option) *mlfleet.Client {
	t.Helper()
	c, err := mlfleet.NewClient(append([]mlfleet.Option{mlfleet.WithHome(home)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// homeClient returns a client of the server whose home is home, with opts, and creates the
// resource group rg in westus.
func homeClient(t *testing.T, home, rg string, opts ...mlfleet.Option) *mlfleet.Client {
	t.Helper()
	c := clientOf(t, home, opts...)
	createGroup(t, c, rg, "westus")
	return c
}

// TestKillDuringResourceGroupDelete kills the server with SIGKILL in the middle of a
// long-running resource group delete, restarts it, and checks that the operation reaches
// Succeeded with nothing left half-done (A4).
func TestKillDuringResourceGroupDelete(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	// Each operation step sleeps 150ms, so deleting 20 workspaces takes about 3s.
	p, cfg := startServerProcess(t, home, "127.0.0.1:0", "--fault-step-delay", "150ms")
	port := serverPort(cfg)
	c := homeClient(t, home, "doomed")
	ctx := context.Background()
	createGroup(t, c, "survivor", "westus")
	for i := range 20 {
		if _, err := c.CreateWorkspace(ctx, "doomed", fmt.Sprintf("ws-%02d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateWorkspace(ctx, "survivor", "keep-me", ""); err != nil {
		t.Fatal(err)
	}
	poller, err := c.BeginDeleteResourceGroup(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the delete is under way: some workspaces gone, some left.
	testutil.WaitFor(t, 30*time.Second, "the delete in the middle", func() (bool, string) {
		left, err := c.ListWorkspaces(ctx, "doomed")
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			t.Fatal("could not catch the delete in the middle (0 left)")
		}
		if len(left) <= 17 {
			t.Logf("killing the server with %d of 20 workspaces left", len(left))
		}
		return len(left) <= 17, fmt.Sprintf("%d left", len(left))
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	st, err := poller.Poll(ctx)
	if err == nil {
		t.Fatalf("server still answering after SIGKILL: %+v", st)
	}

	// Restart on the same port, without the delay; the operation resumes and finishes.
	p2, _ := startServerProcess(t, home, "127.0.0.1:"+port)
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	final, err := poller.Wait(waitCtx, nil)
	if err != nil {
		t.Fatalf("operation after restart: %v\n%s", err, p2.logs)
	}
	if final.Status != "Succeeded" || final.EndTime == nil {
		t.Fatalf("final status %+v", final)
	}
	if !strings.Contains(p2.logs.String(), "resuming operation") {
		t.Errorf("the restarted server did not log resuming the operation:\n%s", p2.logs)
	}
	if _, err := c.GetResourceGroup(ctx, "doomed"); !mlfleet.IsNotFound(err) {
		t.Fatalf("resource group still there: %v", err)
	}
	all, err := c.ListWorkspaces(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "keep-me" {
		t.Fatalf("workspaces after the delete: %d (want only keep-me)", len(all))
	}
}
