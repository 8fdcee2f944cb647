package clusterruntime

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

// expanderPools are two autoscaled pools: "abig" (16 cores) sorts before "small" (4 cores).
func expanderPools() []autoscaledPool {
	big := NodePool{Name: "abig", Count: 1, VMSize: "Standard_D5_v2", Cores: 16, MemoryMiB: 57344, KubernetesVersion: poolD3.KubernetesVersion}
	small := poolD3
	small.Name, small.Count = "small", 1
	return []autoscaledPool{{pool: big, PoolBounds: PoolBounds{Min: 1, Max: 10}}, {pool: small, PoolBounds: PoolBounds{Min: 1, Max: 10}}}
}

func pendingCPU(n int, cpu string) []*v1.Pod {
	var out []*v1.Pod
	for i := range n {
		out = append(out, cpuPod(fmt.Sprintf("p%d", i), cpu))
	}
	return out
}

// TestExpanders: least-waste grows the pool whose node the pods fill best, most-pods the
// one whose node takes the most of them, and random, seeded, replays its choices and uses
// every pool that fits.
func TestExpanders(t *testing.T) {
	pools := expanderPools()
	// One pod of 3 cpu: a 4-core node leaves far less idle than a 16-core one.
	plan := planScaleUp(pendingCPU(1, "3"), nil, nil, pools, newExpander(ExpanderLeastWaste, 1))
	if plan.grow["small"] != 1 || plan.grow["abig"] != 0 {
		t.Errorf("least-waste grew %v, want one node of small", plan.grow)
	}
	// Five pods of 3 cpu: one 16-core node takes all five, a 4-core node one.
	plan = planScaleUp(pendingCPU(5, "3"), nil, nil, pools, newExpander(ExpanderMostPods, 1))
	if plan.grow["abig"] != 1 || plan.grow["small"] != 0 {
		t.Errorf("most-pods grew %v, want one node of abig", plan.grow)
	}
	// A pool at its maximum is no option, whatever the expander prefers.
	full := expanderPools()
	full[1].Max = 1
	plan = planScaleUp(pendingCPU(1, "3"), nil, nil, full, newExpander(ExpanderLeastWaste, 1))
	if plan.grow["abig"] != 1 || plan.grow["small"] != 0 {
		t.Errorf("least-waste with small at its maximum grew %v, want abig", plan.grow)
	}

	pod := cpuPod("x", "1")
	a, b := newExpander(ExpanderRandom, 7), newExpander("", 7)
	seen := map[int]int{}
	for range 100 {
		i, j := a.choose(pools, pod, nil), b.choose(pools, pod, nil)
		if i != j {
			t.Fatalf("two random expanders of one seed chose %d and %d", i, j)
		}
		seen[i]++
	}
	if seen[0] == 0 || seen[1] == 0 {
		t.Errorf("random chose %v over 100 draws, want both pools", seen)
	}
}

// TestScanFailureLoggedOnce: a scan failing for the same reason again and again warns
// once; a new reason warns again; success after a failure says so once.
func TestScanFailureLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	a := &autoscaler{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	refused := errors.New("scale up pool nodepool1 to 4: autoscaler decision refused: cluster aks1 is Updating")
	for range 5 {
		a.scanFailed(refused)
	}
	a.scanFailed(errors.New("scale up pool nodepool1 to 4: quota"))
	a.scanFailed(nil)
	a.scanFailed(nil)
	a.scanFailed(refused)
	if n := strings.Count(buf.String(), "level=WARN"); n != 3 {
		t.Errorf("%d warnings, want 3 (one per distinct reason each time it starts):\n%s", n, buf.String())
	}
	if n := strings.Count(buf.String(), "succeeds again"); n != 1 {
		t.Errorf("%d recoveries logged, want 1:\n%s", n, buf.String())
	}
}
