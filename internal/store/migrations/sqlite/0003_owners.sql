-- A row may name its owner: the resource whose life it depends on (a name claim, a TLS
-- secret or an attachment claim is owned by its compute; a cluster a compute created, by
-- that compute). The sweeper removes rows whose owner no longer exists.
ALTER TABLE resources ADD COLUMN owner_key TEXT NOT NULL DEFAULT '';
ALTER TABLE resources ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
CREATE INDEX resources_owner ON resources (owner_key) WHERE owner_key <> '';
