package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/mlfleet/mlfleet/internal/failpoint"
)

// sqliteParams configure every SQLite connection: WAL so readers do not block the writer,
// a busy timeout so another process's write makes us wait rather than fail, foreign keys on,
// and BEGIN IMMEDIATE so a transaction takes the write lock up front instead of failing
// with SQLITE_BUSY when it upgrades from reading to writing.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// Open connects to the database dsn names, applies pending migrations and returns the Store.
//
// dsn is one of:
//   - postgres://... or postgresql://... : a PostgreSQL URL as pgx parses it, e.g.
//     postgres://mlfleet@db:5432/mlfleet?sslmode=disable. Query parameters pgx does not know
//     are sent as run-time settings, e.g. search_path=tenant1.
//   - sqlite://PATH or a bare PATH: a SQLite database file, created if missing
//     (sqlite:///var/lib/mlfleet/state.db, sqlite://state.db, ./state.db). PATH may end in
//     ?key=value&... parameters for modernc.org/sqlite, applied after mlfleet's own.
func Open(ctx context.Context, dsn string) (Store, error) {
	db, d, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	// The first connection sets SQLite's journal mode to WAL, which on a new file can
	// answer SQLITE_BUSY at once (no busy wait) while another process does the same: try a
	// few times.
	err = db.PingContext(ctx)
	for attempt := 1; err != nil && attempt < 5 && d.isRetryable(err) && ctx.Err() == nil; attempt++ {
		time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		err = db.PingContext(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connect %s: %w", d.name, d.checkUnavailable(err))
	}
	if _, err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", d.name, d.checkUnavailable(err))
	}
	cache := &stmtCache{}
	return &sqlStore{db: db, q: &cachingDB{db: db, cache: cache}, cache: cache, d: d}, nil
}

// openDB makes the connection pool for dsn without connecting.
func openDB(dsn string) (*sql.DB, *dialect, error) {
	postgres, path, params, err := parseDSN(dsn)
	switch {
	case err != nil:
		return nil, nil, err
	case postgres:
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("parse postgres dsn: %w", err)
		}
		db := stdlib.OpenDB(*cfg)
		// Keep enough idle connections that a busy replica does not reconnect per query.
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return db, postgresDialect, nil
	}
	driverDSN := path + "?" + sqliteParams
	if params != "" {
		driverDSN += "&" + params
	}
	db, err := sql.Open("sqlite", driverDSN)
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// SQLite has one writer at a time. A single connection queues this process's
	// statements in database/sql instead of letting them collide in SQLite, so concurrent
	// writers wait rather than fail with SQLITE_BUSY; other processes are handled by
	// busy_timeout and BEGIN IMMEDIATE.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	d := *sqliteDialect
	d.where = path
	if abs, err := filepath.Abs(path); err == nil {
		d.where = abs
	}
	return db, &d, nil
}

// sqlStore is the Store over database/sql, for any dialect. The Store Open returns runs
// each call on the pool; the one InTx hands its function runs them in the transaction.
type sqlStore struct {
	db *sql.DB
	// q runs statements on db, or on the transaction inside InTx, prepared once (cache).
	q     querier
	cache *stmtCache
	tx    *txState
	d     *dialect
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txState is what a transaction remembers for its commit failpoint.
type txState struct {
	// what names the first write, e.g. "CreateResource/Microsoft.MachineLearningServices/workspaces/computes".
	what string
}

var _ Store = (*sqlStore)(nil)

// hit is the failpoint of a write: "store/<what>/before" or ".../after". Outside a
// transaction both surround the write; inside one, a write is durable only at commit, whose
// own failpoints are "store/commit/<first write>/before|after".
func (s *sqlStore) hit(what, when string) error {
	if s.tx != nil {
		if s.tx.what == "" {
			s.tx.what = what
		}
		if when == "after" {
			return nil
		}
	}
	return failpoint.Hit("store/" + what + "/" + when)
}

func (s *sqlStore) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return 0, s.d.translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, nil
}

// deleteRows runs the DELETE statement q as the write named what, between its failpoints, and
// returns how many rows it removed; removing none is not an error. Its errors start with
// desc, but for the failpoint after the write, returned as it is.
func (s *sqlStore) deleteRows(ctx context.Context, what, desc, q string, args ...any) (int64, error) {
	if err := s.hit(what, "before"); err != nil {
		return 0, fmt.Errorf("%s: %w", desc, err)
	}
	n, err := s.exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", desc, err)
	}
	return n, s.hit(what, "after")
}

