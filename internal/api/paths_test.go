package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
)

func TestCheckPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		ok         bool
	}{
		{"resource", "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/c", true},
		{"trailing slash", "/subscriptions/s/resourceGroups/rg/", false},
		{"dots inside a name", "/subscriptions/s/resourceGroups/my.rg..x", true},
		{"encoded space", "/subscriptions/s/resourceGroups/a%20b", true},
		{"dot dot", "/subscriptions/s/resourceGroups/rg/providers/X/workspaces/ws/computes/..", false},
		{"dot", "/subscriptions/s/resourceGroups/./x", false},
		{"encoded dot dot", "/subscriptions/s/resourceGroups/%2e%2E", false},
		{"half encoded", "/subscriptions/s/resourceGroups/.%2e", false},
		{"encoded slash", "/subscriptions/s/resourceGroups/a%2Fb", false},
		{"encoded backslash", "/subscriptions/s/resourceGroups/a%5cb", false},
		{"empty segment", "/subscriptions//resourceGroups/rg", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://x"+tt.path, nil)
			err := checkPath(r)
			var ae *arm.Error
			switch {
			case tt.ok && err != nil:
				t.Fatalf("checkPath(%s) = %v, want nil", tt.path, err)
			case !tt.ok && (!errors.As(err, &ae) || ae.Status != 400 || ae.Code != arm.CodeInvalidResourceName):
				t.Fatalf("checkPath(%s) = %v, want 400 InvalidResourceName", tt.path, err)
			}
		})
	}
}

func TestServedByMux(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/": true, "/healthz": true, "/readyz": true, "/metrics": true, "/ui/app.js": true,
		"/subscriptions": false, "/subscriptions/../healthz": false, "//": false, "/mlfleet/v1/tokens": false,
	} {
		if got := servedByMux(http.MethodGet, path); got != want {
			t.Errorf("servedByMux(GET %q) = %v, want %v", path, got, want)
		}
		if servedByMux(http.MethodPost, path) {
			t.Errorf("servedByMux(POST %q) = true, want the API", path)
		}
	}
}
