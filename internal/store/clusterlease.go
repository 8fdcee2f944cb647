package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// errNoClusterLease is readClusterLease's error when the cluster has no lease row.
var errNoClusterLease = errors.New("no lease row")

// ClusterLease is the lease that makes one replica the host of an embedded cluster.
type ClusterLease struct {
	// ClusterID is the cluster's provider id.
	ClusterID string
	// Holder is the id of the replica that holds (or last held) the lease.
	Holder string
	// Token is the fencing token of the current grant: it grows at every grant, never on
	// renewal.
	Token int64
	// Remaining is how long the lease has left, on the database's clock, when it was read
	// (zero or less: expired). A holder must stop serving the cluster within Remaining of
	// the moment it sent the statement that returned it.
	Remaining time.Duration
}

// AcquireClusterLease grants holder the cluster's lease for ttl if nobody holds it, if it
// has expired (the token then grows by one), or if holder already holds it (a renewal,
// same token). It returns the lease as it now stands and whether holder holds it.
func (s *sqlStore) AcquireClusterLease(ctx context.Context, clusterID, holder string, ttl time.Duration) (*ClusterLease, bool, error) {
	if clusterID == "" || holder == "" || ttl <= 0 {
		return nil, false, fmt.Errorf("acquire cluster lease: empty cluster id or holder, or ttl %v", ttl)
	}
	if err := s.hit("AcquireClusterLease", "before"); err != nil {
		return nil, false, fmt.Errorf("acquire lease of cluster %s: %w", clusterID, err)
	}
	now := s.d.nowMillis
	_, err := s.exec(ctx, `INSERT INTO cluster_leases (cluster_id, holder, token, expires_at) VALUES (?, ?, 1, `+now+` + CAST(? AS BIGINT))
	ON CONFLICT (cluster_id) DO UPDATE SET
		token = CASE WHEN cluster_leases.holder = excluded.holder AND cluster_leases.expires_at > `+now+` THEN cluster_leases.token ELSE cluster_leases.token + 1 END,
		holder = excluded.holder, expires_at = excluded.expires_at
	WHERE cluster_leases.holder = excluded.holder OR cluster_leases.expires_at <= `+now,
		clusterID, holder, ttl.Milliseconds())
	if err != nil {
		return nil, false, fmt.Errorf("acquire lease of cluster %s: %w", clusterID, err)
	}
	l, err := s.readClusterLease(ctx, clusterID)
	if err != nil {
		return nil, false, fmt.Errorf("acquire lease of cluster %s: %w", clusterID, err)
	}
	return l, l.Holder == holder && l.Remaining > 0, s.hit("AcquireClusterLease", "after")
}

// RenewClusterLease extends holder's lease by ttl from now if holder still holds it under
// token and it has not expired. It returns false when the lease is lost: the caller must
// stop serving the cluster.
func (s *sqlStore) RenewClusterLease(ctx context.Context, clusterID, holder string, token int64, ttl time.Duration) (bool, error) {
	if err := s.hit("RenewClusterLease", "before"); err != nil {
		return false, fmt.Errorf("renew lease of cluster %s: %w", clusterID, err)
	}
	now := s.d.nowMillis
	n, err := s.exec(ctx, `UPDATE cluster_leases SET expires_at = `+now+` + CAST(? AS BIGINT)
	WHERE cluster_id = ? AND holder = ? AND token = ? AND expires_at > `+now, ttl.Milliseconds(), clusterID, holder, token)
	if err != nil {
		return false, fmt.Errorf("renew lease of cluster %s: %w", clusterID, err)
	}
	return n == 1, s.hit("RenewClusterLease", "after")
}

// ReleaseClusterLease ends holder's lease under token at once, so that another replica can
// take the cluster without waiting for it to expire. Releasing a lease one no longer holds
// does nothing.
func (s *sqlStore) ReleaseClusterLease(ctx context.Context, clusterID, holder string, token int64) error {
	if err := s.hit("ReleaseClusterLease", "before"); err != nil {
		return fmt.Errorf("release lease of cluster %s: %w", clusterID, err)
	}
	if _, err := s.exec(ctx, `UPDATE cluster_leases SET expires_at = 0 WHERE cluster_id = ? AND holder = ? AND token = ?`,
		clusterID, holder, token); err != nil {
		return fmt.Errorf("release lease of cluster %s: %w", clusterID, err)
	}
	return s.hit("ReleaseClusterLease", "after")
}

