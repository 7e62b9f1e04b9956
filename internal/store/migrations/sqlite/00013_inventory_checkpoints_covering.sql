-- PostgreSQL gets a covering index on inventory_checkpoints here (see the
-- postgres migration of the same number). SQLite's checkpoints table is
-- WITHOUT ROWID, so its primary key already holds change_sum: nothing to do.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
