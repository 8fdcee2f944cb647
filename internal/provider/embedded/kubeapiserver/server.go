package kubeapiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	genericapiserver "k8s.io/apiserver/pkg/server"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	authzmodes "k8s.io/kubernetes/pkg/kubeapiserver/authorizer/modes"
)

// ErrInvalidConfig is returned (wrapped) by Start and Server.SetAuthorizedIPRanges when a
// setting is malformed; the message names the setting.
var ErrInvalidConfig = errors.New("invalid config")

// Defaults for the zero values of Config.
const (
	defaultListenAddress = "127.0.0.1:0"
	defaultServiceCIDR   = "10.0.0.0/16" // the AKS default
	defaultPrefixRoot    = "/clusters/"
)

// serviceAccountIssuer is the issuer of service account tokens, the in-cluster URL of the
// apiserver as kubeadm and AKS use it.
const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// disabledAdmissionPlugins are default-on admission plugins that cannot do their job in an
// embedded cluster, where no kube-controller-manager runs and no pod really runs:
//
//   - ServiceAccount refuses pods until a controller has created the namespace's "default"
//     ServiceAccount, and mounts tokens that nobody would use.
//   - ResourceQuota needs the quota controller to recompute usage.
//   - MutatingAdmissionWebhook and ValidatingAdmissionWebhook call Services backed by pods,
//     which never answer here; a registered webhook would only make requests fail.
var disabledAdmissionPlugins = []string{
	"ServiceAccount",
	"ResourceQuota",
	"MutatingAdmissionWebhook",
	"ValidatingAdmissionWebhook",
}

// disabledGroupVersions are API group versions that are on by default but have nothing
// behind them in an embedded cluster: flow control objects without API priority and
// fairness (disabled below), storage version migrations without a migrator. Everything else
// stays, including groups the Node authorizer watches (resource.k8s.io,
// certificates.k8s.io), which it needs to get ready.
var disabledGroupVersions = []string{
	"flowcontrol.apiserver.k8s.io/v1",
	"storagemigration.k8s.io/v1",
}

// disabledPostStartHooks are post-start hooks of kube-apiserver that have nothing to do in
// an embedded cluster: its only apiserver has no peers to tell about itself.
var disabledPostStartHooks = []string{
	"start-kube-apiserver-identity-lease-controller",
	"start-kube-apiserver-identity-lease-garbage-collector",
}

// Config describes one cluster's apiserver. Only ID, DataDir and EtcdEndpoints are required.
type Config struct {
	// ID identifies the cluster within the process and the etcd: a DNS label (lower-case
	// letters, digits and '-', at most 63 characters). It names the CA and the kubeconfig
	// entries, and gives the default EtcdPrefix. Required.
	ID string

	// DataDir is the cluster's directory for its PKI and its recorded port; it is created
	// if missing. Starting again with the same DataDir reuses the CA, the certificates, the
	// service account key and, when free, the port. Required.
	DataDir string

	// EtcdEndpoints are the etcd client URLs, usually Etcd.Endpoints(). Required.
	EtcdEndpoints []string

	// EtcdPrefix is the etcd key prefix under which the cluster's objects live. Empty means
	// "/clusters/<ID>". Two clusters must never share a prefix.
	EtcdPrefix string

	// ListenAddress is the IP:port of the secure port that kubeconfigs point to. Empty
	// means "127.0.0.1:0". Port 0 means the port recorded in DataDir by the previous start
	// if it is free, else one picked by the operating system (and then recorded). A
	// wildcard IP (0.0.0.0, ::) listens everywhere and puts 127.0.0.1 in the kubeconfigs.
	ListenAddress string

	// ServiceCIDR is the range that Service cluster IPs come from. Empty means
	// "10.0.0.0/16" (the AKS default); its first address becomes the kubernetes Service.
	ServiceCIDR string

	// ServerName is the cluster's DNS name (its fqdn): the serving certificate is valid for
	// it. Empty means none.
	ServerName string

	// FrontDoor is the host:port of a front door (package frontdoor) that passes
	// connections whose TLS server name is ServerName to this server (Server.Handoff). When
	// set, with ServerName, the kubeconfigs name FrontDoor as their server and ServerName as
	// their tls-server-name, instead of the secure port's own address.
	FrontDoor string

	// AuthorizedIPRanges restricts which source addresses may connect to the secure port:
	// CIDRs or single IP addresses. Empty means every source is allowed. The apiserver's
	// connections to itself are never affected. Change it later with
	// Server.SetAuthorizedIPRanges.
	AuthorizedIPRanges []string
}

