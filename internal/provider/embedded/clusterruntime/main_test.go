package clusterruntime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// The test binary runs one etcd, as mlfleet does, and one shared cluster (apiserver and
// runtime) with the pools most tests need; tests that change pools or stop runtimes start
// clusters of their own.
var (
	testEtcd *kubeapiserver.Etcd
	testRoot string
	// testPython is the interpreter inference pods run with; empty where there is none.
	testPython string

	shared = testutil.NewShared("shared cluster", startShared)
)

// Pools of the shared cluster.
var (
	poolD3 = NodePool{Name: "nodepool1", Count: 3, VMSize: "Standard_D3_v2", Cores: 4, MemoryMiB: 14336,
		KubernetesVersion: "1.33.2", Location: "westeurope"}
	poolNC6 = NodePool{Name: "gpupool", Count: 1, VMSize: "Standard_NC6", Cores: 6, MemoryMiB: 57344, GPUs: 1,
		KubernetesVersion: "1.33.2", Location: "westeurope"}
)

func TestMain(m *testing.M) {
	// First: this binary is the sandbox stub of the scoring processes its servers start.
	sandbox.Init()
	os.Exit(testutil.Main(m, "clusterruntime-test-", "TMP_KLOG", func(ctx context.Context, root string) (func(context.Context) error, error) {
		testRoot = root
		if p, err := inference.ResolvePython(ctx, "python3"); err == nil {
			testPython = p
		} else {
			fmt.Fprintln(os.Stderr, "inference pod tests skipped:", err)
		}
		var err error
		if testEtcd, err = kubeapiserver.StartEtcd(ctx, filepath.Join(root, "etcd")); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			return errors.Join(shared.Stop(ctx), testEtcd.Close(ctx))
		}, nil
	}))
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
// with its data under the test root and short restart back-offs. The longest is 2s so
// that a crash loop ends only after a run of 4s: a slow start of Python on a busy machine
// stays part of the loop.
func processOptions(id string) Options {
	return Options{Logger: testLogger(), DataDir: filepath.Join(testRoot, "data", id), Python: testPython, Files: resolveTestFiles,
		ProcessMinBackoff: 100 * time.Millisecond, ProcessMaxBackoff: 2 * time.Second}
}

// testCluster is an apiserver with a runtime.
type testCluster struct {
	server  *kubeapiserver.Server
	config  *rest.Config
	client  kubernetes.Interface
	runtime *Runtime
}

// Stop stops the runtime, if the test started one, and the apiserver.
func (c *testCluster) Stop(ctx context.Context) error {
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
	return testutil.Start(t, "apiserver "+id, func(ctx context.Context) (*testCluster, error) { return startServer(ctx, id) })
}

// newRuntimeCluster is newCluster with a runtime started with opts and the pools set.
func newRuntimeCluster(t testing.TB, id string, opts Options, pools ...NodePool) *testCluster {
	t.Helper()
	c := newCluster(t, id)
	if err := c.startRuntime(t.Context(), opts, pools...); err != nil {
		t.Fatal(err)
	}
	return c
}

// startRuntime starts a runtime with opts into c.runtime and sets the pools.
func (c *testCluster) startRuntime(ctx context.Context, opts Options, pools ...NodePool) error {
	rt, err := Start(ctx, c.config, opts)
	if err != nil {
		return err
	}
	c.runtime = rt
	for _, p := range pools {
		if err := rt.SetPool(ctx, p); err != nil {
			return fmt.Errorf("set pool %s: %w", p.Name, err)
		}
	}
	return nil
}

// sharedCluster returns the shared cluster, starting it on first use.
func sharedCluster(t testing.TB) *testCluster {
	t.Helper()
	return shared.Get(t)
}

// startShared starts the shared cluster: an apiserver and a runtime with the pools poolD3
// and poolNC6.
func startShared(ctx context.Context) (*testCluster, error) {
	c, err := startServer(ctx, "shared")
	if err != nil {
		return nil, err
	}
	if err := c.startRuntime(ctx, processOptions("shared"), poolD3, poolNC6); err != nil {
		return nil, errors.Join(err, c.Stop(ctx))
	}
	return c, nil
}
