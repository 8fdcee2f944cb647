package inference

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// ResolvePython returns the absolute path of the interpreter that name (a command or a
// path) runs, as Python itself reports it (sys.executable), so that wrappers such as pyenv
// shims, which need the caller's environment, are looked through once here and the
// processes can run with a minimal environment.
func ResolvePython(ctx context.Context, name string) (string, error) {
	if name == "" {
		name = "python3"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, "-c", "import sys; print(sys.executable); assert sys.version_info >= (3, 8), 'Python 3.8 or newer is needed'").Output()
	if err != nil {
		msg := err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("python interpreter %q (serve --python): %s", name, msg)
	}
	path := strings.TrimSpace(string(out))
	if path == "" {
		return "", fmt.Errorf("python interpreter %q (serve --python) reports no sys.executable", name)
	}
	return path, nil
}
