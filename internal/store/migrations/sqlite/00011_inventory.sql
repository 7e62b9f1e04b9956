-- Inventory: items, inventory records, stock per item and location, the
-- append-only change log and its level checkpoints.
-- Quantities are BIGINT micro-units (value × 10^6), exact on both engines;
-- see internal/inventory/quantity.go for why.

-- +goose Up
CREATE TABLE items (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sku          TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('material', 'part', 'product')),
    unit         TEXT    NOT NULL,
    -- unit_scale is how many decimals a quantity of this item may have (0..6).
    unit_scale   INTEGER NOT NULL CHECK (unit_scale BETWEEN 0 AND 6),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE UNIQUE INDEX items_sku ON items (workspace_id, sku) WHERE deleted_at IS NULL;

CREATE TABLE inventory_records (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id      INTEGER NOT NULL REFERENCES items (id),
    location_id  INTEGER NOT NULL REFERENCES locations (id),
    lot          TEXT    NOT NULL DEFAULT '',
    quantity     INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE UNIQUE INDEX inventory_records_key ON inventory_records (workspace_id, item_id, location_id, lot) WHERE deleted_at IS NULL;
CREATE INDEX inventory_records_location ON inventory_records (workspace_id, location_id, item_id);

-- Current stock per item and location: the sum of its records, kept in step
-- inside each movement's transaction; its row is the lock that orders
-- concurrent movements of one item at one location.
CREATE TABLE stock_levels (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    item_id      INTEGER NOT NULL,
    location_id  INTEGER NOT NULL,
    quantity     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, item_id, location_id)
) WITHOUT ROWID;
CREATE INDEX stock_levels_location ON stock_levels (workspace_id, location_id, item_id);

CREATE TABLE inventory_log (
    workspace_id   INTEGER NOT NULL REFERENCES workspaces (id),
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id        INTEGER NOT NULL,
    sku            TEXT    NOT NULL,
    unit           TEXT    NOT NULL,
    unit_scale     INTEGER NOT NULL,
    record_id      INTEGER NOT NULL,
    location_id    INTEGER NOT NULL,
    location_path  TEXT    NOT NULL,
    lot            TEXT    NOT NULL DEFAULT '',
    movement       TEXT    NOT NULL,
    action         TEXT    NOT NULL CHECK (action IN ('scan', 'user_correction', 'user_action', 'system_action',
                                                      'create_record', 'update_record', 'delete_record')),
    change         INTEGER NOT NULL,
    record_level   INTEGER NOT NULL,
    location_level INTEGER NOT NULL,
    actor_kind     TEXT    NOT NULL CHECK (actor_kind IN ('user', 'station', 'api_key', 'system')),
    actor_id       INTEGER,
    actor_name     TEXT    NOT NULL,
    recorded_at    INTEGER NOT NULL,
    effective_at   INTEGER NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    reference      TEXT    NOT NULL DEFAULT '',
    idempotency_key TEXT   NOT NULL DEFAULT '',
    batch_id       TEXT    NOT NULL DEFAULT ''
);
-- One index per filter, each ending in id for keyset pagination.
CREATE INDEX inventory_log_ws ON inventory_log (workspace_id, id);
CREATE INDEX inventory_log_item ON inventory_log (workspace_id, item_id, id);
CREATE INDEX inventory_log_location ON inventory_log (workspace_id, location_id, id);
CREATE INDEX inventory_log_record ON inventory_log (workspace_id, record_id, id);
CREATE INDEX inventory_log_action ON inventory_log (workspace_id, action, id);
CREATE INDEX inventory_log_actor ON inventory_log (workspace_id, actor_kind, actor_id, id);
CREATE INDEX inventory_log_actor_kind ON inventory_log (workspace_id, actor_kind, id);
CREATE INDEX inventory_log_recorded ON inventory_log (workspace_id, recorded_at, id);
-- As-of by effective time, and "as shown" by level-after.
-- Trailing columns make the as-of scans covering (SQLite has no INCLUDE).
CREATE INDEX inventory_log_item_effective ON inventory_log (workspace_id, item_id, effective_at, location_id, change);
CREATE INDEX inventory_log_location_effective ON inventory_log (workspace_id, location_id, effective_at, item_id, change);
CREATE INDEX inventory_log_effective ON inventory_log (workspace_id, effective_at, item_id, location_id, change);
CREATE INDEX inventory_log_item_location ON inventory_log (workspace_id, item_id, location_id, id);

CREATE TRIGGER inventory_log_no_update BEFORE UPDATE ON inventory_log
BEGIN SELECT RAISE(ABORT, 'inventory_log is append-only'); END;
CREATE TRIGGER inventory_log_no_delete BEFORE DELETE ON inventory_log
BEGIN SELECT RAISE(ABORT, 'inventory_log is append-only'); END;

-- Level checkpoints: the sum of changes per item, location and calendar
-- month (UTC) of effective time. As-of adds the months before the asked
-- moment's month to the log entries within it, so it never scans all
-- history. Derived from the log and checkable against it at any time.
-- WITHOUT ROWID: the primary key is the table, so a whole-workspace as-of
-- reads it in key order without a lookup per row (6x faster).
CREATE TABLE inventory_checkpoints (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    item_id      INTEGER NOT NULL,
    location_id  INTEGER NOT NULL,
    period_start INTEGER NOT NULL,
    change_sum   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, item_id, location_id, period_start)
) WITHOUT ROWID;
CREATE INDEX inventory_checkpoints_location ON inventory_checkpoints (workspace_id, location_id, period_start);

-- +goose Down
DROP TABLE inventory_checkpoints;
DROP TABLE inventory_log;
DROP TABLE stock_levels;
DROP TABLE inventory_records;
DROP TABLE items;
