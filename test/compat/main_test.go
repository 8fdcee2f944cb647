// Package compat drives a real mlfleet server with official Azure clients, to check that
// mlfleet's ARM wire format is what they expect. One server, started in TestMain over HTTPS
// on loopback with a temporary MLFLEET_HOME, is shared by the tests.
package compat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/mlfleet/mlfleet/internal/cli"
	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// server is the mlfleet server every test talks to.
var server struct {
	home string
	cfg  *clientconfig.Config
	http *http.Client
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	home, err := os.MkdirTemp("", "mlfleet-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	// MLFLEET_HOME is process-global: set it here, before any test runs.
	os.Setenv("MLFLEET_HOME", home)
	os.Unsetenv("MLFLEET_SERVER")
	os.Unsetenv("MLFLEET_TOKEN")
	os.Unsetenv("MLFLEET_SUBSCRIPTION")

	ctx, cancel := context.WithCancel(context.Background())
	logs, err := os.Create(filepath.Join(home, "server.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		cancel()
		return 1
	}
	defer logs.Close()
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, cli.Streams{In: strings.NewReader(""), Out: io.Discard, Err: logs},
			[]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "debug"})
	}()
	cfg, err := waitReady(home, done)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start server:", err)
		cancel()
		return 1
	}
	server.home, server.cfg = home, cfg
	if server.http, err = httpClient(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		cancel()
		return 1
	}
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "server stopped with:", err)
		code = 1
	}
	if code != 0 {
		b, _ := os.ReadFile(filepath.Join(home, "server.log"))
		if len(b) > 8192 {
			b = b[len(b)-8192:]
		}
		fmt.Fprintf(os.Stderr, "--- server log (last 8 KiB) ---\n%s\n", b)
	}
	return code
}

// waitReady waits until the server in home wrote its config and answers /healthz.
func waitReady(home string, exited <-chan error) (*clientconfig.Config, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("server exited: %v", err)
		default:
		}
		cfg, err := clientconfig.Load(home)
		if err == nil && cfg.Server != "" {
			if hc, err := httpClient(cfg); err == nil {
				if resp, err := hc.Get(cfg.Server + "/healthz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return cfg, nil
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("server in %s not ready after 60s", home)
}

// httpClient trusts the CA that signed the server's certificate.
func httpClient(cfg *clientconfig.Config) (*http.Client, error) {
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", cfg.CAFile)
	}
	return &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}

// tokenCredential hands the Azure SDK the mlfleet bearer token.
type tokenCredential struct{ cfg *clientconfig.Config }

func (c tokenCredential) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.cfg.ReadToken()
	if err != nil {
		return azcore.AccessToken{}, err
	}
	if tok == "" {
		return azcore.AccessToken{}, fmt.Errorf("mlfleet config in %s has no token", server.home)
	}
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// armOptions point an ARM client at the mlfleet server instead of Azure.
func armOptions() *arm.ClientOptions {
	url := server.cfg.Server
	return &arm.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: url, Audience: url},
			}},
			Transport: server.http,
		},
		// mlfleet never answers MissingSubscriptionRegistration; don't try to register.
		DisableRPRegistration: true,
	}
}

func credential() azcore.TokenCredential { return tokenCredential{cfg: server.cfg} }

// sdk returns an mlfleet SDK client for the shared server.
func sdk(t testing.TB) *mlfleet.Client {
	t.Helper()
	c, err := mlfleet.NewClient(mlfleet.WithHome(server.home))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
