package store

import (
	"context"
	"fmt"
	"time"
)

const operationColumns = `id, kind, resource_id, subscription_id, status, input, progress, error, attempts, lease_owner, lease_expires_at, started_at, ended_at`

func scanOperation(sc scanner) (*Operation, error) {
	var (
		op                       Operation
		leaseExpires, start, end int64
	)
	if err := sc.Scan(&op.ID, &op.Kind, &op.ResourceID, &op.SubscriptionID, &op.Status, &op.Input,
		&op.Progress, &op.Error, &op.Attempts, &op.LeaseOwner, &leaseExpires, &start, &end); err != nil {
		return nil, err
	}
	op.LeaseExpiresAt, op.StartedAt, op.EndedAt = fromMillis(leaseExpires), fromMillis(start), fromMillis(end)
	return &op, nil
}

// isTerminal reports whether an operation in this status is finished.
func isTerminal(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusCanceled
}

// CreateOperation inserts op. An empty Status becomes InProgress and a zero StartedAt
// becomes now; op is updated to match what was stored.
func (s *sqlStore) CreateOperation(ctx context.Context, op *Operation) error {
	if op.ID == "" {
		return fmt.Errorf("create operation: empty id")
	}
	status := op.Status
	if status == "" {
		status = StatusInProgress
	}
	started := op.StartedAt
	if started.IsZero() {
		started = now()
	}
	what := "CreateOperation/" + op.Kind
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("create operation %s: %w", op.ID, err)
	}
	_, err := s.exec(ctx, `INSERT INTO operations
	(key, id, kind, resource_id, resource_key, subscription_id, status, input, progress, error, attempts, lease_owner, lease_expires_at, started_at, ended_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		idKey(op.ID), op.ID, op.Kind, op.ResourceID, idKey(op.ResourceID), op.SubscriptionID, status,
		op.Input, op.Progress, op.Error, op.Attempts, op.LeaseOwner, millis(op.LeaseExpiresAt),
		millis(started), millis(op.EndedAt))
	if err != nil {
		return fmt.Errorf("create operation %s: %w", op.ID, err)
	}
	op.Status = status
	op.StartedAt = fromMillis(millis(started))
	return s.hit(what, "after")
}

// GetOperation returns the operation with this id, or ErrNotFound.
func (s *sqlStore) GetOperation(ctx context.Context, id string) (*Operation, error) {
	return queryOne(ctx, s, "get operation "+id, scanOperation, `SELECT `+operationColumns+` FROM operations WHERE key = ?`, idKey(id))
}

// ListOperations returns operations selected by f, oldest first.
func (s *sqlStore) ListOperations(ctx context.Context, f OperationFilter) ([]*Operation, error) {
	var c conditions
	if f.ResourceID != "" {
		c.add("resource_key = ?", idKey(f.ResourceID))
	}
	if f.Status != "" {
		c.add("status = ?", f.Status)
	}
	q := `SELECT ` + operationColumns + ` FROM operations` + c.where() + ` ORDER BY started_at, seq`
	return queryAll(ctx, s, "list operations", scanOperation, q, c.args...)
}

// ClaimOperation leases the oldest claimable operation to owner in one statement. The
// subquery picks a row (on PostgreSQL locking it and skipping rows other claimers hold);
// the outer WHERE repeats the lease condition, so even a row picked from a stale snapshot
// is only taken if it is still free when written. A zero at means the database's clock.
func (s *sqlStore) ClaimOperation(ctx context.Context, owner string, at time.Time, ttl time.Duration) (*Operation, error) {
	if owner == "" {
		return nil, fmt.Errorf("claim operation: empty owner")
	}
	// now appears three times in the statement: as the database's clock, or as at.
	now := s.d.nowMillis
	args := []any{owner, ttl.Milliseconds(), StatusInProgress, StatusInProgress}
	if !at.IsZero() {
		ms := millis(at)
		now = "CAST(? AS BIGINT)"
		args = []any{owner, ms, ttl.Milliseconds(), StatusInProgress, ms, StatusInProgress, ms}
	}
	op, err := scanOperation(s.queryRow(ctx, `UPDATE operations
	SET lease_owner = ?, lease_expires_at = `+now+` + CAST(? AS BIGINT), attempts = attempts + 1
	WHERE seq = (
		SELECT seq FROM operations
		WHERE status = ? AND (lease_owner = '' OR lease_expires_at <= `+now+`)
		ORDER BY started_at, seq
		LIMIT 1`+s.d.skipLocked+`
	) AND status = ? AND (lease_owner = '' OR lease_expires_at <= `+now+`)
	RETURNING `+operationColumns, args...))
	if err != nil {
		return nil, fmt.Errorf("claim operation for %s: %w", owner, s.d.translate(err))
	}
	return op, nil
}

// ExtendLease extends owner's lease on operation id to the database's clock plus ttl, or
// frees it when ttl <= 0.
func (s *sqlStore) ExtendLease(ctx context.Context, id, owner string, ttl time.Duration) error {
	expires, args := "0", []any{}
	if ttl > 0 {
		expires = s.d.nowMillis + " + CAST(? AS BIGINT)"
		args = append(args, ttl.Milliseconds())
	}
	args = append(args, idKey(id), owner, StatusInProgress)
	n, err := s.exec(ctx, `UPDATE operations SET lease_expires_at = `+expires+`
	WHERE key = ? AND lease_owner = ? AND lease_owner <> '' AND status = ?`, args...)
	if err != nil {
		return fmt.Errorf("extend lease on operation %s: %w", id, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "extend lease on operation", id, owner)
	}
	return nil
}

// Unclaim frees owner's lease on operation id and takes back the attempt its claim counted.
func (s *sqlStore) Unclaim(ctx context.Context, id, owner string) error {
	n, err := s.exec(ctx, `UPDATE operations SET lease_owner = '', lease_expires_at = 0, attempts = attempts - 1
	WHERE key = ? AND lease_owner = ? AND lease_owner <> '' AND status = ? AND attempts > 0`, idKey(id), owner, StatusInProgress)
	if err != nil {
		return fmt.Errorf("unclaim operation %s: %w", id, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "unclaim operation", id, owner)
	}
	return nil
}

// RenewLease extends owner's lease on operation id to expiresAt.
func (s *sqlStore) RenewLease(ctx context.Context, id, owner string, expiresAt time.Time) error {
	n, err := s.exec(ctx, `UPDATE operations SET lease_expires_at = ?
	WHERE key = ? AND lease_owner = ? AND lease_owner <> '' AND status = ?`,
		millis(expiresAt), idKey(id), owner, StatusInProgress)
	if err != nil {
		return fmt.Errorf("renew lease on operation %s: %w", id, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "renew lease on operation", id, owner)
	}
	return nil
}

// SaveOperation writes Status, Progress, Error and EndedAt of op if owner holds its lease.
// A terminal status frees the lease, and a zero EndedAt then becomes now; op is updated to
// match what was stored.
func (s *sqlStore) SaveOperation(ctx context.Context, op *Operation, owner string) error {
	terminal := isTerminal(op.Status)
	ended := op.EndedAt
	q := `UPDATE operations SET status = ?, progress = ?, error = ?, ended_at = ?`
	if terminal {
		if ended.IsZero() {
			ended = now()
		}
		q += `, lease_owner = '', lease_expires_at = 0`
	}
	q += ` WHERE key = ? AND lease_owner = ? AND lease_owner <> ''`
	what := "SaveOperation/" + op.Kind
	if terminal {
		what += "/" + op.Status
	}
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("save operation %s: %w", op.ID, err)
	}
	n, err := s.exec(ctx, q, op.Status, op.Progress, op.Error, millis(ended), idKey(op.ID), owner)
	if err != nil {
		return fmt.Errorf("save operation %s: %w", op.ID, err)
	}
	if n == 0 {
		return s.leaseLost(ctx, "save operation", op.ID, owner)
	}
	op.EndedAt = fromMillis(millis(ended))
	if terminal {
		op.LeaseOwner, op.LeaseExpiresAt = "", time.Time{}
	}
	return s.hit(what, "after")
}

// leaseLost explains why a lease-guarded update of operation id changed nothing.
func (s *sqlStore) leaseLost(ctx context.Context, verb, id, owner string) error {
	found, err := s.exists(ctx, "operations", idKey(id))
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: %w", verb, id, err)
	case !found:
		return fmt.Errorf("%s %s: %w", verb, id, ErrNotFound)
	}
	return fmt.Errorf("%s %s: %s does not hold the lease: %w", verb, id, owner, ErrConflict)
}

// ReleaseLeases frees every lease and returns how many were freed.
func (s *sqlStore) ReleaseLeases(ctx context.Context) (int, error) {
	n, err := s.exec(ctx, `UPDATE operations SET lease_owner = '', lease_expires_at = 0 WHERE lease_owner <> ''`)
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	return int(n), nil
}

// DeleteEndedOperationsBefore removes up to limit of the operations that ended (a terminal
// status) before t, those that ended first first, and returns how many it removed. It keeps
// the ones a resource that still exists points at: its newest operation, whose outcome its
// provisioningState summarizes, and its newest Failed one, whose error a compute reports
// for its cluster. Operations of a deleted resource go once they are old enough.
func (s *sqlStore) DeleteEndedOperationsBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("delete ended operations: limit %d must be positive", limit)
	}
	// o is superseded when a later operation n on its resource exists that takes over what
	// o stood for: any later one for an operation that did not fail, a later Failed one for
	// one that did. "Later" is ListOperations' order (started_at, then seq).
	n, err := s.deleteRows(ctx, "DeleteEndedOperations", "delete ended operations", `DELETE FROM operations WHERE seq IN (
	SELECT o.seq FROM operations o
	WHERE o.status IN (?, ?, ?) AND o.ended_at > 0 AND o.ended_at < ?
	AND (NOT EXISTS (SELECT 1 FROM resources r WHERE r.key = o.resource_key)
		OR EXISTS (SELECT 1 FROM operations n WHERE n.resource_key = o.resource_key
			AND (n.started_at > o.started_at OR (n.started_at = o.started_at AND n.seq > o.seq))
			AND (o.status <> ? OR n.status = ?)))
	ORDER BY o.ended_at, o.seq LIMIT ?)`,
		StatusSucceeded, StatusFailed, StatusCanceled, millis(t), StatusFailed, StatusFailed, limit)
	return int(n), err
}
