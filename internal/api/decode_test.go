package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestDecodeBodyWrongTypes: a value of the wrong type is a 400 InvalidRequestContent whose
// target is the property and whose message says what the property takes, in JSON's words:
// an integer property given 3.5 or a number too large says "integer", not "number".
func TestDecodeBodyWrongTypes(t *testing.T) {
	t.Parallel()
	type body struct {
		Location   string `json:"location"`
		Properties struct {
			Properties struct {
				AgentCount *int    `json:"agentCount"`
				Port       uint16  `json:"port"`
				Ratio      float64 `json:"ratio"`
			} `json:"properties"`
		} `json:"properties"`
	}
	for _, tc := range []struct {
		name, body, target, message string
	}{
		{"fraction for an integer", `{"properties":{"properties":{"agentCount":3.5}}}`, "properties.properties.agentCount",
			"The property 'properties.properties.agentCount' must be an integer, not 3.5."},
		{"exponent for an integer", `{"properties":{"properties":{"agentCount":1e3}}}`, "properties.properties.agentCount",
			"The property 'properties.properties.agentCount' must be an integer, not 1e3."},
		{"integer too large", `{"properties":{"properties":{"agentCount":99999999999999999999}}}`, "properties.properties.agentCount",
			"The property 'properties.properties.agentCount' must be an integer from -9223372036854775808 to 9223372036854775807, not 99999999999999999999."},
		{"negative for an unsigned integer", `{"properties":{"properties":{"port":-1}}}`, "properties.properties.port",
			"The property 'properties.properties.port' must be an integer from 0 to 65535, not -1."},
		{"string for an integer", `{"properties":{"properties":{"agentCount":"3"}}}`, "properties.properties.agentCount",
			"The property 'properties.properties.agentCount' must be an integer, not a string."},
		{"boolean for an integer", `{"properties":{"properties":{"agentCount":true}}}`, "properties.properties.agentCount",
			"The property 'properties.properties.agentCount' must be an integer, not a boolean."},
		{"object for an integer", `{"properties":{"properties":{"agentCount":{}}}}`, "properties.properties.agentCount",
			"The property 'properties.properties.agentCount' must be an integer, not an object."},
		{"string for a number", `{"properties":{"properties":{"ratio":"half"}}}`, "properties.properties.ratio",
			"The property 'properties.properties.ratio' must be of type number, not string."},
		{"number for a string", `{"location":5}`, "location", "The property 'location' must be of type string, not number."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v body
			err := decodeBody(httptest.NewRequest(http.MethodPut, "/", strings.NewReader(tc.body)), &v)
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != arm.CodeInvalidRequestContent {
				t.Fatalf("decodeBody = %v, want a 400 %s", err, arm.CodeInvalidRequestContent)
			}
			if ae.Target != tc.target || ae.Message != tc.message {
				t.Errorf("decodeBody = target %q, %q\nwant target %q, %q", ae.Target, ae.Message, tc.target, tc.message)
			}
		})
	}
}

// TestClusterPutFractionalCount: az aks scale with a node count of 3.5, through the API, is
// a 400 that says the count must be an integer.
func TestClusterPutFractionalCount(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	path := subURL + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1?api-version=2022-11-01"
	status, out := a.call(t, a.owner, http.MethodPut, path, map[string]any{"location": "westus",
		"properties": map[string]any{"agentPoolProfiles": []any{map[string]any{"name": "nodepool1", "count": 3.5}}}})
	msg, _ := testutil.Field(out, "error.message").(string)
	if status != http.StatusBadRequest || errorCode(out) != arm.CodeInvalidRequestContent ||
		testutil.Field(out, "error.target") != "properties.agentPoolProfiles.count" || !strings.Contains(msg, "must be an integer, not 3.5") {
		t.Errorf("PUT with count 3.5 = %d %v, want 400 saying the count must be an integer", status, out)
	}
}
