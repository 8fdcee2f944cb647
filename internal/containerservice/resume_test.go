package containerservice

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// startRecorder records the order of Ensure calls and how many ran at once.
type startRecorder struct {
	providertest.InfoOnly
	mu          sync.Mutex
	order       []string
	running, hi int
	done        chan struct{}
	want        int
}

func (p *startRecorder) Ensure(_ context.Context, spec provider.ClusterSpec) (*provider.Status, error) {
	p.mu.Lock()
	p.order = append(p.order, spec.Name)
	p.running++
	p.hi = max(p.hi, p.running)
	p.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // a start takes a while
	p.mu.Lock()
	p.running--
	if len(p.order) == p.want && p.running == 0 {
		close(p.done)
	}
	p.mu.Unlock()
	return &provider.Status{}, nil
}

// TestResumeOrder: after a restart, the clusters a compute is attached to (by a claim) or
// was created for start first, at most ResumeParallelism at once; clusters being created,
// updated, deleted or failed are not started.
func TestResumeOrder(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	engine := operations.New(st, operations.Config{})
	rs := resources.New(st, engine)
	prov := &startRecorder{InfoOnly: providertest.InfoOnly{I: provider.Info{Name: "embedded", CanCreate: true}}, done: make(chan struct{}), want: 6}
	s := New(Config{Store: st, Engine: engine, Resources: rs, Versions: catalog.DefaultVersions(), VMSizes: catalog.DefaultVMSizes(),
		Providers: map[string]provider.Provider{"embedded": prov}, ResumeParallelism: 2})
	group := "/subscriptions/" + testSub + "/resourceGroups/" + testRG
	put := func(name, state, createdFor string) string {
		mc := armapi.ManagedCluster{ID: ID(testSub, testRG, name), Name: name, Type: TypeManagedCluster, Location: "westus"}
		mc.Properties.ProvisioningState = state
		mc.Properties.Mlfleet.Provider, mc.Properties.Mlfleet.ClusterID, mc.Properties.Mlfleet.CreatedFor = "embedded", name, createdFor
		body, _ := json.Marshal(mc)
		if err := st.CreateResource(ctx, &store.Resource{ID: mc.ID, ParentID: group, Type: TypeManagedCluster, Name: name,
			SubscriptionID: testSub, ResourceGroup: testRG, Location: "westus", Body: body}); err != nil {
			t.Fatal(err)
		}
		return mc.ID
	}
	for i := range 4 {
		put(fmt.Sprintf("a%d-plain", i), armapi.StateSucceeded, "")
	}
	attached := put("z-attached", armapi.StateSucceeded, "")
	if err := st.CreateResource(ctx, &store.Resource{ID: attached + "/mlfleetAttachments/current", ParentID: attached, Type: attachmentClaimType,
		Name: "current", SubscriptionID: testSub, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	put("y-created", armapi.StateSucceeded, group+"/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/y")
	for _, state := range []string{armapi.StateCreating, armapi.StateUpdating, armapi.StateFailed, armapi.StateDeleting} {
		put("skip-"+state, state, "")
	}
	if err := s.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-prov.done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every cluster was started")
	}
	testutil.Holds(t, 200*time.Millisecond, "nothing else starts", func() (bool, string) {
		prov.mu.Lock()
		defer prov.mu.Unlock()
		return len(prov.order) == 6, fmt.Sprintf("started %v", prov.order)
	})
	prov.mu.Lock()
	defer prov.mu.Unlock()
	if len(prov.order) != 6 || prov.hi > 2 {
		t.Fatalf("started %v, %d at once at most; want the 6 resumable ones, 2 at once at most", prov.order, prov.hi)
	}
	if first := prov.order[:2]; !slices.Contains(first, "z-attached") || !slices.Contains(first, "y-created") {
		t.Errorf("started %v, want the attached and the created-for clusters first", prov.order)
	}
}
