package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// BenchmarkList10kComputes measures listing every compute of a workspace that has 10,000,
// page by page (100 per page, as the API serves them), on a real SQLite file (N4).
//
//	go test -run '^$' -bench List10k ./internal/compute/
func BenchmarkList10kComputes(b *testing.B) {
	ctx := context.Background()
	st := storetest.OpenSQLite(b)
	engine := operations.New(st, operations.Config{})
	rs := resources.New(st, engine)
	ws := workspaces.New(st, rs)
	s := New(Config{Store: st, Engine: engine, Resources: rs, Workspaces: ws})
	const sub, total = "00000000-0000-0000-0000-000000000001", 10000
	if _, err := rs.EnsureSubscription(ctx, sub, "bench", "tenant"); err != nil {
		b.Fatal(err)
	}
	if _, _, err := rs.PutGroup(ctx, sub, "rg", armapi.GroupInput{Location: "westus"}); err != nil {
		b.Fatal(err)
	}
	w, _, err := ws.Put(ctx, sub, "rg", "ws1", armapi.WorkspaceInput{Location: "westus"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range total {
		name := fmt.Sprintf("aks%05d", i)
		c := s.newCompute(ID(sub, "rg", "ws1", name), name, "westus", armapi.Compute{}, defaults())
		c.Properties.ProvisioningState = armapi.StateSucceeded
		body, _ := json.Marshal(c)
		if err := st.CreateResource(ctx, &store.Resource{ID: c.ID, ParentID: w.ID, Type: TypeCompute, Name: name,
			SubscriptionID: sub, ResourceGroup: "rg", Location: "westus", Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		n := 0
		for p := (resources.Page{Top: 100}); ; {
			list, next, err := s.List(ctx, sub, "rg", "ws1", p)
			if err != nil {
				b.Fatal(err)
			}
			n += len(list)
			if next == "" {
				break
			}
			p.After = next
		}
		if n != total {
			b.Fatalf("listed %d computes, want %d", n, total)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/list-10k")
}
