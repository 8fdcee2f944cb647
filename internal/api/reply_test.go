package api

import (
	"net/http"
	"testing"
)

// TestNotServed: a server configured without online endpoints, assets or blobs answers
// their routes with 501 and says what it does not serve.
func TestNotServed(t *testing.T) {
	a := newTestARM(t)
	a.group(t, "rg1")
	ws := subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	for _, tc := range []struct {
		name, method, path, message string
	}{
		{"endpoints", http.MethodGet, ws + "/onlineEndpoints", "This server does not serve online endpoints."},
		{"deployment delete", http.MethodDelete, ws + "/onlineEndpoints/ep/deployments/d", "This server does not serve online endpoints."},
		{"models", http.MethodGet, ws + "/models", "This server does not serve models, codes and environments."},
		{"blob upload", http.MethodPut, ws + "/blobs", "This server does not serve blobs."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := a.call(t, a.owner, tc.method, tc.path+"?api-version=2023-04-01", nil)
			e, _ := body["error"].(map[string]any)
			if status != http.StatusNotImplemented || e["message"] != tc.message {
				t.Fatalf("%s %s: %d %v, want 501 %q", tc.method, tc.path, status, body, tc.message)
			}
		})
	}
}
