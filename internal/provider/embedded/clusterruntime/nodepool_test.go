package clusterruntime

import (
	"errors"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestNodeNames(t *testing.T) {
	tests := []struct {
		name  string
		pool  string
		index int
		want  string
	}{
		{"first", "nodepool1", 0, "aks-nodepool1-12345678-vmss000000"},
		{"tenth is base 36", "nodepool1", 10, "aks-nodepool1-12345678-vmss00000a"},
		{"last of a full pool", "gpu", 999, "aks-gpu-12345678-vmss0000rr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nodeName(tt.pool, "12345678", tt.index)
			if got != tt.want {
				t.Fatalf("nodeName = %s, want %s", got, tt.want)
			}
			pool, index, ok := parseNodeName(got)
			if !ok || pool != tt.pool || index != tt.index {
				t.Errorf("parseNodeName(%s) = %s, %d, %v", got, pool, index, ok)
			}
		})
	}
	if _, _, ok := parseNodeName("aks-nodepool1-vmss000000"); ok {
		t.Error("parseNodeName accepted a name without pool number")
	}
	a, b := poolID("uid-1", "nodepool1"), poolID("uid-1", "nodepool1")
	if a != b || len(a) != 8 {
		t.Errorf("poolID not stable or not 8 digits: %s %s", a, b)
	}
	if poolID("uid-2", "nodepool1") == a {
		t.Error("poolID equal for two clusters")
	}
}

func TestNodeAllocatable(t *testing.T) {
	tests := []struct {
		name       string
		pool       NodePool
		wantCPU    string
		wantMemory string
	}{
		// 14336 - min(20*110+50, 14336/4) - 100 = 11986
		{"D3_v2 on 1.33", NodePool{Cores: 4, MemoryMiB: 14336, KubernetesVersion: "1.33.2"}, "3860m", "11986Mi"},
		// 57344 - min(2250, 14336) - 100; 6 cores: 140m + 2*10m
		{"NC6 on 1.33", NodePool{Cores: 6, MemoryMiB: 57344, KubernetesVersion: "1.33.2"}, "5840m", "54994Mi"},
		// small memory: a quarter is less than the per-pod rule
		{"2 cores 4 GiB", NodePool{Cores: 2, MemoryMiB: 4096, KubernetesVersion: "1.30.0"}, "1900m", "2972Mi"},
		// before 1.29: 25% of 4096 + 20% of 4096 + 10% of 6144 + 750 eviction = 3207
		{"D3_v2 on 1.28", NodePool{Cores: 4, MemoryMiB: 14336, KubernetesVersion: "1.28.5"}, "3860m", "11129Mi"},
		{"64 cores", NodePool{Cores: 64, MemoryMiB: 262144, KubernetesVersion: "1.33.0"}, "63260m", "259794Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := nodeAllocatable(tt.pool)
			if got := a[v1.ResourceCPU]; got.Cmp(resource.MustParse(tt.wantCPU)) != 0 {
				t.Errorf("cpu = %s, want %s", got.String(), tt.wantCPU)
			}
			if got := a[v1.ResourceMemory]; got.Cmp(resource.MustParse(tt.wantMemory)) != 0 {
				t.Errorf("memory = %s, want %s", got.String(), tt.wantMemory)
			}
		})
	}
}

func TestNodeCapacityExtendedResources(t *testing.T) {
	c := nodeCapacity(NodePool{Cores: 24, MemoryMiB: 458752, GPUs: 4, FPGAs: 0})
	if got := c[ResourceGPU]; got.Value() != 4 {
		t.Errorf("GPUs = %s, want 4", got.String())
	}
	if _, ok := c[ResourceFPGA]; ok {
		t.Error("FPGA resource on a GPU size")
	}
	c = nodeCapacity(NodePool{Cores: 10, MemoryMiB: 172032, FPGAs: 1})
	if got := c[ResourceFPGA]; got.Value() != 1 {
		t.Errorf("FPGAs = %s, want 1", got.String())
	}
}

func TestPoolValidation(t *testing.T) {
	good := poolD3
	tests := []struct {
		name   string
		change func(*NodePool)
		ok     bool
	}{
		{"good", func(*NodePool) {}, true},
		{"zero nodes", func(p *NodePool) { p.Count = 0 }, true},
		{"no location", func(p *NodePool) { p.Location = "" }, true},
		{"upper-case name", func(p *NodePool) { p.Name = "Pool1" }, false},
		{"name too long", func(p *NodePool) { p.Name = "abcdefghijklm" }, false},
		{"name starts with digit", func(p *NodePool) { p.Name = "1pool" }, false},
		{"negative count", func(p *NodePool) { p.Count = -1 }, false},
		{"too many nodes", func(p *NodePool) { p.Count = 1001 }, false},
		{"no VM size", func(p *NodePool) { p.VMSize = "" }, false},
		{"no cores", func(p *NodePool) { p.Cores = 0 }, false},
		{"no memory", func(p *NodePool) { p.MemoryMiB = 0 }, false},
		{"version with v", func(p *NodePool) { p.KubernetesVersion = "v1.33.2" }, false},
		{"version garbage", func(p *NodePool) { p.KubernetesVersion = "latest" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.change(&p)
			err := p.validate()
			if (err == nil) != tt.ok {
				t.Fatalf("validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPool) {
				t.Errorf("error %v does not wrap ErrInvalidPool", err)
			}
		})
	}
}
