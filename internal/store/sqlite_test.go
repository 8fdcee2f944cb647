package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// schemaMigrations returns version -> applied_at from s's schema_migrations table.
func schemaMigrations(t *testing.T, s Store) map[int]int64 {
	t.Helper()
	rows, err := s.(*sqlStore).db.QueryContext(context.Background(), `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	m := map[int]int64{}
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		m[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSQLiteReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")

	s := mustOpen(t, path)
	r := mustCreate(t, s, resource(subID, rgType, "Kept"))
	mustCreateOp(t, s, operation("kept-op", r.ID, ms))
	first := schemaMigrations(t, s)
	migs, err := loadMigrations(sqliteDialect)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(migs) {
		t.Fatalf("schema_migrations has %d rows, want %d", len(first), len(migs))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, "sqlite://"+path)
	got, err := s.GetResource(ctx, r.ID)
	if err != nil {
		t.Fatalf("GetResource after reopen: %v", err)
	}
	checkResource(t, got, r)
	if _, err := s.GetOperation(ctx, "kept-op"); err != nil {
		t.Fatalf("GetOperation after reopen: %v", err)
	}
	second := schemaMigrations(t, s)
	for v, at := range first {
		if second[v] != at {
			t.Errorf("migration %d re-applied: applied_at %d, then %d", v, at, second[v])
		}
	}
	if len(second) != len(first) {
		t.Errorf("schema_migrations grew from %d to %d rows", len(first), len(second))
	}
	applied, err := migrate(ctx, s.(*sqlStore).db, sqliteDialect)
	if err != nil || len(applied) != 0 {
		t.Fatalf("migrate on an up-to-date database applied %v, %v", applied, err)
	}
}

func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, filepath.Join(t.TempDir(), "state.db?_pragma=cache_size(-4000)"))
	db := s.(*sqlStore).db
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "10000",
		"foreign_keys": "1",
		"cache_size":   "-4000", // a parameter given in the DSN
	} {
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
	if got := db.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", got)
	}
}

func TestSQLiteRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, dsn := range []string{"relative.db", "sqlite://relative.db", "./relative.db"} {
		s := mustOpen(t, dsn)
		mustCreate(t, s, resource(subID, rgType, dsn))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := mustOpen(t, "relative.db")
	got, err := s.ListResources(context.Background(), ListOptions{})
	if err != nil || len(got) != 3 {
		t.Fatalf("all three DSNs should name one file: %d resources, %v", len(got), err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dsn, want string
	}{
		{"empty", "", "empty path"},
		{"empty sqlite path", "sqlite://", "empty path"},
		{"unknown scheme", "mysql://user@host/db", `unknown scheme "mysql"`},
		{"bad postgres url", "postgres://user@host:notaport/db", "parse postgres dsn"},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), "connect sqlite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.dsn)
			if err == nil {
				s.Close()
			}
			testutil.WantErr(t, err, tt.want)
		})
	}
}

func TestSQLiteNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s := mustOpen(t, path)
	if _, err := s.(*sqlStore).db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(context.Background(), path)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	if !strings.Contains(err.Error(), "9999") {
		t.Fatalf("Open = %v, want it to name migration 9999", err)
	}
}

func TestMigrationsMatch(t *testing.T) {
	t.Parallel()
	lite, err := loadMigrations(sqliteDialect)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(postgresDialect)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].name != pg[i].name {
			t.Errorf("migration %d is %s for sqlite, %s for postgres", i+1, lite[i].name, pg[i].name)
		}
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`
	if got := sqliteDialect.rebind(q); got != q {
		t.Errorf("sqlite rebind = %q", got)
	}
	if got, want := postgresDialect.rebind(q), `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`; got != want {
		t.Errorf("postgres rebind = %q, want %q", got, want)
	}
}
