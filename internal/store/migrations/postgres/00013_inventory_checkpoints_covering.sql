-- As-of reads sum change_sum over an item's (or the whole workspace's)
-- checkpoints in key order. Through the primary key that is one heap fetch
-- per checkpoint, and checkpoint rows of one item lie on as many pages as
-- months were written (about 1,500 fetches, ~10 ms, for one item at 10M
-- entries); this index answers the same scans index-only.
-- Cost: change_sum is now indexed, so a movement's checkpoint update is no
-- longer a HOT update (each writes new entries in the table's indexes).
-- Index-only scans skip the heap only on pages the visibility map marks
-- all-visible, so the table is vacuumed after 2% of its rows changed
-- rather than the default 20%.
-- SQLite needs nothing: its checkpoints table is WITHOUT ROWID (the key is
-- the table).

-- +goose Up
CREATE INDEX inventory_checkpoints_covering ON inventory_checkpoints (workspace_id, item_id, location_id, period_start) INCLUDE (change_sum);
ALTER TABLE inventory_checkpoints SET (autovacuum_vacuum_scale_factor = 0.02);

-- +goose Down
ALTER TABLE inventory_checkpoints RESET (autovacuum_vacuum_scale_factor);
DROP INDEX inventory_checkpoints_covering;
