package containerservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const (
	testSub = "00000000-0000-0000-0000-0000000000aa"
	testRG  = "rg"
)

// infoOnlyProvider stands in for the embedded provider and is named so: it answers Info,
// and refuses to run anything.
func infoOnlyProvider() provider.Provider {
	return providertest.InfoOnly{I: provider.Info{Name: "embedded", CanCreate: true, CanScale: true, DeleteDestroys: true, EnforcesAuthorizedIPRanges: true,
		Versions: []string{catalog.DefaultVersions().Default("westus").Version}}}
}

// newService returns a cluster service over st with the quotas of quotaJSON, and makes
// the test subscription and resource group (westus) the first time.
func newService(t *testing.T, st store.Store, quotaJSON string) *Service {
	t.Helper()
	q, err := quota.Parse([]byte(quotaJSON), catalog.DefaultVMSizes().Families())
	if err != nil {
		t.Fatal(err)
	}
	engine, rs := newGroup(t, st)
	return New(Config{Store: st, Engine: engine, Resources: rs, Versions: catalog.DefaultVersions(), VMSizes: catalog.DefaultVMSizes(),
		Providers: map[string]provider.Provider{"embedded": infoOnlyProvider(), "external": providertest.InfoOnly{I: provider.Info{Name: "external"}}}, Quotas: q})
}

// serviceWithCluster returns a cluster service (no quotas) over a new SQLite store that
// holds cluster name, count × Standard_D3_v2, created and Succeeded.
func serviceWithCluster(t *testing.T, name string, count int) (*Service, store.Store) {
	t.Helper()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	mustPut(t, s, name, clusterInput(count, "Standard_D3_v2"))
	finishOperations(t, st)
	return s, st
}

// newGroup returns an operations engine (not started) and a resource service over st, and
// makes the test subscription and resource group (westus) the first time.
func newGroup(t *testing.T, st store.Store) (*operations.Engine, *resources.Service) {
	t.Helper()
	ctx := context.Background()
	engine := operations.New(st, operations.Config{})
	rs := resources.New(st, engine)
	if _, err := rs.EnsureSubscription(ctx, testSub, "test", "tenant"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rs.PutGroup(ctx, testSub, testRG, armapi.GroupInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	return engine, rs
}

func clusterInput(count int, size string) armapi.ClusterInput {
	var in armapi.ClusterInput
	in.Location = "westus"
	in.Properties.AgentPoolProfiles = []armapi.AgentPoolInput{{Name: "nodepool1", Count: &count, VMSize: size}}
	return in
}

// mustPut creates or updates cluster name from in, and fails the test on an error. The
// operation it starts stays in progress (see finishOperations).
func mustPut(t *testing.T, s *Service, name string, in armapi.ClusterInput) {
	t.Helper()
	if _, _, _, err := s.Put(context.Background(), testSub, testRG, name, in, arm.Preconditions{}); err != nil {
		t.Fatal(err)
	}
}

// usageOf returns currentValue and limit of quota name in the usages of westus.
func usageOf(t *testing.T, s *Service, name string) (int, int) {
	t.Helper()
	us, err := s.Usages(context.Background(), testSub, "westus")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Name.Value == name {
			return u.CurrentValue, u.Limit
		}
	}
	t.Fatalf("no usage %s in %+v", name, us)
	return 0, 0
}

// wantQuotaExceeded fails unless err is a 400 QuotaExceeded whose message has every part.
func wantQuotaExceeded(t *testing.T, err error, parts ...string) {
	t.Helper()
	var ae *arm.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != arm.CodeQuotaExceeded {
		t.Fatalf("error = %v, want a 400 QuotaExceeded", err)
	}
	for _, p := range parts {
		if !strings.Contains(ae.Message, p) {
			t.Fatalf("message %q lacks %q", ae.Message, p)
		}
	}
}

// TestQuotaConcurrentCreates has 20 requests create clusters at once, through two services
// on two connection pools (two replicas), against a limit of 5 managed clusters: exactly 5
// are created, the others get QuotaExceeded, and the usage never exceeds the limit.
func TestQuotaConcurrentCreates(t *testing.T) {
	t.Parallel()
	for name, newDB := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			open := newDB(t)
			const limit = `{"default": {"managedClusters": 5, "cores": 1000}}`
			services := []*Service{newService(t, open(), limit), newService(t, open(), limit)}
			ctx := context.Background()
			var mu sync.Mutex
			created, refused := 0, 0
			testutil.Race(t, 20, func(i int) error {
				_, _, _, err := services[i%2].Put(ctx, testSub, testRG, fmt.Sprintf("c%02d", i), clusterInput(1, "Standard_D2_v2"), arm.Preconditions{IfNoneMatch: true})
				var ae *arm.Error
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					created++
				case errors.As(err, &ae) && ae.Code == arm.CodeQuotaExceeded:
					refused++
					if !strings.Contains(ae.Message, "Managed Clusters quota. Location: westus, Current Limit: 5, Current Usage: 5, Additional Required: 1") {
						return fmt.Errorf("message %q", ae.Message)
					}
				default:
					return err
				}
				return nil
			})
			if created != 5 || refused != 15 {
				t.Fatalf("%d created, %d refused; want 5 and 15", created, refused)
			}
			rows, err := open().ListResources(ctx, store.ListOptions{Type: TypeManagedCluster})
			if err != nil || len(rows) != 5 {
				t.Fatalf("%d clusters stored (%v), want 5", len(rows), err)
			}
			if cur, lim := usageOf(t, services[0], quota.ManagedClusters); cur != 5 || lim != 5 {
				t.Fatalf("managedClusters usage %d of %d, want 5 of 5", cur, lim)
			}
			if cur, _ := usageOf(t, services[1], quota.Cores); cur != 10 {
				t.Fatalf("cores usage %d, want 10 (5 × Standard_D2_v2)", cur)
			}
		})
	}
}

