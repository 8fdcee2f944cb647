// Package serveproc runs `mlfleet serve` as a child process in a home of its own, for the
// benchmarks that measure the server from the outside: Start waits until it serves, Kill
// is kill -9, Stop a graceful SIGTERM, and AllAnswer waits until the API servers of its
// clusters answer through the credentials it hands out. bench/restart and hack/bench use
// it.
package serveproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// startWithin bounds how long a server may take to serve after it starts.
const startWithin = 2 * time.Minute

// Server is a running `mlfleet serve`.
type Server struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs `bin serve --addr 127.0.0.1:0 args...` with MLFLEET_HOME=home, its log
// appended to home/serve.log, and returns once it prints that it is serving. The client
// configuration in home then names its address.
func Start(bin, home string, args ...string) (*Server, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "MLFLEET_HOME="+home)
	logf, err := os.OpenFile(filepath.Join(home, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &Server{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		var once sync.Once
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "mlfleet is serving at") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("the server exited at start; see %s", filepath.Join(home, "serve.log"))
	case <-time.After(startWithin):
		s.Kill()
		return nil, fmt.Errorf("the server did not start within %v", startWithin)
	}
}

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Kill ends the server with SIGKILL and waits until it is gone. It is idempotent.
func (s *Server) Kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Stop sends SIGTERM and waits until the server exits; after within it kills the server
// and returns an error.
func (s *Server) Stop(within time.Duration) error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(within):
		s.Kill()
		return fmt.Errorf("the server did not stop within %v of SIGTERM", within)
	}
}

// AllAnswer waits until the API server of every named cluster of group answers GET
// /version through the credentials the server hands out, and returns when each first
// did. It gives up after within, with the last error of each cluster that did not answer.
func AllAnswer(c *mlfleet.Client, group string, names []string, within time.Duration) ([]time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	at := make([]time.Time, len(names))
	for i, name := range names {
		wg.Go(func() {
			_ = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
				errs[i] = answers(ctx, c, group, name)
				return errs[i] == nil, nil
			})
			at[i] = time.Now()
		})
	}
	wg.Wait()
	return at, errors.Join(errs...)
}

func answers(ctx context.Context, c *mlfleet.Client, group, name string) error {
	kc, err := c.ClusterCredentials(ctx, group, name, true)
	if err != nil {
		return fmt.Errorf("credentials of %s: %w", name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return err
	}
	cfg.Timeout = 2 * time.Second
	k, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if _, err = k.Discovery().ServerVersion(); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	return nil
}
