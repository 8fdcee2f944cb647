package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnavailable: a real SQLite file that cannot take a write (its size limit reached,
// as on a full disk, or read-only) answers writes, or Open, with ErrUnavailable, an
// *UnavailableError that names the file and what the operator must do, and says it to API
// clients without the file's path (ClientHint); reads still work.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// pragma is the connection setting that makes the file refuse writes:
		// max_page_count(1) is clamped to the file's current size, so any write that needs
		// a new page fails with SQLITE_FULL, as on a full disk.
		pragma string
		// atOpen: Open refuses the file already (its migration transaction begins
		// IMMEDIATE, a write).
		atOpen     bool
		wantReason UnavailableReason
		wantHint   string
		// wantClientHint is in ClientHint, what API clients are told.
		wantClientHint string
	}{
		{"full", "max_page_count(1)", false, ReasonFull, "free space on the file system of ",
			"free space on the file system of the server's data directory"},
		{"read-only", "query_only(1)", true, ReasonReadOnly, "writable by the user running mlfleet serve",
			"the server's database file and its directory writable by the user running mlfleet serve"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, "mlfleet.db")
			setup := mustOpen(t, path)
			kept := mustCreate(t, setup, resource(subID, rgType, "kept"))
			if err := setup.Close(); err != nil {
				t.Fatal(err)
			}

			var s Store
			var err error
			if tt.atOpen {
				s, err = Open(ctx, path+"?_pragma="+tt.pragma)
				if err == nil {
					s.Close()
				}
			} else {
				s = mustOpen(t, path+"?_pragma="+tt.pragma)
				big := resource(subID, rgType, "big")
				big.Body = []byte(`{"pad":"` + strings.Repeat("x", 64<<10) + `"}`)
				err = s.CreateResource(ctx, big)
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("CreateResource = %v, want ErrUnavailable", err)
			}
			var ue *UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("CreateResource = %T %v, want an *UnavailableError", err, err)
			}
			if ue.Reason != tt.wantReason || ue.Where != path {
				t.Errorf("UnavailableError = {Where %q, Reason %q}, want {%q, %q}", ue.Where, ue.Reason, path, tt.wantReason)
			}
			for _, want := range []string{path, tt.wantHint} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if tt.wantReason == ReasonFull && !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the data directory %s", err, dir)
			}
			// What API clients are told says what the operator must do, without the host's
			// paths: the error itself, with them, is for the server log.
			if hint := ue.ClientHint(); !strings.Contains(hint, tt.wantClientHint) || strings.Contains(hint, dir) {
				t.Errorf("ClientHint = %q, want it to contain %q and not the data directory %s", hint, tt.wantClientHint, dir)
			}
			if tt.atOpen {
				return
			}
			if _, err := s.GetResource(ctx, kept.ID); err != nil {
				t.Errorf("read after a refused write: %v", err)
			}
		})
	}
}
