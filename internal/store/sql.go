package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect %s: %w", d.name, err)
	}
	if _, err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", d.name, err)
	}
	cache := &stmtCache{}
	return &sqlStore{db: db, q: &cachingDB{db: db, cache: cache}, cache: cache, d: d}, nil
}

// openDB makes the connection pool for dsn without connecting.
func openDB(dsn string) (*sql.DB, *dialect, error) {
	scheme, rest, hasScheme := strings.Cut(dsn, "://")
	switch {
	case hasScheme && (scheme == "postgres" || scheme == "postgresql"):
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("parse postgres dsn: %w", err)
		}
		db := stdlib.OpenDB(*cfg)
		// Keep enough idle connections that a busy replica does not reconnect per query.
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return db, postgresDialect, nil
	case hasScheme && scheme != "sqlite":
		return nil, nil, fmt.Errorf("parse dsn: unknown scheme %q, want postgres://, postgresql:// or sqlite://", scheme)
	}
	path := dsn
	if hasScheme {
		path = rest
	}
	path, params, _ := strings.Cut(path, "?")
	if path == "" {
		return nil, nil, fmt.Errorf("parse sqlite dsn %q: empty path", dsn)
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
	return db, sqliteDialect, nil
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

const resourceColumns = `id, parent_id, type, name, subscription_id, resource_group, location, body, version, created_at, updated_at, owner_id`

func scanResource(sc scanner) (*Resource, error) {
	var (
		r                Resource
		created, updated int64
	)
	if err := sc.Scan(&r.ID, &r.ParentID, &r.Type, &r.Name, &r.SubscriptionID, &r.ResourceGroup,
		&r.Location, &r.Body, &r.Version, &created, &updated, &r.OwnerID); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &r, nil
}

// CreateResource inserts r, setting Version to 1 and the timestamps.
func (s *sqlStore) CreateResource(ctx context.Context, r *Resource) error {
	if r.ID == "" {
		return fmt.Errorf("create resource: empty id")
	}
	t := now()
	what := "CreateResource/" + r.Type
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("create resource %s: %w", r.ID, err)
	}
	_, err := s.exec(ctx, `INSERT INTO resources
	(key, id, parent_key, parent_id, type, type_key, name, subscription_id, resource_group, location, body, version, created_at, updated_at, owner_key, owner_id)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		idKey(r.ID), r.ID, idKey(r.ParentID), r.ParentID, r.Type, idKey(r.Type), r.Name, r.SubscriptionID,
		r.ResourceGroup, r.Location, r.Body, millis(t), millis(t), idKey(r.OwnerID), r.OwnerID)
	if err != nil {
		return fmt.Errorf("create resource %s: %w", r.ID, err)
	}
	r.Version, r.CreatedAt, r.UpdatedAt = 1, t, t
	return s.hit(what, "after")
}

// GetResource returns the resource with this id (any case), or ErrNotFound.
func (s *sqlStore) GetResource(ctx context.Context, id string) (*Resource, error) {
	r, err := scanResource(s.queryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE key = ?`, idKey(id)))
	if err != nil {
		return nil, fmt.Errorf("get resource %s: %w", id, s.d.translate(err))
	}
	return r, nil
}

// UpdateResource replaces Body and Location if the stored Version equals r.Version.
func (s *sqlStore) UpdateResource(ctx context.Context, r *Resource) error {
	t := now()
	what := "UpdateResource/" + r.Type
	if r.Type == "" {
		what = "UpdateResource"
	}
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("update resource %s: %w", r.ID, err)
	}
	n, err := s.exec(ctx, `UPDATE resources SET body = ?, location = ?, version = version + 1, updated_at = ?
	WHERE key = ? AND version = ?`,
		r.Body, r.Location, millis(t), idKey(r.ID), r.Version)
	if err != nil {
		return fmt.Errorf("update resource %s: %w", r.ID, err)
	}
	if n == 0 {
		found, err := s.exists(ctx, "resources", idKey(r.ID))
		switch {
		case err != nil:
			return fmt.Errorf("update resource %s: %w", r.ID, err)
		case found:
			return fmt.Errorf("update resource %s: version %d is stale: %w", r.ID, r.Version, ErrConflict)
		default:
			return fmt.Errorf("update resource %s: %w", r.ID, ErrNotFound)
		}
	}
	r.Version++
	r.UpdatedAt = t
	return s.hit(what, "after")
}

