package frontdoor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Between replicas, a connection handed to the replica hosting a cluster starts with a
// PROXY protocol v1 line ("PROXY TCP4 <client ip> <our ip> <client port> <our port>\r\n")
// that carries the real client's address, so that the host checks the cluster's authorized
// IP ranges on the client and not on the forwarding replica. A front door believes that
// line only from the addresses it is told to trust (its peers); from anyone else the
// connection is not TLS and goes to the control plane's server, which rejects it.

// maxProxyLine is the longest PROXY v1 line, CRLF included.
const maxProxyLine = 107

// Option changes how a front door Listener works.
type Option func(*Listener)

// TrustProxyFrom makes the Listener accept a PROXY protocol v1 line at the start of the
// connections whose peer address trusted accepts (other replicas), and use the client
// address it carries. Connections from those addresses without the line work as usual.
func TrustProxyFrom(trusted func(net.Addr) bool) Option {
	return func(l *Listener) { l.trustProxy = trusted }
}

// proxyLine returns the PROXY v1 line for a connection from src to dst.
func proxyLine(src, dst net.Addr) string {
	s, okS := addrPort(src)
	d, okD := addrPort(dst)
	if !okS || !okD || s.Addr().Is4() != d.Addr().Is4() {
		return "PROXY UNKNOWN\r\n"
	}
	family := "TCP6"
	if s.Addr().Is4() {
		family = "TCP4"
	}
	return fmt.Sprintf("PROXY %s %s %s %d %d\r\n", family, s.Addr(), d.Addr(), s.Port(), d.Port())
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	if a == nil {
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// readProxyLine reads the rest of a PROXY v1 line whose first byte ('P') was read, one byte
// at a time so that nothing after it is consumed, and returns the client address it carries
// (nil for PROXY UNKNOWN).
func readProxyLine(r io.Reader) (net.Addr, error) {
	line := []byte{'P'}
	b := make([]byte, 1)
	for len(line) < maxProxyLine {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			break
		}
	}
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return nil, errors.New("proxy line: no CRLF within 107 bytes")
	}
	f := strings.Split(s, " ")
	if len(f) >= 2 && f[0] == "PROXY" && f[1] == "UNKNOWN" {
		return nil, nil
	}
	if len(f) != 6 || f[0] != "PROXY" || (f[1] != "TCP4" && f[1] != "TCP6") {
		return nil, fmt.Errorf("proxy line: malformed %q", s)
	}
	ip, err := netip.ParseAddr(f[2])
	if err != nil || ip.Is4() != (f[1] == "TCP4") {
		return nil, fmt.Errorf("proxy line: bad source address %q", f[2])
	}
	port, err := strconv.ParseUint(f[4], 10, 16)
	if err != nil {
		return nil, fmt.Errorf("proxy line: bad source port %q", f[4])
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))), nil
}

// proxiedConn is a connection whose client address came in a PROXY line.
type proxiedConn struct {
	net.Conn
	remote net.Addr
}

func (c *proxiedConn) RemoteAddr() net.Addr { return c.remote }

// Peer is a Target on another replica: Serve forwards the connection, bytes untouched, to
// the peer's front door at Addr, behind a PROXY v1 line with the client's address. The peer
// checks the cluster's authorized IP ranges on that address, so Allows lets every client
// through here.
type Peer struct {
	// Addr is the peer's API address (host:port), from its replica row.
	Addr string
	// DialTimeout bounds the connection to the peer; 0 means 5s.
	DialTimeout time.Duration
}

// Allows implements Target: the host checks the ranges.
func (Peer) Allows(net.Addr) bool { return true }

// Serve implements Target.
func (p Peer) Serve(conn net.Conn) {
	go func() {
		defer conn.Close()
		timeout := p.DialTimeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		up, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.Addr)
		cancel()
		if err != nil {
			return
		}
		defer up.Close()
		if _, err := io.WriteString(up, proxyLine(conn.RemoteAddr(), conn.LocalAddr())); err != nil {
			return
		}
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, conn); closeWrite(up); done <- struct{}{} }()
		go func() { _, _ = io.Copy(conn, up); closeWrite(conn); done <- struct{}{} }()
		<-done
		<-done
	}()
}

// closeWrite half-closes c when it can, else closes it.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}
