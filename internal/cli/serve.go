package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlfleet/mlfleet/internal/activity"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/internal/replicas"
	"github.com/mlfleet/mlfleet/internal/server"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/sweeper"
	"github.com/mlfleet/mlfleet/internal/throttle"
)

// signalContext is cancelled by Ctrl-C or SIGTERM (what service managers send), so that
// `mlfleet serve` shuts down in order on either: HTTP requests drained, then the
// background workers and the operations engine closed.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// serveFlags are the flags of `mlfleet serve`; each becomes a field of server.Config,
// which documents what its zero value means.
type serveFlags struct {
	addr      string
	dataDir   string
	store     string
	secretKey string
	etcd      []string
	public    string
	logLevel  string
	pageSize  int
	leaseTTL  time.Duration
	stepDelay time.Duration
	backoff   time.Duration
	versions  string
	quotas    string
	health    time.Duration
	sweep     time.Duration

	tokenLifetime, maxTokenLifetime time.Duration
	reads                           throttle.Limit
	writes                          throttle.Limit
	retention                       time.Duration
	operationRetention              time.Duration
	maxUpload                       string
	replicaInterval                 time.Duration
	python                          string
	routerImage                     string
	allowKubeconfigExec             bool
	unsandboxedScoring              bool
}

func newServeCommand(streams Streams) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the mlfleet control plane (HTTPS API)",
		Long: `Run the mlfleet control plane over HTTPS.

On first start it creates, in the data directory ($MLFLEET_HOME, else ~/.mlfleet), a CA and
server certificate, an admin token, a default subscription and the CLI configuration, so that
other mlfleet commands work with no flags. Stop it with Ctrl-C (SIGINT) or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
				return usagef("--log-level must be debug, info, warn or error, not %q", f.logLevel)
			}
			if f.stepDelay == 0 {
				if d, err := time.ParseDuration(os.Getenv("MLFLEET_FAULT_STEP_DELAY")); err == nil {
					f.stepDelay = d
				}
			}
			// Failpoints (MLFLEET_FAILPOINTS) are for crash and error injection tests.
			if err := failpoint.FromEnv(); err != nil {
				return usagef("%v", err)
			}
			// Every flag is checked before the server starts, so that a mistake is a usage
			// error at once, not a failure after the store was opened. --public-address goes
			// into every cluster kubeconfig, so it needs a real port.
			if f.public != "" {
				if _, port, err := net.SplitHostPort(f.public); err != nil || port == "" || port == "0" {
					return usagef("--public-address takes the host:port clients reach the control plane at (a load balancer or DNS name in front of every replica), not %q", f.public)
				}
			}
			for _, e := range f.etcd {
				if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix") || (u.Host == "" && u.Path == "") {
					return usagef("--etcd-endpoints takes etcd client URLs such as http://10.0.0.5:2379 or unix:///run/etcd.sock, not %q", e)
				}
			}
			if err := checkDurations(cmd.Flags()); err != nil {
				return err
			}
			if err := checkLimits(f); err != nil {
				return err
			}
			if err := checkListenAddr(f.addr); err != nil {
				return err
			}
			// A key file given must be there, whichever the store: with SQLite it is not
			// used (said below), but a path that names nothing is a mistake either way.
			if f.secretKey != "" {
				if _, err := os.ReadFile(f.secretKey); err != nil {
					return usagef("--secret-key-file: %v", err)
				}
			}
			if f.reads.PerHour < 0 || f.writes.PerHour < 0 || f.reads.Burst < 0 || f.writes.Burst < 0 {
				return usagef("--rate-limit-* flags take a count of 0 or more")
			}
			// The default python3 may be missing (then embedded inference pods wait with an
			// error); a --python given must work.
			python := ""
			if cmd.Flags().Changed("python") {
				if python = f.python; python == "" {
					return usagef("--python needs an interpreter: a command such as python3 or a path")
				}
			}
			maxUpload, err := parseByteSize(f.maxUpload)
			if err != nil {
				return usagef("--max-upload-size: %v", err)
			}
			// JSON logs on stderr (N6). It is made the default logger too: the components
			// whose Config leaves Logger nil log to slog.Default().
			logger := slog.New(slog.NewJSONHandler(streams.Err, &slog.HandlerOptions{Level: level}))
			slog.SetDefault(logger)
			// The store's kind is known before anything is opened: a DSN of no kind is a
			// usage error, and only PostgreSQL asks for the replica key.
			postgres := false
			if f.store != "" {
				if postgres, err = store.IsPostgres(f.store); err != nil {
					return usagef("--store %q: %v", f.store, err)
				}
			}
			if f.secretKey != "" && !postgres {
				logger.Warn("--secret-key-file is not used: a SQLite store keeps its secrets sealed with the key in the data directory; the file is for the replicas of a postgres:// store", "file", f.secretKey)
			}
			return server.Run(cmd.Context(), server.Config{
				Addr: f.addr, Home: f.dataDir, StoreDSN: f.store, EtcdEndpoints: f.etcd, PublicAddress: f.public, SecretKeyFile: f.secretKey, PageSize: f.pageSize,
				TokenLifetime: f.tokenLifetime, MaxTokenLifetime: f.maxTokenLifetime,
				LeaseTTL: f.leaseTTL, StepDelay: f.stepDelay, CleanupBackoff: f.backoff, VersionsFile: f.versions, QuotaFile: f.quotas, HealthInterval: f.health, SweepInterval: f.sweep,
				ReadLimit: f.reads, WriteLimit: f.writes, ActivityRetention: f.retention, OperationRetention: f.operationRetention, ReplicaInterval: f.replicaInterval, MaxUploadSize: maxUpload, Logger: logger,
				Python: python, RouterImage: f.routerImage, AllowKubeconfigExec: f.allowKubeconfigExec,
				UnsandboxedScoring: f.unsandboxedScoring,
			}, streams.Out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8443", "HTTPS listen address (port 0 picks a free port)")
	fl.StringVar(&f.dataDir, "data-dir", "", "Data directory (default $MLFLEET_HOME, else ~/.mlfleet)")
	fl.StringVar(&f.store, "store", os.Getenv("MLFLEET_STORE"), "Store DSN: empty for SQLite in the data directory (mlfleet.db); sqlite://PATH or a file path for a SQLite file elsewhere (a relative PATH is in the data directory, not the working directory); or a postgres:// (postgresql://) URL for a PostgreSQL store that replicas share, which needs --secret-key-file (default $MLFLEET_STORE)")
	fl.StringVar(&f.secretKey, "secret-key-file", "", "With a postgres:// store: file holding the key (32+ characters) that every replica is given, which wraps the secrets they share (default $MLFLEET_SECRET_KEY)")
	fl.StringVar(&f.public, "public-address", "", "host:port that clients reach the control plane at when it is not --addr: a load balancer or DNS name in front of every replica. Cluster kubeconfigs name it, so they keep working whichever replica answers")
	fl.StringSliceVar(&f.etcd, "etcd-endpoints", nil, "Client URLs (http://, https:// or unix://) of an existing etcd cluster in which embedded clusters keep their objects (default: kine on a postgres:// store, else an embedded etcd)")
	fl.StringVar(&f.logLevel, "log-level", "info", "Log level: debug, info, warn, error")
	fl.StringVar(&f.versions, "versions-file", "", "Kubernetes version catalog (JSON) replacing the built-in one")
	fl.StringVar(&f.quotas, "quota-file", "", fmt.Sprintf("Quotas per subscription and region (JSON); default: %d managed clusters and %d vCPUs per subscription and region", quota.DefaultManagedClusters, quota.DefaultCores))
	fl.IntVar(&f.pageSize, "page-size", 100, "Items per list page (1 or more)")
	fl.DurationVar(&f.leaseTTL, "lease-ttl", 15*time.Second, "How long an operation lease lasts without renewal")
	fl.DurationVar(&f.backoff, "cleanup-backoff", 5*time.Second, "How long a failed operation waits before its cleanup, which returned an error, is tried again; doubled on each further error up to a minute, and given up after 5 tries")
	fl.DurationVar(&f.health, "health-interval", 30*time.Second, "How often the health monitor checks the cluster of every attached compute, and the instances of every online deployment")
	fl.DurationVar(&f.sweep, "sweep-interval", time.Minute, "How often rows that lost their owner (name claims, secrets), and uploaded content no workspace uses any more, are removed")
	fl.DurationVar(&f.tokenLifetime, "token-lifetime", time.Hour, "How long an access token lives unless the caller asks otherwise; at most --token-max-lifetime")
	fl.DurationVar(&f.maxTokenLifetime, "token-max-lifetime", 24*time.Hour, "The longest lifetime a caller may ask for a token, at least --token-lifetime (the admin token in the home never expires)")
	fl.IntVar(&f.reads.PerHour, "rate-limit-reads", server.DefaultReadLimit.PerHour, "Read requests (GET, HEAD) an hour per principal and subscription, beyond which the API answers 429 with Retry-After (0 = unlimited)")
	fl.IntVar(&f.reads.Burst, "rate-limit-read-burst", server.DefaultReadLimit.Burst, "Read requests a principal may make at once (0 = 100 seconds' worth of --rate-limit-reads)")
	fl.IntVar(&f.writes.PerHour, "rate-limit-writes", server.DefaultWriteLimit.PerHour, "Write requests (PUT, PATCH, DELETE, POST) an hour per principal and subscription, beyond which the API answers 429 with Retry-After (0 = unlimited)")
	fl.IntVar(&f.writes.Burst, "rate-limit-write-burst", server.DefaultWriteLimit.Burst, "Write requests a principal may make at once (0 = 100 seconds' worth of --rate-limit-writes)")
	fl.DurationVar(&f.retention, "activity-log-retention", activity.DefaultRetention, "How long the activity log keeps an event before the sweeper removes it")
	fl.DurationVar(&f.operationRetention, "operation-retention", sweeper.DefaultOperationRetention,
		"How long an operation's status URL answers after the operation ended, before the sweeper removes it")
	fl.StringVar(&f.maxUpload, "max-upload-size", "512MiB", "Largest model or code upload accepted (bytes, or with KiB, MiB, GiB)")
	fl.DurationVar(&f.replicaInterval, "replica-heartbeat-interval", replicas.DefaultInterval, "How often this server renews its row in the replica table; a replica silent for 3 intervals is listed as Lost")
	fl.StringVar(&f.python, "python", "python3", "Python interpreter (command or path) that runs the online deployments of embedded clusters; it imports the deployment's scoring script and its packages (e.g. scikit-learn)")
	fl.StringVar(&f.routerImage, "router-image", "", "Image of the inference router (azureml-fe) on external clusters; without it online endpoints cannot serve there")
	fl.BoolVar(&f.allowKubeconfigExec, "allow-kubeconfig-exec", false, "Let imported clusters' kubeconfigs run exec plugins (EKS, GKE) and read files on this machine; only when everyone who may register clusters may run programs here")
	fl.BoolVar(&f.unsandboxedScoring, "unsandboxed-scoring", false, "Run the scoring scripts of online deployments on embedded clusters without their sandbox, with this server's access to every file (its home, keys and database included); only when everyone who may create deployments may run programs here as this user, or where the kernel refuses unprivileged user namespaces")
	fl.DurationVar(&f.stepDelay, "fault-step-delay", 0, "Fault injection for tests: sleep before every operation step")
	_ = fl.MarkHidden("fault-step-delay")
	return cmd
}

// checkDurations refuses a negative value of any duration flag of fs, and 0 for one whose
// default is not 0: the server would take either for unset and use the default, which is
// not what the user asked for (an interval or lifetime of 0 has no other meaning).
func checkDurations(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Value.Type() != "duration" {
			return
		}
		d, _ := fs.GetDuration(f.Name)
		def, _ := time.ParseDuration(f.DefValue)
		switch {
		case def == 0 && d < 0:
			err = usagef("--%s must be 0 or more, not %s", f.Name, d)
		case def != 0 && d <= 0:
			err = usagef("--%s must be more than 0 (default %s), not %s", f.Name, def, d)
		}
	})
	return err
}

// checkLimits refuses the flags whose value contradicts another's or cannot be a count:
// a --token-lifetime longer than --token-max-lifetime (the tokens would silently get the
// maximum) and a --page-size below 1.
func checkLimits(f *serveFlags) error {
	if f.tokenLifetime > f.maxTokenLifetime {
		return usagef("--token-lifetime %s is longer than --token-max-lifetime %s, which caps every token: lower --token-lifetime or raise --token-max-lifetime", f.tokenLifetime, f.maxTokenLifetime)
	}
	if f.pageSize < 1 {
		return usagef("--page-size must be 1 or more (default 100), not %d", f.pageSize)
	}
	return nil
}

// checkListenAddr checks the form of --addr: host:port with a port the system can listen
// on (0 picks one). Whether the host is an address of this machine, and the port free, is
// known only when the server listens (server.listenAPI says which).
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr takes host:port, e.g. 127.0.0.1:8443 or 0.0.0.0:8443, not %q", addr)
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 0 || n > 65535 {
			return usagef("--addr %s: invalid port %d: a port is 0 (any free one) to 65535", addr, n)
		}
		return nil
	}
	// A service name, as net.Listen accepts it (https).
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usagef("--addr %s: invalid port %q: a port is 0 (any free one) to 65535", addr, port)
	}
	return nil
}
