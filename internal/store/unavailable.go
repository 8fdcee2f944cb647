package store

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// UnavailableReason says why the database cannot take writes.
type UnavailableReason string

// The reasons of an UnavailableError.
const (
	// ReasonFull: the disk or the database's size limit is reached (SQLITE_FULL,
	// PostgreSQL 53100 disk_full).
	ReasonFull UnavailableReason = "full"
	// ReasonReadOnly: the database file, or the server, only allows reading
	// (SQLITE_READONLY, PostgreSQL 25006 read_only_sql_transaction, as on a standby).
	ReasonReadOnly UnavailableReason = "read-only"
	// ReasonIO: the operating system failed a read or write of the database
	// (SQLITE_IOERR and its extended codes, PostgreSQL 58030 io_error): a full disk, a file
	// made immutable, a failing device.
	ReasonIO UnavailableReason = "I/O error"
)

// UnavailableError is ErrUnavailable with what the database reported and where it is. An
// operator, not the client, has to act on it: it says what to do.
type UnavailableError struct {
	// Where names the database: the SQLite file's path, or "the PostgreSQL database".
	Where string
	// Reason is why it cannot take writes.
	Reason UnavailableReason
	// Err is the driver's error.
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("store %s is %s (%v): %s", e.Where, e.Reason, e.Err, e.Hint())
}

// Unwrap returns ErrUnavailable and the driver's error.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// Hint says what the operator of the server must do before writes can succeed again.
func (e *UnavailableError) Hint() string {
	sqliteFile := e.Where != postgresWhere
	switch {
	case e.Reason == ReasonFull && sqliteFile:
		return fmt.Sprintf("free space on the file system of %s (the server's data directory); writes work again without a restart", filepath.Dir(e.Where))
	case e.Reason == ReasonFull:
		return "free disk space on the PostgreSQL server; writes work again without a restart"
	case e.Reason == ReasonReadOnly && sqliteFile:
		return fmt.Sprintf("make %s and its directory writable by the user running mlfleet serve", e.Where)
	case e.Reason == ReasonReadOnly:
		return "point --store at the PostgreSQL primary, not a read-only standby, or make the database writable"
	case sqliteFile:
		return fmt.Sprintf("check the disk of %s: it may be full, the file made immutable (lsattr), or the device failing", e.Where)
	}
	return "check the PostgreSQL server's disk and its log"
}

// ClientHint is Hint without the server's file-system paths, for messages that reach API
// clients: ARM never shows a host's paths, and any caller, a Reader included, gets it. The
// operator finds the paths in the server log (Error).
func (e *UnavailableError) ClientHint() string {
	if e.Where == postgresWhere {
		return e.Hint()
	}
	switch e.Reason {
	case ReasonFull:
		return "free space on the file system of the server's data directory; writes work again without a restart"
	case ReasonReadOnly:
		return "make the server's database file and its directory writable by the user running mlfleet serve"
	}
	return "check the disk of the server's data directory: it may be full, the database file made immutable (lsattr), or the device failing"
}

// ClientMessage is the whole message an API client gets for e: what is wrong and what the
// server's operator must do (ClientHint), without the host's paths or the driver's error.
// logRef names what the server log keeps them under, e.g. "request id X" or "operation id
// X"; "" when there is nothing to name.
func (e *UnavailableError) ClientMessage(logRef string) string {
	what := "is " + string(e.Reason)
	if e.Reason == ReasonIO {
		what = "fails to read or write (an I/O error)"
	}
	where := "the server log has the details"
	if logRef != "" {
		where += " under " + logRef
	}
	return fmt.Sprintf("The server cannot write to its store: its database %s. Retrying will not help until the server's operator acts: %s. Reads still work; %s.",
		what, e.ClientHint(), where)
}

// postgresWhere is the Where of a PostgreSQL store's UnavailableError.
const postgresWhere = "the PostgreSQL database"

// sqliteUnavailable returns why err says the database cannot take writes, or "".
func sqliteUnavailable(err error) UnavailableReason {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return ReasonFull
	case sqlite3.SQLITE_READONLY:
		return ReasonReadOnly
	case sqlite3.SQLITE_IOERR:
		return ReasonIO
	}
	return ""
}

// postgresUnavailable is sqliteUnavailable for PostgreSQL's SQLSTATEs.
func postgresUnavailable(err error) UnavailableReason {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code {
	case "53100": // disk_full
		return ReasonFull
	case "25006": // read_only_sql_transaction
		return ReasonReadOnly
	case "58030": // io_error
		return ReasonIO
	}
	return ""
}
