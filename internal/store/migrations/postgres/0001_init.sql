-- Resources, operations and tokens. Times are unix milliseconds, 0 meaning unset.
-- Columns named *key hold the lowercased id: ARM ids compare case-insensitively, and
-- lowercasing once in Go keeps lookups, ordering and prefix scans the same in both dialects.
-- resources.key uses the "C" collation so ORDER BY and the range scan behind
-- ListOptions.Scope compare bytes, as SQLite does, whatever the database's locale.

CREATE TABLE resources (
	key             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	id              TEXT   NOT NULL,
	parent_key      TEXT   NOT NULL,
	parent_id       TEXT   NOT NULL,
	type            TEXT   NOT NULL,
	type_key        TEXT   NOT NULL,
	name            TEXT   NOT NULL,
	subscription_id TEXT   NOT NULL,
	resource_group  TEXT   NOT NULL,
	location        TEXT   NOT NULL,
	body            BYTEA,
	version         BIGINT NOT NULL,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);

CREATE INDEX resources_parent ON resources (parent_key, key);
CREATE INDEX resources_type ON resources (type_key, key);

-- seq orders operations started in the same millisecond by creation.
CREATE TABLE operations (
	seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key              TEXT   NOT NULL UNIQUE,
	id               TEXT   NOT NULL,
	kind             TEXT   NOT NULL,
	resource_id      TEXT   NOT NULL,
	resource_key     TEXT   NOT NULL,
	subscription_id  TEXT   NOT NULL,
	status           TEXT   NOT NULL,
	input            BYTEA,
	progress         BYTEA,
	error            BYTEA,
	attempts         INTEGER NOT NULL,
	lease_owner      TEXT   NOT NULL,
	lease_expires_at BIGINT NOT NULL,
	started_at       BIGINT NOT NULL,
	ended_at         BIGINT NOT NULL
);

CREATE INDEX operations_resource ON operations (resource_key, started_at, seq);
CREATE INDEX operations_status ON operations (status, started_at, seq);

CREATE TABLE tokens (
	hash       TEXT   NOT NULL PRIMARY KEY,
	name       TEXT   NOT NULL,
	role       TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
