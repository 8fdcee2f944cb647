package embedded

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	"go.uber.org/zap"
)

// stateStore serves the etcd API that clusters' apiservers keep their objects in.
type stateStore interface {
	Endpoints() []string
	Close(ctx context.Context) error
}

// externalEtcd is an etcd cluster that mlfleet does not run.
type externalEtcd []string

func (e externalEtcd) Endpoints() []string { return append([]string(nil), e...) }

func (externalEtcd) Close(context.Context) error { return nil }

// UseKine makes clusters keep their objects in the PostgreSQL database of dsn (a postgres://
// URL, usually the store's), through kine run in this process, instead of the embedded etcd:
// their apiservers then hold no state, and any replica on the database can serve them. Call
// it before the first Ensure.
func (p *Provider) UseKine(dsn string) { p.kineDSN = dsn }

// UseEtcd makes clusters keep their objects in the etcd cluster at endpoints (client URLs)
// instead of the embedded etcd. Call it before the first Ensure.
func (p *Provider) UseEtcd(endpoints []string) { p.etcdEndpoints = endpoints }

// StateBackend names where clusters keep their objects: "kine", "etcd" (external) or
// "embedded-etcd".
func (p *Provider) StateBackend() string {
	switch {
	case p.kineDSN != "":
		return "kine"
	case len(p.etcdEndpoints) > 0:
		return "etcd"
	}
	return "embedded-etcd"
}

// startState starts the state store on first use. A failed start is tried again on the
// next use (the database may have been down), not remembered.
func (p *Provider) startState(ctx context.Context) (stateStore, error) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.state != nil {
		return p.state, nil
	}
	switch {
	case p.kineDSN != "":
		k, err := kubeapiserver.StartKine(ctx, p.kineDSN, filepath.Join(p.dir, "kine"))
		if err != nil {
			return nil, err
		}
		p.state = k
	case len(p.etcdEndpoints) > 0:
		p.state = externalEtcd(p.etcdEndpoints)
	default:
		e, err := kubeapiserver.StartEtcd(ctx, filepath.Join(p.dir, "etcd"))
		if err != nil {
			return nil, err
		}
		p.state = e
	}
	return p.state, nil
}

// scoringSandbox is the sandbox of the clusters' inference pods: the one WithSandbox set,
// hiding the provider's directory too and the socket directory of the etcd or kine it runs
// (a temporary one when the data directory's path is too long for a socket).
func (p *Provider) scoringSandbox(state stateStore) sandbox.Policy {
	hide := []string{p.dir}
	if _, external := state.(externalEtcd); !external {
		for _, e := range state.Endpoints() {
			if sock, ok := strings.CutPrefix(e, "unix://"); ok {
				hide = append(hide, filepath.Dir(sock))
			}
		}
	}
	return p.sandbox.With(hide...)
}

// deletePrefix deletes every key under prefix, one key at a time with the transaction an
// apiserver uses (delete if unchanged since read): kine supports no other kind of delete.
func deletePrefix(ctx context.Context, endpoints []string, prefix string) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	for {
		resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithLimit(500))
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		for _, kv := range resp.Kvs {
			key := string(kv.Key)
			if _, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
				Then(clientv3.OpDelete(key)).Else(clientv3.OpGet(key)).Commit(); err != nil {
				return err
			}
		}
	}
}
