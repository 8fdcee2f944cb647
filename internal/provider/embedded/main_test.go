package embedded

import (
	"os"
	"testing"

	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// TestMain lets this test binary serve as the sandbox stub of the inference processes its
// clusters start.
func TestMain(m *testing.M) {
	sandbox.Init()
	os.Exit(m.Run())
}
