package inference

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// CheckSandbox starts python in a sandbox of policy, as the inference processes will be,
// and says whether that works: mlfleet serve checks it at start, so that an operator
// learns at once why no online deployment of an embedded cluster can start. With
// policy.Unsandboxed there is nothing to check.
func CheckSandbox(ctx context.Context, python string, policy sandbox.Policy) error {
	if policy.Unsandboxed {
		return nil
	}
	var out strings.Builder
	cmd := exec.CommandContext(ctx, python, "-c", "pass")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := policy.Start(cmd); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%w: %s in its sandbox: %v: %s", sandbox.ErrUnavailable, python, err, strings.TrimSpace(out.String()))
	}
	return nil
}
