package kubeapiserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Etcd is the one embedded etcd member of the process. Every [Server] stores its objects in it
// under its own key prefix.
type Etcd struct {
	etcd      *embed.Etcd
	endpoints []string
	logLevel  zap.AtomicLevel

	closeOnce sync.Once
	closed    chan struct{}
}

// StartEtcd starts an embedded etcd member whose data lives in dir (created if missing; an
// existing member in dir is restarted with its data). Clients reach it on a unix socket in
// dir (0700), so no other user of the machine can connect to it and read what clusters
// store there (Secrets included); ask Endpoints after every start. Only errors are logged (JSON on stderr), and nothing once Close has
// begun. StartEtcd returns when the member serves requests, or with ctx's error if ctx ends
// first.
func StartEtcd(ctx context.Context, dir string) (*Etcd, error) {
	if dir == "" {
		return nil, fmt.Errorf("start etcd: %w: empty data directory", ErrInvalidConfig)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}

	// Port 0 everywhere: the kernel picks free ports, so two processes (or two test binaries)
	// never race for a fixed one. The peer URL is never dialled by a single-member cluster,
	// and it is only compared with itself (advertised vs initial cluster), so ":0" is stable
	// across restarts and the member ID stored in dir keeps matching.
	//
	// The advertised peer URL stays that loopback one, because the member's ID derives from
	// it and existing data directories must keep matching; but the peer listener is a unix
	// socket beside the client's. On loopback TCP it took unauthenticated raft messages
	// from any local process (a scoring script forced the member to step down with one).
	loopback := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	sock, err := clientSocket(dir)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	client := url.URL{Scheme: "unix", Path: sock}
	// etcd listens for peers on the URL's host, where it reads clients' paths.
	peer := url.URL{Scheme: "unix", Host: filepath.Join(filepath.Dir(sock), "peer.sock")}
	cfg := embed.NewConfig()
	cfg.Name = "mlfleet"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{loopback}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	logLevel := zap.NewAtomicLevelAt(zapcore.ErrorLevel)
	logger, err := newEtcdLogger(logLevel)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(logger)
	// Nobody talks to etcd over its JSON gateway; the apiservers use gRPC.
	cfg.EnableGRPCGateway = false

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("start etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("start etcd: %w", ctx.Err())
	}

	endpoints := make([]string, 0, len(e.Clients))
	for _, l := range e.Clients {
		endpoints = append(endpoints, "unix://"+l.Addr().String())
	}
	if len(endpoints) == 0 {
		e.Close()
		return nil, errors.New("start etcd: no client listener")
	}
	return &Etcd{etcd: e, endpoints: endpoints, logLevel: logLevel, closed: make(chan struct{})}, nil
}

// maxSocketPath is the longest path a unix socket may have (sun_path is 108 bytes on Linux,
// with the terminating NUL).
const maxSocketPath = 107

// clientSocket returns where etcd's client socket goes: in dir, or, when that path would be
// too long for a unix socket, in a new private (0700) temporary directory.
func clientSocket(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if p := filepath.Join(abs, "client.sock"); len(p) <= maxSocketPath {
		return p, nil
	}
	tmp, err := os.MkdirTemp("", "mlfleet-etcd-")
	if err != nil {
		return "", err
	}
	return filepath.Join(tmp, "client.sock"), nil
}

// newEtcdLogger returns the logger given to etcd: JSON lines on stderr at the given level,
// without the stack traces etcd attaches to every error.
func newEtcdLogger(level zap.AtomicLevel) (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	cfg.Level = level
	cfg.Sampling = nil
	cfg.DisableStacktrace = true
	cfg.DisableCaller = true
	cfg.OutputPaths = []string{"stderr"}
	cfg.ErrorOutputPaths = []string{"stderr"}
	return cfg.Build()
}

// Endpoints returns the client URLs of the member, for Config.EtcdEndpoints.
func (e *Etcd) Endpoints() []string {
	return append([]string(nil), e.endpoints...)
}

// Close stops the member. Stop every Server that uses it first: an apiserver whose etcd has
// gone keeps retrying until it is stopped. Close is idempotent; it returns ctx's error if ctx
// ends before etcd has stopped (etcd then keeps stopping in the background).
func (e *Etcd) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		// Stopping makes etcd log every listener it closes as a failure; silence it.
		e.logLevel.SetLevel(zapcore.FatalLevel)
		go func() {
			defer close(e.closed)
			e.etcd.Close()
		}()
	})
	select {
	case <-e.closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close etcd: %w", ctx.Err())
	}
}

// etcdCheckTimeout bounds checkEtcd when the caller's context has no earlier deadline.
const etcdCheckTimeout = 20 * time.Second

// checkEtcd reads one key from etcd. Start calls it before building the apiserver, whose own
// first contact with etcd ignores the start context, blocks for 20 seconds when etcd is
// unreachable and leaks its clients when it fails.
func checkEtcd(ctx context.Context, endpoints []string) error {
	ctx, cancel := context.WithTimeout(ctx, etcdCheckTimeout)
	defer cancel()
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: etcdCheckTimeout,
		Logger:      zap.NewNop(),
		Context:     ctx,
	})
	if err != nil {
		return fmt.Errorf("check etcd: %w", err)
	}
	defer client.Close()
	if _, err := client.Get(ctx, "/mlfleet-health", clientv3.WithCountOnly()); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("check etcd at %v: %w", endpoints, ctx.Err())
		}
		return fmt.Errorf("check etcd at %v: %w", endpoints, err)
	}
	return nil
}
