package endpoints

import (
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/quota"
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
			err := capacityRefusal(tt.rooms, tt.mc, catalog.DefaultVMSizes(), nil, normalized{InstanceType: defaultType, InstanceCount: tt.count}, "comp2")
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

// TestCapacityRefusalQuota: an autoscaled pool's growth counts only as far as the
// subscription's vCPU quotas in the region leave room (the regional total, and a VM
// family's own limit), as the autoscaler grows it; the refusal says so, with the limit and
// the use, and how to raise the quota (QA9 #8). Room left for all of the growth changes
// nothing.
func TestCapacityRefusalQuota(t *testing.T) {
	// Standard_D3_v2: 4 cores of standardDv2Family; 3 nodes (12 vCPUs) in use.
	mc := &armapi.ManagedCluster{}
	mc.Location = "westus"
	maxCount := 30
	mc.Properties.AgentPoolProfiles = []armapi.AgentPoolProfile{{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{
		Count: 3, VMSize: "Standard_D3_v2", OrchestratorVersion: "1.33.2", EnableAutoScaling: true, MinCount: &[]int{1}[0], MaxCount: &maxCount}}}
	full := []kube.NodeRoom{{Name: "n0", MilliCPU: 0, MemoryMiB: 0}, {Name: "n1"}, {Name: "n2"}}
	use := quota.Amount{}
	use.AddVCPUs("standardDv2Family", 12)
	t2, _ := instanceType("largeinstancetype")
	large := normalized{InstanceType: t2, InstanceCount: 2} // 2 × 2 CPU: one per new node
	for _, tc := range []struct {
		name   string
		limits quota.Limits
		want   []string // parts of the refusal; none means accepted
	}{
		{"regional quota full", quota.Limits{quota.Cores: 12}, []string{"only 0 fit", "short by 2 instances", "nodepool1 may grow to 30 nodes, but the vCPU quota leaves room for 0 more (Total Regional vCPUs: limit 12, used 12)", "raise the subscription's vCPU quota in westus", "--quota-file"}},
		{"regional quota for one node", quota.Limits{quota.Cores: 16}, []string{"only 1 fit", "room for 1 more"}},
		{"family quota full", quota.Limits{quota.Cores: 100, "standardDv2Family": 12}, []string{"room for 0 more", "Standard Dv2 Family vCPUs: limit 12, used 12"}},
		{"quota for all of it", quota.Limits{quota.Cores: 20}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := capacityRefusal(full, mc, catalog.DefaultVMSizes(), quota.NewRoom(tc.limits, use), large, "cmpz")
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want a refusal holding %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q lacks %q", err, w)
				}
			}
		})
	}
}
