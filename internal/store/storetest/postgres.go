// Package storetest helps tests that need a store or a database of their own.
package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to make a schema
)

// PostgresSchema creates a fresh schema in the database of dsn (a postgres:// URL, as in
// MLFLEET_TEST_POSTGRES) and returns a DSN that uses it, and a function that drops it.
// Tests that share one PostgreSQL server thus never see each other's rows.
func PostgresSchema(dsn string) (string, func(), error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "mlfleet_t_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		if db, err := sql.Open("pgx", dsn); err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// Schema is PostgresSchema for a test: it fails t when the schema cannot be made and drops
// the schema when t ends.
func Schema(t testing.TB, dsn string) string {
	t.Helper()
	schemaDSN, drop, err := PostgresSchema(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return schemaDSN
}
