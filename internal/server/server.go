// Package server runs the mlfleet control plane (`mlfleet serve`): it prepares the home
// directory on first start (CA, server certificate, admin token, default subscription, CLI
// config), opens the store, starts the operations engine and serves the API over HTTPS until
// its context ends, then shuts down gracefully. With a PostgreSQL store the keys and the CA
// come from the store, shared by every replica (see sharedKeys); the API port is also the
// front door of every embedded cluster (package frontdoor), and the replica's heartbeat row
// is kept (package replicas).
package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mlfleet/mlfleet/internal/activity"
	"github.com/mlfleet/mlfleet/internal/api"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/frontdoor"
	"github.com/mlfleet/mlfleet/internal/hosting"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/pki"
	"github.com/mlfleet/mlfleet/internal/policy"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/internal/replicas"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/sweeper"
	"github.com/mlfleet/mlfleet/internal/throttle"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Config is everything a user can set on `mlfleet serve`. Zero values mean the defaults.
type Config struct {
	// Addr is the HTTPS listen address; "" means 127.0.0.1:8443. Port 0 picks a free port
	// (the URL actually served is written to the CLI config).
	Addr string
	// Home is the data directory; "" means $MLFLEET_HOME, else ~/.mlfleet.
	Home string
	// StoreDSN selects the store: "" means SQLite in Home/mlfleet.db; sqlite://PATH or a
	// bare PATH a SQLite file elsewhere (one server, as with the default), a relative PATH
	// being in Home; a postgres:// or postgresql:// URL a PostgreSQL shared with other
	// replicas.
	StoreDSN string
	// EtcdEndpoints, when set, are the client URLs of an existing etcd cluster in which
	// embedded clusters keep their objects. Otherwise they use kine on the PostgreSQL store,
	// or the embedded etcd with SQLite.
	EtcdEndpoints []string
	// PublicAddress is the host:port clients reach the control plane at when it is not
	// Addr's (a load balancer or DNS name in front of every replica): cluster kubeconfigs
	// name it as their server, and the server certificate covers its host. "" means the
	// API address.
	PublicAddress string
	// SecretKeyFile holds the replica key that wraps the secrets replicas of a PostgreSQL
	// store share (the encryption key, the CA, the token-signing key); "" means
	// $MLFLEET_SECRET_KEY. Required with PostgreSQL, unused with SQLite.
	SecretKeyFile string
	// PageSize is the number of items per list page; 0 means 100.
	PageSize int
	// LeaseTTL is how long an operation lease lasts; 0 means 15s.
	LeaseTTL time.Duration
	// CleanupBackoff is how long a failed operation waits before its cleanup, which
	// returned an error, is tried again (see operations.Config); 0 means 5s.
	CleanupBackoff time.Duration
	// StepDelay slows every operation step, for fault-injection tests only; 0 in production.
	StepDelay time.Duration
	// HealthInterval is how often the health monitor checks every attached compute's
	// cluster, and the deployment monitor every online deployment's instances; 0 means 30s.
	HealthInterval time.Duration
	// VersionsFile replaces the built-in Kubernetes version catalog ("" = built-in).
	VersionsFile string
	// TokenLifetime is how long a minted access token lives by default (0 = 1 h);
	// MaxTokenLifetime the most a caller may ask for (0 = 24 h).
	TokenLifetime    time.Duration
	MaxTokenLifetime time.Duration
	// QuotaFile sets the quotas of subscriptions per region (JSON, see internal/quota);
	// "" means the built-in limits (quota.Defaults).
	QuotaFile string
	// SweepInterval is how often rows that lost their owner (claims, secrets), and blobs no
	// upload names any more (blobs.Collector), are removed; 0 means 1m.
	SweepInterval time.Duration
	// ReadLimit and WriteLimit limit each principal's requests in each subscription (reads
	// are GET and HEAD, writes the rest) with token buckets: an empty bucket answers 429
	// TooManyRequests with Retry-After. A zero PerHour means unlimited; `serve` defaults
	// them to DefaultReadLimit and DefaultWriteLimit.
	ReadLimit, WriteLimit throttle.Limit
	// ActivityRetention is how long the activity log keeps an event (pruned by the
	// sweeper); 0 means 90 days.
	ActivityRetention time.Duration
	// OperationRetention is how long an operation that ended stays readable at its status
	// URL (removed by the sweeper); 0 means sweeper.DefaultOperationRetention (7 days).
	OperationRetention time.Duration
	// MaxUploadSize is the largest blob (model or code upload) accepted, in bytes; 0 means
	// blobs.DefaultMaxSize (512 MiB).
	MaxUploadSize int64
	// ReplicaInterval is how often this server renews its row in the replica table; 0
	// means replicas.DefaultInterval.
	ReplicaInterval time.Duration
	// Python is the interpreter that runs the inference pods of embedded clusters
	// (serve --python): a command or a path. "" means "python3", and its absence only
	// leaves those pods waiting with an error; a Python named here must work.
	Python string
	// RouterImage is the image of the inference router (azureml-fe) on external
	// clusters (serve --router-image); "" leaves their front-end a placeholder, and online
	// endpoints cannot serve there.
	RouterImage string
	// AllowKubeconfigExec lets registered clusters' kubeconfigs run exec plugins and auth
	// providers and read files on this machine (external.WithLocalCredentials).
	AllowKubeconfigExec bool
	// UnsandboxedScoring runs the scoring scripts of online deployments on embedded
	// clusters without a sandbox, with this server's access to every file, its home
	// included (serve --unsandboxed-scoring). False runs each in a sandbox that hides the
	// home and the store, and refuses to run it where the kernel allows no sandbox.
	UnsandboxedScoring bool
	// Logger receives logs; nil means JSON logs on stderr at info level.
	Logger *slog.Logger
}

