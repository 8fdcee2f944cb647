package store

import (
	"context"
	"database/sql"
	"sync"
)

// Parsing a statement is most of what a small SQLite query costs (the pure-Go SQLite parses
// it anew for every call), so the store prepares each statement once and keeps it. The
// queries are few and fixed, apart from paging numbers some lists inline; the cache takes
// the first maxCachedStatements it sees and runs the others unprepared.
const maxCachedStatements = 256

// stmtCache holds the statements prepared on a pool, by query text.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// lookup returns the prepared statement of q, or nil.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// prepare returns the statement of q, preparing it on db when the cache has room; nil when
// it does not (the caller then runs q unprepared).
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	if st := c.lookup(q); st != nil {
		return st, nil
	}
	c.mu.Lock()
	full := len(c.m) >= maxCachedStatements
	c.mu.Unlock()
	if full {
		return nil, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	old := c.m[q]
	if old == nil {
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		c.m[q] = st
	}
	c.mu.Unlock()
	if old != nil {
		// Another caller prepared it meanwhile. Closed outside the lock: closing waits for
		// each connection the statement was prepared on, and one of them may be running a
		// transaction that needs the lock for its next statement (a deadlock seen with
		// concurrent blob uploads on PostgreSQL).
		st.Close()
		return old, nil
	}
	return st, nil
}

// close closes every prepared statement (outside the lock, as prepare does).
func (c *stmtCache) close() {
	c.mu.Lock()
	m := c.m
	c.m = nil
	c.mu.Unlock()
	for _, st := range m {
		st.Close()
	}
}

// cachingDB is the pool's querier: it runs statements prepared once.
type cachingDB struct {
	db    *sql.DB
	cache *stmtCache
}

func (c *cachingDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := c.cache.prepare(ctx, c.db, q)
	if err != nil || st == nil {
		return c.db.ExecContext(ctx, q, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (c *cachingDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.cache.prepare(ctx, c.db, q)
	if err != nil || st == nil {
		return c.db.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (c *cachingDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := c.cache.prepare(ctx, c.db, q)
	if err != nil || st == nil {
		return c.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// cachingTx is a transaction's querier: it uses the statements the pool prepared, and runs
// the others unprepared. It never prepares on the pool, which on SQLite's one connection
// would wait for the transaction that holds it.
type cachingTx struct {
	tx    *sql.Tx
	cache *stmtCache
}

func (c *cachingTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := c.cache.lookup(q); st != nil {
		return c.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return c.tx.ExecContext(ctx, q, args...)
}

func (c *cachingTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.cache.lookup(q); st != nil {
		return c.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return c.tx.QueryContext(ctx, q, args...)
}

func (c *cachingTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.cache.lookup(q); st != nil {
		return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, q, args...)
}
