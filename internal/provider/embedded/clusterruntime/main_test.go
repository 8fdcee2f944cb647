package clusterruntime

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
)

// The test binary runs one etcd, as mlfleet does, and one shared cluster (apiserver and
// runtime) with the pools most tests need; tests that change pools or stop runtimes start
// clusters of their own.
var (
	testEtcd *kubeapiserver.Etcd
	testRoot string
	// testPython is the interpreter inference pods run with; empty where there is none.
	testPython string

	sharedOnce sync.Once
	shared     *testCluster
	sharedErr  error
)

// Pools of the shared cluster.
var (
	poolD3 = NodePool{Name: "nodepool1", Count: 3, VMSize: "Standard_D3_v2", Cores: 4, MemoryMiB: 14336,
		KubernetesVersion: "1.33.2", Location: "westeurope"}
	poolNC6 = NodePool{Name: "gpupool", Count: 1, VMSize: "Standard_NC6", Cores: 6, MemoryMiB: 57344, GPUs: 1,
		KubernetesVersion: "1.33.2", Location: "westeurope"}
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// kube-apiserver and a few upstream corners log through klog's global logger; keep the
	// test output readable unless asked.
	if os.Getenv("TMP_KLOG") == "" {
		klog.SetLogger(logr.Discard())
	}
	var err error
	testRoot, err = os.MkdirTemp("", "clusterruntime-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(testRoot)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if p, err := inference.ResolvePython(ctx, "python3"); err == nil {
		testPython = p
	} else {
		fmt.Fprintln(os.Stderr, "inference pod tests skipped:", err)
	}
	testEtcd, err = kubeapiserver.StartEtcd(ctx, filepath.Join(testRoot, "etcd"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	code := m.Run()

	stopCtx, stopCancel := context.WithTimeout(context.Background(), time.Minute)
	defer stopCancel()
	if shared != nil {
		if err := shared.stop(stopCtx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if err := testEtcd.Close(stopCtx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// testLogger logs warnings and errors to stderr, everything with CLUSTERRUNTIME_TEST_LOGS.
func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("CLUSTERRUNTIME_TEST_LOGS") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// processOptions are the options of a runtime that runs inference pods as processes,
// with its data under the test root and short restart back-offs.
func processOptions(id string) Options {
	return Options{Logger: testLogger(), DataDir: filepath.Join(testRoot, "data", id), Python: testPython,
		ProcessMinBackoff: 100 * time.Millisecond, ProcessMaxBackoff: 400 * time.Millisecond}
}

// testCluster is an apiserver with a runtime.
type testCluster struct {
	server  *kubeapiserver.Server
	config  *rest.Config
	client  kubernetes.Interface
	runtime *Runtime
}

func (c *testCluster) stop(ctx context.Context) error {
	var errs []error
	if c.runtime != nil {
		if err := c.runtime.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.server.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("stop cluster: %v", errs)
	}
	return nil
}

// startServer starts an apiserver and returns it with an admin config and client.
func startServer(ctx context.Context, id string) (*testCluster, error) {
	s, err := kubeapiserver.Start(ctx, kubeapiserver.Config{
		ID:            id,
		DataDir:       filepath.Join(testRoot, "clusters", id),
		EtcdEndpoints: testEtcd.Endpoints(),
	})
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.AdminKubeconfig())
	if err != nil {
		s.Stop(ctx)
		return nil, err
	}
	clientCfg := rest.CopyConfig(cfg)
	clientCfg.Timeout = 20 * time.Second
	clientCfg.QPS, clientCfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(clientCfg)
	if err != nil {
		s.Stop(ctx)
		return nil, err
	}
	return &testCluster{server: s, config: cfg, client: client}, nil
}

// newCluster starts an apiserver for one test and stops it (and its runtime, if the test
// started one into c.runtime) when the test ends.
func newCluster(t testing.TB, id string) *testCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := startServer(ctx, id)
	if err != nil {
		t.Fatalf("start apiserver %s: %v", id, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.stop(ctx); err != nil {
			t.Errorf("%v", err)
		}
	})
	return c
}

// sharedCluster returns the shared cluster, starting it on first use with the pools
// poolD3 and poolNC6.
func sharedCluster(t testing.TB) *testCluster {
	t.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := startServer(ctx, "shared")
		if err != nil {
			sharedErr = err
			return
		}
		shared = c
		if c.runtime, sharedErr = Start(ctx, c.config, processOptions("shared")); sharedErr != nil {
			return
		}
		for _, p := range []NodePool{poolD3, poolNC6} {
			if sharedErr = c.runtime.SetPool(ctx, p); sharedErr != nil {
				return
			}
		}
	})
	if sharedErr != nil {
		t.Fatalf("start shared cluster: %v", sharedErr)
	}
	return shared
}

// waitFor polls cond until it returns true, failing the test after timeout with the last
// state cond described.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v; last: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
