package frontdoor

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/pki"
)

// echoTarget terminates TLS with its own certificate and answers each line with
// "<name>: <line>".
type echoTarget struct {
	name    string
	cert    tls.Certificate
	allowed atomic.Bool
	served  atomic.Int32
	asked   atomic.Value // the net.Addr Allows was last asked about
}

func (e *echoTarget) Allows(a net.Addr) bool { e.asked.Store(a.String()); return e.allowed.Load() }

func (e *echoTarget) Serve(conn net.Conn) {
	e.served.Add(1)
	go func() {
		defer conn.Close()
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{e.cert}})
		line, err := bufio.NewReader(tc).ReadString('\n')
		if err != nil {
			return
		}
		fmt.Fprintf(tc, "%s: %s", e.name, line)
	}()
}

type mapResolver map[string]Target

func (m mapResolver) Resolve(name string) (Target, bool) {
	t, ok := m[name]
	return t, ok
}

type fixture struct {
	ln      *Listener
	pool    *x509.CertPool
	targets map[string]*echoTarget
	// down holds the names of targets that do not resolve for now (a cluster starting).
	down sync.Map
}

// resolver resolves the fixture's targets but those down.
type resolver struct {
	f *fixture
	m mapResolver
}

func (r resolver) Resolve(name string) (Target, bool) {
	if _, down := r.f.down.Load(name); down {
		return nil, false
	}
	return r.m.Resolve(name)
}

func newFixture(t testing.TB, names ...string) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, names...)
}

