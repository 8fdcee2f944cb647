// Package integration drives a real mlfleet server over HTTPS on loopback: through the CLI
// code path, the Go SDK and raw HTTP. One server, started in TestMain with a temporary
// MLFLEET_HOME, is shared by the tests; tests that need their own server process (kill -9)
// re-execute this test binary as `mlfleet serve`.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/mlfleet/mlfleet/internal/cli"
	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// childEnv makes the test binary behave as the mlfleet binary (see TestMain).
const childEnv = "MLFLEET_TEST_RUN_AS_MLFLEET"

// shared is the server every test talks to unless it starts its own.
var shared struct {
	home string
	cfg  *clientconfig.Config
	http *http.Client
}

func TestMain(m *testing.M) {
	// First: this binary is the sandbox stub of the scoring processes its servers start.
	sandbox.Init()
	if os.Getenv(childEnv) == "1" {
		armOnSignal()
		os.Exit(cli.Main())
	}
	// The tests share one server and create dozens of clusters at once in westus: more than
	// the built-in quotas allow one subscription on a laptop. Servers the tests start
	// themselves keep the built-in quotas.
	quotas, err := os.CreateTemp("", "mlfleet-quotas-*.json")
	if err == nil {
		_, err = quotas.WriteString(`{"default": {"managedClusters": 1000, "cores": 100000}}`)
		quotas.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "write quota file:", err)
		os.Exit(1)
	}
	code := testserver.Main(m.Run, func(s *testserver.Server) {
		shared.home, shared.cfg, shared.http = s.Home, s.Config, s.HTTP
	}, "--page-size", "5", "--health-interval", "1s", "--quota-file", quotas.Name())
	os.Remove(quotas.Name())
	os.Exit(code)
}

// armEnv holds a failpoint spec that a child server arms when it receives SIGUSR1, so that
// a test can prepare what a flow needs before the failpoints count (the crash test).
const armEnv = "MLFLEET_TEST_ARM_ON_SIGUSR1"

// armOnSignal arms the failpoints of armEnv on SIGUSR1 and says so on stderr.
func armOnSignal() {
	spec := os.Getenv(armEnv)
	if spec == "" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			if err := failpoint.Arm(spec); err != nil {
				fmt.Fprintf(os.Stderr, "failpoints not armed: %v\n", err)
				continue
			}
			fmt.Fprintf(os.Stderr, "failpoints armed: %s\n", spec)
		}
	}()
}

func httpClient(cfg *clientconfig.Config) *http.Client {
	hc, err := testserver.HTTPClient(cfg)
	if err != nil {
		panic(err)
	}
	return hc
}

func adminToken(t testing.TB, cfg *clientconfig.Config) string {
	t.Helper()
	tok, err := cfg.ReadToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sdk returns an SDK client for the shared server.
func sdk(t testing.TB) *mlfleet.Client {
	t.Helper()
	return clientOf(t, shared.home)
}

// result is what a CLI run printed and returned.
type result struct {
	out, err string
	code     int
}

// mlfleetCLI runs the CLI in-process against the shared server.
func mlfleetCLI(t testing.TB, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	err := cli.Run(context.Background(), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args)
	return result{out: out.String(), err: errb.String(), code: cli.ExitCode(err)}
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func mustCLI(t testing.TB, args ...string) string {
	t.Helper()
	r := mlfleetCLI(t, args...)
	if r.code != 0 {
		t.Fatalf("mlfleet %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// call is a raw HTTP call to the shared server.
type call struct {
	method, path, body string
	token              *string      // nil = the admin token
	base               string       // server URL; "" = the shared server
	client             *http.Client // trusting base's CA; nil = the shared server's
	headers            map[string]string
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t testing.TB, c call) answer {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	base := c.base
	if base == "" {
		base = shared.cfg.Server
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	tok := adminToken(t, shared.cfg)
	if c.token != nil {
		tok = *c.token
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	hc := shared.http
	if c.client != nil {
		hc = c.client
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &a.body)
	}
	return a
}

// errorCode returns error.code of an ARM error body.
func (a answer) errorCode() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (a answer) errorMessage() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func sub() string { return shared.cfg.Subscription }

func rgPath(rg string) string { return "/subscriptions/" + sub() + "/resourceGroups/" + rg }

func wsPath(rg, ws string) string {
	return rgPath(rg) + "/providers/Microsoft.MachineLearningServices/workspaces/" + ws
}

func strp(s string) *string { return &s }
