-- Which replica hosts each embedded cluster: the holder of its lease. expires_at is on the
-- database's clock (unix ms), so replicas with skewed clocks agree on when a lease lapses.
-- token is the fencing token: it grows by one every time the lease goes to a holder (a
-- takeover, or a new grant after a release), never on renewal, so a write stamped with an
-- older token is recognisably from a host that lost the cluster. A row outlives releases
-- so that tokens never repeat; it goes when the cluster is deleted.
CREATE TABLE cluster_leases (
	cluster_id TEXT   PRIMARY KEY,
	holder     TEXT   NOT NULL,
	token      BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
