package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
)

// TestWarnCatalog: serve warns, on its output and in its log, when a --versions-file
// lists none of the versions the embedded provider runs in a location, naming the
// locations and the version to add; the built-in catalog and a file that lists it
// everywhere draw no warning.
func TestWarnCatalog(t *testing.T) {
	runs := []string{"1.37.2"}
	for _, tc := range []struct {
		name, body string
		want       []string // "": no warning
	}{
		{name: "newer versions only", body: `{"locations": {"*": [{"version": "1.38.0", "default": true}, {"version": "1.39.1", "preview": true}]}}`,
			want: []string{"WARNING: the version catalog ", "lists none of the Kubernetes versions the embedded provider runs (1.37.2) in '*' (every location without a list of its own): no embedded cluster can be created there",
				"Add 1.37.2 to the versions file"}},
		{name: "one location without it", body: `{"locations": {"*": [{"version": "1.37.2", "default": true}], "eastus": [{"version": "1.38.0", "default": true}]}}`,
			want: []string{"runs (1.37.2) in eastus: no embedded cluster"}},
		{name: "listed everywhere", body: `{"locations": {"*": [{"version": "1.37.2", "default": true}], "eastus": [{"version": "1.37.2"}, {"version": "1.38.0", "default": true}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "versions.json")
			if err := os.WriteFile(file, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			versions, err := catalog.LoadVersions(file)
			if err != nil {
				t.Fatal(err)
			}
			var out, logs bytes.Buffer
			warnCatalog(&out, slog.New(slog.NewTextHandler(&logs, nil)), versions, file, runs)
			if tc.want == nil {
				if out.Len() > 0 || logs.Len() > 0 {
					t.Errorf("warned: %s %s", out.String(), logs.String())
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q does not say %q", out.String(), w)
				}
			}
			if !strings.Contains(out.String(), file) || !strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("output %q does not name %s, or log %q has no warning", out.String(), file, logs.String())
			}
		})
	}
	var out bytes.Buffer
	warnCatalog(&out, slog.New(slog.NewTextHandler(&out, nil)), catalog.DefaultVersions(), "", runs)
	if out.Len() > 0 {
		t.Errorf("the built-in catalog drew a warning: %s", out.String())
	}
}
