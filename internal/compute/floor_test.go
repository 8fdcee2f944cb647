package compute

import (
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestAutoscalingFloor: the purpose rule applies to the nodes an autoscaler may shrink a
// cluster to (minCount), not only to the nodes it has now (B6).
func TestAutoscalingFloor(t *testing.T) {
	sizes := catalog.DefaultVMSizes()
	pool := func(count, lo, hi int, auto bool) *armapi.ManagedCluster {
		p := armapi.AgentPoolProfile{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Count: count, VMSize: "Standard_D3_v2", EnableAutoScaling: auto}}
		if auto {
			p.MinCount, p.MaxCount = &lo, &hi
		}
		mc := &armapi.ManagedCluster{Name: "aks1"}
		mc.Properties.AgentPoolProfiles = []armapi.AgentPoolProfile{p}
		return mc
	}
	for _, tc := range []struct {
		name    string
		mc      *armapi.ManagedCluster
		purpose string
		want    []string
	}{
		{name: "no autoscaling", mc: pool(3, 0, 0, false), purpose: "FastProd"},
		{name: "floor of 3 × 4 cores", mc: pool(5, 3, 10, true), purpose: "FastProd"},
		{name: "FastProd floor of 2", mc: pool(5, 2, 10, true), purpose: "FastProd", want: []string{"at least 12 vCPUs", "at least 3 nodes", "raise minCount"}},
		{name: "DenseProd floor of 2 × 4 cores", mc: pool(5, 2, 10, true), purpose: "DenseProd", want: []string{"at least 12 vCPUs"}},
		{name: "DevTest floor of 1", mc: pool(5, 1, 10, true), purpose: "DevTest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(floorFailures(tc.mc, tc.purpose, sizes), " ")
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("failures %q, want none", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("failures %q lack %q", got, w)
				}
			}
		})
	}
}
