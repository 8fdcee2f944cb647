package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/ui"
)

// TestStudioRoutes checks that the Studio page answers at "/" and "/ui/" while every other
// path, including "/" with another method, stays the authenticated ARM API.
func TestStudioRoutes(t *testing.T) {
	t.Parallel()
	srv, _ := catalogServer(t)
	tests := []struct {
		name, method, path string
		status             int
		studio             bool
	}{
		{name: "page", method: http.MethodGet, path: "/", status: http.StatusOK, studio: true},
		{name: "asset", method: http.MethodGet, path: "/ui/app.js", status: http.StatusOK, studio: true},
		{name: "unknown asset", method: http.MethodGet, path: "/ui/missing.js", status: http.StatusNotFound, studio: true},
		{name: "root with another method", method: http.MethodPost, path: "/", status: http.StatusUnauthorized},
		{name: "API still needs a token", method: http.MethodGet, path: "/subscriptions?api-version=2022-09-01", status: http.StatusUnauthorized},
		{name: "unknown path is the API's", method: http.MethodGet, path: "/index.html", status: http.StatusUnauthorized},
		{name: "health", method: http.MethodGet, path: "/healthz", status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			ans := send(t, srv.Client(), req)
			if ans.status != tt.status {
				t.Fatalf("%s %s = %d, want %d: %s", tt.method, tt.path, ans.status, tt.status, ans.raw)
			}
			csp := ans.header.Get("Content-Security-Policy")
			if tt.studio && csp != ui.ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy = %q, want the Studio's", csp)
			}
			if !tt.studio && csp != "" {
				t.Errorf("an API answer carries the Studio's Content-Security-Policy")
			}
			if ans.header.Get("x-ms-request-id") == "" {
				t.Errorf("no x-ms-request-id")
			}
			if tt.status == http.StatusUnauthorized && !strings.Contains(ans.raw, `"AuthenticationFailed"`) {
				t.Errorf("401 body is not the ARM error: %s", ans.raw)
			}
		})
	}
}
