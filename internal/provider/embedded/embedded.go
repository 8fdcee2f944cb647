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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/frontdoor"
	"github.com/mlfleet/mlfleet/internal/inference/router"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/clusterruntime"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
)

var _ provider.Provider = (*Provider)(nil)

// Provider runs clusters in this process.
type Provider struct {
	dir     string
	sizes   *catalog.VMSizes
	version string
	log     *slog.Logger
	python  string

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
}

// Option configures a Provider.
type Option func(*Provider)

// WithPython sets the Python interpreter (an absolute path, see inference.ResolvePython)
// that runs the clusters' inference pods. Without it those pods wait with an error that
// says so.
func WithPython(path string) Option {
	return func(p *Provider) { p.python = path }
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

// Leases are the hosting leases of this replica (hosting.Keeper): with them, a cluster
// starts here only once this replica holds its lease, and stops when the lease is lost.
type Leases interface {
	Acquire(ctx context.Context, clusterID string) (token int64, holder string, err error)
	Release(ctx context.Context, clusterID string) error
	// Seize takes the lease from its holder for a delete, and returns how long that holder
	// may still serve the cluster.
	Seize(ctx context.Context, clusterID string) (time.Duration, error)
	// Forget removes a deleted cluster's lease.
	Forget(ctx context.Context, clusterID string) error
	// Holder returns the replica holding the cluster's unexpired lease ("" when none).
	Holder(ctx context.Context, clusterID string) (string, error)
	// Self is this replica's id.
	Self() string
	// Place returns the replica that should host a new cluster ("" when the cluster has
	// been hosted before, or no replica is alive).
	Place(ctx context.Context, clusterID string) (string, error)
}

// HostBy makes the provider host a cluster only while this replica holds its lease in
// leases; Ensure on a cluster another replica hosts returns provider.ErrHostedElsewhere.
// The lease keeper must call Fence when it loses a lease. Call it before the first Ensure.
func (p *Provider) HostBy(leases Leases) { p.leases = leases }

// Identities keep each cluster's identity (kubeapiserver.Identity, JSON) where every
// replica finds it: sealed in the shared store. Get returns nil and no error when the
// cluster has none yet; Ensure stores value unless one is stored, and returns the stored one.
type Identities interface {
	Get(ctx context.Context, clusterID string) ([]byte, error)
	Ensure(ctx context.Context, clusterID string, value []byte) ([]byte, error)
	Delete(ctx context.Context, clusterID string) error
}

// ShareIdentities makes every cluster this replica starts use the identity stored in ids
// (its CA, service account key and kubeconfig client certificates), storing its own first
// when the cluster has none: a cluster that moves to another replica keeps its kubeconfigs
// and tokens valid, and a replica that does not host a cluster can still hand out its
// kubeconfigs (through its own front door). Call it before the first Ensure.
func (p *Provider) ShareIdentities(ids Identities) { p.identities = ids }

// sharedIdentity is what Identities store for one cluster.
type sharedIdentity struct {
	ClusterID string                 `json:"clusterId"`
	FQDN      string                 `json:"fqdn"`
	Files     kubeapiserver.Identity `json:"files"`
}

// adoptIdentity installs the cluster's shared identity in its data directory before it
// starts, publishing the local one (created now if need be) when none is shared yet.
func (p *Provider) adoptIdentity(ctx context.Context, spec provider.ClusterSpec) error {
	dataDir := filepath.Join(p.dir, spec.ID)
	b, err := p.identities.Get(ctx, spec.ID)
	if err != nil {
		return fmt.Errorf("load identity of %s: %w", spec.Name, err)
	}
	if b == nil {
		files, err := kubeapiserver.LoadOrCreateIdentity(dataDir, spec.ID)
		if err != nil {
			return err
		}
		mine, err := json.Marshal(sharedIdentity{ClusterID: spec.ID, FQDN: strings.ToLower(spec.FQDN), Files: files})
		if err != nil {
			return err
		}
		if b, err = p.identities.Ensure(ctx, spec.ID, mine); err != nil {
			return fmt.Errorf("share identity of %s: %w", spec.Name, err)
		}
	}
	id, err := decodeIdentity(spec.ID, b)
	if err != nil {
		return err
	}
	return id.Files.Install(dataDir)
}

func decodeIdentity(clusterID string, b []byte) (*sharedIdentity, error) {
	var id sharedIdentity
	if err := json.Unmarshal(b, &id); err != nil {
		return nil, fmt.Errorf("decode identity of %s: %w", clusterID, err)
	}
	if id.ClusterID != clusterID {
		return nil, fmt.Errorf("identity of %s: stored for cluster %q", clusterID, id.ClusterID)
	}
	return &id, nil
}

// Fence stops serving a cluster whose lease this replica lost, at once: it leaves the front
// door first, then its runtime and apiserver stop (in the background), keeping the data.
func (p *Provider) Fence(id string) {
	p.mu.Lock()
	c := p.clusters[id]
	srv := p.up[id]
	p.mu.Unlock()
	if srv != nil {
		p.unregister(srv)
	}
	if c == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.mu.Lock()
		defer c.mu.Unlock()
		p.stop(ctx, c)
		p.log.Warn("cluster fenced: its hosting lease was lost", "cluster", c.spec.Name, "id", id)
	}()
}

