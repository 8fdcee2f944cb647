package server

import (
	"fmt"
	"path/filepath"

	"github.com/mlfleet/mlfleet/internal/store"
)

// resolveStore returns the DSN of the store serve opens (--store dsn, in home) and whether
// it is SQLite. No DSN means SQLite in home/mlfleet.db; a relative SQLite path is taken
// in home, as the default file is, not in the directory serve was started from, so that
// one home is always served from the same file. The DSN's kind is read before anything is
// opened, so that a SQLite file named by --store is not taken for PostgreSQL.
func resolveStore(home, dsn string) (resolved string, sqlite bool, err error) {
	if dsn == "" {
		return filepath.Join(home, dbFile), true, nil
	}
	postgres, err := store.IsPostgres(dsn)
	if err != nil {
		return "", false, fmt.Errorf("--store %q: %w", dsn, err)
	}
	if postgres {
		return dsn, false, nil
	}
	if resolved, err = store.ResolveSQLite(dsn, home); err != nil {
		return "", false, fmt.Errorf("--store %q: %w", dsn, err)
	}
	return resolved, true, nil
}
