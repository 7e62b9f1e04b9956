-- The change log can be narrowed to one batch or file import (batch_id, the
-- request id that the request's single activity event names). Only entries
-- written by a batch carry one, so the index is partial: a single movement
-- writes no entry into it.

-- +goose Up
CREATE INDEX inventory_log_batch ON inventory_log (workspace_id, batch_id, id) WHERE batch_id <> '';

-- +goose Down
DROP INDEX inventory_log_batch;
