package frontdoor

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestProxyLineRoundTrip(t *testing.T) {
	for _, tc := range []struct{ src, dst, want, client string }{
		{"10.1.2.3:4567", "127.0.0.1:8443", "PROXY TCP4 10.1.2.3 127.0.0.1 4567 8443\r\n", "10.1.2.3:4567"},
		{"[2001:db8::1]:4567", "[::1]:8443", "PROXY TCP6 2001:db8::1 ::1 4567 8443\r\n", "[2001:db8::1]:4567"},
		{"[::ffff:10.1.2.3]:1", "127.0.0.1:2", "PROXY TCP4 10.1.2.3 127.0.0.1 1 2\r\n", "10.1.2.3:1"},
		{"10.1.2.3:1", "[::1]:2", "PROXY UNKNOWN\r\n", ""},
	} {
		src, _ := net.ResolveTCPAddr("tcp", tc.src)
		dst, _ := net.ResolveTCPAddr("tcp", tc.dst)
		line := proxyLine(src, dst)
		if line != tc.want {
			t.Errorf("proxyLine(%s, %s) = %q, want %q", tc.src, tc.dst, line, tc.want)
			continue
		}
		got, err := readProxyLine(strings.NewReader(line[1:] + "rest"))
		if err != nil {
			t.Errorf("readProxyLine(%q): %v", line, err)
			continue
		}
		if tc.want == "PROXY UNKNOWN\r\n" {
			if got != nil {
				t.Errorf("UNKNOWN gave %v", got)
			}
			continue
		}
		if got.String() != tc.client {
			t.Errorf("readProxyLine(%q) = %s, want %s", line, got, tc.client)
		}
	}
	for _, bad := range []string{"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "PROXY TCP4 ::1 ::1 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "P" + strings.Repeat("x", 200)} {
		if _, err := readProxyLine(strings.NewReader(bad[1:])); err == nil {
			t.Errorf("readProxyLine(%q) accepted it", bad)
		}
	}
}

// TestPeerCarriesClientAddress: a cluster hosted by another replica is reached through
// this replica's front door; the host sees the real client's address (PROXY v1), checks
// the cluster's ranges on it, and the TLS session runs end to end with the host's target.
func TestPeerCarriesClientAddress(t *testing.T) {
	host := newFixtureWith(t, []Option{TrustProxyFrom(func(net.Addr) bool { return true })}, "c.test")
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := &fixture{pool: host.pool, ln: New(raw, mapResolver{"c.test": Peer{Addr: host.ln.Addr().String()}}, nil)}
	t.Cleanup(func() { front.ln.Close() })

	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", front.ln.Addr().String(),
		&tls.Config{ServerName: "c.test", RootCAs: host.pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "hello\n"); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || got != "c.test: hello\n" {
		t.Fatalf("through the peer: %q, %v", got, err)
	}
	if asked, _ := host.targets["c.test"].asked.Load().(string); asked != conn.LocalAddr().String() {
		t.Errorf("the host checked ranges on %q, want the client's %s", asked, conn.LocalAddr())
	}

	// Outside the ranges at the host: the client's handshake is cut.
	host.targets["c.test"].allowed.Store(false)
	if got, err := front.ask("c.test", "hello"); err == nil {
		t.Errorf("a client outside the host's ranges got %q", got)
	}
	host.targets["c.test"].allowed.Store(true)

	// From a trusted address, a connection without a PROXY line works as usual.
	if got, err := host.ask("c.test", "direct"); err != nil || got != "c.test: direct\n" {
		t.Errorf("direct to the host: %q, %v", got, err)
	}
}

// TestProxyLineFromUntrustedIsNotBelieved: a client that is not a peer cannot claim
// another address: its PROXY line is just a non-TLS connection for the control plane.
func TestProxyLineFromUntrustedIsNotBelieved(t *testing.T) {
	f := newFixtureWith(t, []Option{TrustProxyFrom(func(net.Addr) bool { return false })}, "c.test")
	got, err := f.askPlain("PROXY TCP4 10.9.9.9 127.0.0.1 1 2\r\n")
	if !strings.HasPrefix(got, "plain api: PROXY") {
		t.Errorf("untrusted PROXY line went to %q (%v)", got, err)
	}
	if f.targets["c.test"].served.Load() != 0 {
		t.Error("the cluster target was reached")
	}
}
