package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// rawJSON sends body as it is (no marshalling, so it may be any bytes) to base+path and
// returns the status and the decoded answer.
func rawJSON(t *testing.T, base, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	ans := send(t, http.DefaultClient, req)
	return ans.status, ans.body
}

// badBody is a request whose body must be refused with 400 InvalidRequestContent and the
// given target, changing nothing that read shows.
type badBody struct {
	name, method, path, body, target string
}

// refuseBodies sends each case and checks its refusal, and that GET read answers the
// same before and after it.
func refuseBodies(t *testing.T, base, token, read string, cases []badBody) {
	t.Helper()
	_, before := rawJSON(t, base, token, http.MethodGet, read, "")
	for _, tc := range cases {
		status, out := rawJSON(t, base, token, tc.method, tc.path, tc.body)
		msg, _ := testutil.Field(out, "error.message").(string)
		target, _ := testutil.Field(out, "error.target").(string)
		if status != http.StatusBadRequest || errorCode(out) != arm.CodeInvalidRequestContent ||
			target != tc.target || !strings.Contains(msg, tc.target) {
			t.Errorf("%s: %s %s = %d %v, want 400 %s naming %q", tc.name, tc.method, tc.body, status, out, arm.CodeInvalidRequestContent, tc.target)
		}
		if _, after := rawJSON(t, base, token, http.MethodGet, read, ""); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: the refused request changed %s:\nbefore %v\nafter  %v", tc.name, read, before, after)
			before = after
		}
	}
}

// TestEndpointPutNeedsProperties (QA12 F2): an online endpoint PUT without properties, with
// properties null, or without properties.authMode is a 400 naming the field (the swagger
// requires both), and leaves the endpoint (its traffic, compute and etag) as it was; so
// is a deployment or model version PUT without properties. A wrong-typed location on an
// endpoint or deployment PATCH is refused too.
func TestEndpointPutNeedsProperties(t *testing.T) {
	a, srv := endpointARMRunning(t, endpoints.Config{})
	ep := assetWS + "/onlineEndpoints/ep1"
	const v = "?api-version=2023-10-01"
	createEndpoint(t, a, srv, ep+v, map[string]string{"team": "ml"})
	settleEndpoint(t, a, srv, ep)
	refuseBodies(t, srv, a.owner, ep+v, []badBody{
		{"empty object", http.MethodPut, ep + v, `{}`, "properties"},
		{"properties null", http.MethodPut, ep + v, `{"location":"westus","properties":null}`, "properties"},
		{"no properties, other id and name", http.MethodPut, ep + v, `{"location":"westus","name":"other","id":"` + assetWS + `/onlineEndpoints/other"}`, "properties"},
		{"no authMode", http.MethodPut, ep + v, `{"location":"westus","properties":{"description":"x"}}`, "properties.authMode"},
		{"authMode null", http.MethodPut, ep + v, `{"location":"westus","properties":{"authMode":null}}`, "properties.authMode"},
		{"deployment without properties", http.MethodPut, ep + "/deployments/blue" + v, `{"location":"westus","sku":{"capacity":1}}`, "properties"},
		{"model version without properties", http.MethodPut, assetWS + "/models/m/versions/1" + v, `{"properties":null}`, "properties"},
		{"endpoint PATCH, location a number", http.MethodPatch, ep + v, `{"location":5}`, "location"},
		{"deployment PATCH, location a number", http.MethodPatch, ep + "/deployments/blue" + v, `{"location":5}`, "location"},
	})
	// What the SDKs send stays accepted: the whole body, nulls for what is not set.
	status, out := rawJSON(t, srv, a.owner, http.MethodPut, ep+v, `{"location":"westus","tags":{"team":"ml"},"properties":{"authMode":"Key","description":null,"traffic":null,"compute":null}}`)
	if status != http.StatusOK {
		t.Errorf("PUT with nulls for optional properties = %d %v, want 200", status, out)
	}
}

