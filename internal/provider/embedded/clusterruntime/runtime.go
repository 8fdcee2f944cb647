package clusterruntime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// Errors of the package, wrapped with details.
var (
	// ErrInvalidOptions means a setting of Options is malformed; the message names it.
	ErrInvalidOptions = errors.New("invalid cluster runtime options")
	// ErrInvalidPool means a NodePool given to SetPool breaks a rule; the message lists
	// every broken rule.
	ErrInvalidPool = errors.New("invalid node pool")
	// ErrStopped is returned by SetPool and DeletePool after Stop.
	ErrStopped = errors.New("cluster runtime stopped")
	// ErrAddressesExhausted means a simulated network range has no free address left.
	ErrAddressesExhausted = errors.New("addresses exhausted")
	// ErrAddressUnavailable means an address asked for is outside its range or taken.
	ErrAddressUnavailable = errors.New("address unavailable")
)

// Defaults of Options.
const (
	defaultLeaseRenewInterval      = 10 * time.Second
	defaultNodeStatusInterval      = time.Minute
	defaultSchedulingRetryInterval = 30 * time.Second
	defaultDrainTimeout            = 10 * time.Minute
	defaultNodeCIDR                = "10.224.0.0/16"
	defaultPodCIDR                 = "10.244.0.0/16"
	defaultPublicLBCIDR            = "198.18.0.0/15"
	defaultInternalLBCIDR          = "10.240.0.0/16"
)

// Options tunes a Runtime. The zero value gives AKS defaults.
type Options struct {
	// Logger receives the runtime's logs. Nil discards them. The upstream controllers log
	// to it one level quieter than they would to klog (their Info is Debug here), so that
	// one cluster's routine start does not fill the log of a control plane.
	Logger *slog.Logger

	// Clock gives the times written into heartbeats, Leases and pod statuses and drives
	// the Lease renewal ticker. Nil means the real clock.
	Clock clock.WithTicker

	// LeaseRenewInterval is how often each node's Lease in kube-node-lease is renewed.
	// Zero means 10s, the kubelet's default.
	LeaseRenewInterval time.Duration

	// NodeStatusInterval is how often a node's condition heartbeats are rewritten when
	// nothing else about the node changes. Zero means 1m (the kubelet uses 5m; the Lease is
	// the liveness signal).
	NodeStatusInterval time.Duration

	// SchedulingRetryInterval is how often pods that fit on no node are tried again even
	// though no node or pod changed. Zero means 30s.
	SchedulingRetryInterval time.Duration

	// DrainTimeout bounds the drain of the nodes a SetPool removes: evictions that a
	// PodDisruptionBudget refuses are tried again until then, and the pods' termination
	// grace periods are capped to it. Zero means 10m, the cluster autoscaler's
	// max-graceful-termination-sec.
	DrainTimeout time.Duration

	// NodeCIDR is the subnet of the nodes' InternalIPs. Empty means "10.224.0.0/16", the
	// AKS default; the first four addresses are reserved as in any Azure subnet.
	NodeCIDR string

	// PodCIDR is the range pod IPs come from, split into a /24 per node as kubenet does.
	// Empty means "10.244.0.0/16", the AKS kubenet default.
	PodCIDR string

	// PublicLoadBalancerCIDR is the range of the "public" addresses of Services of type
	// LoadBalancer. Empty means "198.18.0.0/15": addresses outside the private ranges, so
	// that they read as public, but reserved for benchmarking (RFC 2544) and never routed
	// on the internet, so that a simulated address can never be someone's real one.
	PublicLoadBalancerCIDR string

	// InternalLoadBalancerCIDR is the range of the addresses of internal load balancers
	// (Services annotated AnnotationLoadBalancerInternal "true"). Empty means
	// "10.240.0.0/16", the classic AKS node subnet.
	InternalLoadBalancerCIDR string

	// InternalLoadBalancerSubnets maps subnet names, as given in the annotation
	// AnnotationLoadBalancerInternalSubnet, to their CIDRs. An internal load balancer
	// in a subnet not listed here, or without the annotation, gets its address from
	// InternalLoadBalancerCIDR. Nil means no named subnets.
	InternalLoadBalancerSubnets map[string]string

	// DataDir is where the runtime keeps the work directories and logs of the pods it runs
	// as local processes (pods annotated inference.AnnotationRuntime). Empty means it runs
	// none: such pods are reported Running and Ready like any other.
	DataDir string

	// Python is the interpreter (an absolute path, see inference.ResolvePython) the
	// inference pods run with. Empty, with DataDir set, leaves them waiting with an error
	// that says so.
	Python string

	// ClusterID is the provider's id of the cluster, which Files is asked about.
	ClusterID string

	// Files finds the model, code and scoring script of a pod's process in mlfleet's
	// records of the cluster's online deployments. Nil leaves the pods waiting with an
	// error that says so: no pod annotation names a directory of this host.
	Files inference.FilesResolver

	// Sandbox says what the pods' processes must not see: mlfleet's home and state (see
	// inference.ProcessSpec). The zero value hides nothing but still sandboxes them.
	Sandbox sandbox.Policy

	// ProcessMinBackoff and ProcessMaxBackoff bound the wait before a pod's process is
	// restarted after it died more than once in a row (a kubelet's crash-loop back-off, see
	// inference.ProcessSpec); zero means 10s and 5m.
	ProcessMinBackoff, ProcessMaxBackoff time.Duration

	nodePrefix, podPrefix, publicLBPrefix, internalLBPrefix netip.Prefix
	subnetPrefixes                                          map[string]netip.Prefix
}

