package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestEndpointLocationIsTheWorkspaces: an online endpoint is in its workspace's location
// (Azure ML), as a workspace's location is checked and never changes (QA9 #14). An unknown
// region ("mars") or another one than the workspace's is a 400 naming the workspace's
// location; no location, or the workspace's in another spelling ("West US"), is taken; an
// update to another region is a 409, as for a workspace; a body of null is a 400 like [],
// not an endpoint of defaults.
func TestEndpointLocationIsTheWorkspaces(t *testing.T) {
	a, srv := endpointARMRunning(t, endpoints.Config{})
	const v = "?api-version=2023-04-01"
	body := func(loc string) map[string]any {
		b := map[string]any{"properties": map[string]any{"authMode": "Key"}}
		if loc != "" {
			b["location"] = loc
		}
		return b
	}
	for _, tc := range []struct {
		name, loc string
		want      int
	}{
		{"mars", "mars", http.StatusBadRequest},
		{"another", "eastus", http.StatusBadRequest},
		{"display", "West US", http.StatusCreated},
		{"none", "", http.StatusCreated},
	} {
		status, ans := jsonCall(t, a, srv, a.owner, http.MethodPut, assetWS+"/onlineEndpoints/loc-"+tc.name+v, body(tc.loc))
		if status != tc.want {
			t.Errorf("location %q: %d %v, want %d", tc.loc, status, ans, tc.want)
			continue
		}
		if status == http.StatusBadRequest {
			if msg := fmt.Sprint(testutil.Field(ans, "error.message")); testutil.Field(ans, "error.target") != "location" || !strings.Contains(msg, `use "location": "westus"`) {
				t.Errorf("location %q: %v", tc.loc, ans)
			}
			continue
		}
		if ans["location"] != "westus" {
			t.Errorf("location %q stored as %v, want westus", tc.loc, ans["location"])
		}
	}
	settleEndpoint(t, a, srv, assetWS+"/onlineEndpoints/loc-display")
	path := assetWS + "/onlineEndpoints/loc-display" + v
	if status, ans := jsonCall(t, a, srv, a.owner, http.MethodPut, path, body("eastus")); status != http.StatusConflict ||
		!strings.Contains(fmt.Sprint(testutil.Field(ans, "error.message")), "already exists in location 'westus'") {
		t.Errorf("moving to eastus: %d %v", status, ans)
	}
	if status, ans := jsonCall(t, a, srv, a.owner, http.MethodPut, path, body("westus")); status != http.StatusOK {
		t.Errorf("an update in its own location: %d %v", status, ans)
	}
	for _, raw := range []string{"null", " null\n", "[]"} {
		status, ans := jsonCall(t, a, srv, a.owner, http.MethodPut, assetWS+"/onlineEndpoints/loc-null"+v, json.RawMessage(raw))
		if status != http.StatusBadRequest || testutil.Field(ans, "error.code") != "InvalidRequestContent" {
			t.Errorf("body %q: %d %v", raw, status, ans)
		}
	}
}
