package compute

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"net/url"
	"sync"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
)

// access is the one way this package reaches clusters: a client per cluster, cached while
// its kubeconfig stays the same.
type access struct {
	clusters *containerservice.Service

	mu    sync.Mutex
	cache map[string]cachedClient // by provider cluster id
}

type cachedClient struct {
	kubeconfig []byte
	client     *kube.Cluster
}

func newAccess(clusters *containerservice.Service) *access {
	return &access{clusters: clusters, cache: map[string]cachedClient{}}
}

// connect returns a client for the cluster with its admin credentials. It does not contact
// the cluster's API server.
func (a *access) connect(ctx context.Context, mc *containerservice.ManagedCluster) (*kube.Cluster, error) {
	creds, err := a.clusters.ClusterCredentials(ctx, mc)
	if err != nil {
		return nil, err
	}
	id := mc.Properties.Mlfleet.ClusterID
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.cache[id]; ok && bytes.Equal(c.kubeconfig, creds.Admin) {
		return c.client, nil
	}
	kc, err := kube.Connect(creds.Admin, mc.Properties.Mlfleet.Context)
	if err != nil {
		return nil, err
	}
	a.cache[id] = cachedClient{kubeconfig: creds.Admin, client: kc}
	return kc, nil
}

// sourceAddress is the address this server's connections to the API server come from: the
// address an authorized IP range must let in (S15). It sends nothing.
func sourceAddress(kc *kube.Cluster) (netip.Addr, bool) {
	u, err := url.Parse(kc.Config.Host)
	if err != nil {
		return netip.Addr{}, false
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	conn, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return netip.Addr{}, false
	}
	defer conn.Close()
	ap, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
