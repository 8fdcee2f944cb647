package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestEndpointConcurrentCreates: of many creates of one endpoint at once with
// If-None-Match, exactly one is accepted; the others get a 409, never a 500, and one set
// of keys exists.
func TestEndpointConcurrentCreates(t *testing.T) {
	a, srv := endpointARM(t, endpoints.Config{})
	path := assetWS + "/onlineEndpoints/race1?api-version=2023-04-01"
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := jsonCall(t, a, srv, a.owner, http.MethodPut, path, map[string]any{"location": "westus", "properties": map[string]any{"authMode": "Key"}}, "If-None-Match", "*")
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses %v, want one 201 and %d 409", count, n-1)
	}
	status, keys := jsonCall(t, a, srv, a.owner, http.MethodPost, assetWS+"/onlineEndpoints/race1/listKeys?api-version=2023-04-01", nil)
	if status != http.StatusOK || len(keys["primaryKey"].(string)) < 16 {
		t.Fatalf("listKeys: %d %v", status, keys)
	}
	// The endpoint's operation never ran (no engine started): a change meanwhile is refused.
	status, body := jsonCall(t, a, srv, a.owner, http.MethodPut, path, map[string]any{"location": "westus", "properties": map[string]any{"authMode": "Key"}})
	if status != http.StatusConflict {
		t.Fatalf("update while creating: %d %v", status, body)
	}
}

// createEndpoint creates the key-authenticated endpoint at path (with its api-version) in
// westus, with tags unless nil, and fails the test unless the PUT answers 201.
func createEndpoint(t *testing.T, a *testARM, srv, path string, tags map[string]string) {
	t.Helper()
	in := map[string]any{"location": "westus", "properties": map[string]any{"authMode": "Key"}}
	if tags != nil {
		in["tags"] = tags
	}
	if status, body := jsonCall(t, a, srv, a.owner, http.MethodPut, path, in); status != http.StatusCreated {
		t.Fatalf("create %s: %d %v", path, status, body)
	}
}

