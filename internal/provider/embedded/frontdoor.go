package embedded

import (
	"net"
	"strings"

	"github.com/mlfleet/mlfleet/internal/frontdoor"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
)

// ServeThrough makes the clusters started from now on hand out kubeconfigs that reach them
// through the front door at hostPort (the control plane's address), by their FQDN as TLS
// server name; the front door finds them with Resolve. Call it before the first Ensure.
func (p *Provider) ServeThrough(hostPort string) { p.frontDoor = hostPort }

// Resolve implements frontdoor.Resolver: the running cluster whose FQDN is name.
func (p *Provider) Resolve(name string) (frontdoor.Target, bool) {
	p.mu.Lock()
	srv := p.byName[strings.ToLower(name)]
	p.mu.Unlock()
	if srv == nil {
		return nil, false
	}
	return target{srv}, true
}

// target is a local cluster's API server as a front door target.
type target struct{ *kubeapiserver.Server }

func (t target) Serve(conn net.Conn) { t.Handoff(conn) }

// register makes a started cluster reachable through the front door by its FQDN.
func (p *Provider) register(spec provider.ClusterSpec, srv *kubeapiserver.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up[spec.ID] = srv
	name := strings.ToLower(spec.FQDN)
	if name == "" {
		return
	}
	if other, taken := p.byName[name]; taken && other != srv {
		// Clusters created before FQDNs were made unique may share one: the first keeps it.
		p.log.Warn("another running cluster has this fqdn; this one is not reachable through the front door", "cluster", spec.Name, "fqdn", name)
		return
	}
	p.byName[name] = srv
}

// unregister removes a stopping cluster from the front door.
func (p *Provider) unregister(srv *kubeapiserver.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, s := range p.up {
		if s == srv {
			delete(p.up, id)
		}
	}
	for name, s := range p.byName {
		if s == srv {
			delete(p.byName, name)
		}
	}
}