// complete checks o and fills in its defaults.
func (o Options) complete() (*Options, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.LeaseRenewInterval <= 0 {
		o.LeaseRenewInterval = defaultLeaseRenewInterval
	}
	if o.NodeStatusInterval <= 0 {
		o.NodeStatusInterval = defaultNodeStatusInterval
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = defaultDrainTimeout
	}
	if o.SchedulingRetryInterval <= 0 {
		o.SchedulingRetryInterval = defaultSchedulingRetryInterval
	}
	var errs []error
	parse := func(setting, value, def string) netip.Prefix {
		if value == "" {
			value = def
		}
		p, err := netip.ParsePrefix(value)
		if err != nil || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("%w: %s %q is not an IPv4 CIDR", ErrInvalidOptions, setting, value))
		}
		return p.Masked()
	}
	o.nodePrefix = parse("NodeCIDR", o.NodeCIDR, defaultNodeCIDR)
	o.podPrefix = parse("PodCIDR", o.PodCIDR, defaultPodCIDR)
	o.publicLBPrefix = parse("PublicLoadBalancerCIDR", o.PublicLoadBalancerCIDR, defaultPublicLBCIDR)
	o.internalLBPrefix = parse("InternalLoadBalancerCIDR", o.InternalLoadBalancerCIDR, defaultInternalLBCIDR)
	o.subnetPrefixes = map[string]netip.Prefix{}
	for name, cidr := range o.InternalLoadBalancerSubnets {
		o.subnetPrefixes[name] = parse("InternalLoadBalancerSubnets["+name+"]", cidr, "")
	}
	if o.podPrefix.IsValid() && o.podPrefix.Bits() > 24 {
		errs = append(errs, fmt.Errorf("%w: PodCIDR %s is smaller than the /24 of one node", ErrInvalidOptions, o.podPrefix))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &o, nil
}

// Runtime makes the apiserver of one cluster behave like a small AKS cluster: upstream
// controllers, simulated nodes, a scheduler and kubelets that start pods, and load
// balancers. Its methods are safe for concurrent use.
type Runtime struct {
	log        *slog.Logger
	nodes      *nodeSimulator
	pods       *podSimulator
	autoscaler *autoscaler
	drainer    *drainer
	drainTime  time.Duration

	runCtx  context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine, and the SetPool and DeletePool calls under way
	cleanup func()

	mu       sync.RWMutex // held for writing to begin stopping, for reading to join wg
	stopping bool
	quiet    atomic.Bool // set when stopping, for the upstream logger
	stopOnce sync.Once
	done     chan struct{} // closed when everything has stopped
}

