package frontdoor

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlfleet/mlfleet/internal/accept"
)

// Target is where the connections for one cluster go.
type Target interface {
	// Allows reports whether a client at addr may reach the cluster (its authorized IP
	// ranges).
	Allows(addr net.Addr) bool
	// Serve takes conn over, the ClientHello still unread in it, and closes it when done.
	// It must not block for long: it runs on the front door's accepting path for conn.
	Serve(conn net.Conn)
}

// Resolver finds the target of a TLS server name. Names are compared lower-case.
// Implementations: the embedded provider (its local clusters); later, peer replicas.
type Resolver interface {
	Resolve(serverName string) (Target, bool)
}

// helloTimeout bounds how long a client may take to send its ClientHello.
const helloTimeout = 10 * time.Second

// Listener is the control plane's listener with the front door in it: Accept returns only
// the connections for the control plane's own server.
type Listener struct {
	net.Listener
	resolve Resolver
	log     *slog.Logger
	// trustProxy, when set, tells the peers whose connections may start with a PROXY line.
	trustProxy func(net.Addr) bool
	// isCluster, when set, tells the names of clusters that exist but may not resolve yet
	// (HoldStarting); held counts the connections waiting for one.
	isCluster func(serverName string) bool
	holdFor   time.Duration
	held      atomic.Int32

	conns chan net.Conn
	errs  chan error
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// New starts serving the front door on ln. Connections for clusters go to their targets;
// the others come out of Accept.
func New(ln net.Listener, r Resolver, log *slog.Logger, opts ...Option) *Listener {
	if log == nil {
		log = slog.Default()
	}
	l := &Listener{Listener: ln, resolve: r, log: log, conns: make(chan net.Conn), errs: make(chan error, 1), done: make(chan struct{})}
	for _, o := range opts {
		o(l)
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	accept.Loop(l.Listener, l.done, l.errs, func(conn net.Conn) bool {
		go l.route(conn)
		return true
	})
}

// route reads conn's ClientHello and sends conn where its server name says.
func (l *Listener) route(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(helloTimeout))
	if l.trustProxy != nil && l.trustProxy(conn.RemoteAddr()) {
		// A peer's connection may start with a PROXY line ('P'); a TLS one starts 0x16.
		first := make([]byte, 1)
		if _, err := io.ReadFull(conn, first); err != nil {
			conn.Close()
			return
		}
		if first[0] == 'P' {
			client, err := readProxyLine(conn)
			if err != nil {
				l.log.Debug("front door: bad PROXY line from a peer", "peer", conn.RemoteAddr().String(), "err", err)
				conn.Close()
				return
			}
			if client != nil {
				conn = &proxiedConn{Conn: conn, remote: client}
			}
		} else {
			conn = &replayConn{Conn: conn, head: first}
		}
	}
	name, hello := peekServerName(conn)
	_ = conn.SetReadDeadline(time.Time{})
	replay := &replayConn{Conn: conn, head: hello}
	if name != "" {
		t, cluster := l.target(strings.ToLower(name))
		switch {
		case t == nil && cluster:
			// A cluster that did not come up in time: the control plane's server would
			// answer with a certificate the cluster's kubeconfig refuses.
			l.log.Debug("front door: cluster not serving", "server_name", name)
			conn.Close()
			return
		case t == nil:
		case !t.Allows(conn.RemoteAddr()):
			// As the cluster's own listener does: the client sees its handshake cut.
			l.log.Debug("front door: client outside the authorized IP ranges", "server_name", name, "client", conn.RemoteAddr().String())
			conn.Close()
			return
		default:
			t.Serve(replay)
			return
		}
	}
	select {
	case l.conns <- replay:
	case <-l.done:
		conn.Close()
	}
}

// target resolves a server name. A name the Resolver does not know, but that HoldStarting
// says is a cluster's (one that is starting, as right after a restart of its server, or
// moving to another replica), is asked again every holdEvery until it resolves, the name
// stops being a cluster's, holdFor passes or the Listener closes; cluster is then true
// whether or not it resolved. At most maxHeld connections wait at once; the others are
// not held.
func (l *Listener) target(name string) (t Target, cluster bool) {
	if t, ok := l.resolve.Resolve(name); ok {
		return t, true
	}
	if l.isCluster == nil || !l.isCluster(name) {
		return nil, false
	}
	if l.held.Add(1) > maxHeld {
		l.held.Add(-1)
		return nil, true
	}
	defer l.held.Add(-1)
	deadline := time.NewTimer(l.holdFor)
	defer deadline.Stop()
	tick := time.NewTicker(holdEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.done:
			return nil, true
		case <-deadline.C:
			return nil, true
		case <-tick.C:
		}
		if t, ok := l.resolve.Resolve(name); ok {
			return t, true
		}
		if !l.isCluster(name) {
			return nil, true
		}
	}
}

