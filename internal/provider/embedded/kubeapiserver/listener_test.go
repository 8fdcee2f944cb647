package kubeapiserver

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestParseIPRanges(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr bool
	}{
		{name: "none", in: nil, want: []string{}},
		{name: "cidrs are masked", in: []string{"10.1.2.3/8", "2001:db8::1/32"}, want: []string{"10.0.0.0/8", "2001:db8::/32"}},
		{name: "single addresses", in: []string{"203.0.113.7", " 2001:db8::7 ", "::ffff:192.0.2.1"}, want: []string{"203.0.113.7/32", "2001:db8::7/128", "192.0.2.1/32"}},
		{name: "bad prefix length", in: []string{"10.0.0.0/33"}, wantErr: true},
		{name: "not an address", in: []string{"example.com"}, wantErr: true},
		{name: "empty string", in: []string{""}, wantErr: true},
		{name: "mapped range", in: []string{"::ffff:10.0.0.0/104"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIPRanges(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("parseIPRanges(%q) error = %v, want ErrInvalidConfig", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parseIPRanges(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i].String() != tt.want[i] {
					t.Errorf("range %d = %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestAuthorizedListener(t *testing.T) {
	public, internal := listenLoopback(t), listenLoopback(t)
	deny, _ := parseIPRanges([]string{"192.0.2.0/24"})
	l := newAuthorizedListener(public, internal, deny)
	defer l.Close()

	if got, want := l.Addr().String(), internal.Addr().String(); got != want {
		t.Errorf("Addr() = %s, want the internal %s", got, want)
	}

	// Echo the first byte of every accepted connection back.
	go acceptEach(l, func(c net.Conn) {
		defer c.Close()
		b := make([]byte, 1)
		if _, err := c.Read(b); err == nil {
			c.Write(b)
		}
		io.Copy(io.Discard, c)
	})

	// roundTrip reports whether a byte comes back through addr.
	roundTrip := func(addr string) (net.Conn, bool) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return nil, false
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte{'x'}); err != nil {
			c.Close()
			return nil, false
		}
		b := make([]byte, 1)
		_, err = c.Read(b)
		if err != nil {
			c.Close()
			return nil, false
		}
		c.SetDeadline(time.Time{})
		return c, true
	}

	if c, ok := roundTrip(public.Addr().String()); ok {
		c.Close()
		t.Error("public listener served 127.0.0.1 outside 192.0.2.0/24")
	}
	c, ok := roundTrip(internal.Addr().String())
	if !ok {
		t.Fatal("internal listener refused its loopback client")
	}
	c.Close()

	allow, _ := parseIPRanges([]string{"127.0.0.0/8"})
	l.setRanges(allow)
	held, ok := roundTrip(public.Addr().String())
	if !ok {
		t.Fatal("public listener refused 127.0.0.1 inside 127.0.0.0/8")
	}
	defer held.Close()

	// Narrowing the ranges cuts the held connection.
	l.setRanges(deny)
	held.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := held.Read(make([]byte, 1)); err == nil {
		t.Error("held connection still open after its source was removed from the ranges")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("held connection not closed after its source was removed from the ranges")
	}

	if l.allowsIP(netip.MustParseAddr("127.0.0.1")) || !l.allowsIP(netip.MustParseAddr("::ffff:192.0.2.5")) {
		t.Error("allowsIP disagrees with the ranges")
	}
	l.setRanges(nil)
	if !l.allowsIP(netip.MustParseAddr("198.51.100.1")) {
		t.Error("empty ranges must allow every source")
	}

	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

// TestAuthorizedListenerHandoff: a connection handed over by the front door is filtered by
// its own remote address, served like an accepted one, and cut when the ranges change.
func TestAuthorizedListenerHandoff(t *testing.T) {
	public, internal := listenLoopback(t), listenLoopback(t)
	l := newAuthorizedListener(public, internal, nil)
	defer l.Close()
	go acceptEach(l, func(c net.Conn) {
		defer c.Close()
		b := make([]byte, 1)
		for {
			if _, err := c.Read(b); err != nil {
				return
			}
			c.Write(b)
		}
	})
	// A front door stand-in: accept on another port and hand the connection over.
	door := listenLoopback(t)
	defer door.Close()
	go acceptEach(door, l.handoff)
	echo := func(c net.Conn) error {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte{'x'}); err != nil {
			return err
		}
		b := make([]byte, 1)
		_, err := io.ReadFull(c, b)
		return err
	}
	kept, err := net.Dial("tcp", door.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	if err := echo(kept); err != nil {
		t.Fatalf("handed-over connection: %v", err)
	}
	deny, _ := parseIPRanges([]string{"192.0.2.0/24"})
	l.setRanges(deny)
	if err := echo(kept); err == nil {
		t.Fatal("a handed-over connection outlived a range change that excludes it")
	}
	refused, err := net.Dial("tcp", door.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	if err := echo(refused); err == nil {
		t.Fatal("a connection from outside the ranges was served")
	}
}

// listenLoopback listens on a free port of 127.0.0.1.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// acceptEach serves every connection l accepts with serve, each in a goroutine of its own,
// until l is closed.
func acceptEach(l net.Listener, serve func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}
