package server

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// TestScoringSandbox: scoring scripts are kept from the home, the CLI configuration of the
// server's user, a SQLite store kept elsewhere with its journal files and the replica key
// file, all as absolute paths; --unsandboxed-scoring is carried into the policy.
func TestScoringSandbox(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MLFLEET_HOME", filepath.Join(dir, "cli"))
	t.Chdir(dir)
	p := scoringSandbox(Config{Home: filepath.Join(dir, "home"), StoreDSN: "sqlite:///srv/state.db?_pragma=busy_timeout(5000)",
		SecretKeyFile: "replica.key"})
	def, err := clientconfig.DefaultHome()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{filepath.Join(dir, "home"), filepath.Join(dir, "cli"), def, "/srv/state.db", "/srv/state.db-wal",
		"/srv/state.db-shm", filepath.Join(dir, "replica.key")} {
		if !slices.Contains(p.Hide, want) {
			t.Errorf("hidden paths %q lack %s", p.Hide, want)
		}
	}
	if p.Unsandboxed {
		t.Error("sandboxed by default: Unsandboxed is set")
	}
	if p := scoringSandbox(Config{Home: dir, UnsandboxedScoring: true}); !p.Unsandboxed {
		t.Error("--unsandboxed-scoring: Unsandboxed is not set")
	}
}

// TestWarnSandbox: serve warns at start when scripts run unsandboxed, and when they cannot
// run sandboxed (here because this test binary, whose TestMain does not call
// sandbox.Init, cannot be the stub), saying that deployments will not start and why.
func TestWarnSandbox(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	for _, tc := range []struct {
		name   string
		policy sandbox.Policy
		want   []string
	}{
		{"unsandboxed", sandbox.Policy{Unsandboxed: true}, []string{"WARNING: --unsandboxed-scoring", "can read the admin token"}},
		{"no sandbox", sandbox.Policy{}, []string{"WARNING: online deployments on embedded clusters will not start", "scoring sandbox unavailable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, logs bytes.Buffer
			warnSandbox(context.Background(), &out, slog.New(slog.NewTextHandler(&logs, nil)), python, tc.policy)
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("serve says %q, want %q", out.String(), want)
				}
			}
			if logs.Len() == 0 {
				t.Error("nothing logged")
			}
		})
	}
}