// DeleteResource removes the resource with this id (any case), if its version is ifVersion
// when that is set.
func (s *sqlStore) DeleteResource(ctx context.Context, id string, ifVersion int64) error {
	what := "DeleteResource/" + resourceKind(id)
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("delete resource %s: %w", id, err)
	}
	q, args := `DELETE FROM resources WHERE key = ?`, []any{idKey(id)}
	if ifVersion > 0 {
		q += ` AND version = ?`
		args = append(args, ifVersion)
	}
	n, err := s.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("delete resource %s: %w", id, err)
	}
	if n == 0 {
		found, err := s.exists(ctx, "resources", idKey(id))
		switch {
		case err != nil:
			return fmt.Errorf("delete resource %s: %w", id, err)
		case found:
			return fmt.Errorf("delete resource %s: version %d is stale: %w", id, ifVersion, ErrConflict)
		}
		return fmt.Errorf("delete resource %s: %w", id, ErrNotFound)
	}
	return s.hit(what, "after")
}

// resourceKind names what an id is, for failpoint names: its type segments without the
// names, e.g. "workspaces/computes" for a compute, "locations/computeNames" for a name claim.
func resourceKind(id string) string {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	var kinds []string
	for i := 0; i < len(segs); i += 2 {
		switch strings.ToLower(segs[i]) {
		case "subscriptions", "providers":
		case "resourcegroups":
			kinds = append(kinds, "resourceGroups")
		default:
			kinds = append(kinds, segs[i])
		}
	}
	if len(kinds) == 0 {
		return "subscriptions"
	}
	return strings.Join(kinds, "/")
}

// ListOrphans returns resources whose owner no longer exists.
func (s *sqlStore) ListOrphans(ctx context.Context, limit int) ([]*Resource, error) {
	q := `SELECT ` + resourceColumns + ` FROM resources r WHERE r.owner_key <> ''
	AND NOT EXISTS (SELECT 1 FROM resources o WHERE o.key = r.owner_key) ORDER BY r.key` + s.d.limitOffset(limit, 0)
	rows, err := s.q.QueryContext(ctx, s.d.rebind(q))
	if err != nil {
		return nil, fmt.Errorf("list orphans: %w", s.d.translate(err))
	}
	defer rows.Close()
	var rs []*Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("list orphans: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orphans: %w", err)
	}
	return rs, nil
}

// ListResources returns the resources selected by opts, ordered by lowercased id.
func (s *sqlStore) ListResources(ctx context.Context, opts ListOptions) ([]*Resource, error) {
	var (
		where []string
		args  []any
	)
	if opts.Scope != "" {
		// Descendants are the keys starting with scope+"/". Both dialects compare keys
		// bytewise, so those are exactly the keys in [scope+"/", scope+"0"): '0' is the byte
		// after '/'. A range needs no LIKE, hence no escaping of % and _ in ids, and uses
		// the primary key index.
		scope := idKey(opts.Scope)
		where = append(where, "key >= ? AND key < ?")
		args = append(args, scope+"/", scope+"0")
	}
	if opts.Within != nil {
		if len(opts.Within) == 0 {
			return nil, nil
		}
		var any []string
		for _, scope := range opts.Within {
			k := idKey(strings.TrimRight(scope, "/"))
			any = append(any, "(key = ? OR (key >= ? AND key < ?))")
			args = append(args, k, k+"/", k+"0")
		}
		where = append(where, "("+strings.Join(any, " OR ")+")")
	}
	if opts.ParentID != "" {
		where = append(where, "parent_key = ?")
		args = append(args, idKey(opts.ParentID))
	}
	if opts.Type != "" {
		where = append(where, "type_key = ?")
		args = append(args, idKey(opts.Type))
	}
	if opts.Types != nil {
		if len(opts.Types) == 0 {
			return nil, nil
		}
		marks := make([]string, len(opts.Types))
		for i, t := range opts.Types {
			marks[i] = "?"
			args = append(args, idKey(t))
		}
		where = append(where, "type_key IN ("+strings.Join(marks, ", ")+")")
	}
	q := `SELECT ` + resourceColumns + ` FROM resources`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY key" + s.d.limitOffset(opts.Limit, opts.Offset)

	rows, err := s.q.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list resources: %w", s.d.translate(err))
	}
	defer rows.Close()
	var rs []*Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("list resources: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list resources: %w", err)
	}
	return rs, nil
}