// ServeThrough makes the clusters started from now on hand out kubeconfigs that reach them
// through the front door at hostPort (the control plane's address), by their FQDN as TLS
// server name; the front door finds them with Resolve. Call it before the first Ensure.
func (p *Provider) ServeThrough(hostPort string) { p.frontDoor = hostPort }

// Resolve implements frontdoor.Resolver: the running cluster whose FQDN is name.
func (p *Provider) Resolve(name string) (frontdoor.Target, bool) {
	p.mu.Lock()
	srv := p.byName[strings.ToLower(name)]
	p.mu.Unlock()
	if srv == nil {
		return nil, false
	}
	return target{srv}, true
}

// target is a local cluster's API server as a front door target.
type target struct{ *kubeapiserver.Server }

func (t target) Serve(conn net.Conn) { t.Handoff(conn) }

// Info implements provider.Provider: the embedded provider runs exactly the Kubernetes
// version it was built with.
func (p *Provider) Info() provider.Info {
	return provider.Info{Name: "embedded", CanCreate: true, CanScale: true, DeleteDestroys: true,
		EnforcesAuthorizedIPRanges: true, Versions: []string{p.version}, ServesEndpoints: true}
}

// stateStore serves the etcd API that clusters' apiservers keep their objects in.
type stateStore interface {
	Endpoints() []string
	Close(ctx context.Context) error
}

// externalEtcd is an etcd cluster that mlfleet does not run.
type externalEtcd []string

func (e externalEtcd) Endpoints() []string       { return append([]string(nil), e...) }
func (externalEtcd) Close(context.Context) error { return nil }

// UseKine makes clusters keep their objects in the PostgreSQL database of dsn (a postgres://
// URL, usually the store's), through kine run in this process, instead of the embedded etcd:
// their apiservers then hold no state, and any replica on the database can serve them. Call
// it before the first Ensure.
func (p *Provider) UseKine(dsn string) { p.kineDSN = dsn }

// UseEtcd makes clusters keep their objects in the etcd cluster at endpoints (client URLs)
// instead of the embedded etcd. Call it before the first Ensure.
func (p *Provider) UseEtcd(endpoints []string) { p.etcdEndpoints = endpoints }

// StateBackend names where clusters keep their objects: "kine", "etcd" (external) or
// "embedded-etcd".
func (p *Provider) StateBackend() string {
	switch {
	case p.kineDSN != "":
		return "kine"
	case len(p.etcdEndpoints) > 0:
		return "etcd"
	}
	return "embedded-etcd"
}