// TestBodyWrongTypes (QA12 F4): a body whose location, tags or properties has the wrong
// JSON type, a tag value that is not a string, content that is not UTF-8 and an unknown
// key of a token request are each a 400 InvalidRequestContent naming the property,
// whatever the resource and whether or not its handler reads the property; nothing
// changes. Nulls for them, duplicate keys (the last wins) and a body name other than the
// URL's stay accepted, as in ARM.
func TestBodyWrongTypes(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	srv := a.srv.URL
	rg := subURL + "/resourceGroups/rg1"
	mc := succeededCluster(t, a, "rg1", "aks1", "1.36.3")
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	if status, out := a.call(t, a.owner, http.MethodPut, ws+"?api-version=2024-04-01", map[string]any{"location": "westus"}); status >= 300 {
		t.Fatalf("create workspace: %d %v", status, out)
	}
	const v = "?api-version=2024-04-01"
	refuseBodies(t, srv, a.owner, rg+v, []badBody{
		{"group PUT, properties a string", http.MethodPut, rg + v, `{"location":"westus","properties":"x"}`, "properties"},
		{"group PATCH, properties an array", http.MethodPatch, rg + v, `{"properties":[]}`, "properties"},
		{"group PATCH, tags a string", http.MethodPatch, rg + v, `{"tags":"x"}`, "tags"},
		{"group PATCH, tag not a string", http.MethodPatch, rg + v, `{"tags":{"a":5}}`, "tags.a"},
		{"group PATCH, tag not UTF-8", http.MethodPatch, rg + v, "{\"tags\":{\"a\":\"\xff\xfe\"}}", ""},
	})
	refuseBodies(t, srv, a.owner, ws+v, []badBody{
		{"workspace PATCH, location a number", http.MethodPatch, ws + v, `{"location":5}`, "location"},
	})
	refuseBodies(t, srv, a.owner, mc+v, []badBody{
		{"cluster PATCH, location a number", http.MethodPatch, mc + v, `{"location":5}`, "location"},
		{"cluster PATCH, properties a string", http.MethodPatch, mc + v, `{"properties":"x"}`, "properties"},
		{"cluster PATCH, properties an array", http.MethodPatch, mc + v, `{"properties":[]}`, "properties"},
		{"pool PUT, tags a string", http.MethodPut, mc + "/agentPools/nodepool1" + v, `{"location":"westus","tags":"x","properties":{"count":1}}`, "tags"},
		{"pool PUT, tag a number", http.MethodPut, mc + "/agentPools/nodepool1" + v, `{"tags":{"a":5},"properties":{"count":1}}`, "tags.a"},
		{"pool PUT, properties null", http.MethodPut, mc + "/agentPools/nodepool1" + v, `{"properties":null}`, "properties"},
	})
	for _, tc := range []struct{ name, body, target string }{
		{"location", `{"location":5}`, "location"},
		{"properties", `{"properties":"x"}`, "properties"},
		{"tags", `{"tags":{"a":5}}`, "tags.a"},
		{"misspelt role", `{"rol":"Reader"}`, "rol"},
	} {
		status, out := rawJSON(t, srv, a.owner, http.MethodPost, "/mlfleet/v1/tokens", tc.body)
		if status != http.StatusBadRequest || errorCode(out) != arm.CodeInvalidRequestContent || testutil.Field(out, "error.target") != tc.target {
			t.Errorf("POST /mlfleet/v1/tokens %s = %d %v, want 400 naming %q", tc.body, status, out, tc.target)
		}
	}
	for _, tc := range []struct{ name, method, path, body string }{
		{"nulls", http.MethodPatch, rg + v, `{"location":null,"tags":{"a":"1","b":null},"properties":null}`},
		{"duplicate keys, the last wins", http.MethodPatch, rg + v, `{"tags":{"a":"1"},"tags":{"a":"2"}}`},
		{"other name and id", http.MethodPatch, ws + v, `{"name":"other","id":"` + rg + `/providers/Microsoft.MachineLearningServices/workspaces/other","tags":{"a":"1"}}`},
		{"token with role", http.MethodPost, "/mlfleet/v1/tokens", `{"role":"Reader","expiresInSeconds":null}`},
	} {
		if status, out := rawJSON(t, srv, a.owner, tc.method, tc.path, tc.body); status >= 300 {
			t.Errorf("%s: %s %s = %d %v, want it accepted", tc.name, tc.method, tc.body, status, out)
		}
	}
	if _, out := rawJSON(t, srv, a.owner, http.MethodGet, rg+v, ""); testutil.Field(out, "tags.a") != "2" {
		t.Errorf("group after a PATCH with tags twice = %v, want the last tags", out)
	}
}