// Server is one running kube-apiserver. Its methods are safe for concurrent use.
type Server struct {
	id       string
	url      string
	listener *authorizedListener
	caPEM    []byte
	admin    []byte
	user     []byte

	loopback    *rest.Config // cluster-admin over the internal listener, never filtered
	controllers *controllers // nil until the apiserver is ready
	cancel      context.CancelFunc
	stopOnce    sync.Once
	done        chan struct{}
	runErr      error // set before done is closed
}

// Start starts the apiserver described by cfg and returns once it is ready: /readyz
// answers ok, the namespaces "default", "kube-system", "kube-public" and "kube-node-lease"
// exist, the in-process controllers run and the cluster user's bindings grant their rights.
// ctx bounds the start only; the server runs until Stop. On error the server is stopped
// and its ports are released. Starting a cluster whose ID already runs in the process
// fails.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start apiserver %s: %w", cfg.ID, err)
	}
	return s, nil
}

func start(ctx context.Context, cfg Config) (_ *Server, err error) {
	cfg, err = completeConfig(cfg)
	if err != nil {
		return nil, err
	}
	ranges, err := parseIPRanges(cfg.AuthorizedIPRanges)
	if err != nil {
		return nil, err
	}
	if err := prepareProcess(); err != nil {
		return nil, err
	}
	effectiveVersion, err := binaryServedVersion()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := checkEtcd(ctx, cfg.EtcdEndpoints); err != nil {
		return nil, err
	}
	// The informer name of the apiserver must be unique in the process; reserving it first
	// also keeps two servers of the same cluster from starting side by side.
	informerName, err := cache.NewInformerName("kube-apiserver-" + cfg.ID)
	if err != nil {
		return nil, fmt.Errorf("cluster %s already runs in this process: %w", cfg.ID, err)
	}
	// Until the apiserver runs, releasing what was set up here is ours to do.
	running := false
	etcd := &sharedEtcd{}
	defer func() {
		if !running {
			informerName.Release()
			etcd.close()
		}
	}()

	public, err := listenPublic(cfg.DataDir, cfg.ListenAddress)
	if err != nil {
		return nil, err
	}
	internal, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		public.Close()
		return nil, fmt.Errorf("listen for loopback clients: %w", err)
	}
	listener := newAuthorizedListener(public, internal, ranges)
	// The server outlives ctx, which only bounds the start; runCtx keeps ctx's values and
	// is what the apiserver's long-lived parts hang on.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if !running {
			cancel()
			listener.Close()
		}
	}()

	advertise := listener.publicAddr().IP
	if advertise.IsUnspecified() {
		advertise = net.IPv4(127, 0, 0, 1)
	}
	hostPort := net.JoinHostPort(advertise.String(), strconv.Itoa(listener.publicAddr().Port))

	serviceIP, err := firstServiceIP(cfg.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	names := servingNames{
		dns: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		ips: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, serviceIP},
	}
	if !advertise.IsLoopback() {
		names.ips = append(names.ips, advertise)
	}
	if cfg.ServerName != "" {
		names.dns = append(names.dns, cfg.ServerName)
	}
	certs, err := loadOrCreatePKI(filepath.Join(cfg.DataDir, "pki"), cfg.ID, names, time.Now())
	if err != nil {
		return nil, err
	}
	url := "https://" + hostPort
	endpoint := kubeEndpoint{server: url}
	if cfg.FrontDoor != "" && cfg.ServerName != "" {
		endpoint = kubeEndpoint{server: "https://" + cfg.FrontDoor, serverName: cfg.ServerName}
	}
	adminKubeconfig, err := kubeconfig(cfg.ID, cfg.ID+"-admin", "clusterAdmin_"+cfg.ID, endpoint, certs.caPEM, certs.admin)
	if err != nil {
		return nil, err
	}
	userKubeconfig, err := kubeconfig(cfg.ID, cfg.ID, "clusterUser_"+cfg.ID, endpoint, certs.caPEM, certs.user)
	if err != nil {
		return nil, err
	}

	opts, err := newOptions(cfg, listener, advertise, hostPort, certs, effectiveVersion, informerName)
	if err != nil {
		return nil, err
	}
	tokens := &tokenGetter{}
	opts.Authentication.ServiceAccounts.OptionalTokenGetter = tokens.forFactory
	completedOpts, err := opts.Complete(runCtx)
	if err != nil {
		return nil, fmt.Errorf("complete options: %w", err)
	}
	if errs := completedOpts.Validate(); len(errs) != 0 {
		return nil, fmt.Errorf("validate options: %w", utilerrors.NewAggregate(errs))
	}
	config, err := app.NewConfig(completedOpts)
	if err != nil {
		return nil, fmt.Errorf("build config: %w", err)
	}
	if tokens.client, err = kubernetes.NewForConfig(config.KubeAPIs.ControlPlane.Generic.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("create client for service account tokens: %w", err)
	}
	// The identity lease of the apiserver (kube-system/apiserver-<id>), renewed every 10 s,
	// is for peers in a highly available control plane, which an embedded cluster never has.
	generic := config.KubeAPIs.ControlPlane.Generic
	if generic.DisabledPostStartHooks == nil {
		generic.DisabledPostStartHooks = sets.NewString()
	}
	generic.DisabledPostStartHooks.Insert(disabledPostStartHooks...)
	// OpenAPI documents and definitions shared by the process (see openapi.go).
	shareOpenAPI(generic)
	// Every resource's storage on one etcd client of this server (see etcdclient.go).
	config.KubeAPIs.ControlPlane.Generic.RESTOptionsGetter = etcd.wrap(config.KubeAPIs.ControlPlane.Generic.RESTOptionsGetter)
	config.ApiExtensions.GenericConfig.RESTOptionsGetter = etcd.wrap(config.ApiExtensions.GenericConfig.RESTOptionsGetter)
	config.ApiExtensions.ExtraConfig.CRDRESTOptionsGetter = etcd.wrap(config.ApiExtensions.ExtraConfig.CRDRESTOptionsGetter)
	config.Aggregator.GenericConfig.RESTOptionsGetter = etcd.wrap(config.Aggregator.GenericConfig.RESTOptionsGetter)
	config.KubeAPIs.Extra.EndpointReconcilerConfig.Reconciler = &noEndpoints{} // see quiet.go
	completedConfig, err := config.Complete()
	if err != nil {
		return nil, fmt.Errorf("complete config: %w", err)
	}
	chain, err := app.CreateServerChain(completedConfig)
	if err != nil {
		return nil, fmt.Errorf("create server chain: %w", err)
	}
	core, ok := chain.GenericAPIServer.NextDelegate().(*genericapiserver.GenericAPIServer)
	if !ok {
		chain.GenericAPIServer.Destroy()
		return nil, fmt.Errorf("create server chain: the aggregator's delegate is a %T, not the core APIs", chain.GenericAPIServer.NextDelegate())
	}
	installSharedOpenAPI(core, generic.OpenAPIConfig, generic.OpenAPIV3Config)
	prepared, err := chain.PrepareRun()
	if err != nil {
		// The storage of the chain already runs; Destroy stops it.
		chain.GenericAPIServer.Destroy()
		return nil, fmt.Errorf("prepare server: %w", err)
	}

	s := &Server{
		id:       cfg.ID,
		url:      endpoint.server,
		listener: listener,
		caPEM:    certs.caPEM,
		admin:    adminKubeconfig,
		user:     userKubeconfig,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	running = true
	go func() {
		defer close(s.done)
		defer informerName.Release()
		defer etcd.close()
		s.runErr = prepared.Run(runCtx)
	}()

	// No timeout on the config itself: controllers and InClusterConfig users watch through
	// it, and rest.Config.Timeout would cut every watch. Requests made here bound their own.
	s.loopback = rest.CopyConfig(chain.GenericAPIServer.LoopbackClientConfig)
	s.loopback.UserAgent = "mlfleet-embedded/" + cfg.ID
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.abort(context.WithoutCancel(ctx)))
	}
	return s, nil
}