// Start starts the runtime of the cluster that config reaches and returns once its
// caches are filled and the simulated nodes already in the cluster (from a previous run)
// are adopted with their pools. config must carry cluster-admin rights (system:masters):
// the controllers read and delete every kind of object, and the simulators write nodes,
// Leases, bindings and the status of pods and Services. Its Timeout is ignored (watches
// last as long as the runtime); zero QPS and Burst mean 50 and 100.
//
// ctx bounds the start only; the runtime runs until Stop. On error nothing keeps running.
func Start(ctx context.Context, config *rest.Config, opts Options) (*Runtime, error) {
	o, err := opts.complete()
	if err != nil {
		return nil, err
	}
	c, err := newClients(config, o.Logger)
	if err != nil {
		return nil, fmt.Errorf("start cluster runtime: %w", err)
	}
	r := &Runtime{log: o.Logger, done: make(chan struct{})}
	// The runtime outlives ctx, which only bounds the start, but keeps its values.
	r.runCtx, r.cancel = context.WithCancel(klog.NewContext(context.WithoutCancel(ctx), upstreamLogger(o.Logger, &r.quiet)))
	runCtx := r.runCtx
	var cleanups []func()
	r.cleanup = func() {
		for _, f := range cleanups {
			f()
		}
		c.close()
	}
	fail := func(err error) (*Runtime, error) {
		stopCtx, stopCancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer stopCancel()
		return nil, errors.Join(fmt.Errorf("start cluster runtime: %w", err), r.Stop(stopCtx))
	}

	client, err := c.kube("mlfleet-cluster-runtime")
	if err != nil {
		return fail(err)
	}
	clusterUID, err := waitForCluster(ctx, client)
	if err != nil {
		return fail(err)
	}

	typed := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(dropManagedFields))
	metadataClient, err := c.metadata("mlfleet-cluster-runtime", 1)
	if err != nil {
		return fail(err)
	}
	metadataOnly := metadatainformer.NewSharedInformerFactoryWithOptions(metadataClient, 0, metadatainformer.WithTransform(dropManagedFields))
	cleanups = append(cleanups, typed.Shutdown, metadataOnly.Shutdown)

	events := record.NewBroadcaster(record.WithContext(runCtx))
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	cleanups = append(cleanups, events.Shutdown)

	informersStarted := make(chan struct{})
	loops, err := newControllers(runCtx, c, typed, metadataOnly, informersStarted)
	if err != nil {
		return fail(err)
	}
	coreInformers := typed.Core().V1()
	nodes, err := newNodeSimulator(client, coreInformers.Nodes(), o, clusterUID)
	if err != nil {
		return fail(err)
	}
	schedulerEvents := events.NewRecorder(scheme.Scheme, v1.EventSource{Component: v1.DefaultSchedulerName})
	pods, err := newPodSimulator(client, coreInformers.Pods(), coreInformers.Nodes(), nodes, schedulerEvents, o)
	if err != nil {
		return fail(err)
	}
	serviceEvents := events.NewRecorder(scheme.Scheme, v1.EventSource{Component: "service-controller"})
	lbs, err := newLoadBalancerSimulator(client, coreInformers.Services(), serviceEvents, o, clusterUID)
	if err != nil {
		return fail(err)
	}
	r.nodes, r.pods = nodes, pods
	autoscalerEvents := events.NewRecorder(scheme.Scheme, v1.EventSource{Component: autoscalerComponent})
	r.autoscaler = &autoscaler{client: client, pods: coreInformers.Pods().Lister(), nodeList: coreInformers.Nodes().Lister(),
		podSim: pods, nodeSim: nodes, clock: o.Clock, log: o.Logger.With("component", autoscalerComponent),
		recorder: autoscalerEvents, drainer: &drainer{client: client, pods: pods, clock: o.Clock, recorder: autoscalerEvents},
		wake: make(chan struct{}, 1), since: map[string]time.Time{}, noticed: map[types.UID]string{}}
	r.drainer = &drainer{client: client, pods: pods, clock: o.Clock,
		recorder: events.NewRecorder(scheme.Scheme, v1.EventSource{Component: drainComponent})}
	r.drainTime = o.DrainTimeout

	// StartWithContext, not Start(ctx.Done()): see startMetadataInformers.
	typed.StartWithContext(runCtx)
	startMetadataInformers(runCtx, metadataOnly)
	close(informersStarted)
	for typ, ok := range typed.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fail(fmt.Errorf("wait for %v cache: %w", typ, context.Cause(ctx)))
		}
	}
	for _, adopt := range []func() error{nodes.adopt, pods.adopt, lbs.adopt} {
		if err := adopt(); err != nil {
			return fail(err)
		}
	}

	for _, l := range loops {
		r.wg.Go(l.run)
	}
	r.wg.Go(func() { nodes.run(runCtx) })
	r.wg.Go(func() { pods.run(runCtx) })
	r.wg.Go(func() { lbs.run(runCtx) })
	r.wg.Go(func() { r.autoscaler.run(runCtx) })
	o.Logger.Debug("cluster runtime started", "controllers", len(loops))
	return r, nil
}

