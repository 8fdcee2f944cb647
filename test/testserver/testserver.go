// Package testserver starts a real mlfleet server for tests: `mlfleet serve` run in-process
// over HTTPS on a free loopback port, with its own home directory.
package testserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/cli"
	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// Server is a running test server.
type Server struct {
	// Home is the server's MLFLEET_HOME.
	Home string
	// Config is the CLI configuration the server wrote (URL, CA, token, subscription).
	Config *clientconfig.Config
	// HTTP is a client that trusts the server's CA.
	HTTP *http.Client

	cancel context.CancelFunc
	done   chan error
	logs   *os.File
}

// Main is the body of a TestMain that shares one server between a package's tests: it makes
// a temporary home, points MLFLEET_HOME at it (process-global, so before any test runs),
// starts the server with extra serve flags, runs the tests, stops the server and prints the
// end of its log when something failed. With MLFLEET_TEST_KEEP_HOME set, the home (with
// the whole server.log) is kept and its path printed. It returns the exit code; set receives the server.
func Main(run func() int, set func(*Server), flags ...string) int {
	home, err := os.MkdirTemp("", "mlfleet-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv("MLFLEET_TEST_KEEP_HOME") != "" {
		// For a failure to look into: the whole server.log, the database, the clusters.
		fmt.Fprintln(os.Stderr, "test server home (kept):", home)
	} else {
		defer os.RemoveAll(home)
	}
	os.Setenv("MLFLEET_HOME", home)
	for _, v := range []string{"MLFLEET_SERVER", "MLFLEET_TOKEN", "MLFLEET_SUBSCRIPTION"} {
		os.Unsetenv(v)
	}
	srv, err := Start(home, flags...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start server:", err)
		return 1
	}
	set(srv)
	code := run()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "server stopped with:", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- server log (last 8 KiB) ---\n%s\n", srv.LogTail(8192))
	}
	return code
}

// SklearnPython returns a Python interpreter that imports scikit-learn (python3 on the
// PATH, else Debian's /usr/bin/python3, where .ci/run installs python3-sklearn), or "" when
// there is none. Test servers run their inference pods with it.
var SklearnPython = sync.OnceValue(func() string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import sklearn").Run() == nil {
			return py
		}
	}
	return ""
})

// ReplicaKey is the secret key test servers on a PostgreSQL store are given (every test
// replica the same, as in production every replica of one database).
const ReplicaKey = "mlfleet test replica key, not for production use"

// Start runs `mlfleet serve --addr 127.0.0.1:0 --log-level debug FLAGS...` in-process with
// home as its data directory and returns once it answers /healthz. A server on a
// PostgreSQL store (--store) is given ReplicaKey unless flags name a --secret-key-file.
func Start(home string, flags ...string) (*Server, error) {
	logs, err := os.Create(filepath.Join(home, "server.log"))
	if err != nil {
		return nil, err
	}
	if slices.Contains(flags, "--store") && !slices.Contains(flags, "--secret-key-file") {
		keyFile := filepath.Join(home, "replica.key")
		if err := os.WriteFile(keyFile, []byte(ReplicaKey), 0o600); err != nil {
			return nil, err
		}
		flags = append(slices.Clone(flags), "--secret-key-file", keyFile)
	}
	if py := SklearnPython(); py != "" && !slices.Contains(flags, "--python") {
		flags = append(slices.Clone(flags), "--python", py)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Home: home, cancel: cancel, done: make(chan error, 1), logs: logs}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", home, "--log-level", "debug"}, flags...)
	go func() {
		s.done <- cli.Run(ctx, cli.Streams{In: strings.NewReader(""), Out: io.Discard, Err: logs}, args)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("server exited: %v\n%s", err, s.LogTail(4096))
		default:
		}
		if cfg, err := clientconfig.Load(home); err == nil && cfg.Server != "" {
			if hc, err := HTTPClient(cfg); err == nil {
				if resp, err := hc.Get(cfg.Server + "/healthz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						s.Config, s.HTTP = cfg, hc
						return s, nil
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	return nil, fmt.Errorf("server in %s not ready after 60s", home)
}

// StartTest is Start for t alone, in a new home of t's: the server stops when t ends, and
// the end of its log is logged when t failed. t fails when the server does not start.
func StartTest(t testing.TB, flags ...string) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), flags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("server stopped with: %v", err)
		}
		if t.Failed() {
			t.Logf("server log (last 8 KiB):\n%s", s.LogTail(8192))
		}
	})
	return s
}

// Stop shuts the server down gracefully and returns what `serve` returned.
func (s *Server) Stop() error {
	s.cancel()
	err := <-s.done
	s.logs.Close()
	return err
}

// LogTail returns the last n bytes of the server's log.
func (s *Server) LogTail(n int) []byte {
	b, _ := os.ReadFile(filepath.Join(s.Home, "server.log"))
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return b
}

// Client returns an SDK client, with opts, of the server as the admin it set up; t fails
// when the client cannot be made.
func (s *Server) Client(t testing.TB, opts ...mlfleet.Option) *mlfleet.Client {
	t.Helper()
	c, err := mlfleet.NewClient(append([]mlfleet.Option{mlfleet.WithHome(s.Home)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// HTTPClient returns a client that trusts the CA named in cfg.
func HTTPClient(cfg *clientconfig.Config) (*http.Client, error) {
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", cfg.CAFile)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}
