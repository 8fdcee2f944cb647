package clientconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadCorrupt: a config file that is not JSON is refused with its path, and with the
// way out: it is derived, so deleting it and starting serve again rewrites it.
func TestLoadCorrupt(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, FileName)
	if err := os.WriteFile(path, []byte("bad{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(home)
	if err == nil {
		t.Fatal("Load of a corrupt config succeeded")
	}
	for _, want := range []string{"parse " + path, "the file is derived: delete it and start 'mlfleet serve' again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load = %q, want it to contain %q", err, want)
		}
	}
}
