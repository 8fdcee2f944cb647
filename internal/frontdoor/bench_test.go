package frontdoor

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkConnect measures a TLS connection and one echoed line to a cluster target
// through the front door; BenchmarkConnectDirect the same to a plain TLS listener, for the
// front door's cost per connection (compare ns/op).
func BenchmarkConnect(b *testing.B) {
	f := newFixture(b, "a.example")
	b.ResetTimer()
	for b.Loop() {
		if got, err := f.ask("a.example", "hi"); err != nil || got != "a.example: hi\n" {
			b.Fatalf("%q, %v", got, err)
		}
	}
}

func BenchmarkConnectDirect(b *testing.B) {
	f := newFixture(b, "a.example")
	target := f.targets["a.example"]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			target.Serve(c)
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(),
			&tls.Config{ServerName: "a.example", RootCAs: f.pool})
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.WriteString(conn, "hi\n")
		buf := make([]byte, 64)
		if _, err := conn.Read(buf); err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
}
