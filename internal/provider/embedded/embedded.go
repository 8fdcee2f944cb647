// Package embedded is mlfleet's default cluster provider: every cluster is a real
// kube-apiserver (k8s.io/kubernetes, run inside mlfleet) on one etcd API shared by all
// clusters under per-cluster key prefixes (the embedded etcd by default; kine on the store's
// PostgreSQL with several replicas, or an external etcd), made to behave like a small AKS cluster by
// clusterruntime (upstream controllers, simulated nodes sized after the VM size, a pod
// scheduler/kubelet stand-in and load balancers). Cluster data lives under the provider's
// directory, so clusters survive a restart of mlfleet; Delete removes it.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/inference/router"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/clusterruntime"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	v1 "k8s.io/api/core/v1"
)

var _ provider.Provider = (*Provider)(nil)

// Provider runs clusters in this process.
type Provider struct {
	dir     string
	sizes   *catalog.VMSizes
	version string
	log     *slog.Logger
	python  string
	// sandbox is what the inference pods' processes must not see, besides the provider's
	// own data (scoringSandbox).
	sandbox sandbox.Policy
	// drainTimeout bounds a scale-down's drain; zero is the runtime's default.
	drainTimeout time.Duration
	// files finds the files of the inference pods (SetFilesResolver); nil until set.
	files atomic.Pointer[inference.FilesResolver]

	// state is where clusters keep their objects: the embedded etcd (default), kine on
	// a PostgreSQL database (UseKine) or an external etcd (UseEtcd).
	kineDSN       string
	etcdEndpoints []string
	stateMu       sync.Mutex
	state         stateStore

	frontDoor string
	// leases, when set, makes this replica host a cluster only while it holds its lease.
	leases Leases
	// identities, when set, keeps each cluster's identity where every replica finds it.
	identities Identities
	// remote, when set, carries calls on clusters other replicas host to them.
	remote Remote

	mu       sync.Mutex
	clusters map[string]*cluster
	byName   map[string]*kubeapiserver.Server // running clusters by lower-case FQDN
	up       map[string]*kubeapiserver.Server // running clusters by id
}

// cluster is one running cluster; its mutex serialises changes to it.
type cluster struct {
	mu      sync.Mutex
	server  *kubeapiserver.Server
	runtime *clusterruntime.Runtime
	router  *router.Server
	kube    *kube.Cluster
	spec    provider.ClusterSpec
	// live is what readers may use without mu while the cluster runs (nil when it does
	// not): set and cleared under mu with server. A change holds mu for as long as it
	// runs, a scale-down's drain for up to its timeout, and the reads that need no change
	// (credentials, pod logs) must not wait for it: a user fixing the drain needs them.
	// A cluster not up yet is still waited for (running), so that a read right after a
	// restart gets the cluster once Resume has started it, not ClusterNotRunning.
	live atomic.Pointer[liveCluster]
}

// liveCluster is the running cluster's parts that do not change while it runs.
type liveCluster struct {
	server  *kubeapiserver.Server
	runtime *clusterruntime.Runtime
}

// Option configures a Provider.
type Option func(*Provider)

// WithPython sets the Python interpreter (an absolute path, see inference.ResolvePython)
// that runs the clusters' inference pods. Without it those pods wait with an error that
// says so.
func WithPython(path string) Option {
	return func(p *Provider) { p.python = path }
}

// WithSandbox sets what the clusters' inference pods must not see (mlfleet's home and
// state, see sandbox.Policy); the provider adds its own directory and the socket of the
// etcd or kine it runs. Without it they still run sandboxed, hiding those alone.
func WithSandbox(policy sandbox.Policy) Option {
	return func(p *Provider) { p.sandbox = policy }
}

// WithDrainTimeout bounds the drain of the nodes a scale-down removes (see
// clusterruntime.Options.DrainTimeout); zero keeps the runtime's default, 10m.
func WithDrainTimeout(d time.Duration) Option {
	return func(p *Provider) { p.drainTimeout = d }
}

// SetFilesResolver sets how the clusters' inference pods find their model and code (see
// inference.FilesResolver); until it is set they wait with an error, tried again.
func (p *Provider) SetFilesResolver(f inference.FilesResolver) { p.files.Store(&f) }

// resolveFiles is the runtimes' FilesResolver: the one set now.
func (p *Provider) resolveFiles(ctx context.Context, clusterID, namespace string, labels map[string]string) (inference.PodFiles, error) {
	f := p.files.Load()
	if f == nil || *f == nil {
		return inference.PodFiles{}, errors.New("mlfleet is not ready to find the files of inference pods yet")
	}
	return (*f)(ctx, clusterID, namespace, labels)
}