// TestEndpointPatchKeepsAChangeMadeMeanwhile: a PATCH merges into the endpoint as it read
// it. When another write lands between that read and the PATCH's own write (held there by
// a failpoint), the PATCH merges again on a fresh read instead of undoing that write.
func TestEndpointPatchKeepsAChangeMadeMeanwhile(t *testing.T) {
	a, srv := endpointARMRunning(t, endpoints.Config{})
	path := assetWS + "/onlineEndpoints/patched?api-version=2023-04-01"
	succeeded := func(what string) map[string]any {
		t.Helper()
		var ep map[string]any
		testutil.WaitFor(t, 30*time.Second, what+" Succeeded", func() (bool, string) {
			var status int
			status, ep = jsonCall(t, a, srv, a.owner, http.MethodGet, path, nil)
			state := testutil.Field(ep, "properties.provisioningState")
			return status == http.StatusOK && state == "Succeeded", fmt.Sprintf("%d %v", status, state)
		})
		return ep
	}
	createEndpoint(t, a, srv, path, nil)
	succeeded("the create")

	const point = "api/patch endpoint/merged"
	if err := failpoint.Arm(point + "=sleep(3s)@1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = failpoint.Arm("") })
	tagged := make(chan int, 1)
	go func() {
		status, _ := jsonCall(t, a, srv, a.owner, http.MethodPatch, path, map[string]any{"tags": map[string]string{"team": "a"}})
		tagged <- status
	}()
	testutil.WaitFor(t, 10*time.Second, "the first patch held after its merge", func() (bool, string) {
		return slices.Contains(failpoint.Names(), point), "not yet"
	})
	if status, body := jsonCall(t, a, srv, a.owner, http.MethodPatch, path, map[string]any{"properties": map[string]any{"description": "from b"}}); status != http.StatusAccepted {
		t.Fatalf("second patch: %d %v", status, body)
	}
	succeeded("the second patch")

	status := <-tagged
	if status == http.StatusConflict {
		t.Skip("the second patch's operation outlasted the first patch's pause: the race was not exercised")
	}
	if status != http.StatusAccepted {
		t.Fatalf("first patch: %d", status)
	}
	ep := succeeded("the first patch")
	if tag, desc := testutil.Field(ep, "tags.team"), testutil.Field(ep, "properties.description"); tag != "a" || desc != "from b" {
		t.Errorf("after both patches: tag %v, description %v; want both changes", tag, desc)
	}
}

// TestDeleteMissingDeployment: deleting a deployment an existing endpoint does not have
// succeeds with 204, as ARM deletes do; under a missing endpoint it is that endpoint's 404.
func TestDeleteMissingDeployment(t *testing.T) {
	a, srv := endpointARM(t, endpoints.Config{})
	const v = "?api-version=2023-04-01"
	createEndpoint(t, a, srv, assetWS+"/onlineEndpoints/hasnone"+v, nil)
	if status, body := jsonCall(t, a, srv, a.owner, http.MethodDelete, assetWS+"/onlineEndpoints/hasnone/deployments/blue"+v, nil); status != http.StatusNoContent {
		t.Errorf("delete of a deployment the endpoint lacks: %d %v, want 204", status, body)
	}
	status, body := jsonCall(t, a, srv, a.owner, http.MethodDelete, assetWS+"/onlineEndpoints/nosuch/deployments/blue"+v, nil)
	if msg := fmt.Sprint(body["error"]); status != http.StatusNotFound || !strings.Contains(msg, "nosuch") {
		t.Errorf("delete under a missing endpoint: %d %v, want 404 naming the endpoint", status, body)
	}
}

// TestOperationResultWithoutError: an operation that ended Failed or Canceled without a
// recorded error still answers its operationResults with a code a client can act on.
func TestOperationResultWithoutError(t *testing.T) {
	a, srv := endpointARM(t, endpoints.Config{})
	for status, want := range map[string][2]any{store.StatusFailed: {http.StatusInternalServerError, arm.CodeInternalServerError}, store.StatusCanceled: {http.StatusConflict, "Canceled"}} {
		op := &store.Operation{ID: "op-" + status, Kind: "test.kind", ResourceID: assetWS, SubscriptionID: testSub, Status: status, StartedAt: time.Now()}
		if err := a.st.CreateOperation(context.Background(), op); err != nil {
			t.Fatal(err)
		}
		code, body := jsonCall(t, a, srv, a.owner, http.MethodGet, subURL+"/providers/Microsoft.MachineLearningServices/operationResults/"+op.ID+"?api-version=2023-04-01", nil)
		e, _ := body["error"].(map[string]any)
		if code != want[0] || e["code"] != want[1] || e["message"] == "" {
			t.Errorf("%s operation without an error: %d %v, want %v with a message", status, code, body, want)
		}
	}
}

// TestOperationResultStoreUnavailable: an operation that ended because the store could not
// take writes answers its operationResults with 503 ServiceUnavailable, as the API answers
// the same error on a request, not with the 400 of an operation that failed on its input.
func TestOperationResultStoreUnavailable(t *testing.T) {
	a, srv := endpointARM(t, endpoints.Config{})
	op := &store.Operation{ID: "op-full", Kind: "test.kind", ResourceID: assetWS, SubscriptionID: testSub, Status: store.StatusFailed, StartedAt: time.Now(),
		Error: []byte(`{"code":"ServiceUnavailable","message":"The server cannot write to its store: its database is full."}`)}
	if err := a.st.CreateOperation(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv+subURL+"/providers/Microsoft.MachineLearningServices/operationResults/"+op.ID+"?api-version=2023-04-01", nil)
	req.Header.Set("Authorization", "Bearer "+a.owner)
	ans := send(t, http.DefaultClient, req)
	if e, _ := ans.body["error"].(map[string]any); ans.status != http.StatusServiceUnavailable || e["code"] != arm.CodeServiceUnavailable {
		t.Errorf("operationResults of an operation the full store ended: %d %s, want 503 ServiceUnavailable", ans.status, ans.raw)
	}
	// Like every 503 of the API (TestStoreFull).
	if got := ans.header.Get("Retry-After"); got != unavailableRetryAfter {
		t.Errorf("Retry-After = %q, want %q", got, unavailableRetryAfter)
	}
}

// TestTagsOfEndpoint: the Tags API (az tag update --resource-id) changes an online
// endpoint's tags through the merge a PATCH makes, and the endpoint shows them.
func TestTagsOfEndpoint(t *testing.T) {
	a, srv := endpointARMRunning(t, endpoints.Config{})
	id := assetWS + "/onlineEndpoints/tagged"
	createEndpoint(t, a, srv, id+"?api-version=2023-04-01", map[string]string{"a": "1"})
	tags := id + "/providers/Microsoft.Resources/tags/default?api-version=2022-09-01"
	var status int
	var body map[string]any
	// The create's operation must end before the endpoint takes another change.
	testutil.WaitFor(t, 30*time.Second, "the tags merged", func() (bool, string) {
		status, body = jsonCall(t, a, srv, a.owner, http.MethodPatch, tags, map[string]any{"operation": "Merge", "properties": map[string]any{"tags": map[string]string{"b": "2"}}})
		return status != http.StatusConflict, fmt.Sprintf("%d %v", status, body)
	})
	if status != http.StatusOK || testutil.Field(body, "properties.tags.a") != "1" || testutil.Field(body, "properties.tags.b") != "2" {
		t.Fatalf("merge tags of an endpoint = %d %v", status, body)
	}
	if _, ep := jsonCall(t, a, srv, a.owner, http.MethodGet, id+"?api-version=2023-04-01", nil); testutil.Field(ep, "tags.b") != "2" || testutil.Field(ep, "tags.a") != "1" {
		t.Errorf("endpoint after the Tags API = %v", ep)
	}
}

// TestDeploymentPatchRefusals: a deployment PATCH (OnlineDeployments_Update) that asks for
// what mlfleet cannot honour is a 400 naming each field and what to do instead, before any
// read; a PATCH of a deployment that does not exist is a 404, never a create.
func TestDeploymentPatchRefusals(t *testing.T) {
	a, srv := endpointARM(t, endpoints.Config{})
	const v = "?api-version=2023-04-01"
	createEndpoint(t, a, srv, assetWS+"/onlineEndpoints/patchep"+v, nil)
	path := assetWS + "/onlineEndpoints/patchep/deployments/blue" + v
	for _, tc := range []struct {
		name    string
		body    map[string]any
		targets []string
		says    string
	}{
		{"properties", map[string]any{"properties": map[string]any{"instanceType": "largeinstancetype"}}, []string{"properties"}, "PUT of the whole deployment"},
		{"sku tier and size", map[string]any{"sku": map[string]any{"capacity": 2, "tier": "Premium", "size": "L"}}, []string{"sku.tier", "sku.size"}, "properties.instanceType"},
		{"sku name", map[string]any{"sku": map[string]any{"name": "Large"}}, []string{"sku.name"}, "sku.capacity alone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := jsonCall(t, a, srv, a.owner, http.MethodPatch, path, tc.body)
			var targets []string
			details, _ := testutil.Field(body, "error.details").([]any)
			for _, d := range details {
				targets = append(targets, fmt.Sprint(testutil.Field(d, "target")))
			}
			if status != http.StatusBadRequest || testutil.Field(body, "error.code") != "UserError" || !slices.Equal(targets, tc.targets) ||
				!strings.Contains(fmt.Sprint(body["error"]), tc.says) {
				t.Errorf("PATCH %v = %d %v, want 400 UserError on %v saying %q", tc.body, status, body, tc.targets, tc.says)
			}
		})
	}
	status, body := jsonCall(t, a, srv, a.owner, http.MethodPatch, path, map[string]any{"sku": map[string]any{"capacity": 2}, "tags": map[string]string{"a": "b"}})
	if status != http.StatusNotFound || !strings.Contains(fmt.Sprint(body["error"]), "blue") {
		t.Errorf("PATCH of a missing deployment = %d %v, want 404 naming it", status, body)
	}
}
