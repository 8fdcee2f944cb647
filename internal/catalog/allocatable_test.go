package catalog

import "testing"

func TestAllocatable(t *testing.T) {
	tests := []struct {
		name             string
		cores            int
		memMiB           int64
		maxPods          int
		version          string
		wantCPU, wantMiB int64
	}{
		// 14336 - min(20*110+50, 14336/4) - 100 = 11986
		{"D3_v2 on 1.33", 4, 14336, 0, "1.33.2", 3860, 11986},
		// 57344 - min(2250, 14336) - 100; 6 cores: 140m + 2*10m
		{"NC6 on 1.33", 6, 57344, 0, "1.33.2", 5840, 54994},
		// small memory: a quarter is less than the per-pod rule
		{"2 cores 4 GiB", 2, 4096, 0, "1.30.0", 1900, 2972},
		// fewer pods reserve less: 7168 - (20*30+50) - 100
		{"DS2_v2 with maxPods 30", 2, 7168, 30, "1.33.0", 1900, 6418},
		// before 1.29: 25% of 4096 + 20% of 4096 + 10% of 6144 + 750 eviction = 3207
		{"D3_v2 on 1.28", 4, 14336, 0, "1.28.5", 3860, 11129},
		{"D3_v2 on v1.28 without patch", 4, 14336, 0, "v1.28", 3860, 11129},
		{"unparsable version counts as current", 4, 14336, 0, "latest", 3860, 11986},
		{"64 cores", 64, 262144, 0, "1.33.0", 63260, 259794},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpu, mem := Allocatable(tt.cores, tt.memMiB, tt.maxPods, tt.version)
			if cpu != tt.wantCPU || mem != tt.wantMiB {
				t.Errorf("Allocatable = %dm, %d MiB; want %dm, %d MiB", cpu, mem, tt.wantCPU, tt.wantMiB)
			}
		})
	}
	for cores, want := range map[int]int64{1: 60, 2: 100, 4: 140, 8: 180, 16: 260, 32: 420, 64: 740} {
		if got := ReservedCPUMillis(cores); got != want {
			t.Errorf("ReservedCPUMillis(%d) = %d, want %d (AKS table)", cores, got, want)
		}
	}
	ds2, _ := DefaultVMSizes().Get("Standard_DS2_v2")
	if cpu, _ := ds2.Allocatable(0, "1.33.0"); cpu != 1900 {
		t.Errorf("DS2_v2 allocatable cpu = %dm, want 1900m (what QA saw on the node)", cpu)
	}
}
