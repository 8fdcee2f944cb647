-- Principals (users and service principals), role assignments at a scope, and the
-- principal each token was minted for. Keys are lowercased ids, as in 0001.

CREATE TABLE principals (
	key         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	id          TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	-- login_key is what a principal logs in with, lowercased: a service principal's appId,
	-- a user's user principal name. Unique among principals.
	login_key   TEXT    NOT NULL UNIQUE,
	login       TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	secret_hash TEXT    NOT NULL,
	created_by  TEXT    NOT NULL,
	created_at  BIGINT  NOT NULL,
	updated_at  BIGINT  NOT NULL
);

-- A role assignment is named by a GUID, unique in the tenant as in Azure; scope is "/" or
-- an ARM id. One principal holds a role at a scope at most once.
CREATE TABLE role_assignments (
	key           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name          TEXT    NOT NULL,
	scope_key     TEXT COLLATE "C" NOT NULL,
	scope         TEXT    NOT NULL,
	principal_key TEXT    NOT NULL,
	principal_id  TEXT    NOT NULL,
	role          TEXT    NOT NULL,
	created_by    TEXT    NOT NULL,
	created_at    BIGINT  NOT NULL,
	UNIQUE (scope_key, principal_key, role)
);

CREATE INDEX role_assignments_principal ON role_assignments (principal_key);

-- Tokens minted before principals existed have principal_key '' and act as the bootstrap
-- admin, capped by their role.
ALTER TABLE tokens ADD COLUMN principal_key TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_principal ON tokens (principal_key);
