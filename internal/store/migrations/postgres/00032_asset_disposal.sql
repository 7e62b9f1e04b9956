-- Assets leave the register in two ways, both keeping the row, its history
-- and its tag (the unique tag index still covers them, so a tag is never
-- silently reused for another thing):
-- * disposal, final: the date it left, how (sold, scrapped, donated, lost and
--   written off) and why; a disposed asset is never scanned into a session.
-- * deletion, soft and reversible: for assets entered by mistake; hidden
--   from the register by default, its page and history still reachable.
-- Schedules are deleted softly too, because the sessions they created keep
-- pointing at them.

-- +goose Up
ALTER TABLE assets ADD COLUMN disposed_on TEXT;
ALTER TABLE assets ADD COLUMN disposal_method TEXT CHECK (disposal_method IN ('sold', 'scrapped', 'donated', 'lost_written_off'));
ALTER TABLE assets ADD COLUMN disposal_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN disposed_at BIGINT;
ALTER TABLE assets ADD COLUMN disposed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN deleted_at BIGINT;
ALTER TABLE assets ADD COLUMN deleted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory_schedules ADD COLUMN deleted_at BIGINT;

-- Keyset pages of a session's list, by tag, for sessions of thousands of assets.
CREATE INDEX inventory_session_items_tag ON inventory_session_items (workspace_id, session_id, tag, asset_id);

-- +goose Down
DROP INDEX inventory_session_items_tag;
ALTER TABLE inventory_schedules DROP COLUMN deleted_at;
ALTER TABLE assets DROP COLUMN deleted_by;
ALTER TABLE assets DROP COLUMN deleted_at;
ALTER TABLE assets DROP COLUMN disposed_by;
ALTER TABLE assets DROP COLUMN disposed_at;
ALTER TABLE assets DROP COLUMN disposal_reason;
ALTER TABLE assets DROP COLUMN disposal_method;
ALTER TABLE assets DROP COLUMN disposed_on;
