package storetest

import (
	"context"
	"os"
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

// Dialects returns, per store dialect to test, a function that makes an empty database for
// a test and returns how to open a Store on it, each call another connection pool (as
// another replica would have): SQLite always, and PostgreSQL when MLFLEET_TEST_POSTGRES
// holds a DSN, in a schema of its own dropped when the test ends.
func Dialects(t testing.TB) map[string]func(t testing.TB) func() store.Store {
	t.Helper()
	out := map[string]func(t testing.TB) func() store.Store{
		"sqlite": func(t testing.TB) func() store.Store {
			path := filepath.Join(t.TempDir(), "mlfleet.db")
			return func() store.Store { return Open(t, path) }
		},
	}
	dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
	if dsn == "" {
		t.Log("MLFLEET_TEST_POSTGRES is not set: PostgreSQL not tested; export MLFLEET_TEST_POSTGRES=$(hack/postgres.sh) to test it")
		return out
	}
	out["postgres"] = func(t testing.TB) func() store.Store {
		schemaDSN := Schema(t, dsn)
		return func() store.Store { return Open(t, schemaDSN) }
	}
	return out
}
