package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGetAccessTokenExpiresIn: --expires-in 0 or below is a usage error with no request
// sent; left out, the request names no lifetime, so the server picks its default.
func TestGetAccessTokenExpiresIn(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	// A fake token endpoint: the CLI's side of the exchange is what is under test.
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"accessToken": "mlf_x", "tokenType": "Bearer", "role": "Owner", "expiresOn": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}))
	t.Cleanup(fake.Close)
	for _, v := range []string{"0", "0s", "-5m"} {
		_, errOut, code := runAgainst(t, fake, "account", "get-access-token", "--expires-in", v)
		if code != 2 || !strings.Contains(errOut, "--expires-in must be a positive duration") {
			t.Errorf("--expires-in %s: exit %d, stderr %q; want exit 2 and the advice", v, code, errOut)
		}
	}
	if _, errOut, code := runAgainst(t, fake, "account", "get-access-token"); code != 0 {
		t.Fatalf("default: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runAgainst(t, fake, "account", "get-access-token", "--expires-in", "2h"); code != 0 {
		t.Fatalf("2h: exit %d: %s", code, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("%d requests sent, want 2: %v", len(bodies), bodies)
	}
	if _, ok := bodies[0]["expiresInSeconds"]; ok {
		t.Errorf("default request %v names a lifetime", bodies[0])
	}
	if bodies[1]["expiresInSeconds"] != float64(7200) {
		t.Errorf("2h request %v, want expiresInSeconds 7200", bodies[1])
	}
}
