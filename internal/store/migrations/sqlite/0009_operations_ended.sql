-- The sweeper removes operations that ended longer ago than their retention, those that
-- ended first first; this index finds them without reading the operations still running
-- (ended_at 0) or recently ended.
CREATE INDEX operations_ended ON operations (ended_at, seq);