// completeConfig checks cfg and fills in its defaults.
func completeConfig(cfg Config) (Config, error) {
	if errs := validation.IsDNS1123Label(cfg.ID); len(errs) != 0 {
		return cfg, fmt.Errorf("%w: ID %q: %s", ErrInvalidConfig, cfg.ID, strings.Join(errs, "; "))
	}
	if cfg.DataDir == "" {
		return cfg, fmt.Errorf("%w: empty DataDir", ErrInvalidConfig)
	}
	if len(cfg.EtcdEndpoints) == 0 {
		return cfg, fmt.Errorf("%w: no EtcdEndpoints", ErrInvalidConfig)
	}
	if cfg.EtcdPrefix == "" {
		cfg.EtcdPrefix = defaultPrefixRoot + cfg.ID
	}
	if cfg.ListenAddress == "" {
		cfg.ListenAddress = defaultListenAddress
	}
	if _, err := netip.ParseAddrPort(cfg.ListenAddress); err != nil {
		return cfg, fmt.Errorf("%w: ListenAddress %q is not IP:port: %w", ErrInvalidConfig, cfg.ListenAddress, err)
	}
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = defaultServiceCIDR
	}
	return cfg, nil
}

// newOptions sets the kube-apiserver options, as flags would, for cfg.
func newOptions(cfg Config, listener *authorizedListener, advertise net.IP, hostPort string, certs *pki,
	effectiveVersion basecompatibility.MutableEffectiveVersion, informerName *cache.InformerName) (*options.ServerRunOptions, error) {
	o := options.NewServerRunOptions()

	// Versions and feature gates: a registry of this server's own, so that its effective
	// version is the truthful one (see version.go). Feature gates stay the process-wide
	// ones, which most apiserver code reads directly (gates.go sets them once); Set leaves
	// them alone when the emulation version is unchanged (it is the binary's).
	registry := basecompatibility.NewComponentGlobalsRegistry()
	if err := registry.Register(basecompatibility.DefaultKubeComponent, effectiveVersion, utilfeature.DefaultMutableFeatureGate); err != nil {
		return nil, fmt.Errorf("register effective version: %w", err)
	}
	if err := registry.Set(); err != nil {
		return nil, fmt.Errorf("set effective version: %w", err)
	}
	o.GenericServerRunOptions.ComponentGlobalsRegistry = registry

	o.GenericServerRunOptions.AdvertiseAddress = advertise
	o.GenericServerRunOptions.ExternalHost = hostPort
	o.SecureServing.Listener = listener
	o.SecureServing.ExternalAddress = advertise
	o.SecureServing.ServerCert.CertKey.CertFile = certs.servingCertFile()
	o.SecureServing.ServerCert.CertKey.KeyFile = certs.servingKeyFile()
	o.SecureServing.ServerCert.CertDirectory = ""

	o.Etcd.StorageConfig.Transport.ServerList = cfg.EtcdEndpoints
	o.Etcd.StorageConfig.Prefix = cfg.EtcdPrefix
	// Without the watch cache, lists and watches are served by etcd directly: about 900
	// fewer goroutines and 10-15 MiB less per cluster, and no slower to start. The
	// clusters are small, so etcd serves their lists easily.
	o.Etcd.EnableWatchCache = false
	// The per-resource object counts feed API priority and fairness (off, see below) and a
	// metric; polling them costs a goroutine per resource and a count request per resource
	// and minute.
	o.Etcd.StorageConfig.CountMetricPollPeriod = 0

	o.Authentication.ClientCert.ClientCA = certs.caFile()
	o.Authentication.ServiceAccounts.Issuers = []string{serviceAccountIssuer}
	o.Authentication.ServiceAccounts.KeyFiles = []string{certs.saPubFile()}
	o.ServiceAccountSigningKeyFile = certs.saKeyFile()
	o.Authorization.Modes = []string{authzmodes.ModeNode, authzmodes.ModeRBAC}
	o.Admission.GenericAdmission.DisablePlugins = disabledAdmissionPlugins
	for _, gv := range disabledGroupVersions {
		o.APIEnablement.RuntimeConfig[gv] = "false"
	}

	// API priority and fairness runs a configuration controller and seeds FlowSchemas in
	// every cluster; the plain max-in-flight limits are plenty for one embedded cluster.
	o.Features.EnablePriorityAndFairness = false
	o.Features.EnableProfiling = false

	o.ServiceClusterIPRanges = cfg.ServiceCIDR
	quietOptions(o) // see quiet.go
	o.InformerName = informerName
	return o, nil
}

