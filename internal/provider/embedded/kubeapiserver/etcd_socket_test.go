package kubeapiserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestEtcdServesClientsOnlyOnItsSocket (#11): the embedded etcd holds every cluster's
// objects, Secrets included, so no other user of the machine may reach it. Clients connect
// on a unix socket in the 0700 data directory, and so does raft (no TCP port at all); and a
// restart in the same directory keeps the data.
func TestEtcdServesClientsOnlyOnItsSocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "etcd")
	ctx := context.Background()
	e, err := StartEtcd(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range e.Endpoints() {
		if !strings.HasPrefix(ep, "unix://"+dir+"/") {
			t.Errorf("client endpoint %s, want a unix socket in %s", ep, dir)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory %v, %v: want drwx------", fi.Mode(), err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "/clusters/x/secret", "s3cret"); err != nil {
		t.Fatalf("put through the socket: %v", err)
	}
	cli.Close()

	// Nor does it listen on TCP for its peers: raft took unauthenticated messages there.
	for _, p := range e.etcd.Peers {
		if a := p.Listener.Addr(); a.Network() != "unix" || !strings.HasPrefix(a.String(), dir+"/") {
			t.Errorf("peer listener %s %s, want a unix socket in %s", a.Network(), a, dir)
		}
	}

	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e, err = StartEtcd(ctx, dir)
	if err != nil {
		t.Fatalf("restart in the same directory: %v", err)
	}
	defer e.Close(ctx)
	cli, err = clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, "/clusters/x/secret")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "s3cret" {
		t.Fatalf("after a restart: %v, %v", resp, err)
	}
}
