package kubeapiserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/k3s-io/kine/pkg/drivers"
	"github.com/k3s-io/kine/pkg/drivers/generic"
	_ "github.com/k3s-io/kine/pkg/drivers/pgsql" // registers the postgres:// driver
	kineserver "github.com/k3s-io/kine/pkg/server"
	"github.com/sirupsen/logrus"
	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Kine serves the etcd API over a PostgreSQL database, in this process, so that clusters
// keep their objects in the database mlfleet's store already uses: a cluster's apiserver then
// holds no state of its own, and any replica that reaches the database can serve it. All
// clusters share kine's one table (named kine) under their own key prefixes, as they share
// the embedded etcd otherwise; several replicas may run a Kine on the same database at once
// (each sees the others' writes within its poll interval).
type Kine struct {
	endpoints []string
	grpc      *grpc.Server
	cancel    context.CancelFunc
	wg        *sync.WaitGroup
	sock      string

	closeOnce sync.Once
	closed    chan struct{}
}

// Kine's settings. The poll interval bounds how late a watch on one replica sees a write made
// through another replica's Kine (writes through the same Kine are seen at once).
const (
	kinePollInterval    = time.Second
	kineNotifyInterval  = 5 * time.Second
	kineCompactInterval = 5 * time.Minute
	// kineEtcdVersion is the etcd version Kine reports; the apiserver enables features
	// (consistent reads from its cache, watch progress requests) by it.
	kineEtcdVersion = "3.6.11"
)

var kineLogOnce sync.Once

// StartKine starts kine on the PostgreSQL database of dsn (a postgres:// URL; a search_path
// parameter puts kine's table in that schema) and serves the etcd API on a unix socket in dir
// (created 0700 if missing). It returns when the table exists and the socket listens, or with
// ctx's error. Kine's own logs (logrus) are limited to errors.
func StartKine(ctx context.Context, dsn, dir string) (*Kine, error) {
	if dir == "" {
		return nil, fmt.Errorf("start kine: %w: empty directory", ErrInvalidConfig)
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("start kine: %w: want a postgres:// URL", ErrInvalidConfig)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start kine: %w", err)
	}
	kineLogOnce.Do(func() { logrus.SetLevel(logrus.ErrorLevel) })
	sock, err := clientSocket(dir)
	if err != nil {
		return nil, fmt.Errorf("start kine: %w", err)
	}

	// Several replicas starting at once race to create kine's table; PostgreSQL then
	// refuses all but one CREATE (a unique violation in its catalog), although each said
	// IF NOT EXISTS. The losers find the table on a second try.
	var backend kineserver.Backend
	var cancel context.CancelFunc
	var wg *sync.WaitGroup
	for attempt := 1; ; attempt++ {
		backend, cancel, wg, err = startKineBackend(ctx, dsn)
		if err == nil {
			break
		}
		if attempt == 5 || ctx.Err() != nil {
			return nil, fmt.Errorf("start kine: %w", err)
		}
		select {
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
			return nil, fmt.Errorf("start kine: %w", ctx.Err())
		}
	}

	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		cancel()
		return nil, fmt.Errorf("start kine: %w", err)
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "unix", sock)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start kine: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		lis.Close()
		cancel()
		return nil, fmt.Errorf("start kine: %w", err)
	}
	gs := newKineGRPCServer()
	kineserver.New(backend, "unix", kineNotifyInterval, kineEtcdVersion).Register(gs)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = gs.Serve(lis)
	}()
	return &Kine{endpoints: []string{"unix://" + sock}, grpc: gs, cancel: cancel, wg: wg, sock: sock, closed: make(chan struct{})}, nil
}

// newKineGRPCServer returns the gRPC server kine's etcd API is served on. Its keepalive
// policy is etcd's own (as kine's endpoint package sets it): a client may ping every
// embed.DefaultGRPCKeepAliveMinTime (5 s), with or without a stream open. grpc-go's default
// allows one ping per 5 minutes, and the apiservers' etcd client pings every
// etcdKeepaliveTime (30 s) while a watch is open: the server then closed the connection
// with GOAWAY ENHANCE_YOUR_CALM "too_many_pings", which the client logs at ERROR before it
// reconnects. The socket is 0600 and only this process's apiservers use it.
func newKineGRPCServer() *grpc.Server {
	return grpc.NewServer(
		grpc.MaxRecvMsgSize(2<<20), grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: embed.DefaultGRPCKeepAliveMinTime, PermitWithoutStream: true}),
	)
}

// startKineBackend connects kine's backend to the database of dsn (creating its table when
// missing) and starts it. The backend lives until cancel, not until ctx ends: ctx only
// bounds the start.
func startKineBackend(ctx context.Context, dsn string) (kineserver.Backend, context.CancelFunc, *sync.WaitGroup, error) {
	bctx, cancel := context.WithCancel(context.Background())
	wg := &sync.WaitGroup{}
	type result struct {
		backend kineserver.Backend
		err     error
	}
	done := make(chan result, 1)
	go func() {
		_, backend, err := drivers.New(bctx, wg, &drivers.Config{
			Endpoint:             dsn,
			ConnectionPoolConfig: generic.ConnectionPoolConfig{MaxIdle: 5, MaxIdleTime: 2 * time.Minute},
			CompactInterval:      kineCompactInterval,
			CompactTimeout:       5 * time.Second,
			CompactMinRetain:     1000,
			CompactBatchSize:     1000,
			PollBatchSize:        500,
			PollInterval:         kinePollInterval,
		})
		if err == nil {
			err = backend.Start(bctx)
		}
		done <- result{backend, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			cancel()
			return nil, nil, nil, r.err
		}
		return r.backend, cancel, wg, nil
	case <-ctx.Done():
		cancel()
		return nil, nil, nil, ctx.Err()
	}
}

// Endpoints returns kine's client URL, for Config.EtcdEndpoints.
func (k *Kine) Endpoints() []string { return append([]string(nil), k.endpoints...) }

// Close stops serving and disconnects from the database; the data stays. Stop every Server
// that uses it first. Close is idempotent; it returns ctx's error if ctx ends first (kine
// then keeps stopping in the background).
func (k *Kine) Close(ctx context.Context) error {
	k.closeOnce.Do(func() {
		go func() {
			defer close(k.closed)
			stopped := make(chan struct{})
			go func() { k.grpc.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(2 * time.Second):
				k.grpc.Stop()
			}
			k.cancel()
			k.wg.Wait()
			_ = os.Remove(k.sock)
		}()
	})
	select {
	case <-k.closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close kine: %w", ctx.Err())
	}
}
