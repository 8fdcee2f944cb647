package browser

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/test/testserver"
)

// TestStudioServerGone: when the server goes away, Refresh shows the NetworkError with the
// hint the CLI gives ("Is mlfleet serve running at <origin>?"), and the status line beside
// Refresh says that the refresh failed and when the list shown was last updated, instead of
// "Updated <time>" as if it had worked. The test runs its own server, which it stops.
func TestStudioServerGone(t *testing.T) {
	requireChromium(t)
	srv, err := testserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := srv.Stop(); err != nil {
				t.Errorf("server stopped with: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	workspace(t, srv.Client(t), "rg-gone", "ws-gone")
	token, err := srv.Config.ReadToken()
	if err != nil {
		t.Fatal(err)
	}
	s := openStudioOn(t, srv, 1280, 800)
	s.signIn(token, "rg-gone", "ws-gone")
	s.waitFor("the status line", `document.getElementById("refresh-status").innerText.startsWith("Updated ")`, 10*time.Second)
	updated, _, _ := strings.Cut(strings.TrimPrefix(s.text("#refresh-status"), "Updated "), " · ")

	stop()
	s.click("#refresh-button")
	s.waitFor("the network error", `document.querySelector("#list-error .error-box")`, 20*time.Second)
	if got, want := s.text("#list-error"), "Is mlfleet serve running at "+srv.Config.Server+"?"; !strings.Contains(got, "NetworkError") || !strings.Contains(got, want) {
		t.Errorf("list error = %q, want a NetworkError saying %q", got, want)
	}
	status := s.text("#refresh-status")
	if !strings.HasPrefix(status, "Refresh failed at ") || !strings.Contains(status, "(last updated "+updated+")") ||
		!strings.Contains(status, "retrying every 30 s") || strings.Contains(status, "Updated") {
		t.Errorf("status line = %q, want it to say the refresh failed and that the list was last updated at %s", status, updated)
	}
	s.shot("40-server-gone")
}