func newFixtureWith(t testing.TB, opts []Option, names ...string) *fixture {
	t.Helper()
	certPEM, keyPEM, err := pki.NewCAPEM("test CA")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.ParseCA(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	f := &fixture{pool: pool, targets: map[string]*echoTarget{}}
	r := mapResolver{}
	for _, n := range names {
		c, k, err := ca.Issue(n, nil, []string{n}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		e := &echoTarget{name: n, cert: pair}
		e.allowed.Store(true)
		f.targets[n] = e
		r[n] = e
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = New(raw, resolver{f, r}, nil, opts...)
	t.Cleanup(func() { f.ln.Close() })

	// The control plane's own server: TLS with a certificate for 127.0.0.1, answering
	// "api: <line>" (or the raw first line when the client does not speak TLS).
	c, k, err := ca.Issue("api", nil, []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := tls.X509KeyPair(c, k)
	go func() {
		for {
			conn, err := f.ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				if b, err := br.Peek(1); err == nil && b[0] != 0x16 {
					line, _ := br.ReadString('\n')
					fmt.Fprintf(conn, "plain api: %s", line)
					return
				}
				tc := tls.Server(&bufConn{Conn: conn, r: br}, &tls.Config{Certificates: []tls.Certificate{pair}})
				line, err := bufio.NewReader(tc).ReadString('\n')
				if err != nil {
					return
				}
				fmt.Fprintf(tc, "api: %s", line)
			}()
		}
	}()
	return f
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ask sends line over TLS with serverName as SNI and returns the answer.
func (f *fixture) ask(serverName, line string) (string, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", f.ln.Addr().String(),
		&tls.Config{ServerName: serverName, RootCAs: f.pool})
	if err != nil {
		return "", err
	}
	return exchange(conn, line+"\n")
}

// askPlain sends text as it is over a connection without TLS and returns the answer's
// first line.
func (f *fixture) askPlain(text string) (string, error) {
	conn, err := net.DialTimeout("tcp", f.ln.Addr().String(), 5*time.Second)
	if err != nil {
		return "", err
	}
	return exchange(conn, text)
}

// exchange writes text on conn, reads a line of answer and closes conn.
func exchange(conn net.Conn, text string) (string, error) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, text); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}

func TestRoutesByServerName(t *testing.T) {
	f := newFixture(t, "a.hcp.westus.mlfleet.local", "b.hcp.westus.mlfleet.local")
	for _, tc := range []struct{ sni, want string }{
		{"a.hcp.westus.mlfleet.local", "a.hcp.westus.mlfleet.local: hi\n"},
		{"B.hcp.westus.mlfleet.local", "b.hcp.westus.mlfleet.local: hi\n"},
		{"localhost", "api: hi\n"},
		{"127.0.0.1", "api: hi\n"}, // an IP is never sent as SNI: the no-SNI path
	} {
		got, err := f.ask(tc.sni, "hi")
		if err != nil || got != tc.want {
			t.Errorf("SNI %s: %q, %v; want %q", tc.sni, got, err, tc.want)
		}
	}
	// Not TLS at all: the control plane's server gets the bytes as sent.
	got, err := f.askPlain("GET / HTTP/1.0\n")
	if err != nil || got != "plain api: GET / HTTP/1.0\n" {
		t.Fatalf("plain client: %q, %v", got, err)
	}
}

func TestRefusesClientsOutsideRanges(t *testing.T) {
	f := newFixture(t, "a.hcp.westus.mlfleet.local")
	a := f.targets["a.hcp.westus.mlfleet.local"]
	a.allowed.Store(false)
	if got, err := f.ask("a.hcp.westus.mlfleet.local", "hi"); err == nil {
		t.Fatalf("a client outside the ranges got %q", got)
	}
	if n := a.served.Load(); n != 0 {
		t.Fatalf("the target was handed %d connections from a refused client", n)
	}
	// The control plane itself stays reachable.
	if got, err := f.ask("localhost", "hi"); err != nil || got != "api: hi\n" {
		t.Fatalf("control plane: %q, %v", got, err)
	}
	a.allowed.Store(true)
	if got, err := f.ask("a.hcp.westus.mlfleet.local", "hi"); err != nil || !strings.HasPrefix(got, "a.hcp") {
		t.Fatalf("after allowing: %q, %v", got, err)
	}
}

// TestConcurrent routes many connections at once, for the race detector.
func TestConcurrent(t *testing.T) {
	f := newFixture(t, "a.example", "b.example")
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sni := []string{"a.example", "b.example", "localhost"}[i%3]
			got, err := f.ask(sni, fmt.Sprint(i))
			want := fmt.Sprintf("%s: %d\n", sni, i)
			if sni == "localhost" {
				want = fmt.Sprintf("api: %d\n", i)
			}
			if err != nil || got != want {
				errs <- fmt.Errorf("%s: %q, %v; want %q", sni, got, err, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSlowClientDoesNotBlockOthers: a client that connects and sends nothing does not hold
// up the next ones.
func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	f := newFixture(t, "a.example")
	idle, err := net.Dial("tcp", f.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if got, err := f.ask("a.example", "hi"); err != nil || got != "a.example: hi\n" {
		t.Fatalf("behind an idle client: %q, %v", got, err)
	}
}

func TestClose(t *testing.T) {
	f := newFixture(t)
	if err := f.ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ln.Accept(); err == nil {
		t.Fatal("Accept after Close succeeded")
	}
}

func TestChain(t *testing.T) {
	a, b := &echoTarget{name: "a"}, &echoTarget{name: "b"}
	c := Chain{mapResolver{"x": a}, mapResolver{"x": b, "y": b}}
	if got, ok := c.Resolve("x"); !ok || got != a {
		t.Errorf("x resolved to %v, want the first resolver's", got)
	}
	if got, ok := c.Resolve("y"); !ok || got != b {
		t.Errorf("y resolved to %v", got)
	}
	if _, ok := c.Resolve("z"); ok {
		t.Error("z resolved")
	}
}

// TestHoldsStartingCluster: a connection for a cluster that exists but is not serving yet
// waits for it, and reaches it once it resolves; one for a name that is no cluster's goes
// to the control plane at once; one for a cluster that never comes up is closed after the
// hold, never handed to the control plane (whose certificate the client refuses).
func TestHoldsStartingCluster(t *testing.T) {
	const starting, never = "a.hcp.westus.mlfleet.local", "b.hcp.westus.mlfleet.local"
	clusters := map[string]bool{starting: true, never: true}
	asked := make(chan string, 100)
	isCluster := func(name string) bool {
		select {
		case asked <- name:
		default:
		}
		return clusters[name]
	}
	f := newFixtureWith(t, []Option{HoldStarting(isCluster, 2*time.Second)}, starting, never)
	f.down.Store(starting, true)
	f.down.Store(never, true)

	answer := make(chan string, 1)
	go func() {
		got, err := f.ask(starting, "hi")
		if err != nil {
			got = err.Error()
		}
		answer <- got
	}()
	// The connection is held: its name is asked about again while it waits.
	for range 3 {
		select {
		case got := <-asked:
			if got != starting {
				t.Fatalf("isCluster asked about %q", got)
			}
		case got := <-answer:
			t.Fatalf("answered while the cluster was down: %q", got)
		}
	}
	f.down.Delete(starting)
	if got := <-answer; got != starting+": hi\n" {
		t.Fatalf("once up: %q, want the cluster's answer", got)
	}

	if got, err := f.ask("localhost", "hi"); err != nil || got != "api: hi\n" {
		t.Fatalf("control plane: %q, %v", got, err)
	}
	if got, err := f.ask(never, "hi"); err == nil {
		t.Fatalf("a cluster that never came up answered %q", got)
	}
	if n := f.ln.held.Load(); n != 0 {
		t.Fatalf("%d connections still counted as held", n)
	}
}
