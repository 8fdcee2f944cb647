package containerservice

import (
	"strings"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// uniqueFQDN makes a new cluster's fqdn (or private fqdn) name it alone, as AKS does: the
// DNS prefix gets a suffix from the cluster's id, so that two clusters with one prefix in
// one region differ. The front door routes a cluster's connections by this name.
func uniqueFQDN(mc *armapi.ManagedCluster) {
	p := &mc.Properties
	suffix := "-" + strings.TrimPrefix(p.Mlfleet.ClusterID, "c")[:8]
	for _, f := range []*string{p.FQDN, p.PrivateFQDN} {
		if f != nil && p.DNSPrefix != "" && strings.HasPrefix(*f, p.DNSPrefix+".") {
			*f = p.DNSPrefix + suffix + strings.TrimPrefix(*f, p.DNSPrefix)
		}
	}
}
