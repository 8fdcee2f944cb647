package integration

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/internal/testutil"
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
	createGroup(b, c, "bench-rg", "westus")
	before := procstat.RSS()
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
		finish(ctx, b, "create managed cluster", p, err)
		total += time.Since(start)
		names = append(names, name)
	}
	b.StopTimer()
	after := procstat.RSS()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/create")
	b.ReportMetric(float64(after-before)/(1<<20)/float64(b.N), "MiB-rss/cluster")
	for _, n := range names {
		if p, err := c.BeginDeleteManagedCluster(ctx, "bench-rg", n); err == nil && p != nil {
			_, _ = p.Wait(ctx, nil)
		}
	}
}

// BenchmarkComputeAttach measures attach (PUT of a compute with resourceId → Succeeded:
// every check, the marker, the components ready with an address) and detach (→ the
// components gone, the azureml namespace being deleted) of one embedded cluster, on the shared
// server. Goal (B3): attach under a second.
//
//	go test -run '^$' -bench ComputeAttach -benchtime 5x ./test/integration/
func BenchmarkComputeAttach(b *testing.B) {
	ctx := context.Background()
	c := sdk(b)
	createGroup(b, c, "bench-attach-rg", "westus")
	if _, err := c.CreateWorkspace(ctx, "bench-attach-rg", "bench-ws", "westus"); err != nil {
		b.Fatal(err)
	}
	count := 3
	in := &mlfleet.ClusterInput{}
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &count, VMSize: "Standard_D3_v2"}}
	mc, p, err := c.BeginCreateManagedCluster(ctx, "bench-attach-rg", "benchattach", in)
	finish(ctx, b, "create managed cluster", p, err)
	fast := clientOf(b, shared.home, mlfleet.WithPollInterval(20*time.Millisecond))
	k := clusterAdmin(b, "bench-attach-rg", "benchattach")
	var attach, detach time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		body := &mlfleet.Compute{Properties: mlfleet.ComputeProperties{ComputeType: "AKS", ResourceID: &mc.ID}}
		_, p, err := fast.BeginCreateOrUpdateCompute(ctx, "bench-attach-rg", "bench-ws", "benchaks", body, nil)
		finish(ctx, b, "create or update compute", p, err)
		attach += time.Since(start)
		start = time.Now()
		p, err = fast.BeginDeleteCompute(ctx, "bench-attach-rg", "bench-ws", "benchaks", mlfleet.ActionDetach)
		finish(ctx, b, "delete compute", p, err)
		detach += time.Since(start)
		// Detach leaves the namespace to the namespace controller, which starts 5 s after
		// the delete; the next attach would wait for it. Not timed: it is not the attach's.
		b.StopTimer()
		testutil.Eventually(b, 30*time.Second, "namespace azureml gone", func() error {
			if _, err := k.CoreV1().Namespaces().Get(ctx, "azureml", metav1.GetOptions{}); err == nil {
				return errors.New("still there")
			}
			return nil
		})
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(attach.Milliseconds())/float64(b.N), "ms/attach")
	b.ReportMetric(float64(detach.Milliseconds())/float64(b.N), "ms/detach")
	if p, err := c.BeginDeleteResourceGroup(ctx, "bench-attach-rg"); err == nil && p != nil {
		_, _ = p.Wait(ctx, nil)
	}
}

// BenchmarkAutoscaleBurst measures, on the shared server, the time from a burst of 18
// pending pods of one cpu on an autoscaled 3 × Standard_D3_v2 cluster (min 3, max 6,
// scan-interval 1s) to all of them Running on the nodes the autoscaler added (B6, N4).
//
//	go test -run '^$' -bench AutoscaleBurst -benchtime 1x ./test/integration/
func BenchmarkAutoscaleBurst(b *testing.B) {
	ctx := context.Background()
	c := sdk(b)
	createGroup(b, c, "bench-as-rg", "westus")
	var total time.Duration
	for i := range b.N {
		b.StopTimer()
		name := fmt.Sprintf("benchas%d-%d", time.Now().UnixNano()%100000, i)
		count, on, lo, hi := 3, true, 3, 6
		in := &mlfleet.ClusterInput{}
		in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &count, VMSize: "Standard_D3_v2",
			EnableAutoScaling: &on, MinCount: &lo, MaxCount: &hi}}
		in.Properties.AutoScalerProfile = mlfleet.AutoScalerProfile{"scan-interval": "1s"}
		_, p, err := c.BeginCreateManagedCluster(ctx, "bench-as-rg", name, in)
		finish(ctx, b, "create managed cluster", p, err)
		k := clusterAdmin(b, "bench-as-rg", name)
		b.StartTimer()
		start := time.Now()
		if _, err := k.AppsV1().Deployments("default").Create(ctx, burstDeployment(18), metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		testutil.Eventually(b, 2*time.Minute, "18 pods running", podCount(ctx, k, "app=burst", 18))
		total += time.Since(start)
		b.StopTimer()
		if p, err := c.BeginDeleteManagedCluster(ctx, "bench-as-rg", name); err == nil && p != nil {
			_, _ = p.Wait(ctx, nil)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/burst-to-running")
}