// New returns a provider keeping its data under dir. Nothing starts until the first Ensure.
func New(dir string, sizes *catalog.VMSizes, log *slog.Logger, opts ...Option) (*Provider, error) {
	v, err := kubeapiserver.KubernetesVersion()
	if err != nil {
		return nil, fmt.Errorf("embedded provider: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	v = kube.CleanVersion(v)
	p := &Provider{dir: dir, sizes: sizes, version: v, log: log.With("provider", "embedded"), clusters: map[string]*cluster{}, byName: map[string]*kubeapiserver.Server{}, up: map[string]*kubeapiserver.Server{}}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Info implements provider.Provider: the embedded provider runs exactly the Kubernetes
// version it was built with.
func (p *Provider) Info() provider.Info {
	return provider.Info{Name: "embedded", CanCreate: true, CanScale: true, DeleteDestroys: true,
		EnforcesAuthorizedIPRanges: true, Versions: []string{p.version}, ServesEndpoints: true, LocalRouter: true}
}

func (p *Provider) entry(id string) *cluster {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.clusters[id]
	if !ok {
		c = &cluster{}
		p.clusters[id] = c
	}
	return c
}

// Ensure starts the cluster's apiserver and runtime if they are not running (first create,
// or after a restart, with the data kept) and sets its node pools to spec.
func (p *Provider) Ensure(ctx context.Context, spec provider.ClusterSpec) (*provider.Status, error) {
	if spec.KubernetesVersion != "" && spec.KubernetesVersion != p.version {
		return nil, fmt.Errorf("the embedded provider runs Kubernetes %s, not %s", p.version, spec.KubernetesVersion)
	}
	c := p.entry(spec.ID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server == nil {
		if p.leases != nil {
			st, err := p.hostOrForward(ctx, spec)
			if st != nil || err != nil {
				return st, err
			}
		}
		if err := p.start(ctx, c, spec); err != nil {
			if p.leases != nil {
				_ = p.leases.Release(context.WithoutCancel(ctx), spec.ID)
			}
			return nil, err
		}
	}
	c.spec = spec
	for _, pool := range spec.Pools {
		if err := p.setPool(ctx, c, pool); err != nil {
			return nil, err
		}
	}
	c.runtime.SetAutoscaler(autoscalerConfig(spec))
	return p.status(ctx, c)
}

// autoscalerConfig is the runtime's autoscaler for spec: off unless a pool autoscales.
func autoscalerConfig(spec provider.ClusterSpec) clusterruntime.AutoscalerConfig {
	cfg := clusterruntime.AutoscalerConfig{Pools: map[string]clusterruntime.PoolBounds{}}
	for _, pool := range spec.Pools {
		if pool.Autoscale != nil {
			cfg.Pools[pool.Name] = clusterruntime.PoolBounds{Min: pool.Autoscale.Min, Max: pool.Autoscale.Max}
		}
	}
	if a := spec.Autoscaler; a != nil {
		cfg.Settings = a.AutoscalerSettings
		cfg.Resize, cfg.Resized = a.Resize, a.Resized
	}
	return cfg
}

func (p *Provider) start(ctx context.Context, c *cluster, spec provider.ClusterSpec) error {
	state, err := p.startState(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("start %s: %w", p.StateBackend(), err)
	}
	start := time.Now()
	if p.identities != nil {
		if err := p.adoptIdentity(ctx, spec); err != nil {
			return err
		}
	}
	srv, err := kubeapiserver.Start(ctx, kubeapiserver.Config{
		ID: spec.ID, DataDir: filepath.Join(p.dir, spec.ID), EtcdEndpoints: state.Endpoints(),
		ServiceCIDR: spec.ServiceCIDR, AuthorizedIPRanges: spec.AuthorizedIPRanges,
		ServerName: strings.ToLower(spec.FQDN), FrontDoor: p.frontDoor,
	})
	if err != nil {
		return fmt.Errorf("start apiserver of %s: %w", spec.Name, err)
	}
	// The runtime stands for the cluster's nodes and controllers: it talks to the API
	// server over the internal listener, which authorized IP ranges do not filter.
	cfg := srv.InClusterConfig()
	log := p.log.With("cluster", spec.Name)
	rt, err := clusterruntime.Start(ctx, cfg, clusterruntime.Options{Logger: log,
		DataDir: filepath.Join(p.dir, spec.ID, "inference"), Python: p.python, Sandbox: p.scoringSandbox(state), DrainTimeout: p.drainTimeout,
		ClusterID: spec.ID, Files: p.resolveFiles})
	if err != nil {
		_ = srv.Stop(context.WithoutCancel(ctx))
		return fmt.Errorf("start cluster runtime of %s: %w", spec.Name, err)
	}
	kc, err := kube.FromConfig(cfg)
	if err != nil {
		_ = rt.Stop(context.WithoutCancel(ctx))
		_ = srv.Stop(context.WithoutCancel(ctx))
		return err
	}
	// The inference router stands for azureml-fe: in-process, reachable from this machine.
	rtr, err := startRouter(ctx, cfg, log)
	if err != nil {
		_ = rt.Stop(context.WithoutCancel(ctx))
		_ = srv.Stop(context.WithoutCancel(ctx))
		return fmt.Errorf("start inference router of %s: %w", spec.Name, err)
	}
	c.server, c.runtime, c.router, c.kube = srv, rt, rtr, kc
	c.live.Store(&liveCluster{server: srv, runtime: rt})
	p.register(spec, srv)
	p.log.Info("cluster started", "cluster", spec.Name, "id", spec.ID, "url", srv.URL(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (p *Provider) setPool(ctx context.Context, c *cluster, pool provider.NodePool) error {
	size, ok := p.sizes.Get(pool.VMSize)
	if !ok {
		return fmt.Errorf("unknown VM size %q", pool.VMSize)
	}
	var taints []v1.Taint
	for _, t := range pool.Taints {
		taints = append(taints, v1.Taint{Key: t.Key, Value: t.Value, Effect: v1.TaintEffect(t.Effect)})
	}
	return c.runtime.SetPool(ctx, clusterruntime.NodePool{Name: pool.Name, Count: pool.Count, VMSize: size.Name,
		Cores: size.Cores, MemoryMiB: int64(size.MemoryMiB), GPUs: size.GPUs, FPGAs: size.FPGAs,
		KubernetesVersion: p.version, Location: c.spec.Location,
		Labels: pool.Labels, Taints: taints, MaxPods: pool.MaxPods})
}

// Status reads the running cluster: the version from GET /version and the pools.
func (p *Provider) Status(ctx context.Context, id string) (*provider.Status, error) {
	c, err := p.running(id)
	if errors.Is(err, provider.ErrNotFound) && p.remote != nil {
		var st provider.Status
		if err := p.onHost(ctx, id, callStatus, id, &st, false); errors.Is(err, errRunsHere) {
			return p.Status(ctx, id)
		} else if err != nil {
			return nil, err
		}
		return &st, nil
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return p.status(ctx, c)
}

func (p *Provider) status(ctx context.Context, c *cluster) (*provider.Status, error) {
	v, err := c.kube.Version(ctx)
	if err != nil {
		return nil, err
	}
	st := &provider.Status{KubernetesVersion: v, Server: c.server.URL()}
	for _, pool := range c.runtime.Pools() {
		st.Pools = append(st.Pools, provider.NodePool{Name: pool.Name, Count: pool.Count, VMSize: pool.VMSize, Mode: "System"})
	}
	return st, nil
}

// Scale sets a pool's node count.
func (p *Provider) Scale(ctx context.Context, id string, pool provider.NodePool) error {
	return p.onCluster(ctx, id, callScale, scaleCall{ID: id, Pool: pool}, func(c *cluster) error {
		if err := p.setPool(ctx, c, pool); err != nil {
			return err
		}
		for i := range c.spec.Pools {
			if c.spec.Pools[i].Name == pool.Name {
				c.spec.Pools[i] = pool
			}
		}
		return nil
	})
}

// SetAuthorizedIPRanges changes who may connect to the cluster's API server.
func (p *Provider) SetAuthorizedIPRanges(ctx context.Context, id string, ranges []string) error {
	return p.onCluster(ctx, id, callRanges, rangesCall{ID: id, Ranges: ranges}, func(c *cluster) error {
		return c.server.SetAuthorizedIPRanges(ranges)
	})
}

// onCluster runs change on the cluster id, under its lock, when it runs in this process.
// When it runs on another replica the change goes there as the call method with in, and
// is tried again here if that replica answers that the cluster runs here after all.
func (p *Provider) onCluster(ctx context.Context, id, method string, in any, change func(c *cluster) error) error {
	c, err := p.running(id)
	if errors.Is(err, provider.ErrNotFound) && p.remote != nil {
		if err := p.onHost(ctx, id, method, in, nil, true); !errors.Is(err, errRunsHere) {
			return err
		}
		return p.onCluster(ctx, id, method, in, change)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return change(c)
}

// Credentials returns the cluster-admin and the cluster user's kubeconfigs. A cluster
// another replica hosts is reached through this replica's front door, which passes the
// connection on to the host: its kubeconfigs come from the shared identity.
func (p *Provider) Credentials(ctx context.Context, id string) (*provider.Credentials, error) {
	c, err := p.running(id)
	if errors.Is(err, provider.ErrNotFound) && p.identities != nil && p.frontDoor != "" {
		return p.remoteCredentials(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	live := c.live.Load()
	if live == nil {
		return nil, provider.ErrNotFound // stopped meanwhile
	}
	return &provider.Credentials{Admin: live.server.AdminKubeconfig(), User: live.server.UserKubeconfig()}, nil
}

// Delete stops the cluster and removes its objects and files. Idempotent.
func (p *Provider) Delete(ctx context.Context, id string) error {
	c := p.entry(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	p.stop(ctx, c)
	if p.leases != nil {
		// Another replica may host the cluster: take its lease, which fences that host,
		// and wait until it has surely stopped writing before removing the objects.
		wait, err := p.leases.Seize(ctx, id)
		if err != nil {
			return fmt.Errorf("take the hosting lease of %s: %w", id, err)
		}
		if wait > 0 {
			p.log.Info("deleting a cluster another replica hosts: waiting for it to stop", "id", id, "wait", wait.Round(time.Millisecond))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	state, err := p.startState(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("start %s: %w", p.StateBackend(), err)
	}
	if err := deletePrefix(ctx, state.Endpoints(), "/clusters/"+id+"/"); err != nil {
		return fmt.Errorf("delete objects of %s: %w", id, err)
	}
	if err := os.RemoveAll(filepath.Join(p.dir, id)); err != nil {
		return fmt.Errorf("delete data of %s: %w", id, err)
	}
	if p.identities != nil {
		if err := p.identities.Delete(ctx, id); err != nil {
			return fmt.Errorf("delete identity of %s: %w", id, err)
		}
	}
	if p.leases != nil {
		if err := p.leases.Forget(ctx, id); err != nil {
			return fmt.Errorf("delete hosting lease of %s: %w", id, err)
		}
	}
	p.mu.Lock()
	delete(p.clusters, id)
	p.mu.Unlock()
	return nil
}

// stop stops a cluster's router, runtime and apiserver, keeping its data.
func (p *Provider) stop(ctx context.Context, c *cluster) {
	c.live.Store(nil)
	if c.server != nil {
		p.unregister(c.server)
	}
	if c.router != nil {
		if err := c.router.Stop(ctx); err != nil {
			p.log.Warn("stop inference router", "cluster", c.spec.Name, "err", err)
		}
	}
	if c.runtime != nil {
		if err := c.runtime.Stop(ctx); err != nil {
			p.log.Warn("stop cluster runtime", "cluster", c.spec.Name, "err", err)
		}
	}
	if c.server != nil {
		if err := c.server.Stop(ctx); err != nil {
			p.log.Warn("stop apiserver", "cluster", c.spec.Name, "err", err)
		}
	}
	c.server, c.runtime, c.router, c.kube = nil, nil, nil, nil
}

// Close stops every cluster and the etcd, keeping their data.
func (p *Provider) Close(ctx context.Context) error {
	p.mu.Lock()
	list := make([]*cluster, 0, len(p.clusters))
	for _, c := range p.clusters {
		list = append(list, c)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.mu.Lock()
			defer c.mu.Unlock()
			p.stop(ctx, c)
		}()
	}
	wg.Wait()
	p.stateMu.Lock()
	state := p.state
	p.stateMu.Unlock()
	if state != nil {
		return state.Close(ctx)
	}
	return nil
}

func (p *Provider) running(id string) (*cluster, error) {
	p.mu.Lock()
	c, ok := p.clusters[id]
	p.mu.Unlock()
	if !ok {
		return nil, provider.ErrNotFound
	}
	if c.live.Load() != nil {
		return c, nil
	}
	// Not up: wait for a start under way (Resume after a restart), as a change would,
	// then tell whether it came up.
	c.mu.Lock()
	up := c.server != nil
	c.mu.Unlock()
	if !up {
		return nil, provider.ErrNotFound
	}
	return c, nil
}