// startState starts the state store on first use. A failed start is tried again on the
// next use (the database may have been down), not remembered.
func (p *Provider) startState(ctx context.Context) (stateStore, error) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.state != nil {
		return p.state, nil
	}
	switch {
	case p.kineDSN != "":
		k, err := kubeapiserver.StartKine(ctx, p.kineDSN, filepath.Join(p.dir, "kine"))
		if err != nil {
			return nil, err
		}
		p.state = k
	case len(p.etcdEndpoints) > 0:
		p.state = externalEtcd(p.etcdEndpoints)
	default:
		e, err := kubeapiserver.StartEtcd(ctx, filepath.Join(p.dir, "etcd"))
		if err != nil {
			return nil, err
		}
		p.state = e
	}
	return p.state, nil
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
		cfg.Settings = clusterruntime.AutoscalerSettings{ScanInterval: a.ScanInterval, ScaleDownDelayAfterAdd: a.ScaleDownDelayAfterAdd,
			ScaleDownUnneededTime: a.ScaleDownUnneededTime, ScaleDownDelayAfterFailure: a.ScaleDownDelayAfterFailure,
			UtilizationThreshold: a.UtilizationThreshold, MaxGracefulTermination: a.MaxGracefulTermination, Expander: a.Expander}
		cfg.Resize = a.Resize
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
		DataDir: filepath.Join(p.dir, spec.ID, "inference"), Python: p.python})
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
	p.register(spec, srv)
	p.log.Info("cluster started", "cluster", spec.Name, "id", spec.ID, "url", srv.URL(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (p *Provider) setPool(ctx context.Context, c *cluster, pool provider.NodePool) error {
	size, ok := p.sizes.Get(pool.VMSize)
	if !ok {
		return fmt.Errorf("unknown VM size %q", pool.VMSize)
	}
	return c.runtime.SetPool(ctx, clusterruntime.NodePool{Name: pool.Name, Count: pool.Count, VMSize: size.Name,
		Cores: size.Cores, MemoryMiB: int64(size.MemoryMiB), GPUs: size.GPUs, FPGAs: size.FPGAs,
		KubernetesVersion: p.version, Location: c.spec.Location})
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
	c, err := p.running(id)
	if errors.Is(err, provider.ErrNotFound) && p.remote != nil {
		if err := p.onHost(ctx, id, callScale, scaleCall{ID: id, Pool: pool}, nil, true); !errors.Is(err, errRunsHere) {
			return err
		}
		return p.Scale(ctx, id, pool)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := p.setPool(ctx, c, pool); err != nil {
		return err
	}
	for i := range c.spec.Pools {
		if c.spec.Pools[i].Name == pool.Name {
			c.spec.Pools[i] = pool
		}
	}
	return nil
}

// SetAuthorizedIPRanges changes who may connect to the cluster's API server.
func (p *Provider) SetAuthorizedIPRanges(ctx context.Context, id string, ranges []string) error {
	c, err := p.running(id)
	if errors.Is(err, provider.ErrNotFound) && p.remote != nil {
		if err := p.onHost(ctx, id, callRanges, rangesCall{ID: id, Ranges: ranges}, nil, true); !errors.Is(err, errRunsHere) {
			return err
		}
		return p.SetAuthorizedIPRanges(ctx, id, ranges)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.server.SetAuthorizedIPRanges(ranges)
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
	c.mu.Lock()
	defer c.mu.Unlock()
	return &provider.Credentials{Admin: c.server.AdminKubeconfig(), User: c.server.UserKubeconfig()}, nil
}

func (p *Provider) remoteCredentials(ctx context.Context, id string) (*provider.Credentials, error) {
	b, err := p.identities.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load identity of %s: %w", id, err)
	}
	if b == nil {
		return nil, provider.ErrNotFound
	}
	ident, err := decodeIdentity(id, b)
	if err != nil {
		return nil, err
	}
	admin, user, err := ident.Files.Kubeconfigs(id, p.frontDoor, ident.FQDN)
	if err != nil {
		return nil, err
	}
	return &provider.Credentials{Admin: admin, User: user}, nil
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

// deletePrefix deletes every key under prefix, one key at a time with the transaction an
// apiserver uses (delete if unchanged since read): kine supports no other kind of delete.
func deletePrefix(ctx context.Context, endpoints []string, prefix string) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	for {
		resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithLimit(500))
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		for _, kv := range resp.Kvs {
			key := string(kv.Key)
			if _, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
				Then(clientv3.OpDelete(key)).Else(clientv3.OpGet(key)).Commit(); err != nil {
				return err
			}
		}
	}
}

// Running returns the ids of the clusters running in this process, sorted. It never
// waits for a cluster that is starting or stopping.
func (p *Provider) Running() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.up))
	for id := range p.up {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// stateDirs are the directories under the provider's directory that are not a cluster's.
var stateDirs = map[string]bool{"etcd": true, "kine": true}

// Idle returns the ids of the clusters that have a data directory here but do not run
// here, sorted: those another replica hosts, and those deleted through another replica
// (which fenced this one) or left by a crash, whose directory is garbage.
func (p *Provider) Idle() ([]string, error) {
	entries, err := os.ReadDir(p.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range entries {
		if e.IsDir() && !stateDirs[e.Name()] && p.up[e.Name()] == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// RemoveData removes the data directory of a cluster that is not running here (the caller
// knows it is deleted); it does nothing when the cluster runs.
func (p *Provider) RemoveData(id string) error {
	if id == "" || stateDirs[id] || strings.ContainsAny(id, `/\`) || id == "." || id == ".." {
		return fmt.Errorf("remove cluster data: invalid id %q", id)
	}
	c := p.entry(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server != nil {
		return nil
	}
	if err := os.RemoveAll(filepath.Join(p.dir, id)); err != nil {
		return fmt.Errorf("remove data of %s: %w", id, err)
	}
	p.mu.Lock()
	delete(p.clusters, id)
	p.mu.Unlock()
	return nil
}

// register makes a started cluster reachable through the front door by its FQDN.
func (p *Provider) register(spec provider.ClusterSpec, srv *kubeapiserver.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up[spec.ID] = srv
	name := strings.ToLower(spec.FQDN)
	if name == "" {
		return
	}
	if other, taken := p.byName[name]; taken && other != srv {
		// Clusters created before FQDNs were made unique may share one: the first keeps it.
		p.log.Warn("another running cluster has this fqdn; this one is not reachable through the front door", "cluster", spec.Name, "fqdn", name)
		return
	}
	p.byName[name] = srv
}

// unregister removes a stopping cluster from the front door.
func (p *Provider) unregister(srv *kubeapiserver.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, s := range p.up {
		if s == srv {
			delete(p.up, id)
		}
	}
	for name, s := range p.byName {
		if s == srv {
			delete(p.byName, name)
		}
	}
}

// stop stops a cluster's router, runtime and apiserver, keeping its data.
func (p *Provider) stop(ctx context.Context, c *cluster) {
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
	c.mu.Lock()
	up := c.server != nil
	c.mu.Unlock()
	if !up {
		return nil, provider.ErrNotFound
	}
	return c, nil
}
