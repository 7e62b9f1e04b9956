-- Activity search: indexes that match each filter of the activity log and the
-- audit-log API (each ends in occurred_at, id, the order every page is read
-- in, so a filtered page is an index range scan that stops after one page),
-- a full-text index over the text of each event, and the columns that say who
-- posted a manual audit-log entry.

-- +goose Up
-- A manual entry (POST /api/v1/audit-logs) names the user who acted; these
-- say which user or API key actually posted it. Empty for ordinary events,
-- whose actor is the poster. (Adding columns with constant defaults rewrites
-- nothing and fires no UPDATE trigger.)
ALTER TABLE activity_events ADD COLUMN reported_by_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE activity_events ADD COLUMN reported_by_id   BIGINT;
ALTER TABLE activity_events ADD COLUMN reported_by_name TEXT NOT NULL DEFAULT '';

DROP INDEX activity_events_actor;
DROP INDEX activity_events_action;
-- The time index also carries what the summary groups by, so a summary over
-- a date range is an index-only scan.
DROP INDEX activity_events_time;
CREATE INDEX activity_events_time_cover ON activity_events (workspace_id, occurred_at, id)
    INCLUDE (entity_type, action, actor_kind, actor_id, actor_name);
-- actor_name rides along so the per-actor summary is an index-only scan.
CREATE INDEX activity_events_actor_time  ON activity_events (workspace_id, actor_kind, actor_id, occurred_at, id) INCLUDE (actor_name);
CREATE INDEX activity_events_action_time ON activity_events (workspace_id, action, occurred_at, id);
CREATE INDEX activity_events_type_time   ON activity_events (workspace_id, entity_type, occurred_at, id);
CREATE INDEX activity_events_category_time ON activity_events (workspace_id, category, occurred_at, id);

-- Full text over the text of each event: an expression index, so the table
-- gains no column and the log no UPDATE. The 'simple' configuration does no
-- stemming (names, ids and e-mail addresses are searched as written), like
-- SQLite's unicode61; translate() splits e-mail addresses, hosts, paths and
-- decimals into words as unicode61 does, so a search finds the same events on
-- both engines. internal/activity repeats this expression verbatim; the
-- planner uses the index only when the two match.
CREATE INDEX activity_events_search ON activity_events USING GIN (to_tsvector('simple', translate(
    actor_name || ' ' || action || ' ' || category || ' ' || entity_type || ' ' || entity_id || ' ' ||
    description || ' ' || COALESCE(old_values, '') || ' ' || COALESCE(new_values, '') || ' ' || ip,
    '@.:/-', '     ')));

-- +goose Down
DROP INDEX activity_events_search;
DROP INDEX activity_events_time_cover;
CREATE INDEX activity_events_time ON activity_events (workspace_id, occurred_at, id);
DROP INDEX activity_events_category_time;
DROP INDEX activity_events_type_time;
DROP INDEX activity_events_action_time;
DROP INDEX activity_events_actor_time;
CREATE INDEX activity_events_actor ON activity_events (workspace_id, actor_kind, actor_id, id);
CREATE INDEX activity_events_action ON activity_events (workspace_id, action, id);
ALTER TABLE activity_events DROP COLUMN reported_by_name;
ALTER TABLE activity_events DROP COLUMN reported_by_id;
ALTER TABLE activity_events DROP COLUMN reported_by_kind;
