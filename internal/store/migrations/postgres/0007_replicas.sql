-- Secrets every replica of a PostgreSQL store shares (the at-rest encryption key, the CA,
-- the token-signing key), each wrapped with the key every replica is given. The first
-- replica inserts them; the others read what it inserted. A row is never updated.
CREATE TABLE shared_secrets (
	name       TEXT   PRIMARY KEY,
	value      BYTEA  NOT NULL,
	created_at BIGINT NOT NULL
);

-- The replicas serving this store: each writes its row at start and every few seconds
-- (heartbeat_at, on the database's clock, so that replicas with skewed clocks agree on who
-- is alive), with the address clients and peers reach it at and the clusters it runs.
CREATE TABLE replicas (
	id           TEXT   PRIMARY KEY,
	address      TEXT   NOT NULL,
	started_at   BIGINT NOT NULL,
	heartbeat_at BIGINT NOT NULL,
	clusters     TEXT   NOT NULL
);