// URL returns the https URL in the kubeconfigs: the secure port's, or the front door's
// (Config.FrontDoor).
func (s *Server) URL() string { return s.url }

// Handoff takes over a connection the front door accepted for this server, its
// ClientHello still unread. The authorized IP ranges apply to conn's remote address as
// they do to connections on the secure port, and so does closing on a range change.
func (s *Server) Handoff(conn net.Conn) { s.listener.handoff(conn) }

// Allows tells whether a connection from addr may reach the server under the current
// authorized IP ranges.
func (s *Server) Allows(addr net.Addr) bool { return s.listener.allows(addr) }

// AdminKubeconfig returns a kubeconfig of a cluster administrator (group system:masters).
// It stays valid across restarts on the same DataDir while the port stays the same.
func (s *Server) AdminKubeconfig() []byte { return append([]byte(nil), s.admin...) }

// UserKubeconfig returns a kubeconfig of the cluster user: read access cluster-wide except
// Secrets, and edit rights in the "default" namespace (see the package documentation).
func (s *Server) UserKubeconfig() []byte { return append([]byte(nil), s.user...) }

// CACertificate returns the PEM certificate of the cluster CA, which signs the serving
// certificate and the client certificates.
func (s *Server) CACertificate() []byte { return append([]byte(nil), s.caPEM...) }

