package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

const activityColumns = `seq, event_id, event_time, subscription_id, resource_group, resource_id, resource_provider,
	operation_name, operation_id, status, http_status, error_code, caller, correlation_id, client_request_id, method, client_ip`

func scanActivityEvent(sc scanner) (*ActivityEvent, error) {
	var (
		e  ActivityEvent
		at int64
	)
	if err := sc.Scan(&e.Seq, &e.ID, &at, &e.SubscriptionID, &e.ResourceGroup, &e.ResourceID, &e.ResourceProvider,
		&e.OperationName, &e.OperationID, &e.Status, &e.HTTPStatus, &e.ErrorCode, &e.Caller, &e.CorrelationID,
		&e.ClientRequestID, &e.Method, &e.ClientIP); err != nil {
		return nil, err
	}
	e.Time = fromMillis(at)
	return &e, nil
}

// CreateActivityEvent records e and sets e.Seq; a zero e.Time becomes now.
func (s *sqlStore) CreateActivityEvent(ctx context.Context, e *ActivityEvent) error {
	if e.ID == "" {
		return fmt.Errorf("create activity event: empty id")
	}
	at := e.Time
	if at.IsZero() {
		at = now()
	}
	what := "CreateActivityEvent/" + resourceKind(e.ResourceID)
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("create activity event %s: %w", e.ID, err)
	}
	var seq int64
	err := s.queryRow(ctx, `INSERT INTO activity_events
	(event_id, event_time, subscription_id, subscription_key, resource_group, resource_id, resource_key, resource_provider,
	operation_name, operation_id, status, http_status, error_code, caller, correlation_id, client_request_id, method, client_ip)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.ID, millis(at), e.SubscriptionID, idKey(e.SubscriptionID), e.ResourceGroup, e.ResourceID, idKey(e.ResourceID),
		e.ResourceProvider, e.OperationName, e.OperationID, e.Status, e.HTTPStatus, e.ErrorCode, e.Caller,
		e.CorrelationID, e.ClientRequestID, e.Method, e.ClientIP).Scan(&seq)
	if err != nil {
		return fmt.Errorf("create activity event %s: %w", e.ID, s.d.translate(err))
	}
	e.Seq, e.Time = seq, fromMillis(millis(at))
	return s.hit(what, "after")
}

// ListActivityEvents returns the events f selects, newest first.
func (s *sqlStore) ListActivityEvents(ctx context.Context, f ActivityFilter) ([]*ActivityEvent, error) {
	if f.SubscriptionID == "" {
		return nil, fmt.Errorf("list activity events: no subscription")
	}
	var c conditions
	c.add("subscription_key = ?", idKey(f.SubscriptionID))
	if !f.From.IsZero() {
		c.add("event_time >= ?", millis(f.From))
	}
	if !f.To.IsZero() {
		c.add("event_time <= ?", millis(f.To))
	}
	if f.ResourceID != "" {
		c.add("resource_key = ?", idKey(f.ResourceID))
	}
	// lower() of these columns agrees with Go's strings.ToLower on ASCII, which names,
	// namespaces, GUIDs and statuses are.
	for _, col := range []struct{ name, value string }{
		{"resource_group", f.ResourceGroup}, {"resource_provider", f.ResourceProvider},
		{"correlation_id", f.CorrelationID}, {"caller", f.Caller}, {"status", f.Status},
	} {
		if col.value != "" {
			c.add("lower("+col.name+") = ?", strings.ToLower(col.value))
		}
	}
	if f.BeforeSeq > 0 {
		c.add("seq < ?", f.BeforeSeq)
	}
	q := `SELECT ` + activityColumns + ` FROM activity_events` + c.where() + ` ORDER BY seq DESC` + s.d.limitOffset(f.Limit, 0)
	return queryAll(ctx, s, "list activity events", scanActivityEvent, q, c.args...)
}

// DeleteActivityEventsBefore removes up to limit of the oldest events older than t.
func (s *sqlStore) DeleteActivityEventsBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("delete activity events: limit %d must be positive", limit)
	}
	n, err := s.deleteRows(ctx, "DeleteActivityEvents", "delete activity events", `DELETE FROM activity_events WHERE seq IN (
	SELECT seq FROM activity_events WHERE event_time < ? ORDER BY event_time, seq LIMIT ?)`, millis(t), limit)
	return int(n), err
}
