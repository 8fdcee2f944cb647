package compute

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestCreateWhileDeleting: a create or attach (If-None-Match: *) of a name whose compute is
// being detached answers as an update does, a 409 OperationInProgress naming the running
// delete and saying to wait, then retry; not "already exists … use update", which cannot
// work (F-RACE1). A plain existing compute still gets "already exists".
func TestCreateWhileDeleting(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	ctx := context.Background()
	cluster := h.cluster(t, "dupc")
	id := ID(testSub, "rg", "ws1", "dup3")
	c := &armapi.Compute{ID: id, Name: "dup3", Type: TypeCompute, Location: "westus"}
	c.Properties.ComputeType, c.Properties.ProvisioningState, c.Properties.ResourceID = "AKS", armapi.StateSucceeded, &cluster
	c.Properties.IsAttachedCompute, c.Properties.Mlfleet = true, &armapi.ComputeMlfleet{Attached: true}
	if err := h.st.CreateResource(ctx, &store.Resource{ID: id, ParentID: "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1",
		Type: TypeCompute, Name: "dup3", SubscriptionID: testSub, ResourceGroup: "rg", Location: "westus", Body: computeRecord.Encode(c)}); err != nil {
		t.Fatal(err)
	}
	attach := `{"properties":{"computeType":"AKS","resourceId":"` + cluster + `","properties":{"clusterPurpose":"DevTest"}}}`
	create := Options{Preconditions: arm.Preconditions{IfNoneMatch: true}}
	_, err := h.put(t, "ws1", "dup3", attach, create)
	if ae := armError(t, err); ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "already exists") {
		t.Fatalf("attach of an existing compute = %v, want 409 already exists", err)
	}
	op, err := h.s.Delete(ctx, testSub, "rg", "ws1", "dup3", "Detach", arm.Preconditions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{attach, `{"properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`} {
		_, err = h.put(t, "ws1", "DUP3", body, create)
		ae := armError(t, err)
		want := "Compute 'dup3' is deleting (operation " + op.ID + "); wait for it to finish, then retry."
		if ae.Status != http.StatusConflict || ae.Code != arm.CodeOperationInProgress || ae.Message != want {
			t.Errorf("create while deleting = %d %s %q, want 409 %s %q", ae.Status, ae.Code, ae.Message, arm.CodeOperationInProgress, want)
		}
	}
}
