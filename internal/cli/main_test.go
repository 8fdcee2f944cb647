package cli

import (
	"os"
	"testing"

	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// TestMain lets this test binary serve as the sandbox stub of the servers `serve` starts
// in it (their start checks the sandbox of scoring scripts).
func TestMain(m *testing.M) {
	sandbox.Init()
	os.Exit(m.Run())
}
