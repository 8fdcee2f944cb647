package catalog

import (
	"strconv"
	"strings"
)

// DefaultMaxPods is how many pods an AKS node runs when its pool does not say (the AKS
// default for kubenet and Azure CNI overlay nodes).
const DefaultMaxPods = 110

// Allocatable is what a node of size s offers to pods once AKS has reserved room for the
// kubelet, the system daemons and the eviction threshold (AKS documentation, "Resource
// reservations"): the cpu in millicores and the memory in MiB. maxPods is how many pods
// the node runs (0 means DefaultMaxPods); kubernetesVersion is the kubelet's version
// ("1.33.2"), which picks the memory rule. The simulated nodes of embedded clusters
// report these figures, and capacity checks size nodes an autoscaler may add with them.
func (s VMSize) Allocatable(maxPods int, kubernetesVersion string) (milliCPU, memoryMiB int64) {
	return Allocatable(s.Cores, int64(s.MemoryMiB), maxPods, kubernetesVersion)
}

// Allocatable is VMSize.Allocatable for a node of that many cores and that much memory.
func Allocatable(cores int, memMiB int64, maxPods int, kubernetesVersion string) (milliCPU, memoryMiB int64) {
	if maxPods == 0 {
		maxPods = DefaultMaxPods
	}
	milliCPU = max(int64(cores)*1000-ReservedCPUMillis(cores), 0)
	memoryMiB = max(memMiB-ReservedMemoryMiB(memMiB, maxPods, kubernetesVersion), 0)
	return milliCPU, memoryMiB
}

// ReservedCPUMillis is the CPU AKS reserves on a node with that many cores: 60m for the
// first core, 40m for the second, 20m each for the third and fourth and 10m for each core
// beyond, which reproduces the AKS table (1: 60m, 2: 100m, 4: 140m, 8: 180m, 16: 260m,
// 32: 420m, 64: 740m).
func ReservedCPUMillis(cores int) int64 {
	c := int64(cores)
	r := int64(60)
	if c >= 2 {
		r += 40
	}
	r += 20 * min(max(c-2, 0), 2)
	r += 10 * max(c-4, 0)
	return r
}

// ReservedMemoryMiB is the memory AKS reserves on a node with memMiB of memory that runs
// at most maxPods pods:
//
//   - Kubernetes 1.29 and later (and a version that does not parse): kube-reserved is the
//     smaller of 20 MiB per pod the node can run plus 50 MiB and a quarter of the memory;
//     the eviction threshold is 100 MiB.
//   - Before 1.29: kube-reserved is 25% of the first 4 GiB, 20% of the next 4, 10% of the
//     next 8, 6% of the next 112 and 2% of the rest; the eviction threshold is 750 MiB.
func ReservedMemoryMiB(memMiB int64, maxPods int, kubernetesVersion string) int64 {
	if !before129(kubernetesVersion) {
		return min(20*int64(maxPods)+50, memMiB/4) + 100
	}
	const gib = 1024
	tiers := []struct {
		upTo    int64 // MiB
		percent int64
	}{{4 * gib, 25}, {8 * gib, 20}, {16 * gib, 10}, {128 * gib, 6}, {1 << 62, 2}}
	var reserved, below int64
	for _, t := range tiers {
		if memMiB <= below {
			break
		}
		reserved += (min(memMiB, t.upTo) - below) * t.percent / 100
		below = t.upTo
	}
	return reserved + 750
}

// before129 reports whether v ("1.28.5", "v1.28") is a Kubernetes version
// before 1.29; a version that does not parse counts as current.
func before129(v string) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major < 1 || major == 1 && minor < 29
}
