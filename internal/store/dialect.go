package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds everything that differs between SQLite and PostgreSQL, so the queries in
// resources.go, operations.go and the other tables' files are written once. Queries use ?
// placeholders; rebind turns them into $n.
type dialect struct {
	// name picks the migrations directory (migrations/<name>) and appears in errors.
	name string
	// numbered means the driver wants $1, $2... instead of ?.
	numbered bool
	// noLimit is the LIMIT value meaning "every row": SQLite accepts OFFSET only after a
	// LIMIT, and spells "no limit" -1.
	noLimit string
	// skipLocked ends the row selection of ClaimOperation. On PostgreSQL it makes a claimer
	// skip rows another claimer has locked instead of queueing behind it; SQLite has one
	// writer at a time and needs nothing.
	skipLocked string
	// lockMigrations, when set, runs first in the migration transaction so two processes
	// opening the same database apply migrations one after the other. SQLite needs none: its
	// transactions begin IMMEDIATE, which already takes the database's write lock.
	lockMigrations string
	// lockKey, when set, is the statement of Store.Lock: on PostgreSQL a transaction-scoped
	// advisory lock on a hash of the key (and the schema, as lockMigrations), which read
	// committed needs for a count and the insert it allows to be atomic. SQLite needs none:
	// every transaction begins IMMEDIATE, holding the database's only write lock until it
	// ends, so no other transaction runs between its count and its insert.
	lockKey string
	// nowMillis is an SQL expression for the database's clock in unix milliseconds: lease
	// expiry is compared against it, so replicas with skewed clocks agree.
	nowMillis string
	// isUniqueViolation reports whether err is the driver's unique-constraint error.
	isUniqueViolation func(error) bool
	// isRetryable reports whether err means the database aborted the transaction because
	// of a concurrent one, so that running it again may succeed.
	isRetryable func(error) bool
	// unavailable returns why err says the database cannot take writes (full, read-only,
	// I/O), or "".
	unavailable func(error) UnavailableReason
	// where names the database in an UnavailableError: the SQLite file, or
	// postgresWhere. Open sets it on its own copy of the dialect.
	where string
}

var sqliteDialect = &dialect{
	name:        "sqlite",
	noLimit:     "-1",
	nowMillis:   "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
	unavailable: sqliteUnavailable,
	isRetryable: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		// Another process held the write lock past busy_timeout.
		return e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED
	},
	isUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		// Extended result codes are on in modernc.org/sqlite, so the code says which
		// constraint failed.
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
}

var postgresDialect = &dialect{
	name:       "postgres",
	numbered:   true,
	noLimit:    "ALL",
	skipLocked: " FOR UPDATE SKIP LOCKED",
	// The lock is per schema, so stores in different schemas of one database (as the tests
	// use) do not wait for each other.
	lockMigrations: `SELECT pg_advisory_xact_lock(hashtext('mlfleet.schema_migrations.' || coalesce(current_schema(), '')))`,
	// Two keys with the same 64-bit hash only wait for each other, which is harmless.
	lockKey:     `SELECT pg_advisory_xact_lock(hashtextextended('mlfleet.lock.' || coalesce(current_schema(), '') || '.' || CAST(? AS TEXT), 0))`,
	nowMillis:   "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
	unavailable: postgresUnavailable,
	where:       postgresWhere,
	isRetryable: func(err error) bool {
		var e *pgconn.PgError
		// 40001 serialization_failure, 40P01 deadlock_detected.
		return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
	},
	isUniqueViolation: func(err error) bool {
		var e *pgconn.PgError
		// 23505 is unique_violation.
		return errors.As(err, &e) && e.Code == "23505"
	},
}

// rebind rewrites the ? placeholders of q for the dialect. Queries in this package never
// contain a literal question mark.
func (d *dialect) rebind(q string) string {
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// limitOffset returns the LIMIT/OFFSET clause for ListOptions' Limit and Offset, where zero
// or less means no limit and no offset.
func (d *dialect) limitOffset(limit, offset int) string {
	if limit <= 0 && offset <= 0 {
		return ""
	}
	l := d.noLimit
	if limit > 0 {
		l = strconv.Itoa(limit)
	}
	return " LIMIT " + l + " OFFSET " + strconv.Itoa(max(offset, 0))
}

// translate maps driver errors to the package's sentinels: no rows is ErrNotFound, a unique
// violation is ErrConflict, a full, read-only or failing database an *UnavailableError
// (ErrUnavailable). Other errors are returned unchanged for the caller to wrap.
func (d *dialect) translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case d.isUniqueViolation(err):
		return ErrConflict
	case d.isRetryable(err):
		return fmt.Errorf("%w: %v", ErrRetry, err)
	}
	return d.checkUnavailable(err)
}

// checkUnavailable returns err as an *UnavailableError when it says the database cannot
// take writes, and err unchanged otherwise.
func (d *dialect) checkUnavailable(err error) error {
	if reason := d.unavailable(err); reason != "" {
		return &UnavailableError{Where: d.where, Reason: reason, Err: err}
	}
	return err
}