// holdEvery is how often a held connection's server name is resolved again; maxHeld bounds
// the connections held at once (each is a goroutine and a descriptor).
const (
	holdEvery = 100 * time.Millisecond
	maxHeld   = 256
)

// HoldStarting makes connections for a cluster that exists but does not resolve yet wait,
// up to d, for it to come up instead of reaching the control plane's server: right after
// a restart, clusters start a few at a time while the API already answers, and a kubectl
// run then would otherwise fail on the certificate. isCluster tells a cluster's name; it
// is called again while a connection waits, so it should be cheap (cached).
func HoldStarting(isCluster func(serverName string) bool, d time.Duration) Option {
	return func(l *Listener) { l.isCluster, l.holdFor = isCluster, d }
}

// Accept returns the next connection for the control plane's own server.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting. Connections already handed on are left to their servers.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.Listener.Close()
		l.wg.Wait()
	})
	return err
}

// errPeeked stops the handshake once the ClientHello has been read.
var errPeeked = errors.New("client hello read")

// peekServerName reads conn's TLS ClientHello and returns its server name ("" when there
// is none or conn does not speak TLS) and every byte it read, to replay.
func peekServerName(conn net.Conn) (string, []byte) {
	var read bytes.Buffer
	var name string
	peek := &readOnlyConn{r: io.TeeReader(conn, &read), conn: conn}
	_ = tls.Server(peek, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		name = h.ServerName
		return nil, errPeeked
	}}).Handshake()
	return name, read.Bytes()
}

// readOnlyConn lets crypto/tls parse a ClientHello from a connection it must not write to.
type readOnlyConn struct {
	r    io.Reader
	conn net.Conn
}

func (c *readOnlyConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *readOnlyConn) Write([]byte) (int, error)        { return 0, io.ErrClosedPipe }
func (c *readOnlyConn) Close() error                     { return nil }
func (c *readOnlyConn) LocalAddr() net.Addr              { return c.conn.LocalAddr() }
func (c *readOnlyConn) RemoteAddr() net.Addr             { return c.conn.RemoteAddr() }
func (c *readOnlyConn) SetDeadline(time.Time) error      { return nil }
func (c *readOnlyConn) SetReadDeadline(time.Time) error  { return nil }
func (c *readOnlyConn) SetWriteDeadline(time.Time) error { return nil }

// replayConn is a connection whose first bytes, already read, are read again.
type replayConn struct {
	net.Conn
	mu   sync.Mutex
	head []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// Chain is a Resolver that asks its resolvers in order, the first that knows a name
// winning: the local clusters first, then, once clusters are hosted by one replica at a
// time, a resolver of the peers' clusters (from the replica table).
type Chain []Resolver

// Resolve implements Resolver.
func (c Chain) Resolve(name string) (Target, bool) {
	for _, r := range c {
		if t, ok := r.Resolve(name); ok {
			return t, true
		}
	}
	return nil, false
}
