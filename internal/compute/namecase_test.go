package compute

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestComputeStoredWithAnotherGroupCase: a compute stored before names kept their parents'
// case (A1) has an id whose resource group is spelled as the request that made it spelled
// it ("RG" for group rg). It is still found through any casing, and what the server says
// of it names its resource group and workspace as they were created, not as that request
// or this one typed them. (New computes' ids are built on their workspace's id: the
// integration test TestComputeKeepsItsParentsCase attaches one.)
func TestComputeStoredWithAnotherGroupCase(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	ctx := context.Background()
	w, err := h.stack.Workspaces.Get(ctx, testSub, "rg", "ws1")
	if err != nil {
		t.Fatal(err)
	}
	legacy := ID(testSub, "RG", "ws1", "MixCase")
	cluster := h.cluster(t, "legacy1")
	c := armapi.Compute{ID: legacy, Name: "MixCase", Type: TypeCompute, Location: "westus", Properties: armapi.ComputeProperties{
		ComputeType: "AKS", ComputeLocation: "westus", ProvisioningState: armapi.StateSucceeded, ResourceID: &cluster, IsAttachedCompute: true,
		Mlfleet: &armapi.ComputeMlfleet{Conditions: []armapi.Condition{}, Attached: true}}}
	body, _ := json.Marshal(c)
	if err := h.st.CreateResource(ctx, &store.Resource{ID: legacy, ParentID: w.ID, Type: TypeCompute, Name: "MixCase", SubscriptionID: testSub,
		ResourceGroup: "RG", Location: "westus", Body: body}); err != nil {
		t.Fatal(err)
	}

	got, err := h.s.Get(ctx, testSub, "rG", "WS1", "mixcase")
	if err != nil || got.ID != legacy || got.Name != "MixCase" {
		t.Fatalf("GET through other cases = %v, %v; want the stored compute", got, err)
	}
	in := armapi.Compute{Properties: armapi.ComputeProperties{ComputeType: "AKS", ResourceID: &cluster}}
	_, err = h.s.Put(ctx, testSub, "Rg", "WS1", "MIXCASE", in, Options{Preconditions: arm.Preconditions{IfNoneMatch: true}})
	ae := armError(t, err)
	if want := "Compute 'MixCase' already exists in workspace 'ws1' (resource group 'rg')"; ae.Status != http.StatusConflict || !strings.Contains(ae.Message, want) {
		t.Errorf("create over it = %d %q, want 409 saying %q", ae.Status, ae.Message, want)
	}
}
