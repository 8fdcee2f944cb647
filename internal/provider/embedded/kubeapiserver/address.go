package kubeapiserver

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

// firstServiceIP returns the kubernetes Service IP of cidr, its first address after the
// network address, the way kube-apiserver picks it.
func firstServiceIP(cidr string) (net.IP, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("%w: ServiceCIDR %q: %w", ErrInvalidConfig, cidr, err)
	}
	return net.IP(prefix.Masked().Addr().Next().AsSlice()), nil
}

// portFile records the public port of the previous start in DataDir.
const portFile = "secure-port"

// listenPublic listens on addr; with port 0 it first tries the port recorded in dataDir, so
// that kubeconfigs handed out before a restart keep pointing at the right place.
func listenPublic(dataDir, addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: ListenAddress %q: %w", ErrInvalidConfig, addr, err)
	}
	recordFile := filepath.Join(dataDir, portFile)
	if port == "0" {
		if recorded, err := os.ReadFile(recordFile); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(recorded))); err == nil && p > 0 && p < 65536 {
				if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p))); err == nil {
					return l, nil
				}
				// Taken meanwhile: fall back to a new port below.
			}
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	actual := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if err := atomicfile.WriteFile(recordFile, []byte(actual+"\n"), 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("record port: %w", err)
	}
	return l, nil
}
