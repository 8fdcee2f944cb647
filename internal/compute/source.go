package compute

import (
	"net"
	"net/netip"
	"net/url"

	"github.com/mlfleet/mlfleet/internal/kube"
)

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