// The request limits `serve` applies unless told otherwise: generous next to ARM's 12000
// reads and 1200 writes an hour per principal and subscription, so that no ordinary client
// (the CLI, Studio, a test suite polling operations) meets them, while one runaway client
// is held to 200 reads and 20 writes a second after a burst of 20000 and 2000 (100
// seconds' worth, the default burst).
var (
	DefaultReadLimit  = throttle.Limit{PerHour: 720000}
	DefaultWriteLimit = throttle.Limit{PerHour: 72000}
)

// Files in the home directory.
const (
	dbFile         = "mlfleet.db"
	lockFile       = "mlfleet.lock"
	adminTokenFile = "admin.token"
	pkiDir         = "pki"
	secretKeyFile  = "secret.key"
	tokenKeyFile   = "token-signing.key"
	blobsDir       = "blobs"
	portFile       = "api.port"
	replicaIDFile  = "replica.id"
)

// Run serves until ctx ends. It prints to out where the server listens and where the
// token and CA are.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8443"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	log := cfg.Logger
	routeKlog(log)
	if cfg.Home == "" {
		h, err := clientconfig.Home()
		if err != nil {
			return err
		}
		cfg.Home = h
	}
	// The home holds the database, keys, kubeconfigs and every cluster's data: whatever the
	// user's umask, what the server creates is for its user only (files 0600, directories
	// 0700), including what libraries create (SQLite's -wal and -shm, etcd, apiserver
	// certificates).
	syscall.Umask(0o077)
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return fmt.Errorf("create home %s: %w", cfg.Home, err)
	}
	if err := restrictHome(cfg.Home); err != nil {
		return err
	}
	// A bad quota file stops the start before anything is opened.
	sizes := catalog.DefaultVMSizes()
	quotas := quota.Defaults()
	if cfg.QuotaFile != "" {
		q, err := quota.Load(cfg.QuotaFile, sizes.Families())
		if err != nil {
			return err
		}
		quotas = q
	}
	stopPprof, err := startPprof(log)
	if err != nil {
		return err
	}
	defer stopPprof()
	// Which store decides what else the start needs (the replica key for PostgreSQL).
	var sqlite bool
	cfg.StoreDSN, sqlite, err = resolveStore(cfg.Home, cfg.StoreDSN)
	if err != nil {
		return err
	}
	if sqlite {
		// SQLite has one writer; the lock keeps a second server off the same home, and
		// lets this one resume the operations of a previous process at once.
		unlock, err := lockHome(cfg.Home)
		if err != nil {
			return err
		}
		defer unlock()
	}

	var wrap *secrets.Box
	if !sqlite {
		key, ok, err := secrets.LoadReplicaKey(cfg.SecretKeyFile)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("with a PostgreSQL store every replica needs the same secret key: pass --secret-key-file PATH or set %s (make one with 'openssl rand -base64 32')", secrets.ReplicaKeyEnv)
		}
		wrap = key
	}

	st, err := store.Open(ctx, cfg.StoreDSN)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	var ks *keys
	if sqlite {
		ks, err = homeKeys(cfg.Home)
	} else {
		ks, err = sharedKeys(ctx, st, wrap, cfg.Home)
	}
	if err != nil {
		return err
	}
	ca, box := ks.ca, ks.box
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("parse --addr %q: %w", cfg.Addr, err)
	}
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if host != "" && host != "0.0.0.0" && host != "::" {
		hosts = append(hosts, host)
	}
	if hn, err := os.Hostname(); err == nil {
		hosts = append(hosts, hn)
	}
	if h, _, err := net.SplitHostPort(cfg.PublicAddress); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	cert, err := pki.EnsureServerCert(ca, filepath.Join(cfg.Home, pkiDir), hosts)
	if err != nil {
		return err
	}

	engine := operations.New(st, operations.Config{LeaseTTL: cfg.LeaseTTL, StepDelay: cfg.StepDelay, CleanupBackoff: cfg.CleanupBackoff, Logger: log})
	activityLog := activity.New(activity.Config{Store: st, Retention: cfg.ActivityRetention, Logger: log})
	engine.OnEnd(activityLog.OperationEnded)
	rs := resources.New(st, engine)
	ws := workspaces.New(st, rs)
	versions := catalog.DefaultVersions()
	if cfg.VersionsFile != "" {
		if versions, err = catalog.LoadVersions(cfg.VersionsFile); err != nil {
			return err
		}
	}
	// The API port is also every embedded cluster's front door: the clusters' kubeconfigs
	// name it, so it is known before they start.
	ln, err := listenAPI(cfg.Home, cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	frontDoor := urlHost(ln.Addr().(*net.TCPAddr), host)
	replicaID, err := replicas.LoadOrCreateID(filepath.Join(cfg.Home, replicaIDFile))
	if err != nil {
		return err
	}
	// With a shared store a cluster runs on one replica at a time: the holder of its lease.
	var keeper *hosting.Keeper
	var emb *embedded.Provider
	if !sqlite {
		alive := cfg.ReplicaInterval
		if alive <= 0 {
			alive = replicas.DefaultInterval
		}
		keeper = hosting.New(hosting.Config{Store: st, ID: replicaID, Logger: log, ReplicaAlive: replicas.LostAfter * alive,
			OnLost: func(id string) { emb.Fence(id) }})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := keeper.Close(ctx); err != nil {
				log.Warn("release hosting leases", "err", err)
			}
		}()
	}
	state := clusterState{etcd: cfg.EtcdEndpoints}
	if !sqlite {
		state.kineDSN = cfg.StoreDSN
	}
	kubeAddress := frontDoor
	if cfg.PublicAddress != "" {
		kubeAddress = cfg.PublicAddress
	}
	providers, emb, closeProviders, err := startProviders(ctx, cfg, sizes, versions, kubeAddress, state, out, log)
	if err != nil {
		return err
	}
	if keeper != nil {
		emb.HostBy(leases{keeper})
		emb.ShareIdentities(identities{st: st, box: box})
		emb.Forward(newForwarder(st, box, caPool(ca)))
	}
	defer closeProviders()
	policies := policy.New(st, rs)
	// The clusters' change guard asks the computes, which are built on the clusters.
	var computes *compute.Service
	clusters := containerservice.New(containerservice.Config{
		Store: st, Engine: engine, Resources: rs, Versions: versions, VMSizes: sizes, Secrets: box,
		Providers: providers, PublicIPsForbidden: policies.PublicIPsForbidden, Quotas: quotas, Logger: log,
		ChangeGuard: func(ctx context.Context, next *armapi.ManagedCluster) error {
			return computes.ClusterChangeAllowed(ctx, next)
		},
		DeleteGuard: func(ctx context.Context, tx store.Store, mc *armapi.ManagedCluster) error {
			return computes.ClusterDeleteAllowed(ctx, tx, mc)
		},
		Changed:    func(ctx context.Context, clusterID string) { computes.RefreshCluster(ctx, clusterID) },
		Autoscaled: func(clusterID string) { computes.RefreshClusterSoon(clusterID) },
	})

	// The endpoints service needs the computes, and a compute's detach asks it what runs on
	// the compute: set below, before the server serves a request.
	var endpointService *endpoints.Service
	// The monitors share the computes out among the replicas by their heartbeats, which
	// start before the monitors do.
	var heartbeat *replicas.Heartbeat
	monitors := func(computeID string) bool { return heartbeat.Owns(computeID) }
	computes = compute.New(compute.Config{
		Store: st, Engine: engine, Resources: rs, Workspaces: ws, Clusters: clusters, Secrets: box, CA: ca,
		MonitorInterval: cfg.HealthInterval, Monitors: monitors, Logger: log,
		InUse: func(ctx context.Context, tx store.Store, computeID string) ([]string, error) {
			return endpointService.ComputeUsers(ctx, tx, computeID)
		},
		ServingChanged: func(ctx context.Context, computeID string, https bool) error {
			return endpointService.ComputeServingChanged(ctx, computeID, https)
		},
		DeploymentsFit: func(ctx context.Context, computeID string, next *armapi.ManagedCluster) error {
			return endpointService.ComputeFits(ctx, computeID, next)
		},
		SideEffect: activityLog.SideEffect,
	})

	ccfg, err := prepareClientConfig(ctx, cfg.Home, rs)
	if err != nil {
		return err
	}
	authn := auth.New(st, auth.Options{Tenant: ccfg.Tenant, TokenLifetime: cfg.TokenLifetime, MaxTokenLifetime: cfg.MaxTokenLifetime, SigningKey: ks.signing})
	if _, err := authn.Bootstrap(ctx); err != nil {
		return err
	}
	rs.OnAccessChanged(authn.Forget)
	if ccfg.TokenFile, err = ensureAdminToken(ctx, cfg.Home, authn); err != nil {
		return err
	}

	if sqlite {
		n, err := st.ReleaseLeases(ctx)
		if err != nil {
			return fmt.Errorf("release leases: %w", err)
		}
		if n > 0 {
			log.Info("resuming operations left by the previous process", "count", n)
		}
	}

	blobStore, err := openBlobs(cfg.Home, st, sqlite, cfg.MaxUploadSize)
	if err != nil {
		return err
	}

	// Content is shared by digest (the endpoints read it by digest); workspaces see only
	// what was uploaded to them.
	uploads := blobs.NewUploads(st, blobStore)
	// Versions made before upload rows name content no row does, which deployments read.
	collector := blobs.NewCollector(uploads, blobs.CollectorConfig{Logger: log,
		NamedBy: []string{mlassets.Models.VersionType(), mlassets.Codes.VersionType()}})
	assets := mlassets.New(mlassets.Config{Store: st, Resources: rs, Workspaces: ws, Blobs: uploads})

	endpointService = endpoints.New(endpoints.Config{
		Store: st, Engine: engine, Resources: rs, Workspaces: ws, Computes: computes, Clusters: clusters, Assets: assets,
		Blobs: blobStore, Secrets: box, SigningKey: ks.signing, Providers: providers, Home: cfg.Home, Logger: log,
		ScoreRoots: caPool(ca), MonitorInterval: cfg.HealthInterval, Monitors: monitors,
	})
	emb.SetFilesResolver(endpointService.PodFiles)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler := api.New(api.Config{
		Store: st, Auth: authn, Resources: rs, Workspaces: ws, Clusters: clusters, Computes: computes, Policies: policies, Blobs: uploads, Assets: assets, Endpoints: endpointService, PageSize: cfg.PageSize, ReplicaInterval: cfg.ReplicaInterval, Registry: reg, Logger: log,
		Limiter: throttle.New(throttle.Config{Reads: cfg.ReadLimit, Writes: cfg.WriteLimit}), Activity: activityLog,
		Ready: func(ctx context.Context) error {
			_, err := st.ListResources(ctx, store.ListOptions{Limit: 1})
			return err
		},
	})

	url := "https://" + frontDoor
	ccfg.Server = url
	ccfg.CAFile = filepath.Join(cfg.Home, pkiDir, pki.CACertFile)
	if err := clientconfig.Save(cfg.Home, ccfg); err != nil {
		ln.Close()
		return err
	}

	var serve http.Handler = handler
	var peerServer *peerCalls
	if keeper != nil {
		peerServer = servePeerCalls(handler, emb, box, log)
		serve = peerServer
	}
	srv := &http.Server{
		Handler:           serve,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	engine.Start(engineCtx)
	if err := clusters.Resume(engineCtx); err != nil {
		log.Error("resume clusters", "err", err)
	}
	heartbeat, err = replicas.Start(ctx, replicas.Config{Store: st, ID: replicaID, Address: frontDoor,
		Interval: cfg.ReplicaInterval, Clusters: emb.Running, Logger: log})
	if err != nil {
		return err
	}
	computes.Start(engineCtx)
	endpointService.Start(engineCtx)
	if keeper != nil {
		go takeOver(engineCtx, st, emb, clusters, time.Second, log)
	}
	sweep := sweeper.New(st, sweeper.Config{Interval: cfg.SweepInterval, OperationRetention: cfg.OperationRetention, Logger: log,
		Also: []func(context.Context) (int, error){computes.SweepMarkers, authn.SweepAssignments, activityLog.Prune,
			sweepClusterData(emb, clusters), collector.Sweep, endpointService.SweepMaterialized}})
	sweep.Start(engineCtx)

	serveErr := make(chan error, 1)
	var door *frontdoor.Listener
	names := &clusterNames{clusters: clusters, log: log}
	hold := frontdoor.HoldStarting(names.isCluster, holdStarting)
	if keeper != nil {
		// Clusters other replicas host are reached through them, with the client's address.
		interval := cfg.ReplicaInterval
		if interval <= 0 {
			interval = replicas.DefaultInterval
		}
		pr := &peers{self: replicaID, st: st, clusters: clusters, alive: replicas.LostAfter * interval, log: log}
		go pr.run(engineCtx, 2*time.Second)
		door = frontdoor.New(ln, frontdoor.Chain{emb, pr}, log, frontdoor.TrustProxyFrom(pr.trusts), hold)
	} else {
		door = frontdoor.New(ln, emb, log, hold)
	}
	go func() { serveErr <- srv.ServeTLS(door, "", "") }()
	log.Info("serving", "url", url, "home", cfg.Home, "store", store.Describe(cfg.StoreDSN))
	writeBanner(out, url, cfg.Home, store.Describe(cfg.StoreDSN), ccfg)
	warnPublicAddress(out, log, sqlite, cfg.PublicAddress, kubeAddress)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown(log, peerServer, stopEngine, []shutdownPart{
		{"http", srv.Shutdown},
		{"replica heartbeat", heartbeat.Close},
		{"health monitor", computes.Close},
		{"deployment monitor", endpointService.Close},
		{"sweeper", sweep.Close},
		{"operations", engine.Close},
	})
	// Then (deferred above) the clusters stop and their hosting leases are freed.
	return nil
}
