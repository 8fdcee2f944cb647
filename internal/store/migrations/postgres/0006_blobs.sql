-- Content-addressed blobs (models, code) uploaded to mlfleet: one row per blob, its bytes in
-- chunks of a few MiB so that neither writing nor reading one needs it whole in memory.
-- Replicas sharing this database thus share the blobs (internal/blobs).
CREATE TABLE blobs (
	digest     TEXT   NOT NULL PRIMARY KEY,
	size       BIGINT NOT NULL,
	chunks     INTEGER NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE blob_chunks (
	digest TEXT    NOT NULL,
	seq    INTEGER NOT NULL,
	data   BYTEA   NOT NULL,
	PRIMARY KEY (digest, seq)
);
