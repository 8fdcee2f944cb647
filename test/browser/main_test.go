// Package browser drives mlfleet Studio, the web page `mlfleet serve` serves at "/", in a
// real headless Chromium (the Debian package chromium, /usr/bin/chromium) against a real
// server: one `mlfleet serve` over HTTPS on loopback, started in TestMain, shared by the
// tests. The tests click and type as a user does, check what the page shows, and check
// the outcome through the Go SDK as well.
//
// Every screen is written as a PNG to screenshots/ (git-ignored), numbered in the order of
// the scenario, so that a person can look at them. Without /usr/bin/chromium the tests
// skip, unless CI is set (then they fail).
package browser

import (
	"fmt"
	"os"
	"testing"

	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/test/testserver"
)

const chromiumPath = "/usr/bin/chromium"

// shared is the server every test talks to.
var shared struct {
	srv *testserver.Server
}

func TestMain(m *testing.M) {
	// First: this binary is the sandbox stub of the scoring processes its servers start.
	sandbox.Init()
	if _, err := os.Stat(chromiumPath); err != nil {
		os.Exit(m.Run()) // every test skips, or fails under CI (requireChromium)
	}
	// Start from an empty folder, so that every screenshot there is from this run.
	if err := os.RemoveAll(screenshotDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// A page size of 2 makes the page follow nextLink for every list it shows.
	os.Exit(testserver.Main(m.Run, func(s *testserver.Server) { shared.srv = s }, "--page-size", "2", "--health-interval", "1s"))
}

// requireChromium skips the test when Chromium is not installed, unless CI asks for every
// test to run.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
		t.Fatalf("%s is missing and CI=%s: install the Debian package chromium (.ci/run does)", chromiumPath, ci)
	}
	t.Skipf("%s is missing: install the Debian package chromium to run the browser tests", chromiumPath)
}
