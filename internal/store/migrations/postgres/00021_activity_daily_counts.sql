-- Daily counts of activity events, so a summary over a large range reads a
-- few rows per day instead of every event (internal/activity/rollup.go).
--
-- DERIVED DATA, NOT A LOG: no append-only triggers. A background job
-- (internal/jobs, one elected node) fills a UTC day once it is closed (2 hours
-- after its end; events are stamped with the time they are written, so a day
-- older than that gets no new events) and may rewrite it at any time:
-- recomputing a day deletes and re-inserts its rows in one transaction. The
-- whole table can be emptied and rebuilt from activity_events.
-- Retention (a later issue) deletes old events: it must delete the rollups of
-- the deleted days in the same transaction, or the summary would still count
-- them.

-- +goose Up
CREATE TABLE activity_daily_counts (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    -- UTC day: days since 1970-01-01 (occurred_at / 86400000000).
    day          BIGINT NOT NULL,
    entity_type  TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    actor_kind   TEXT    NOT NULL,
    -- 0 when the event names no actor id (system, anonymous).
    actor_id     BIGINT NOT NULL,
    -- The name the actor had on the event: the summary shows the greatest.
    actor_name   TEXT    NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, entity_type, action, category, actor_kind, actor_id, actor_name)
);

-- Per workspace, the last UTC day whose rollups are complete: every day up to
-- and including through_day is in activity_daily_counts (a day without events
-- has no rows), later days are counted from the events.
CREATE TABLE activity_rollup_watermarks (
    workspace_id BIGINT NOT NULL PRIMARY KEY REFERENCES workspaces (id),
    through_day  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE activity_rollup_watermarks;
DROP TABLE activity_daily_counts;
