package store

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveSQLite: a relative SQLite path, as sqlite://PATH or bare, is made absolute in
// the given directory (a server's data directory), with its parameters kept; absolute
// paths, SQLite's special names and PostgreSQL URLs are left as they are.
func TestResolveSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, dsn, want string }{
		{"sqlite URL", "sqlite://relative.db", "sqlite://" + filepath.Join(dir, "relative.db")},
		{"bare path", "sub/relative.db", "sqlite://" + filepath.Join(dir, "sub", "relative.db")},
		{"dot path", "./relative.db", "sqlite://" + filepath.Join(dir, "relative.db")},
		{"parameters kept", "sqlite://relative.db?_pragma=query_only(1)", "sqlite://" + filepath.Join(dir, "relative.db") + "?_pragma=query_only(1)"},
		{"absolute URL", "sqlite:///var/lib/mlfleet/state.db", "sqlite:///var/lib/mlfleet/state.db"},
		{"absolute bare", "/var/lib/mlfleet/state.db", "/var/lib/mlfleet/state.db"},
		{"memory", ":memory:", ":memory:"},
		{"postgres", "postgres://mlfleet:secret@db:5432/mlfleet", "postgres://mlfleet:secret@db:5432/mlfleet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveSQLite(tc.dsn, dir)
			if err != nil || got != tc.want {
				t.Errorf("ResolveSQLite(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
			}
		})
	}
	if _, err := ResolveSQLite("mysql://x", dir); err == nil || !strings.Contains(err.Error(), `unknown scheme "mysql"`) {
		t.Errorf("ResolveSQLite(mysql://x) = %v, want the unknown scheme error", err)
	}
}

// TestSQLiteFile: the file of a SQLite DSN, which the scoring sandbox hides, whatever form
// the DSN takes; none for PostgreSQL and in-memory databases.
func TestSQLiteFile(t *testing.T) {
	for _, tc := range []struct{ name, dsn, want string }{
		{"sqlite URL", "sqlite:///var/lib/mlfleet/state.db?_pragma=busy_timeout(5000)", "/var/lib/mlfleet/state.db"},
		{"bare path", "/srv/m.db", "/srv/m.db"},
		{"file URI", "file:/srv/m.db?cache=shared", "/srv/m.db"},
		{"memory", ":memory:", ""},
		{"postgres", "postgres://mlfleet:secret@db:5432/mlfleet", ""},
		{"unknown scheme", "mysql://x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SQLiteFile(tc.dsn)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("SQLiteFile(%q) = %q, %v; want %q", tc.dsn, got, ok, tc.want)
			}
		})
	}
}

// TestDescribe: a store is named for the banner and the log as sqlite:///abs/path, or
// as its PostgreSQL URL without the password, wherever the URL carries it.
func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ name, dsn, want string }{
		{"sqlite URL", "sqlite:///var/lib/mlfleet/state.db?_pragma=query_only(1)", "sqlite:///var/lib/mlfleet/state.db"},
		{"bare path", "/var/lib/mlfleet/state.db", "sqlite:///var/lib/mlfleet/state.db"},
		{"postgres without a password", "postgres://mlfleet@db:5432/mlfleet?sslmode=disable", "postgres://mlfleet@db:5432/mlfleet?sslmode=disable"},
		{"postgres with a password", "postgres://mlfleet:s3cret@db:5432/mlfleet", "postgres://mlfleet:xxxxx@db:5432/mlfleet"},
		{"password parameter", "postgresql://db/mlfleet?user=mlfleet&password=s3cret", "postgresql://db/mlfleet?password=xxxxx&user=mlfleet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Describe(tc.dsn); got != tc.want || strings.Contains(got, "s3cret") {
				t.Errorf("Describe(%q) = %q, want %q", tc.dsn, got, tc.want)
			}
		})
	}
}
