package server

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/frontdoor"
	"github.com/mlfleet/mlfleet/internal/store"
	"k8s.io/apimachinery/pkg/util/wait"
)

// peers is the front door's resolver of the clusters other replicas host: a cluster's fqdn
// → the address of the replica holding its lease, from the store's lease and replica rows,
// refreshed every interval. It also tells which addresses are peers (trusted to send a
// PROXY line with the real client's address).
type peers struct {
	self     string
	st       store.Store
	clusters *containerservice.Service
	alive    time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	byName  map[string]string // fqdn → peer host:port
	trusted map[netip.Addr]bool

	refreshed time.Time // when byName was last read from the store (under mu)
	// refreshMu makes connections for unknown cluster names wait for one refresh.
	refreshMu sync.Mutex
}

// Resolve implements frontdoor.Resolver. A cluster name it does not know yet (a cluster
// that just started or moved, within the refresh interval) makes it read the store again
// at once, at most every missRefresh: the connection would otherwise reach the API
// server, whose certificate the cluster's clients refuse.
func (p *peers) Resolve(name string) (frontdoor.Target, bool) {
	name = strings.ToLower(name)
	if addr, ok := p.lookup(name); ok {
		return frontdoor.Peer{Addr: addr}, true
	}
	if !strings.HasSuffix(name, clusterDomain) {
		return nil, false
	}
	p.refreshMu.Lock()
	p.mu.Lock()
	stale := time.Since(p.refreshed) > missRefresh
	p.mu.Unlock()
	if stale {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := p.refresh(ctx); err != nil {
			p.log.Debug("front door: refresh peers for an unknown cluster name", "name", name, "err", err)
		}
		cancel()
	}
	p.refreshMu.Unlock()
	if addr, ok := p.lookup(name); ok {
		return frontdoor.Peer{Addr: addr}, true
	}
	return nil, false
}

// clusterDomain ends every cluster's fqdn (containerservice).
const clusterDomain = ".mlfleet.local"

// missRefresh is how often an unknown cluster name may make peers read the store.
const missRefresh = 200 * time.Millisecond

func (p *peers) lookup(name string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	addr, ok := p.byName[name]
	return addr, ok
}

// trusts says whether a connection from a comes from a live replica.
func (p *peers) trusts(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.trusted[ap.Addr().Unmap()]
}

func (p *peers) refresh(ctx context.Context) error {
	fqdns, err := p.clusters.FQDNs(ctx)
	if err != nil {
		return err
	}
	leases, err := p.st.ListClusterLeases(ctx)
	if err != nil {
		return err
	}
	reps, err := p.st.ListReplicas(ctx)
	if err != nil {
		return err
	}
	addrs := map[string]string{}
	trusted := map[netip.Addr]bool{}
	for _, r := range reps {
		if r.Silence > p.alive {
			continue
		}
		addrs[r.ID] = r.Address
		if host, _, err := net.SplitHostPort(r.Address); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil {
				trusted[ip.Unmap()] = true
			}
		}
	}
	host := map[string]string{} // cluster id → peer address
	for _, l := range leases {
		if l.Remaining > 0 && l.Holder != p.self && addrs[l.Holder] != "" {
			host[l.ClusterID] = addrs[l.Holder]
		}
	}
	byName := map[string]string{}
	for name, id := range fqdns {
		if a, ok := host[id]; ok {
			byName[name] = a
		}
	}
	p.mu.Lock()
	p.byName, p.trusted, p.refreshed = byName, trusted, time.Now()
	p.mu.Unlock()
	return nil
}

// run refreshes at once, then every interval, until ctx ends.
func (p *peers) run(ctx context.Context, every time.Duration) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := p.refresh(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("front door: refresh peers", "err", err)
		}
	}, every)
}

// clusterNames tells the front door which server names are stored clusters' fqdns, so that
// it holds a connection for one that is not serving yet (frontdoor.HoldStarting): right
// after a restart the API answers while clusters are still starting. The names are read
// from the store at most every namesFresh, by one caller at a time.
type clusterNames struct {
	clusters *containerservice.Service
	log      *slog.Logger

	mu    sync.Mutex
	names map[string]string
	read  time.Time
}

// namesFresh is how long clusterNames trusts the names it read.
const namesFresh = time.Second

// holdStarting is how long the front door holds a connection for a starting cluster:
// longer than a cluster takes to start, shorter than a client's patience for a handshake.
const holdStarting = 30 * time.Second

func (c *clusterNames) isCluster(name string) bool {
	if !strings.HasSuffix(name, clusterDomain) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.read) > namesFresh {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		names, err := c.clusters.FQDNs(ctx)
		cancel()
		if err != nil {
			c.log.Debug("front door: read cluster names", "err", err)
		} else {
			c.names = names
		}
		c.read = time.Now() // after a failure too: a store that is down is not asked on every tick
	}
	_, ok := c.names[name]
	return ok
}