// dropManagedFields keeps managed fields out of the informer caches, as
// kube-controller-manager does: nothing here reads them, and they are often the largest
// part of an object.
func dropManagedFields(obj any) (any, error) {
	if a, err := meta.Accessor(obj); err == nil && a.GetManagedFields() != nil {
		a.SetManagedFields(nil)
	}
	return obj, nil
}

// waitForCluster waits until the apiserver answers and returns the UID of the
// kube-system namespace, the identity of the cluster.
func waitForCluster(ctx context.Context, client kubernetes.Interface) (string, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		reqCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ns, err := client.CoreV1().Namespaces().Get(reqCtx, metav1.NamespaceSystem, metav1.GetOptions{})
		cancel()
		if err == nil {
			return string(ns.UID), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("reach apiserver: %w (last error: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// SetPool creates or changes a node pool and returns once its nodes exist in the
// cluster, Ready, with their Leases: a pool keeps the nodes it has, grows by the lowest
// free indexes and shrinks by its cordoned nodes, then its highest indexes, and nodes
// that exist are updated to the pool's VM size, capacity, version and location. The
// nodes a shrink removes are drained first, as AKS's scale-down does: cordoned, their
// pods evicted (so that PodDisruptionBudgets hold) within Options.DrainTimeout. It is
// idempotent. Nodes keep being renewed, and re-created if deleted, until the pool
// changes again or Stop. It returns an error wrapping ErrInvalidPool for a malformed
// pool (and changes nothing), a *DrainError when the drain failed (the pool and its
// nodes stay as they were, uncordoned), ErrStopped after Stop; after an API error the
// pool is recorded and the background loop keeps converging towards it.
func (r *Runtime) SetPool(ctx context.Context, pool NodePool) error {
	if err := pool.validate(); err != nil {
		return err
	}
	ctx, done, err := r.join(ctx)
	if err != nil {
		return err
	}
	defer done()
	leaving := r.nodes.leavingFirst(pool)
	if len(leaving) > 0 {
		if err := r.drainer.drain(ctx, leaving, drainLimits{timeout: r.drainTime, retryRefused: true}); err != nil {
			return fmt.Errorf("scale node pool %s to %d: %w", pool.Name, pool.Count, err)
		}
	}
	return r.nodes.setPool(ctx, pool, false, leaving...)
}

// DeletePool removes a node pool and its nodes (with their pods, without a drain). Deleting a pool that
// does not exist does nothing. It returns ErrStopped after Stop.
func (r *Runtime) DeletePool(ctx context.Context, name string) error {
	ctx, done, err := r.join(ctx)
	if err != nil {
		return err
	}
	defer done()
	return r.nodes.setPool(ctx, NodePool{Name: name}, true)
}

// Pools returns the node pools, sorted by name, as last set (or as adopted from the
// cluster at Start).
func (r *Runtime) Pools() []NodePool {
	return r.nodes.poolList()
}

// join registers a call that Stop must wait for, and returns its context, which also
// ends when Stop begins, and the function to call when it returns.
func (r *Runtime) join(ctx context.Context) (context.Context, func(), error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.stopping {
		return nil, nil, ErrStopped
	}
	r.wg.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(r.runCtx, cancel)
	return ctx, func() {
		stop()
		cancel()
		r.wg.Done()
	}, nil
}

// Stop stops every controller, simulator and informer of the runtime, closes its
// connections and waits until all its goroutines have ended. The cluster keeps its
// objects: nodes stay (and go stale), pods keep their status. Stop is idempotent; if ctx
// ends first it returns ctx's error and the stop completes in the background.
func (r *Runtime) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.stopping = true
		r.mu.Unlock()
		r.quiet.Store(true)
		r.cancel()
		go func() {
			defer close(r.done)
			r.wg.Wait()
			r.cleanup()
		}()
	})
	if err := background.Wait(ctx, r.done); err != nil {
		return fmt.Errorf("stop cluster runtime: %w", err)
	}
	return nil
}