const operationColumns = `id, kind, resource_id, subscription_id, status, input, progress, error, attempts, lease_owner, lease_expires_at, started_at, ended_at`

func scanOperation(sc scanner) (*Operation, error) {
	var (
		op                       Operation
		leaseExpires, start, end int64
	)
	if err := sc.Scan(&op.ID, &op.Kind, &op.ResourceID, &op.SubscriptionID, &op.Status, &op.Input,
		&op.Progress, &op.Error, &op.Attempts, &op.LeaseOwner, &leaseExpires, &start, &end); err != nil {
		return nil, err
	}
	op.LeaseExpiresAt, op.StartedAt, op.EndedAt = fromMillis(leaseExpires), fromMillis(start), fromMillis(end)
	return &op, nil
}

// isTerminal reports whether an operation in this status is finished.
func isTerminal(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusCanceled
}

// CreateOperation inserts op. An empty Status becomes InProgress and a zero StartedAt
// becomes now; op is updated to match what was stored.
func (s *sqlStore) CreateOperation(ctx context.Context, op *Operation) error {
	if op.ID == "" {
		return fmt.Errorf("create operation: empty id")
	}
	status := op.Status
	if status == "" {
		status = StatusInProgress
	}
	started := op.StartedAt
	if started.IsZero() {
		started = now()
	}
	what := "CreateOperation/" + op.Kind
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("create operation %s: %w", op.ID, err)
	}
	_, err := s.exec(ctx, `INSERT INTO operations
	(key, id, kind, resource_id, resource_key, subscription_id, status, input, progress, error, attempts, lease_owner, lease_expires_at, started_at, ended_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		idKey(op.ID), op.ID, op.Kind, op.ResourceID, idKey(op.ResourceID), op.SubscriptionID, status,
		op.Input, op.Progress, op.Error, op.Attempts, op.LeaseOwner, millis(op.LeaseExpiresAt),
		millis(started), millis(op.EndedAt))
	if err != nil {
		return fmt.Errorf("create operation %s: %w", op.ID, err)
	}
	op.Status = status
	op.StartedAt = fromMillis(millis(started))
	return s.hit(what, "after")
}

// GetOperation returns the operation with this id, or ErrNotFound.
func (s *sqlStore) GetOperation(ctx context.Context, id string) (*Operation, error) {
	op, err := scanOperation(s.queryRow(ctx, `SELECT `+operationColumns+` FROM operations WHERE key = ?`, idKey(id)))
	if err != nil {
		return nil, fmt.Errorf("get operation %s: %w", id, s.d.translate(err))
	}
	return op, nil
}

// ListOperations returns operations selected by f, oldest first.
func (s *sqlStore) ListOperations(ctx context.Context, f OperationFilter) ([]*Operation, error) {
	var (
		where []string
		args  []any
	)
	if f.ResourceID != "" {
		where = append(where, "resource_key = ?")
		args = append(args, idKey(f.ResourceID))
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	q := `SELECT ` + operationColumns + ` FROM operations`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at, seq"

	rows, err := s.q.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", s.d.translate(err))
	}
	defer rows.Close()
	var ops []*Operation
	for rows.Next() {
		op, err := scanOperation(rows)
		if err != nil {
			return nil, fmt.Errorf("list operations: %w", err)
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return ops, nil
}

// ClaimOperation leases the oldest claimable operation to owner in one statement. The
// subquery picks a row (on PostgreSQL locking it and skipping rows other claimers hold);
// the outer WHERE repeats the lease condition, so even a row picked from a stale snapshot
// is only taken if it is still free when written. A zero at means the database's clock.
func (s *sqlStore) ClaimOperation(ctx context.Context, owner string, at time.Time, ttl time.Duration) (*Operation, error) {
	if owner == "" {
		return nil, fmt.Errorf("claim operation: empty owner")
	}
	// now appears three times in the statement: as the database's clock, or as at.
	now := s.d.nowMillis
	args := []any{owner, ttl.Milliseconds(), StatusInProgress, StatusInProgress}
	if !at.IsZero() {
		ms := millis(at)
		now = "CAST(? AS BIGINT)"
		args = []any{owner, ms, ttl.Milliseconds(), StatusInProgress, ms, StatusInProgress, ms}
	}
	op, err := scanOperation(s.queryRow(ctx, `UPDATE operations
	SET lease_owner = ?, lease_expires_at = `+now+` + CAST(? AS BIGINT), attempts = attempts + 1
	WHERE seq = (
		SELECT seq FROM operations
		WHERE status = ? AND (lease_owner = '' OR lease_expires_at <= `+now+`)
		ORDER BY started_at, seq
		LIMIT 1`+s.d.skipLocked+`
	) AND status = ? AND (lease_owner = '' OR lease_expires_at <= `+now+`)
	RETURNING `+operationColumns, args...))
	if err != nil {
		return nil, fmt.Errorf("claim operation for %s: %w", owner, s.d.translate(err))
	}
	return op, nil
}

// ExtendLease extends owner's lease on operation id to the database's clock plus ttl, or
// frees it when ttl <= 0.
func (s *sqlStore) ExtendLease(ctx context.Context, id, owner string, ttl time.Duration) error {
	expires, args := "0", []any{}
	if ttl > 0 {
		expires = s.d.nowMillis + " + CAST(? AS BIGINT)"
		args = append(args, ttl.Milliseconds())
	}
	args = append(args, idKey(id), owner, StatusInProgress)
	n, err := s.exec(ctx, `UPDATE operations SET lease_expires_at = `+expires+`
	WHERE key = ? AND lease_owner = ? AND lease_owner <> '' AND status = ?`, args...)
	if err != nil {
		return fmt.Errorf("extend lease on operation %s: %w", id, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "extend lease on operation", id, owner)
	}
	return nil
}

// Unclaim frees owner's lease on operation id and takes back the attempt its claim counted.
func (s *sqlStore) Unclaim(ctx context.Context, id, owner string) error {
	n, err := s.exec(ctx, `UPDATE operations SET lease_owner = '', lease_expires_at = 0, attempts = attempts - 1
	WHERE key = ? AND lease_owner = ? AND lease_owner <> '' AND status = ? AND attempts > 0`, idKey(id), owner, StatusInProgress)
	if err != nil {
		return fmt.Errorf("unclaim operation %s: %w", id, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "unclaim operation", id, owner)
	}
	return nil
}

// RenewLease extends owner's lease on operation id to expiresAt.
func (s *sqlStore) RenewLease(ctx context.Context, id, owner string, expiresAt time.Time) error {
	n, err := s.exec(ctx, `UPDATE operations SET lease_expires_at = ?
	WHERE key = ? AND lease_owner = ? AND lease_owner <> '' AND status = ?`,
		millis(expiresAt), idKey(id), owner, StatusInProgress)
	if err != nil {
		return fmt.Errorf("renew lease on operation %s: %w", id, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "renew lease on operation", id, owner)
	}
	return nil
}

// SaveOperation writes Status, Progress, Error and EndedAt of op if owner holds its lease.
// A terminal status frees the lease, and a zero EndedAt then becomes now; op is updated to
// match what was stored.
func (s *sqlStore) SaveOperation(ctx context.Context, op *Operation, owner string) error {
	terminal := isTerminal(op.Status)
	ended := op.EndedAt
	q := `UPDATE operations SET status = ?, progress = ?, error = ?, ended_at = ?`
	if terminal {
		if ended.IsZero() {
			ended = now()
		}
		q += `, lease_owner = '', lease_expires_at = 0`
	}
	q += ` WHERE key = ? AND lease_owner = ? AND lease_owner <> ''`
	what := "SaveOperation/" + op.Kind
	if terminal {
		what += "/" + op.Status
	}
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("save operation %s: %w", op.ID, err)
	}
	n, err := s.exec(ctx, q, op.Status, op.Progress, op.Error, millis(ended), idKey(op.ID), owner)
	if err != nil {
		return fmt.Errorf("save operation %s: %w", op.ID, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "save operation", op.ID, owner)
	}
	op.EndedAt = fromMillis(millis(ended))
	if terminal {
		op.LeaseOwner, op.LeaseExpiresAt = "", time.Time{}
	}
	return s.hit(what, "after")
}

// leaseLost explains why a lease-guarded update of operation id changed nothing.
func (s *sqlStore) leaseLost(ctx context.Context, verb, id, owner string) error {
	found, err := s.exists(ctx, "operations", idKey(id))
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: %w", verb, id, err)
	case !found:
		return fmt.Errorf("%s %s: %w", verb, id, ErrNotFound)
	}
	return fmt.Errorf("%s %s: %s does not hold the lease: %w", verb, id, owner, ErrConflict)
}

// ReleaseLeases frees every lease and returns how many were freed.
func (s *sqlStore) ReleaseLeases(ctx context.Context) (int, error) {
	n, err := s.exec(ctx, `UPDATE operations SET lease_owner = '', lease_expires_at = 0 WHERE lease_owner <> ''`)
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	return int(n), nil
}

// CreateToken stores a token (ErrConflict if the hash exists).
func (s *sqlStore) CreateToken(ctx context.Context, t *Token) error {
	if t.Hash == "" {
		return fmt.Errorf("create token: empty hash")
	}
	if err := s.hit("CreateToken", "before"); err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	_, err := s.exec(ctx, `INSERT INTO tokens (hash, name, role, created_at, expires_at, principal_key) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Name, t.Role, millis(t.CreatedAt), millis(t.ExpiresAt), idKey(t.PrincipalID))
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return s.hit("CreateToken", "after")
}

