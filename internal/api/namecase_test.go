package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestNamesKeepTheirCreatedCase: names are case-insensitive and case-preserving (A1), as
// ARM's RPC asks of a PUT (RPC-V2-PUT-3: a GET through another casing answers the name as
// created). An endpoint and an environment version created through paths that case the
// group (rg1) and workspace (ws1) otherwise get ids spelling them as created; a PUT, a PATCH
// and GETs through yet other casings answer the id and name the endpoint was created with,
// and the group's generic resource list spells the group one way.
func TestNamesKeepTheirCreatedCase(t *testing.T) {
	a, srv := endpointARMRunning(t, endpoints.Config{})
	const v = "?api-version=2023-04-01"
	ws := func(rg, w string) string {
		return subURL + "/resourceGroups/" + rg + "/providers/Microsoft.MachineLearningServices/workspaces/" + w
	}
	epID := assetWS + "/onlineEndpoints/EpTwo"
	// check fails t unless body is the endpoint as created.
	check := func(what string, status int, body map[string]any, wantStatus int) {
		t.Helper()
		if status != wantStatus || body["id"] != epID || body["name"] != "EpTwo" {
			t.Errorf("%s: %d id %v name %v, want %d, %s, EpTwo", what, status, body["id"], body["name"], wantStatus, epID)
		}
	}
	settled := func(path string) { t.Helper(); settleEndpoint(t, a, srv, path) }
	key := map[string]any{"location": "westus", "properties": map[string]any{"authMode": "Key"}}

	status, body := jsonCall(t, a, srv, a.owner, http.MethodPut, ws("RG1", "WS1")+"/onlineEndpoints/EpTwo"+v, key)
	check("create through RG1/WS1", status, body, http.StatusCreated)
	settled(epID)
	status, body = jsonCall(t, a, srv, a.owner, http.MethodPut, ws("Rg1", "Ws1")+"/onlineEndpoints/EPTWO"+v, key)
	check("PUT through EPTWO", status, body, http.StatusOK)
	settled(epID)
	status, body = jsonCall(t, a, srv, a.owner, http.MethodPatch, ws("rG1", "wS1")+"/onlineEndpoints/eptwo"+v, map[string]any{"tags": map[string]string{"team": "a"}})
	check("PATCH through eptwo", status, body, http.StatusAccepted)
	settled(epID)
	for _, path := range []string{ws("RG1", "ws1") + "/onlineEndpoints/eptwo", ws("rg1", "WS1") + "/onlineEndpoints/EPTWO"} {
		status, body = jsonCall(t, a, srv, a.owner, http.MethodGet, path+v, nil)
		check("GET "+path, status, body, http.StatusOK)
		if uri, _ := testutil.Field(body, "properties.scoringUri").(string); uri != "" && !strings.Contains(uri, "/EpTwo/") {
			t.Errorf("GET %s: scoring URI %s does not name EpTwo", path, uri)
		}
	}
	status, body = jsonCall(t, a, srv, a.owner, http.MethodGet, ws("RG1", "Ws1")+"/onlineEndpoints"+v, nil)
	if values, _ := body["value"].([]any); status != http.StatusOK || len(values) != 1 || values[0].(map[string]any)["id"] != epID {
		t.Errorf("list through RG1/Ws1: %d %v, want the one endpoint with id %s", status, body, epID)
	}

	env := map[string]any{"properties": map[string]any{"image": "python:3.12"}}
	status, body = jsonCall(t, a, srv, a.owner, http.MethodPut, ws("rg1", "ws1")+"/environments/env/versions/1"+v, env)
	if status != http.StatusCreated {
		t.Fatalf("environment env:1: %d %v", status, body)
	}
	status, body = jsonCall(t, a, srv, a.owner, http.MethodPut, ws("RG1", "WS1")+"/environments/ENV/versions/2"+v, env)
	if want := assetWS + "/environments/env/versions/2"; status != http.StatusCreated || body["id"] != want {
		t.Errorf("environment ENV:2 through RG1/WS1: %d id %v, want 201, %s", status, body["id"], want)
	}

	status, body = jsonCall(t, a, srv, a.owner, http.MethodGet, subURL+"/resourceGroups/RG1/resources?api-version=2021-04-01", nil)
	values, _ := body["value"].([]any)
	if status != http.StatusOK || len(values) == 0 {
		t.Fatalf("generic list: %d %v", status, body)
	}
	for _, r := range values {
		if id, _ := r.(map[string]any)["id"].(string); !strings.HasPrefix(id, subURL+"/resourceGroups/rg1/") {
			t.Errorf("generic list: %s does not spell the group rg1 as created", id)
		}
	}
}
