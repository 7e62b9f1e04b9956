-- Allocations: units of a record reserved for a holder (an order number such
-- as SO-000012). available = quantity − allocated. The record's allocated is
-- the sum of its holders' quantities and the sum of its log entries'
-- allocated_change; stock_levels.allocated is the sum of its records'
-- allocated, kept in step like quantity. Every entry carries the record's
-- allocated level after it; allocated_change is non-zero only for allocate,
-- release and ship entries.
-- Checkpoints carry allocated_sum so allocated-as-of reads at most a month of
-- log, like quantity. Allocation entries and checkpoints with allocated
-- changes have partial indexes of their own: the as-of reads of allocated
-- stock use them, and the indexes the other movements write stay as they are.

-- +goose Up
ALTER TABLE inventory_records ADD COLUMN allocated BIGINT NOT NULL DEFAULT 0 CHECK (allocated >= 0);
ALTER TABLE stock_levels ADD COLUMN allocated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inventory_log ADD COLUMN allocated_change BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inventory_log ADD COLUMN allocated_level BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inventory_checkpoints ADD COLUMN allocated_sum BIGINT NOT NULL DEFAULT 0;

CREATE INDEX inventory_log_allocated_item ON inventory_log (workspace_id, item_id, effective_at, location_id, allocated_change)
    WHERE allocated_change <> 0;
CREATE INDEX inventory_log_allocated ON inventory_log (workspace_id, effective_at, item_id, location_id, allocated_change)
    WHERE allocated_change <> 0;
CREATE INDEX inventory_checkpoints_allocated ON inventory_checkpoints (workspace_id, item_id, location_id, period_start, allocated_sum)
    WHERE allocated_sum <> 0;

-- Who holds a record's allocated units now. A row goes when its quantity
-- reaches zero.
CREATE TABLE inventory_allocations (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    record_id    BIGINT NOT NULL,
    holder       TEXT   NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (workspace_id, record_id, holder),
    FOREIGN KEY (workspace_id, record_id) REFERENCES inventory_records (workspace_id, id)
);
CREATE INDEX inventory_allocations_holder ON inventory_allocations (workspace_id, holder, record_id);

-- +goose Down
DROP TABLE inventory_allocations;
DROP INDEX inventory_checkpoints_allocated;
DROP INDEX inventory_log_allocated;
DROP INDEX inventory_log_allocated_item;
ALTER TABLE inventory_checkpoints DROP COLUMN allocated_sum;
ALTER TABLE inventory_log DROP COLUMN allocated_level;
ALTER TABLE inventory_log DROP COLUMN allocated_change;
ALTER TABLE stock_levels DROP COLUMN allocated;
ALTER TABLE inventory_records DROP COLUMN allocated;
