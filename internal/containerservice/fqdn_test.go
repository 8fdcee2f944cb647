package containerservice

import (
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestUniqueFQDN: two clusters with one DNS prefix in one region get different fqdns (the
// front door routes by them), each stable for its resource id; a private cluster's private
// fqdn likewise.
func TestUniqueFQDN(t *testing.T) {
	mk := func(id string, private bool) *armapi.ManagedCluster {
		mc := &armapi.ManagedCluster{}
		p := &mc.Properties
		p.DNSPrefix = "same"
		p.Mlfleet.ClusterID = ClusterID(id)
		f := "same.hcp.westus.mlfleet.local"
		if private {
			f = "same.privatelink.westus.mlfleet.local"
			p.PrivateFQDN = &f
		} else {
			p.FQDN = &f
		}
		uniqueFQDN(mc)
		return mc
	}
	a := mk("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a", false)
	b := mk("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/b", false)
	a2 := mk("/subscriptions/s/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/A", false)
	if *a.Properties.FQDN == *b.Properties.FQDN {
		t.Fatalf("both clusters got %s", *a.Properties.FQDN)
	}
	if *a.Properties.FQDN != *a2.Properties.FQDN {
		t.Fatalf("one resource id (any case), two fqdns: %s, %s", *a.Properties.FQDN, *a2.Properties.FQDN)
	}
	if f := *a.Properties.FQDN; !strings.HasPrefix(f, "same-") || !strings.HasSuffix(f, ".hcp.westus.mlfleet.local") || len(f) != len("same-12345678.hcp.westus.mlfleet.local") {
		t.Fatalf("fqdn %s: want same-<8 hex>.hcp.westus.mlfleet.local", f)
	}
	p := mk("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/p", true)
	if f := *p.Properties.PrivateFQDN; !strings.HasPrefix(f, "same-") || !strings.HasSuffix(f, ".privatelink.westus.mlfleet.local") {
		t.Fatalf("private fqdn %s", f)
	}
}