// InClusterConfig returns a cluster-admin client configuration over the apiserver's
// internal listener, which authorized IP ranges never filter. It is for the components that
// stand for the cluster's own nodes and controllers, which AKS lets in whatever the ranges
// are, and must not be handed to users. It has no request timeout (watches go through it)
// and no rate limit; set them on the copy as needed.
func (s *Server) InClusterConfig() *rest.Config { return rest.CopyConfig(s.loopback) }

// SetAuthorizedIPRanges replaces the authorized IP ranges (same format as
// Config.AuthorizedIPRanges; empty allows every source). It applies to new connections at
// once and closes established connections from sources that are no longer allowed. On a
// malformed range it returns an error wrapping ErrInvalidConfig and changes nothing.
func (s *Server) SetAuthorizedIPRanges(ranges []string) error {
	parsed, err := parseIPRanges(ranges)
	if err != nil {
		return fmt.Errorf("set authorized IP ranges of %s: %w", s.id, err)
	}
	s.listener.setRanges(parsed)
	return nil
}

// AcceptsSource tells whether a connection from source may reach the secure port under the
// current authorized IP ranges. IPv4-mapped IPv6 addresses count as IPv4.
func (s *Server) AcceptsSource(source netip.Addr) bool {
	return s.listener.allowsIP(source)
}

// Done returns a channel that is closed when the server has stopped, after Stop or because
// it failed on its own; Stop then returns the failure.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop shuts the server down gracefully and waits until it has: in-flight requests finish,
// watches end, the ports are closed and storage is released. It is idempotent and returns
// the error the server failed with, if any. If ctx ends first, Stop returns ctx's error and
// the shutdown completes in the background.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		go func() {
			// Controllers first, so that they do not fight a server going away.
			if s.controllers != nil {
				s.controllers.stop()
			}
			s.cancel()
		}()
	})
	select {
	case <-s.done:
		if s.runErr != nil {
			return fmt.Errorf("stop apiserver %s: %w", s.id, s.runErr)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop apiserver %s: %w", s.id, ctx.Err())
	}
}