// GetToken returns the token with this hash, or ErrNotFound.
func (s *sqlStore) GetToken(ctx context.Context, hash string) (*Token, error) {
	var (
		t                Token
		created, expires int64
	)
	err := s.queryRow(ctx, `SELECT hash, name, role, created_at, expires_at, principal_key FROM tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.Name, &t.Role, &created, &expires, &t.PrincipalID)
	if err != nil {
		// The hash is a credential; keep it out of error messages.
		return nil, fmt.Errorf("get token: %w", s.d.translate(err))
	}
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &t, nil
}

const activityColumns = `seq, event_id, event_time, subscription_id, resource_group, resource_id, resource_provider,
	operation_name, operation_id, status, http_status, error_code, caller, correlation_id, client_request_id, method, client_ip`

func scanActivityEvent(sc scanner) (*ActivityEvent, error) {
	var (
		e  ActivityEvent
		at int64
	)
	if err := sc.Scan(&e.Seq, &e.ID, &at, &e.SubscriptionID, &e.ResourceGroup, &e.ResourceID, &e.ResourceProvider,
		&e.OperationName, &e.OperationID, &e.Status, &e.HTTPStatus, &e.ErrorCode, &e.Caller, &e.CorrelationID,
		&e.ClientRequestID, &e.Method, &e.ClientIP); err != nil {
		return nil, err
	}
	e.Time = fromMillis(at)
	return &e, nil
}

// CreateActivityEvent records e and sets e.Seq; a zero e.Time becomes now.
func (s *sqlStore) CreateActivityEvent(ctx context.Context, e *ActivityEvent) error {
	if e.ID == "" {
		return fmt.Errorf("create activity event: empty id")
	}
	at := e.Time
	if at.IsZero() {
		at = now()
	}
	what := "CreateActivityEvent/" + resourceKind(e.ResourceID)
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("create activity event %s: %w", e.ID, err)
	}
	var seq int64
	err := s.queryRow(ctx, `INSERT INTO activity_events
	(event_id, event_time, subscription_id, subscription_key, resource_group, resource_id, resource_key, resource_provider,
	operation_name, operation_id, status, http_status, error_code, caller, correlation_id, client_request_id, method, client_ip)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.ID, millis(at), e.SubscriptionID, idKey(e.SubscriptionID), e.ResourceGroup, e.ResourceID, idKey(e.ResourceID),
		e.ResourceProvider, e.OperationName, e.OperationID, e.Status, e.HTTPStatus, e.ErrorCode, e.Caller,
		e.CorrelationID, e.ClientRequestID, e.Method, e.ClientIP).Scan(&seq)
	if err != nil {
		return fmt.Errorf("create activity event %s: %w", e.ID, s.d.translate(err))
	}
	e.Seq, e.Time = seq, fromMillis(millis(at))
	return s.hit(what, "after")
}

