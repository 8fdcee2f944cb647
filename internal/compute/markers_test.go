package compute

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestHoldsMarker: a marker is its compute's while the compute holds the same attachment on
// the same cluster, the same cluster being the same kube-system UID whichever id the
// compute reached it by (a cluster created and also imported by its kubeconfig); a
// compute now on another cluster, or a record without UIDs on another id, does not hold it.
func TestHoldsMarker(t *testing.T) {
	t.Parallel()
	const (
		created  = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/mkc"
		imported = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/mkreg"
	)
	compute := func(cluster, uid, attachment string) *armapi.Compute {
		c := &armapi.Compute{}
		c.Properties.ResourceID = &cluster
		c.Properties.Mlfleet = &armapi.ComputeMlfleet{AttachmentID: attachment, ClusterUID: uid}
		return c
	}
	marker := &kube.Marker{AttachmentID: "a1", ClusterUID: "uid-1"}
	for _, tc := range []struct {
		name    string
		c       *armapi.Compute
		swept   string // the registration the sweeper looks at
		m       *kube.Marker
		holding bool
	}{
		{"same registration", compute(created, "uid-1", "a1"), created, marker, true},
		{"the other registration of the same cluster", compute(imported, "uid-1", "a1"), created, marker, true},
		{"compute now on another cluster", compute(imported, "uid-2", "a1"), created, marker, false},
		{"another attachment", compute(created, "uid-1", "a2"), created, marker, false},
		{"no UID kept, same id", compute(created, "", "a1"), created, marker, true},
		{"no UID kept, other id", compute(imported, "", "a1"), created, marker, false},
		{"marker without UID, other id", compute(imported, "uid-1", "a1"), created, &kube.Marker{AttachmentID: "a1"}, false},
		{"compute without mlfleet fields", &armapi.Compute{}, created, marker, false},
	} {
		mc := &armapi.ManagedCluster{ID: tc.swept}
		if got := holdsMarker(tc.c, mc, tc.m); got != tc.holding {
			t.Errorf("%s: holds %v, want %v", tc.name, got, tc.holding)
		}
	}
}
