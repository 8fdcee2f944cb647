package kubeapiserver

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"golang.org/x/net/http2"
)

// TestKineAllowsEtcdClientPings: kine's gRPC server accepts a ping every
// embed.DefaultGRPCKeepAliveMinTime, with no stream open, so the apiservers' etcd client,
// which pings every etcdKeepaliveTime, is never sent away. With grpc-go's default policy
// (one ping per 5 minutes) the fourth ping got GOAWAY ENHANCE_YOUR_CALM "too_many_pings",
// which the client logged at ERROR. The pings are raw HTTP/2 frames at the policy's pace: a
// gRPC client cannot ping more often than every 10 s.
func TestKineAllowsEtcdClientPings(t *testing.T) {
	t.Parallel()
	if etcdKeepaliveTime < embed.DefaultGRPCKeepAliveMinTime {
		t.Fatalf("the etcd client pings every %v, more often than kine allows (%v)", etcdKeepaliveTime, embed.DefaultGRPCKeepAliveMinTime)
	}
	sock := filepath.Join(t.TempDir(), "kine.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	gs := newKineGRPCServer()
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	var wmu sync.Mutex // writes come from the test and from the reader's settings ack
	write := func(f func() error) {
		wmu.Lock()
		defer wmu.Unlock()
		if err := f(); err != nil {
			t.Error(err)
		}
	}
	write(func() error { return fr.WriteSettings() })
	// The reader acknowledges the server's settings and hands over ping acks and a GOAWAY;
	// acks is closed when the connection is.
	acks := make(chan [8]byte, 8)
	goaway := make(chan string, 1)
	go func() {
		defer close(acks)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					wmu.Lock()
					_ = fr.WriteSettingsAck()
					wmu.Unlock()
				}
			case *http2.PingFrame:
				if f.IsAck() {
					acks <- f.Data
				}
			case *http2.GoAwayFrame:
				goaway <- fmt.Sprintf("%v %q", f.ErrCode, f.DebugData())
			}
		}
	}()
	ping := func(n int) {
		t.Helper()
		data := [8]byte{byte(n)}
		write(func() error { return fr.WritePing(false, data) })
		select {
		case got, ok := <-acks:
			if !ok {
				select {
				case g := <-goaway:
					t.Fatalf("ping %d: the server sent GOAWAY %s", n, g)
				default:
					t.Fatalf("ping %d: the server closed the connection", n)
				}
			}
			if got != data {
				t.Fatalf("ping %d: ack of %v", n, got)
			}
		case g := <-goaway:
			t.Fatalf("ping %d: the server sent GOAWAY %s", n, g)
		}
	}
	// Four pings at the allowed pace (grpc-go sends GOAWAY on the third strike, after the
	// fourth ping's ack), then one more at once: its ack comes only if no GOAWAY came first.
	tick := time.NewTicker(embed.DefaultGRPCKeepAliveMinTime + 250*time.Millisecond)
	defer tick.Stop()
	for n := 1; n <= 4; n++ {
		if n > 1 {
			<-tick.C
		}
		ping(n)
	}
	ping(5)
}
