-- The process holding a pending claim (store.DB.Presence): a claim whose
-- process has stopped is taken over at once instead of answering "still
-- being processed" until its lease runs out.

-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN owner;
