package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStartWithoutInit: a binary whose main does not call Init cannot be its own stub (a
// test binary would run its tests again), so Start refuses and says why; the opt-out
// still starts the program. This test binary does not call Init.
func TestStartWithoutInit(t *testing.T) {
	err := Policy{}.Start(exec.Command("/bin/sh", "-c", "exit 0"))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "sandbox.Init") {
		t.Fatalf("Start without Init = %v, want ErrUnavailable naming sandbox.Init", err)
	}
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	if err := (Policy{Unsandboxed: true}).Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestHidden: the paths to hide are resolved through symbolic links; missing ones, those
// inside another hidden directory and a kept directory itself are left out.
func TestHidden(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "home")
	for _, d := range []string{filepath.Join(home, "pki"), filepath.Join(root, "keep")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	key := filepath.Join(root, "replica.key")
	if err := os.WriteFile(key, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(home, link); err != nil {
		t.Fatal(err)
	}
	got, err := hidden([]string{link, filepath.Join(home, "pki"), key, filepath.Join(root, "missing"), filepath.Join(root, "keep")},
		[]target{{path: filepath.Join(root, "keep"), dir: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := []target{{path: home, dir: true}, {path: key}}
	if !slices.Equal(got, want) {
		t.Fatalf("hidden = %+v, want %+v", got, want)
	}
	if _, err := hidden([]string{"relative/home"}, nil); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Fatalf("a relative path: %v, want it refused", err)
	}
}
