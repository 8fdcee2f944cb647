package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlfleet/mlfleet/internal/store"
)

// Open opens the store at dsn (a SQLite path or a PostgreSQL URL) for t, and closes it when
// t ends; t fails when either fails.
func Open(t testing.TB, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// OpenSQLite is Open on a new SQLite file in a temporary directory of t.
func OpenSQLite(t testing.TB) store.Store {
	t.Helper()
	return Open(t, filepath.Join(t.TempDir(), "mlfleet.db"))
}
