package inference

import (
	"os"
	"testing"

	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// TestMain lets this test binary serve as the sandbox stub of the processes it starts.
func TestMain(m *testing.M) {
	sandbox.Init()
	os.Exit(m.Run())
}
