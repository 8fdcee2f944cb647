-- Secrets every replica of a PostgreSQL store shares (the at-rest encryption key, the CA,
-- the token-signing key), each wrapped with the key every replica is given. The first
-- replica inserts them; the others read what it inserted. A row is never updated. (The
-- SQLite store keeps its keys in the home directory; the table exists for parity.)
CREATE TABLE shared_secrets (
	name       TEXT    PRIMARY KEY,
	value      BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- The replicas serving this store: each writes its row at start and every few seconds
-- (heartbeat_at, on the database's clock, so that replicas with skewed clocks agree on who
-- is alive), with the address clients and peers reach it at and the clusters it runs.
CREATE TABLE replicas (
	id           TEXT    PRIMARY KEY,
	address      TEXT    NOT NULL,
	started_at   INTEGER NOT NULL,
	heartbeat_at INTEGER NOT NULL,
	clusters     TEXT    NOT NULL
) STRICT;
