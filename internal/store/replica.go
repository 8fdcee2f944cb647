package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Replica is one server process on this store, as its heartbeat row says.
type Replica struct {
	// ID identifies the replica; it stays the same across restarts of one home.
	ID string
	// Address is the host:port of the replica's API (and front door).
	Address string
	// StartedAt is when the replica's process started; HeartbeatAt its latest heartbeat,
	// on the database's clock.
	StartedAt, HeartbeatAt time.Time
	// Silence is how long ago the latest heartbeat was, on the database's clock (set by
	// ListReplicas).
	Silence time.Duration
	// Clusters are the provider ids of the clusters the replica runs.
	Clusters []string
}

// HeartbeatReplica writes r's row (creating it on first call) with the database's clock as
// its heartbeat time. StartedAt, Address and Clusters are taken from r.
func (s *sqlStore) HeartbeatReplica(ctx context.Context, r *Replica) error {
	if r.ID == "" {
		return fmt.Errorf("heartbeat: empty replica id")
	}
	clusters := r.Clusters
	if clusters == nil {
		clusters = []string{}
	}
	list, _ := json.Marshal(clusters)
	if err := s.hit("HeartbeatReplica", "before"); err != nil {
		return fmt.Errorf("heartbeat of replica %s: %w", r.ID, err)
	}
	_, err := s.exec(ctx, `INSERT INTO replicas (id, address, started_at, heartbeat_at, clusters) VALUES (?, ?, ?, `+s.d.nowMillis+`, ?)
	ON CONFLICT (id) DO UPDATE SET address = excluded.address, started_at = excluded.started_at,
		heartbeat_at = excluded.heartbeat_at, clusters = excluded.clusters`,
		r.ID, r.Address, millis(r.StartedAt), string(list))
	if err != nil {
		return fmt.Errorf("heartbeat of replica %s: %w", r.ID, err)
	}
	return s.hit("HeartbeatReplica", "after")
}

// ListReplicas returns every replica row, ordered by id, with its silence measured on the
// database's clock.
func (s *sqlStore) ListReplicas(ctx context.Context) ([]*Replica, error) {
	return queryAll(ctx, s, "list replicas", scanReplica, `SELECT id, address, started_at, heartbeat_at, clusters, `+s.d.nowMillis+` - heartbeat_at
	FROM replicas ORDER BY id`)
}

func scanReplica(sc scanner) (*Replica, error) {
	var (
		r                       Replica
		started, beat, silentMs int64
		clusters                string
	)
	if err := sc.Scan(&r.ID, &r.Address, &started, &beat, &clusters, &silentMs); err != nil {
		return nil, err
	}
	r.StartedAt, r.HeartbeatAt, r.Silence = fromMillis(started), fromMillis(beat), time.Duration(silentMs)*time.Millisecond
	if err := json.Unmarshal([]byte(clusters), &r.Clusters); err != nil {
		return nil, fmt.Errorf("clusters of %s: %w", r.ID, err)
	}
	return &r, nil
}

// DeleteReplica removes a replica's row (a replica stopping cleanly). Deleting a missing
// row is not an error.
func (s *sqlStore) DeleteReplica(ctx context.Context, id string) error {
	_, err := s.deleteRows(ctx, "DeleteReplica", "delete replica "+id, `DELETE FROM replicas WHERE id = ?`, id)
	return err
}

// DeleteSilentReplicas removes the rows of replicas silent for longer than d (on the
// database's clock) and returns how many.
func (s *sqlStore) DeleteSilentReplicas(ctx context.Context, d time.Duration) (int, error) {
	n, err := s.deleteRows(ctx, "DeleteSilentReplicas", "delete silent replicas",
		`DELETE FROM replicas WHERE heartbeat_at < `+s.d.nowMillis+` - CAST(? AS BIGINT)`, d.Milliseconds())
	return int(n), err
}