// finishOperations ends every operation in progress as its handler would have: the engine
// is not started in these tests. Clusters being created or updated become Succeeded.
func finishOperations(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	for {
		op, err := st.ClaimOperation(ctx, "test", time.Time{}, time.Minute)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Modify(ctx, st, op.ResourceID, func(r *store.Resource) error {
			var mc armapi.ManagedCluster
			if err := json.Unmarshal(r.Body, &mc); err != nil {
				return err
			}
			if op.Kind == KindUpdate {
				var in updateOp
				if err := json.Unmarshal(op.Input, &in); err != nil {
					return err
				}
				for i, p := range mc.Properties.AgentPoolProfiles {
					if c, ok := in.Counts[p.Name]; ok {
						mc.Properties.AgentPoolProfiles[i].Count = c
					}
				}
			}
			mc.Properties.ProvisioningState = armapi.StateSucceeded
			r.Body, _ = json.Marshal(&mc)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		op.Status = store.StatusSucceeded
		if err := st.SaveOperation(ctx, op, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestQuotaScale: a scale past the regional vCPUs is refused with AKS's numbers, a scale
// under way counts at its new size, a scale-down always passes, and a failed cluster
// counts for nothing.
func TestQuotaScale(t *testing.T) {
	t.Parallel()
	for name, newDB := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := newDB(t)()
			s := newService(t, st, `{"default": {"managedClusters": 10, "cores": 24}}`)
			ctx := context.Background()
			scale := func(pool string, count int) error {
				var in armapi.AgentPoolPut
				in.Properties.Count = &count
				_, _, err := s.ScalePool(ctx, testSub, testRG, "big", pool, in, arm.Preconditions{})
				return err
			}
			mustPut(t, s, "big", clusterInput(3, "Standard_D3_v2"))
			finishOperations(t, st)
			wantQuotaExceeded(t, scale("nodepool1", 7),
				"Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Location: westus, Current Limit: 24, Current Usage: 12, Additional Required: 16, (Minimum) New Limit Required: 28.")
			if err := scale("nodepool1", 5); err != nil {
				t.Fatalf("scale to 5 × Standard_D3_v2 = 20 vCPUs of 24: %v", err)
			}
			// The scale has not run yet: its 20 vCPUs count already.
			if cur, _ := usageOf(t, s, "standardDv2Family"); cur != 20 {
				t.Fatalf("standardDv2Family usage %d while scaling 3 → 5 × Standard_D3_v2, want 20", cur)
			}
			if _, _, _, err := s.Put(ctx, testSub, testRG, "small", clusterInput(2, "Standard_DS2_v2"), arm.Preconditions{}); err != nil {
				t.Fatalf("create 2 × Standard_DS2_v2 = 4 vCPUs, 24 of 24: %v", err)
			}
			_, _, _, err := s.Put(ctx, testSub, testRG, "one-more", clusterInput(1, "Standard_D1_v2"), arm.Preconditions{})
			wantQuotaExceeded(t, err, "Current Limit: 24, Current Usage: 24, Additional Required: 1,")
			finishOperations(t, st)
			if err := scale("nodepool1", 1); err != nil {
				t.Fatalf("scale down: %v", err)
			}
			finishOperations(t, st)
			if cur, _ := usageOf(t, s, quota.Cores); cur != 8 {
				t.Fatalf("cores usage %d after the scale-down, want 4 + 4", cur)
			}
			if err := s.markFailed(ctx, ID(testSub, testRG, "small")); err != nil {
				t.Fatal(err)
			}
			if cur, _ := usageOf(t, s, quota.ManagedClusters); cur != 1 {
				t.Fatalf("managedClusters usage %d with one cluster failed, want 1", cur)
			}
			// Validate, which a workspace's create calls first, checks the quotas too.
			_, err = s.Validate(ctx, testSub, testRG, "ws-cluster", clusterInput(6, "Standard_D3_v2"), "")
			wantQuotaExceeded(t, err, "Current Limit: 24, Current Usage: 4, Additional Required: 24,", "list-usage -l westus")
			if _, err := s.Validate(ctx, testSub, testRG, "ws-cluster", clusterInput(3, "Standard_D2_v2"), ""); err != nil {
				t.Fatalf("Validate of 6 vCPUs with 4 of 24 used: %v", err)
			}
		})
	}
}

// TestQuotaRoom: what the quotas leave for an autoscaler to add counts every counted
// cluster of the region (the cluster itself included), against the regional total and a VM
// family's own limit; a registered cluster's growth is bounded by no quota (QA9 #8).
func TestQuotaRoom(t *testing.T) {
	t.Parallel()
	for name, newDB := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := newDB(t)()
			s := newService(t, st, `{"default": {"managedClusters": 10, "cores": 20, "standardDv2Family": 16}}`)
			ctx := context.Background()
			mustPut(t, s, "ky", clusterInput(2, "Standard_D3_v2"))
			mustPut(t, s, "other", clusterInput(1, "Standard_DS2_v2"))
			finishOperations(t, st)
			mc, err := s.GetByID(ctx, ID(testSub, testRG, "ky"))
			if err != nil {
				t.Fatal(err)
			}
			room, err := s.QuotaRoom(ctx, mc)
			if err != nil {
				t.Fatal(err)
			}
			// 8 + 2 of 20 regional vCPUs, 8 of 16 Dv2: two more D3_v2 nodes (the family's
			// limit), not a third; the regional total still has 2 for DSv2.
			for i, want := range []bool{true, true, false} {
				if got := room.Take("standardDv2Family", 4); got != want {
					t.Fatalf("D3_v2 node %d: taken %v, want %v (%s)", i+1, got, want, room.Describe("standardDv2Family"))
				}
			}
			if !room.Take("standardDSv2Family", 2) || room.Take("standardDSv2Family", 2) {
				t.Errorf("DSv2 nodes: want room for 2 vCPUs of the regional 20 and no more")
			}
			if d := room.Describe("standardDv2Family"); d != "Total Regional vCPUs: limit 20, used 10; Standard Dv2 Family vCPUs: limit 16, used 8" {
				t.Errorf("Describe: %q", d)
			}
			mc.Properties.Mlfleet.Provider = "external"
			if room, err := s.QuotaRoom(ctx, mc); err != nil || room != nil {
				t.Errorf("a registered cluster: room %v, %v; want none (no quota)", room, err)
			}
		})
	}
}
