-- Secrets every replica of a PostgreSQL store shares (the at-rest encryption key, the CA,
-- the token-signing key), each wrapped with the key every replica is given. The first
-- replica inserts them; the others read what it inserted. A row is never updated.
CREATE TABLE shared_secrets (
	name       TEXT   PRIMARY KEY,
	value      BYTEA  NOT NULL,
	created_at BIGINT NOT NULL
);
