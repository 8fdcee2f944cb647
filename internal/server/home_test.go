package server

import (
	"os"
	"strings"
	"testing"
)

// TestRestrictHome: a home of one's own is made private (0700) whatever its mode was.
func TestRestrictHome(t *testing.T) {
	home := t.TempDir()
	if err := os.Chmod(home, 0o500); err != nil {
		t.Fatal(err)
	}
	if err := restrictHome(home); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(home)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("home mode %v, want 0700", fi.Mode().Perm())
	}
}

// TestHomeNotOwnedError: the error of a home another user owns (root's, serve run as
// nobody, as QA ran it) names both users and the ways out, with the chmod error kept. The
// chmod itself cannot fail for the root that runs these tests, so the message is checked
// alone.
func TestHomeNotOwnedError(t *testing.T) {
	home := t.TempDir()
	chmodErr := &os.PathError{Op: "chmod", Path: home, Err: os.ErrPermission}
	msg := notOwnedError(home, 0, 65534, chmodErr).Error()
	for _, want := range []string{
		"home " + home + " belongs to root (uid 0), not to ",
		"uid 65534", "who runs mlfleet serve",
		"chmod " + home + ": permission denied",
		"run mlfleet serve as root (uid 0)",
		"chown -R 65534 " + home,
		"--data-dir or MLFLEET_HOME",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}
