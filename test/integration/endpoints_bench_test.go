package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

var benchEndpointOnce sync.Once

// BenchmarkDeploy measures a deployment's PUT → Succeeded (checks, model materialized,
// Deployment applied, endpoint Secret rewritten, one instance Ready) and its delete (→ the
// Deployment and its pods gone), on one embedded compute of the shared server: Ready is the
// inference server's (its score.py's init() done). 3x on 2 shared cores: 1436 ms/deploy,
// 254 ms/delete.
//
//	go test -run '^$' -bench Deploy -benchtime 5x ./test/integration/
func BenchmarkDeploy(b *testing.B) {
	ctx := context.Background()
	c := sdk(b)
	const rg, ws = "bench-ep-rg", "bench-ep-ws"
	benchEndpointOnce.Do(func() {
		createGroup(b, c, rg, "westus")
		if _, err := c.CreateWorkspace(ctx, rg, ws, "westus"); err != nil {
			b.Fatal(err)
		}
		_, p, err := c.BeginCreateOrUpdateCompute(ctx, rg, ws, "benchaks", devTest(1), nil)
		finish(ctx, b, "create compute", p, err)
		ep := &mlfleet.OnlineEndpoint{Location: "westus"}
		ep.Properties.Compute = c.ComputeID(rg, ws, "benchaks")
		_, p, err = c.BeginCreateOrUpdateOnlineEndpoint(ctx, rg, ws, "benchep", ep, false)
		finish(ctx, b, "create endpoint", p, err)
	})
	modelID, codeID := registerEcho(b, c, rg, ws, "bench", fmt.Sprint(time.Now().UnixNano()%1000000))
	var deploy, remove time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("dep%d", i)
		d := &mlfleet.OnlineDeployment{Location: "westus"}
		d.Properties.EndpointComputeType = "Kubernetes"
		d.Properties.Model = modelID
		d.Properties.CodeConfiguration = &mlfleet.CodeConfiguration{CodeID: codeID, ScoringScript: "score.py"}
		start := time.Now()
		_, p, err := c.BeginCreateOrUpdateOnlineDeployment(ctx, rg, ws, "benchep", name, d, true)
		finish(ctx, b, "create deployment", p, err)
		deploy += time.Since(start)
		start = time.Now()
		p, err = c.BeginDeleteOnlineDeployment(ctx, rg, ws, "benchep", name)
		finish(ctx, b, "delete deployment", p, err)
		remove += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(deploy.Milliseconds())/float64(b.N), "ms/deploy")
	b.ReportMetric(float64(remove.Milliseconds())/float64(b.N), "ms/delete")
}
