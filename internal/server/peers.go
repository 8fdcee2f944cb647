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
}

// Resolve implements frontdoor.Resolver.
func (p *peers) Resolve(name string) (frontdoor.Target, bool) {
	p.mu.Lock()
	addr, ok := p.byName[strings.ToLower(name)]
	p.mu.Unlock()
	if !ok {
		return nil, false
	}
	return frontdoor.Peer{Addr: addr}, true
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
	p.byName, p.trusted = byName, trusted
	p.mu.Unlock()
	return nil
}

// run refreshes every interval until ctx ends.
func (p *peers) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := p.refresh(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("front door: refresh peers", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