// ListActivityEvents returns the events f selects, newest first.
func (s *sqlStore) ListActivityEvents(ctx context.Context, f ActivityFilter) ([]*ActivityEvent, error) {
	if f.SubscriptionID == "" {
		return nil, fmt.Errorf("list activity events: no subscription")
	}
	where := []string{"subscription_key = ?"}
	args := []any{idKey(f.SubscriptionID)}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if !f.From.IsZero() {
		add("event_time >= ?", millis(f.From))
	}
	if !f.To.IsZero() {
		add("event_time <= ?", millis(f.To))
	}
	if f.ResourceID != "" {
		add("resource_key = ?", idKey(f.ResourceID))
	}
	// lower() of these columns agrees with Go's strings.ToLower on ASCII, which names,
	// namespaces, GUIDs and statuses are.
	for _, c := range []struct{ column, value string }{
		{"resource_group", f.ResourceGroup}, {"resource_provider", f.ResourceProvider},
		{"correlation_id", f.CorrelationID}, {"caller", f.Caller}, {"status", f.Status},
	} {
		if c.value != "" {
			add("lower("+c.column+") = ?", strings.ToLower(c.value))
		}
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	q := `SELECT ` + activityColumns + ` FROM activity_events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY seq DESC` + s.d.limitOffset(f.Limit, 0)
	rows, err := s.q.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list activity events: %w", s.d.translate(err))
	}
	defer rows.Close()
	var es []*ActivityEvent
	for rows.Next() {
		e, err := scanActivityEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list activity events: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list activity events: %w", err)
	}
	return es, nil
}

// DeleteActivityEventsBefore removes up to limit of the oldest events older than t.
func (s *sqlStore) DeleteActivityEventsBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("delete activity events: limit %d must be positive", limit)
	}
	what := "DeleteActivityEvents"
	if err := s.hit(what, "before"); err != nil {
		return 0, fmt.Errorf("delete activity events: %w", err)
	}
	n, err := s.exec(ctx, `DELETE FROM activity_events WHERE seq IN (
	SELECT seq FROM activity_events WHERE event_time < ? ORDER BY event_time, seq LIMIT ?)`, millis(t), limit)
	if err != nil {
		return 0, fmt.Errorf("delete activity events: %w", err)
	}
	return int(n), s.hit(what, "after")
}
