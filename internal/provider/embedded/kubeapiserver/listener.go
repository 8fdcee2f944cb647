package kubeapiserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlfleet/mlfleet/internal/accept"
)

// authorizedListener is the listener handed to the apiserver's secure serving options. It
// merges two listeners:
//
//   - public, the address in the kubeconfigs. A connection from a source outside the
//     authorized ranges is closed as soon as it is accepted: the client sees its TLS handshake
//     fail with a reset or EOF, and the apiserver never sees the connection.
//   - internal, a 127.0.0.1 listener on another port, used only by the apiserver's loopback
//     client. Addr reports it, because the apiserver derives its loopback client's URL from
//     Addr; this keeps the apiserver able to reach itself whatever the ranges are.
type authorizedListener struct {
	public   net.Listener
	internal net.Listener

	ranges atomic.Pointer[[]netip.Prefix] // nil or empty: every source is allowed

	conns   chan net.Conn
	errs    chan error
	done    chan struct{}
	pumping sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	mu   sync.Mutex
	open map[*trackedConn]struct{} // accepted public connections, for cutting on range changes
}

// tcpKeepAlivePeriod is set on accepted connections, as the apiserver does for the plain TCP
// connections it accepts itself (it skips the wrapped public ones).
const tcpKeepAlivePeriod = 3 * time.Minute

func newAuthorizedListener(public, internal net.Listener, ranges []netip.Prefix) *authorizedListener {
	l := &authorizedListener{
		public:   public,
		internal: internal,
		conns:    make(chan net.Conn),
		errs:     make(chan error, 2),
		done:     make(chan struct{}),
		open:     map[*trackedConn]struct{}{},
	}
	l.ranges.Store(&ranges)
	l.pumping.Add(2)
	go l.pump(public, true)
	go l.pump(internal, false)
	return l
}

// pump accepts from one listener and hands the connections to Accept.
func (l *authorizedListener) pump(from net.Listener, filtered bool) {
	defer l.pumping.Done()
	accept.Loop(from, l.done, l.errs, func(conn net.Conn) bool {
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetKeepAlive(true)
			_ = tcp.SetKeepAlivePeriod(tcpKeepAlivePeriod)
		}
		if filtered {
			if !l.allows(conn.RemoteAddr()) {
				conn.Close()
				return true
			}
			conn = l.track(conn)
		}
		select {
		case l.conns <- conn:
			return true
		case <-l.done:
			conn.Close()
			return false
		}
	})
}

// handoff serves a connection accepted elsewhere (the front door) as if it came from the
// public listener: filtered by its remote address and tracked.
func (l *authorizedListener) handoff(conn net.Conn) {
	if !l.allows(conn.RemoteAddr()) {
		conn.Close()
		return
	}
	tracked := l.track(conn)
	go func() {
		select {
		case l.conns <- tracked:
		case <-l.done:
			tracked.Close()
		}
	}()
}

// Accept returns the next allowed connection from either listener.
func (l *authorizedListener) Accept() (net.Conn, error) {
	select {
	case conn := <-l.conns:
		return conn, nil
	case <-l.done:
		return nil, net.ErrClosed
	case err := <-l.errs:
		// One side failed for good: stop serving on both rather than serve half.
		l.Close()
		return nil, err
	}
}

// Close closes both listeners. Established connections are left to their server.
func (l *authorizedListener) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.closeErr = errors.Join(l.public.Close(), l.internal.Close())
		l.pumping.Wait()
	})
	return l.closeErr
}

// Addr returns the internal address; see authorizedListener.
func (l *authorizedListener) Addr() net.Addr { return l.internal.Addr() }

// publicAddr returns the address clients use.
func (l *authorizedListener) publicAddr() *net.TCPAddr { return l.public.Addr().(*net.TCPAddr) }

// setRanges replaces the authorized ranges and closes established public connections whose
// source is no longer allowed, so that a keep-alive connection cannot outlive its permission.
func (l *authorizedListener) setRanges(ranges []netip.Prefix) {
	l.ranges.Store(&ranges)
	l.mu.Lock()
	var cut []*trackedConn
	for c := range l.open {
		if !l.allows(c.RemoteAddr()) {
			cut = append(cut, c)
		}
	}
	l.mu.Unlock()
	for _, c := range cut {
		c.Close()
	}
}

// allows tells whether a connection from addr is accepted on the public listener.
func (l *authorizedListener) allows(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return false
	}
	return l.allowsIP(ip)
}

func (l *authorizedListener) allowsIP(ip netip.Addr) bool {
	ranges := *l.ranges.Load()
	if len(ranges) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, r := range ranges {
		if r.Contains(ip) {
			return true
		}
	}
	return false
}

func (l *authorizedListener) track(conn net.Conn) net.Conn {
	c := &trackedConn{Conn: conn, owner: l}
	l.mu.Lock()
	l.open[c] = struct{}{}
	l.mu.Unlock()
	return c
}

// trackedConn is an accepted public connection; it leaves the listener's set when closed.
type trackedConn struct {
	net.Conn
	owner *authorizedListener
	once  sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.owner.mu.Lock()
		delete(c.owner.open, c)
		c.owner.mu.Unlock()
	})
	return c.Conn.Close()
}

// parseIPRanges parses authorized IP ranges: CIDRs ("203.0.113.0/24", "2001:db8::/32") or
// single addresses ("203.0.113.7", meaning /32 or /128), as AKS accepts them.
func parseIPRanges(ranges []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ranges))
	for _, r := range ranges {
		s := strings.TrimSpace(r)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("parse authorized IP range %q: %w: %w", r, ErrInvalidConfig, err)
			}
			if p.Addr().Is4In6() {
				return nil, fmt.Errorf("parse authorized IP range %q: %w: IPv4-mapped IPv6 range", r, ErrInvalidConfig)
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("parse authorized IP range %q: %w: %w", r, ErrInvalidConfig, err)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}
