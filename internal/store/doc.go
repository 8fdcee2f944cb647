// Package store keeps mlfleet's state: ARM resources, durable operations, API tokens and
// the activity log.
//
// One Store interface has one SQL implementation with two dialects, SQLite (pure Go,
// modernc.org/sqlite, the embedded default) and PostgreSQL (pgx, for several replicas).
// Schema changes are numbered migrations embedded in the binary and applied at Open.
// Driver errors are translated to ErrNotFound, ErrConflict, ErrRetry and ErrUnavailable
// (unavailable.go: a full, read-only or failing database) here and nowhere else.
//
// The parts:
//   - store.go: the Store interface, its types and sentinel errors.
//   - sql.go: Open, which picks the dialect from the DSN, the sqlStore every query runs on
//     (statement cache, failpoints, InTx and Lock) and the id and time conversions.
//   - resources.go, operations.go (with the lease queries), identity.go (principals, role
//     assignments, tokens), activity.go, replica.go, blobs.go, sharedsecret.go: the queries
//     of each table, written once for both dialects.
//   - dialect.go: what differs between SQLite and PostgreSQL (placeholders, LIMIT, row
//     locking, migration locking, the transaction locks of Store.Lock, unique-violation
//     codes) and translate, the error mapping.
//   - migrate.go and migrations/<dialect>/NNNN_*.sql: the schema, recorded in
//     schema_migrations and applied in one transaction; on PostgreSQL under an advisory
//     lock so replicas starting together apply it once.
//
// Ids compare case-insensitively: each table keeps the id as given and a lowercased key
// column that lookups, ordering and ListOptions.Scope use. Times are stored as unix
// milliseconds and come back in UTC, truncated to the millisecond.
//
// SQLite allows one writer at a time, so its pool has a single connection; other processes
// on the same file wait on busy_timeout, and transactions begin IMMEDIATE.
//
// The contract suite in store_test.go runs against SQLite always and against PostgreSQL
// when MLFLEET_TEST_POSTGRES holds a DSN (hack/postgres.sh starts one).
package store
