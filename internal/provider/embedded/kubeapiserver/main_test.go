package kubeapiserver

import (
	"context"
	"fmt"
	"github.com/mlfleet/mlfleet/internal/procstat"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// The test binary runs one etcd, as mlfleet does, and a pair of apiservers shared by the tests
// that only read or write their own objects.
var (
	testEtcd    *Etcd
	testRootDir string

	sharedOnce    sync.Once
	sharedA       *Server
	sharedB       *Server
	sharedErr     error
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
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// kube-apiserver logs through klog; keep the test output readable unless asked.
	if os.Getenv("KUBEAPISERVER_TEST_LOGS") == "" {
		klog.SetLogger(logr.Discard())
	}
	var err error
	testRootDir, err = os.MkdirTemp("", "kubeapiserver-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(testRootDir)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	testEtcd, err = StartEtcd(ctx, filepath.Join(testRootDir, "etcd"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sharedTimings.etcd = time.Since(start)

	code := m.Run()

	stopCtx, stopCancel := context.WithTimeout(context.Background(), time.Minute)
	defer stopCancel()
	for _, s := range []*Server{sharedA, sharedB} {
		if s != nil {
			if err := s.Stop(stopCtx); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
			}
		}
	}
	if err := testEtcd.Close(stopCtx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// sharedServers returns the two shared servers, starting them on first use.
func sharedServers(t testing.TB) (*Server, *Server) {
	t.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sharedTimings.rssBefore = procstat.SettledRSS()
		start := time.Now()
		sharedA, sharedErr = Start(ctx, testConfig("shared-a"))
		if sharedErr != nil {
			return
		}
		sharedTimings.first = time.Since(start)
		sharedTimings.rssFirst = procstat.SettledRSS()
		start = time.Now()
		sharedB, sharedErr = Start(ctx, testConfig("shared-b"))
		if sharedErr != nil {
			return
		}
		sharedTimings.second = time.Since(start)
		sharedTimings.rssSecond = procstat.SettledRSS()
	})
	if sharedErr != nil {
		t.Fatalf("start shared servers: %v", sharedErr)
	}
	return sharedA, sharedB
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start(%s): %v", cfg.ID, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop(%s): %v", cfg.ID, err)
		}
	})
	return s
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

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
