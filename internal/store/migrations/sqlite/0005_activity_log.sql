-- The activity log: one row per write request that reached the API after authentication,
-- and one per end of a long-running operation such a request started. Never a request or
-- response body: only who, what, where, the outcome and the correlation id. seq orders the
-- log and is the paging cursor; rows older than the retention are pruned in batches by
-- event_time. *_key columns hold the lowercased value, compared case-insensitively.
CREATE TABLE activity_events (
	seq               INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id          TEXT    NOT NULL UNIQUE,
	event_time        INTEGER NOT NULL,
	subscription_id   TEXT    NOT NULL,
	subscription_key  TEXT    NOT NULL,
	resource_group    TEXT    NOT NULL,
	resource_id       TEXT    NOT NULL,
	resource_key      TEXT    NOT NULL,
	resource_provider TEXT    NOT NULL,
	operation_name    TEXT    NOT NULL,
	operation_id      TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	http_status       INTEGER NOT NULL,
	error_code        TEXT    NOT NULL,
	caller            TEXT    NOT NULL,
	correlation_id    TEXT    NOT NULL,
	client_request_id TEXT    NOT NULL,
	method            TEXT    NOT NULL,
	client_ip         TEXT    NOT NULL
) STRICT;

CREATE INDEX activity_events_subscription ON activity_events (subscription_key, seq);
CREATE INDEX activity_events_time ON activity_events (event_time);
