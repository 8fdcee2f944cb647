package kubeapiserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// The test binary runs one etcd, as mlfleet does, and a pair of apiservers shared by the tests
// that only read or write their own objects.
var (
	testEtcd    *Etcd
	testRootDir string

	shared        = testutil.NewShared("shared servers", startPair)
	sharedTimings startupTimings
)

// startupTimings records what starting the shared pair cost, for TestStartupCost.
type startupTimings struct {
	etcd          time.Duration
	first, second time.Duration
	rssBefore     int64 // VmRSS before the first server, bytes
	rssFirst      int64 // after the first
	rssSecond     int64 // after the second
}

func TestMain(m *testing.M) {
	// kube-apiserver logs through klog; keep the test output readable unless asked.
	os.Exit(testutil.Main(m, "kubeapiserver-test-", "KUBEAPISERVER_TEST_LOGS", func(ctx context.Context, root string) (func(context.Context) error, error) {
		testRootDir = root
		start := time.Now()
		var err error
		if testEtcd, err = StartEtcd(ctx, filepath.Join(root, "etcd")); err != nil {
			return nil, err
		}
		sharedTimings.etcd = time.Since(start)
		return func(ctx context.Context) error {
			return errors.Join(shared.Stop(ctx), testEtcd.Close(ctx))
		}, nil
	}))
}

// pair is the two shared servers.
type pair struct{ a, b *Server }

// Stop stops both servers.
func (p pair) Stop(ctx context.Context) error { return errors.Join(p.a.Stop(ctx), p.b.Stop(ctx)) }

// startPair starts the two shared servers and records what that cost in sharedTimings.
func startPair(ctx context.Context) (pair, error) {
	var p pair
	var err error
	sharedTimings.rssBefore = procstat.SettledRSS()
	start := time.Now()
	if p.a, err = Start(ctx, testConfig("shared-a")); err != nil {
		return p, err
	}
	sharedTimings.first = time.Since(start)
	sharedTimings.rssFirst = procstat.SettledRSS()
	start = time.Now()
	if p.b, err = Start(ctx, testConfig("shared-b")); err != nil {
		return p, errors.Join(err, p.a.Stop(ctx))
	}
	sharedTimings.second = time.Since(start)
	sharedTimings.rssSecond = procstat.SettledRSS()
	return p, nil
}

// sharedServers returns the two shared servers, starting them on first use.
func sharedServers(t testing.TB) (*Server, *Server) {
	t.Helper()
	p := shared.Get(t)
	return p.a, p.b
}

// testConfig is the configuration of a cluster whose data lives under the test root.
func testConfig(id string) Config {
	return Config{
		ID:            id,
		DataDir:       filepath.Join(testRootDir, "clusters", id),
		EtcdEndpoints: testEtcd.Endpoints(),
	}
}

// startServer starts a server for one test and stops it when the test ends.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	return testutil.Start(t, "server "+cfg.ID, func(ctx context.Context) (*Server, error) { return Start(ctx, cfg) })
}

// clientFor returns a clientset that uses kubeconfig exactly as kubectl would load it.
func clientFor(t *testing.T, kubeconfig []byte) *kubernetes.Clientset {
	t.Helper()
	return clientWithTimeout(t, kubeconfig, 10*time.Second)
}

// clientWithTimeout is clientFor with a given timeout per request, retries included.
func clientWithTimeout(t *testing.T, kubeconfig []byte, timeout time.Duration) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	cfg.Timeout = timeout
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return client
}
