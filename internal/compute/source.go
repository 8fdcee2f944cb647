package compute

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// sourceAddress is the address this server's connections to the API server come from: the
// address an authorized IP range must let in (S15). It sends nothing.
func sourceAddress(kc *kube.Cluster) (netip.Addr, bool) {
	return sourceAddressTo(kc.Config.Host)
}

// sourceAddressTo is sourceAddress for the API server at server (a URL, as a kubeconfig
// or the cluster's record holds it); false when it cannot be told. It sends nothing.
func sourceAddressTo(server string) (netip.Addr, bool) {
	u, err := url.Parse(server)
	if err != nil || u.Hostname() == "" {
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

// excludedSource returns the address this server connects to mc's API server from, when
// ranges (authorized IP ranges) leave it out; false when ranges are empty, let it in, or
// the address cannot be told.
func excludedSource(mc *armapi.ManagedCluster, ranges []string) (netip.Addr, bool) {
	if len(ranges) == 0 {
		return netip.Addr{}, false
	}
	src, ok := sourceAddressTo(mc.Properties.Mlfleet.APIServerURL)
	if !ok || allowed(src, ranges) {
		return netip.Addr{}, false
	}
	return src, true
}

// rangesFix is the command that lets this server's address src into the ranges of
// cluster mc, in resource group rg.
func rangesFix(mc *armapi.ManagedCluster, rg string, ranges []string, src netip.Addr) string {
	return fmt.Sprintf("mlfleet aks update -n %s -g %s --api-server-authorized-ip-ranges %s",
		mc.Name, rg, strings.Join(append(append([]string{}, ranges...), fmt.Sprintf("%s/%d", src, src.BitLen())), ","))
}
