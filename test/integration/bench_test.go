package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// BenchmarkEmbeddedClusterCreate measures, on the shared in-process server, the time from
// the PUT of a managed cluster (3 × Standard_D3_v2) to Succeeded, and the resident memory
// each running cluster adds to the process. Goals (B3, N4): under 5 s, under 200 MB.
//
//	go test -run '^$' -bench EmbeddedClusterCreate -benchtime 3x ./test/integration/
func BenchmarkEmbeddedClusterCreate(b *testing.B) {
	ctx := context.Background()
	c := sdk(b)
	if _, err := c.CreateResourceGroup(ctx, "bench-rg", "westus", nil); err != nil {
		b.Fatal(err)
	}
	before := rssMiB(b)
	var total time.Duration
	var names []string
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("bench%d-%d", time.Now().UnixNano()%100000, i)
		count := 3
		in := &mlfleet.ClusterInput{}
		in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &count, VMSize: "Standard_D3_v2"}}
		start := time.Now()
		_, p, err := c.BeginCreateManagedCluster(ctx, "bench-rg", name, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Wait(ctx, nil); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		names = append(names, name)
	}
	b.StopTimer()
	after := rssMiB(b)
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/create")
	b.ReportMetric(float64(after-before)/float64(b.N), "MiB-rss/cluster")
	for _, n := range names {
		if p, err := c.BeginDeleteManagedCluster(ctx, "bench-rg", n); err == nil && p != nil {
			_, _ = p.Wait(ctx, nil)
		}
	}
}

// rssMiB reads this process's resident set size.
func rssMiB(tb testing.TB) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}
