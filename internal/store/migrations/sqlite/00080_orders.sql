-- Orders (issue 15): outbound (sales) and inbound (purchase) orders, their
-- lines, and which inventory records each outbound line holds allocated.
-- Stock itself changes only through internal/inventory (its change log and
-- inventory_allocations, 00015); these tables say what the order wants and
-- how far it got. Every table leads with workspace_id, also in its key.

-- +goose Up
-- order_numbers hands out SO-/PO- numbers per workspace and kind: one row
-- per (workspace, kind), incremented inside the creating transaction, so two
-- nodes never give out one number twice and numbers have no gaps.
CREATE TABLE order_numbers (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    kind         TEXT   NOT NULL CHECK (kind IN ('outbound', 'inbound')),
    last         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind)
);

CREATE TABLE orders (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id),
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT   NOT NULL CHECK (kind IN ('outbound', 'inbound')),
    number          TEXT   NOT NULL,
    status          TEXT   NOT NULL CHECK (status IN ('draft', 'confirmed', 'partially_allocated', 'allocated', 'picked',
                                                      'shipped', 'partially_received', 'received', 'closed', 'cancelled')),
    -- party is the customer (outbound) or supplier (inbound); party_reference
    -- is their own reference (their PO number, our sales quote).
    party           TEXT   NOT NULL,
    party_reference TEXT   NOT NULL DEFAULT '',
    note            TEXT   NOT NULL DEFAULT '',
    created_by      TEXT   NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX orders_number ON orders (workspace_id, number);
CREATE INDEX orders_status ON orders (workspace_id, status, id);
CREATE INDEX orders_created ON orders (workspace_id, created_at, id);

CREATE TABLE order_lines (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id     INTEGER NOT NULL,
    -- line_no numbers the lines of an order as people refer to them
    -- ("line 3"); kept when an earlier line is removed.
    line_no      INTEGER NOT NULL,
    item_id      INTEGER NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    -- location_id is a subtree to allocate from (outbound) or to receive
    -- into (inbound); lot a preferred lot. Both optional.
    location_id  INTEGER,
    lot          TEXT   NOT NULL DEFAULT '',
    note         TEXT   NOT NULL DEFAULT '',
    picked       INTEGER NOT NULL DEFAULT 0 CHECK (picked IN (0, 1)),
    shipped      INTEGER NOT NULL DEFAULT 0 CHECK (shipped >= 0),
    received     INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    FOREIGN KEY (order_id) REFERENCES orders (id),
    FOREIGN KEY (item_id) REFERENCES items (id),
    FOREIGN KEY (location_id) REFERENCES locations (id)
);
CREATE UNIQUE INDEX order_lines_number ON order_lines (workspace_id, order_id, line_no);
CREATE INDEX order_lines_item ON order_lines (workspace_id, item_id, order_id);

-- order_allocations splits an outbound order's holding of a record (the
-- inventory_allocations row whose holder is the order number) by line: two
-- lines of one item may draw on the same record. Deleted when released or
-- shipped; the change log keeps the history.
CREATE TABLE order_allocations (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    line_id      INTEGER NOT NULL,
    record_id    INTEGER NOT NULL,
    order_id     INTEGER NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (workspace_id, line_id, record_id),
    FOREIGN KEY (line_id) REFERENCES order_lines (id),
    FOREIGN KEY (record_id) REFERENCES inventory_records (id)
);
CREATE INDEX order_allocations_order ON order_allocations (workspace_id, order_id);
CREATE INDEX order_allocations_record ON order_allocations (workspace_id, record_id);

-- +goose Down
DROP TABLE order_allocations;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE order_numbers;
