package api

import (
	"net/http"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestComputeReads: a GET of a compute answers from its row alone, and a miss still says
// what is missing — the workspace, or the compute in it; a list of an empty workspace is
// empty and one of a missing workspace a 404.
func TestComputeReads(t *testing.T) {
	t.Parallel()
	a := newAPIServer(t, Config{})
	base := benchComputes(t, a, 2)
	const v = "?api-version=2024-04-01"
	if ans := a.call(t, a.reader, "GET", base+"/C1"+v, ""); ans.status != http.StatusOK || ans.body["name"] != "c1" {
		t.Errorf("GET c1 (any case) = %d %s", ans.status, ans.raw)
	}
	if ans := a.call(t, a.reader, "GET", base+"/nope"+v, ""); ans.status != http.StatusNotFound || testutil.Field(ans.body, "error.code") != "ResourceNotFound" {
		t.Errorf("GET of a missing compute = %d %s", ans.status, ans.raw)
	}
	other := "/subscriptions/" + testSub + "/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/ws2/computes"
	if ans := a.call(t, a.reader, "GET", other+"/c1"+v, ""); ans.status != http.StatusNotFound || testutil.Field(ans.body, "error.code") != "WorkspaceNotFound" {
		t.Errorf("GET in a missing workspace = %d %s", ans.status, ans.raw)
	}
	if ans := a.call(t, a.reader, "GET", other+v, ""); ans.status != http.StatusNotFound || testutil.Field(ans.body, "error.code") != "WorkspaceNotFound" {
		t.Errorf("list of a missing workspace = %d %s", ans.status, ans.raw)
	}
	if ans := a.call(t, a.admin, "PUT", "/subscriptions/"+testSub+"/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/ws2"+v, `{"location":"westus"}`); ans.status >= 300 {
		t.Fatalf("create workspace: %d %s", ans.status, ans.raw)
	}
	if ans := a.call(t, a.reader, "GET", other+v, ""); ans.status != http.StatusOK || len(ans.body["value"].([]any)) != 0 {
		t.Errorf("list of an empty workspace = %d %s", ans.status, ans.raw)
	}
	if ans := a.call(t, a.reader, "GET", base+v+"&$top=1", ""); ans.status != http.StatusOK || len(ans.body["value"].([]any)) != 1 || ans.body["nextLink"] == nil {
		t.Errorf("first page of one = %d %s", ans.status, ans.raw)
	}
}