// SeizeClusterLease grants holder the cluster's lease for ttl whoever holds it, with a new
// token (the previous holder's renewals fail from now on), and returns how long the
// previous holder may still serve the cluster: the time its lease had left, when another
// replica held it. A delete waits that long before it removes what the host writes to.
func (s *sqlStore) SeizeClusterLease(ctx context.Context, clusterID, holder string, ttl time.Duration) (time.Duration, error) {
	if clusterID == "" || holder == "" || ttl <= 0 {
		return 0, fmt.Errorf("seize cluster lease: empty cluster id or holder, or ttl %v", ttl)
	}
	if err := s.hit("SeizeClusterLease", "before"); err != nil {
		return 0, fmt.Errorf("seize lease of cluster %s: %w", clusterID, err)
	}
	now := s.d.nowMillis
	for {
		prev, err := s.readClusterLease(ctx, clusterID)
		if err != nil && !errors.Is(err, errNoClusterLease) {
			return 0, fmt.Errorf("seize lease of cluster %s: %w", clusterID, err)
		}
		var n int64
		if prev == nil {
			n, err = s.exec(ctx, `INSERT INTO cluster_leases (cluster_id, holder, token, expires_at) VALUES (?, ?, 1, `+now+` + CAST(? AS BIGINT))
			ON CONFLICT (cluster_id) DO NOTHING`, clusterID, holder, ttl.Milliseconds())
		} else {
			// Compare and swap on the token: a concurrent grant makes this try again.
			n, err = s.exec(ctx, `UPDATE cluster_leases SET holder = ?, token = token + 1, expires_at = `+now+` + CAST(? AS BIGINT)
			WHERE cluster_id = ? AND token = ?`, holder, ttl.Milliseconds(), clusterID, prev.Token)
		}
		if err != nil {
			return 0, fmt.Errorf("seize lease of cluster %s: %w", clusterID, err)
		}
		if n == 0 {
			continue
		}
		var wait time.Duration
		if prev != nil && prev.Holder != holder && prev.Remaining > 0 {
			wait = prev.Remaining
		}
		return wait, s.hit("SeizeClusterLease", "after")
	}
}

// DeleteClusterLease removes a deleted cluster's lease row (missing: no error).
func (s *sqlStore) DeleteClusterLease(ctx context.Context, clusterID string) error {
	_, err := s.deleteRows(ctx, "DeleteClusterLease", "delete lease of cluster "+clusterID,
		`DELETE FROM cluster_leases WHERE cluster_id = ?`, clusterID)
	return err
}

// ListClusterLeases returns every cluster lease, ordered by cluster id, with Remaining
// measured on the database's clock.
func (s *sqlStore) ListClusterLeases(ctx context.Context) ([]*ClusterLease, error) {
	return queryAll(ctx, s, "list cluster leases", scanClusterLease,
		`SELECT `+s.clusterLeaseColumns()+` FROM cluster_leases ORDER BY cluster_id`)
}

func (s *sqlStore) readClusterLease(ctx context.Context, clusterID string) (*ClusterLease, error) {
	l, err := scanClusterLease(s.queryRow(ctx, `SELECT `+s.clusterLeaseColumns()+` FROM cluster_leases WHERE cluster_id = ?`, clusterID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w for cluster %s", errNoClusterLease, clusterID)
	}
	if err != nil {
		return nil, s.d.translate(err)
	}
	return l, nil
}

// clusterLeaseColumns are the columns scanClusterLease reads; the time left is measured on
// the database's clock.
func (s *sqlStore) clusterLeaseColumns() string {
	return `cluster_id, holder, token, expires_at - ` + s.d.nowMillis
}

func scanClusterLease(sc scanner) (*ClusterLease, error) {
	var (
		l  ClusterLease
		ms int64
	)
	if err := sc.Scan(&l.ClusterID, &l.Holder, &l.Token, &ms); err != nil {
		return nil, err
	}
	l.Remaining = time.Duration(ms) * time.Millisecond
	return &l, nil
}
