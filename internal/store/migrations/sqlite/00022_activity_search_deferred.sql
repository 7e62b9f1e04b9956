-- The full-text index of activity events is filled after the fact instead of
-- by a trigger on every insert (internal/activity/searchindex.go). FTS5
-- flushes its pending terms to a new segment at every savepoint, and the
-- group committer gives each logical transaction a savepoint: indexing inside
-- the write cost about a fifth of the single writer's time per movement.
-- Search first indexes whatever is new, so it never misses an event; a
-- background loop keeps the backlog short.
--
-- DERIVED DATA, NOT A LOG: activity_search_progress is rewritten as the
-- index grows, and the index can be rebuilt from activity_events at any time.

-- +goose Up
DROP TRIGGER activity_events_fts_insert;
CREATE TABLE activity_search_progress (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    -- Every event with an id up to this one is in activity_events_fts.
    indexed_through INTEGER NOT NULL
);
INSERT INTO activity_search_progress (id, indexed_through) SELECT 1, COALESCE(MAX(id), 0) FROM activity_events;

-- +goose Down
-- Index what is still pending, then go back to indexing on insert.
INSERT INTO activity_events_fts (rowid, body)
SELECT id, actor_name || ' ' || action || ' ' || category || ' ' || entity_type || ' ' || entity_id || ' ' ||
       description || ' ' || COALESCE(old_values, '') || ' ' || COALESCE(new_values, '') || ' ' || ip
FROM activity_events WHERE id > (SELECT indexed_through FROM activity_search_progress);
DROP TABLE activity_search_progress;
-- +goose StatementBegin
CREATE TRIGGER activity_events_fts_insert AFTER INSERT ON activity_events
BEGIN
    INSERT INTO activity_events_fts (rowid, body) VALUES (new.id,
        new.actor_name || ' ' || new.action || ' ' || new.category || ' ' || new.entity_type || ' ' || new.entity_id || ' ' ||
        new.description || ' ' || COALESCE(new.old_values, '') || ' ' || COALESCE(new.new_values, '') || ' ' || new.ip);
END;
-- +goose StatementEnd