func (s *sqlStore) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.q.QueryRowContext(ctx, s.d.rebind(q), args...)
}

// exists reports whether table has a row with this key, to tell ErrNotFound from
// ErrConflict after a guarded UPDATE changed nothing.
func (s *sqlStore) exists(ctx context.Context, table, key string) (bool, error) {
	var one int
	err := s.queryRow(ctx, "SELECT 1 FROM "+table+" WHERE key = ?", key).Scan(&one)
	switch err = s.d.translate(err); err {
	case nil:
		return true, nil
	case ErrNotFound:
		return false, nil
	}
	return false, err
}

// Close releases the connection pool. Inside a transaction it does nothing.
func (s *sqlStore) Close() error {
	if s.tx != nil {
		return nil
	}
	s.cache.close()
	return s.db.Close()
}

// txAttempts bounds how often InTx runs a function the database aborted (ErrRetry).
const txAttempts = 6

// InTx runs fn in one transaction, again when the database aborts it for a concurrent one.
func (s *sqlStore) InTx(ctx context.Context, fn func(tx Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	backoff := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, fn)
		if !errors.Is(err, ErrRetry) || attempt == txAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%w)", err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

func (s *sqlStore) runTx(ctx context.Context, fn func(tx Store) error) (err error) {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", s.d.translate(err))
	}
	tx := &sqlStore{db: s.db, q: &cachingTx{tx: sqlTx, cache: s.cache}, cache: s.cache, tx: &txState{}, d: s.d}
	defer func() {
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	what := tx.tx.what
	if what == "" {
		what = "read-only"
	}
	if err := failpoint.Hit("store/commit/" + what + "/before"); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", s.d.translate(err))
	}
	// A failure here is reported, but the transaction has committed: callers must not
	// assume it did not (a crash at this point is what the failpoint simulates).
	return failpoint.Hit("store/commit/" + what + "/after")
}

// Lock takes the lock named key until the transaction ends (see Store.Lock).
func (s *sqlStore) Lock(ctx context.Context, key string) error {
	if s.tx == nil {
		return fmt.Errorf("lock %s: not in a transaction", key)
	}
	// A point where a transaction may wait for another: a test that holds one
	// transaction learns here that the other has come to wait for it.
	if err := failpoint.Hit("store/Lock/" + key + "/before"); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	if s.d.lockKey == "" {
		return nil
	}
	if _, err := s.q.ExecContext(ctx, s.d.rebind(s.d.lockKey), key); err != nil {
		return fmt.Errorf("lock %s: %w", key, s.d.translate(err))
	}
	return nil
}

// idKey is the stored form of an id that compares case-insensitively.
func idKey(id string) string {
	return strings.ToLower(id)
}

// millis converts t to unix milliseconds for storage; the zero time is 0.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis reverses millis, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// now is the store's clock, in milliseconds because that is what it keeps.
func now() time.Time {
	return fromMillis(time.Now().UnixMilli())
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryOne runs query, which selects at most one row, and scans that row with scan; its
// errors start with what (the operation, as in "get operation ID"), and are ErrNotFound
// when there is no row.
func queryOne[T any](ctx context.Context, s *sqlStore, what string, scan func(scanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(s.queryRow(ctx, query, args...))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, s.d.translate(err))
	}
	return v, nil
}

// queryAll runs query and scans each row it returns with scan; its errors start with what
// (the operation, as in "list operations").
func queryAll[T any](ctx context.Context, s *sqlStore, what string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := s.q.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, s.d.translate(err))
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// conditions collects the conditions of a WHERE clause, from the filters a caller set, with
// the arguments of their placeholders in order.
type conditions struct {
	terms []string
	args  []any
}

// add appends the condition cond, whose placeholders take args.
func (c *conditions) add(cond string, args ...any) {
	c.terms = append(c.terms, cond)
	c.args = append(c.args, args...)
}

// where is " WHERE " and the conditions joined by AND, or "" when there are none.
func (c *conditions) where() string {
	if len(c.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.terms, " AND ")
}
