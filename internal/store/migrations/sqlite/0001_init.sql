-- Resources, operations and tokens. Times are unix milliseconds, 0 meaning unset.
-- Columns named *key hold the lowercased id: ARM ids compare case-insensitively, and
-- lowercasing once in Go keeps lookups, ordering and prefix scans the same in both dialects.
-- STRICT makes SQLite reject values of the wrong type, as PostgreSQL would.

CREATE TABLE resources (
	key             TEXT    NOT NULL PRIMARY KEY,
	id              TEXT    NOT NULL,
	parent_key      TEXT    NOT NULL,
	parent_id       TEXT    NOT NULL,
	type            TEXT    NOT NULL,
	type_key        TEXT    NOT NULL,
	name            TEXT    NOT NULL,
	subscription_id TEXT    NOT NULL,
	resource_group  TEXT    NOT NULL,
	location        TEXT    NOT NULL,
	body            BLOB,
	version         INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX resources_parent ON resources (parent_key, key);
CREATE INDEX resources_type ON resources (type_key, key);

-- seq orders operations started in the same millisecond by creation.
CREATE TABLE operations (
	seq              INTEGER PRIMARY KEY AUTOINCREMENT,
	key              TEXT    NOT NULL UNIQUE,
	id               TEXT    NOT NULL,
	kind             TEXT    NOT NULL,
	resource_id      TEXT    NOT NULL,
	resource_key     TEXT    NOT NULL,
	subscription_id  TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	input            BLOB,
	progress         BLOB,
	error            BLOB,
	attempts         INTEGER NOT NULL,
	lease_owner      TEXT    NOT NULL,
	lease_expires_at INTEGER NOT NULL,
	started_at       INTEGER NOT NULL,
	ended_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX operations_resource ON operations (resource_key, started_at, seq);
CREATE INDEX operations_status ON operations (status, started_at, seq);

CREATE TABLE tokens (
	hash       TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	role       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
