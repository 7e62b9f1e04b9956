-- Activity search: indexes that match each filter of the activity log and the
-- audit-log API (each ends in occurred_at, id, the order every page is read
-- in, so a filtered page is an index range scan that stops after one page),
-- a full-text index over the text of each event, and the columns that say who
-- posted a manual audit-log entry.

-- +goose Up
-- A manual entry (POST /api/v1/audit-logs) names the user who acted; these
-- say which user or API key actually posted it. Empty for ordinary events,
-- whose actor is the poster.
ALTER TABLE activity_events ADD COLUMN reported_by_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE activity_events ADD COLUMN reported_by_id   INTEGER;
ALTER TABLE activity_events ADD COLUMN reported_by_name TEXT NOT NULL DEFAULT '';

DROP INDEX activity_events_actor;
DROP INDEX activity_events_action;
-- The time index also carries what the summary groups by, so a summary over
-- a date range reads only the index, never the rows.
DROP INDEX activity_events_time;
CREATE INDEX activity_events_time_cover ON activity_events
    (workspace_id, occurred_at, id, entity_type, action, actor_kind, actor_id, actor_name);
-- actor_name rides along so the per-actor summary reads only the index.
CREATE INDEX activity_events_actor_time  ON activity_events (workspace_id, actor_kind, actor_id, occurred_at, id, actor_name);
CREATE INDEX activity_events_action_time ON activity_events (workspace_id, action, occurred_at, id);
CREATE INDEX activity_events_type_time   ON activity_events (workspace_id, entity_type, occurred_at, id);
CREATE INDEX activity_events_category_time ON activity_events (workspace_id, category, occurred_at, id);

-- Contentless FTS5 index (content=''): it stores only the index, not a second
-- copy of the text; the rowid is the event id. It is filled by an AFTER INSERT
-- trigger, so the log itself stays append-only and nothing but an insert
-- ever touches it.
CREATE VIRTUAL TABLE activity_events_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER activity_events_fts_insert AFTER INSERT ON activity_events
BEGIN
    INSERT INTO activity_events_fts (rowid, body) VALUES (new.id,
        new.actor_name || ' ' || new.action || ' ' || new.category || ' ' || new.entity_type || ' ' || new.entity_id || ' ' ||
        new.description || ' ' || COALESCE(new.old_values, '') || ' ' || COALESCE(new.new_values, '') || ' ' || new.ip);
END;
-- +goose StatementEnd

INSERT INTO activity_events_fts (rowid, body)
SELECT id, actor_name || ' ' || action || ' ' || category || ' ' || entity_type || ' ' || entity_id || ' ' ||
       description || ' ' || COALESCE(old_values, '') || ' ' || COALESCE(new_values, '') || ' ' || ip
FROM activity_events;

-- +goose Down
DROP TRIGGER activity_events_fts_insert;
DROP TABLE activity_events_fts;
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
