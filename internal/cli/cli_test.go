package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestIsCobraUsage: cobra's and pflag's parse errors are usage errors (exit 2); an answer of
// the server is not, even when its message has words cobra uses, and neither is an error
// that only contains them further on.
func TestIsCobraUsage(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errors.New(`unknown command "extra" for "mlfleet ml computetarget show"`), true},
		{errors.New("accepts 1 arg(s), received 2"), true},
		{errors.New(`required flag(s) "name" not set`), true},
		{errors.New("requires at least 1 arg(s), only received 0"), true},
		{&mlfleet.Error{StatusCode: 400, Code: "BadRequest", Message: "Cluster 'c1' accepts API server connections only from 10.0.0.0/8."}, false},
		{fmt.Errorf("attach: %w", &mlfleet.Error{StatusCode: 400, Code: "InvalidParameter", Message: "invalid argument"}), false},
		{errors.New("read deployment.yml: line 3: unknown flag style"), false},
	}
	for _, tt := range tests {
		if got := isCobraUsage(tt.err); got != tt.want {
			t.Errorf("isCobraUsage(%q) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
