-- Content-addressed blobs (models, code) uploaded to mlfleet: one row per blob, its bytes in
-- chunks of a few MiB so that neither writing nor reading one needs it whole in memory.
-- A server on SQLite keeps blobs as files in its home instead (internal/blobs); the tables
-- exist in both dialects so that the schemas stay the same and the contract tests cover both.
CREATE TABLE blobs (
	digest     TEXT    NOT NULL PRIMARY KEY,
	size       INTEGER NOT NULL,
	chunks     INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE blob_chunks (
	digest TEXT    NOT NULL,
	seq    INTEGER NOT NULL,
	data   BLOB    NOT NULL,
	PRIMARY KEY (digest, seq)
) STRICT;
