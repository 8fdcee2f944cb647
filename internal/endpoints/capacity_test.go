package endpoints

import (
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestCapacityRefusal: nodes an autoscaled pool may add are sized by what such a node has
// allocatable (a DS2_v2 node has 1.9 CPU, room for 3 instances of 0.5 CPU, not 4), and
// the advice fits the pool: raise the autoscaler's maximum of a pool that has it, also
// when the pool is at its maximum; enable it on a pool that has not.
func TestCapacityRefusal(t *testing.T) {
	pool := func(count int, autoscale bool, maxCount int) *armapi.ManagedCluster {
		p := armapi.AgentPoolProfile{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{
			Count: count, VMSize: "Standard_DS2_v2", OrchestratorVersion: "1.33.2", EnableAutoScaling: autoscale}}
		if autoscale {
			p.MinCount, p.MaxCount = &[]int{1}[0], &maxCount
		}
		mc := &armapi.ManagedCluster{}
		mc.Properties.AgentPoolProfiles = []armapi.AgentPoolProfile{p}
		return mc
	}
	tainted := func(mc *armapi.ManagedCluster) *armapi.ManagedCluster {
		mc.Properties.AgentPoolProfiles[0].NodeTaints = []string{"sku=gpu:NoSchedule"}
		return mc
	}
	node := func(name string, milliCPU, memMiB int64) kube.NodeRoom {
		return kube.NodeRoom{Name: name, MilliCPU: milliCPU, MemoryMiB: memMiB}
	}
	one := []kube.NodeRoom{node("aks-nodepool1-vmss000000", 1800, 5148)}
	four := append(one, node("aks-nodepool1-vmss000001", 1900, 4818), node("aks-nodepool1-vmss000002", 1900, 4818), node("aks-nodepool1-vmss000003", 1900, 4818))
	tests := []struct {
		name    string
		rooms   []kube.NodeRoom
		mc      *armapi.ManagedCluster
		count   int
		want    []string // parts of the refusal; none means accepted
		notWant []string
	}{
		{"fits once the pool has grown", one, pool(1, true, 4), 12, nil, nil},
		{"new nodes sized by their allocatable", one, pool(1, true, 4), 15,
			[]string{"only 12 fit", "short by 3 instances", "raise the autoscaler's maximum", "nodepool1 may grow to 4 nodes"}, nil},
		{"pool at its maximum", four, pool(4, true, 4), 13,
			[]string{"only 12 fit", "raise the autoscaler's maximum", "nodepool1 is at its maximum of 4 nodes"}, []string{"enable its autoscaler"}},
		{"tainted pool adds no room", one, tainted(pool(1, true, 4)), 4,
			[]string{"only 3 fit", "enable its autoscaler", "the autoscaled pool nodepool1 (taint sku=gpu:NoSchedule) adds no room"}, []string{"raise the autoscaler's maximum"}},
		{"pool without autoscaler", one, pool(1, false, 0), 4,
			[]string{"only 3 fit", "enable its autoscaler"}, []string{"maximum"}},
	}
	defaultType := InstanceTypes[0]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := capacityRefusal(tt.rooms, tt.mc, catalog.DefaultVMSizes(), normalized{InstanceType: defaultType, InstanceCount: tt.count}, "comp2")
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %d instances; want a refusal holding %q", tt.count, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q lacks %q", err, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q holds %q", err, w)
				}
			}
		})
	}
}
