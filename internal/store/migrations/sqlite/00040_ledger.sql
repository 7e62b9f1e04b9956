-- The ledger: every change-log entry and activity event as a leaf of one
-- Merkle tree per workspace (RFC 6962 hashing), sealed after commit by one
-- sealer and signed as checkpoints. docs/ledger.md describes it.

-- +goose Up
-- Entries committed but not sealed yet, filled by the insert triggers below
-- in the writer's own transaction; the sealer deletes what it seals.
CREATE TABLE ledger_pending (
    workspace_id INTEGER NOT NULL,
    id           INTEGER PRIMARY KEY,
    log          TEXT    NOT NULL,
    entry_id     INTEGER NOT NULL
);
CREATE INDEX ledger_pending_workspace ON ledger_pending (workspace_id, id);
CREATE TRIGGER ledger_pending_inventory_log AFTER INSERT ON inventory_log
BEGIN INSERT INTO ledger_pending (workspace_id, log, entry_id) VALUES (NEW.workspace_id, 'inventory_log', NEW.id); END;
CREATE TRIGGER ledger_pending_activity_events AFTER INSERT ON activity_events
BEGIN INSERT INTO ledger_pending (workspace_id, log, entry_id) VALUES (NEW.workspace_id, 'activity_events', NEW.id); END;

-- Sealed entries: their place (seq) in the workspace's tree and their leaf
-- hash, which stays when retention purges the entry itself.
CREATE TABLE ledger_leaves (
    workspace_id INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    log          TEXT    NOT NULL,
    entry_id     INTEGER NOT NULL,
    leaf_hash    BLOB    NOT NULL,
    sealed_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX ledger_leaves_entry ON ledger_leaves (workspace_id, log, entry_id);

-- The tree's stored hashes (golang.org/x/mod/sumdb/tlog's index space).
CREATE TABLE ledger_hashes (
    workspace_id INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    hash         BLOB    NOT NULL,
    PRIMARY KEY (workspace_id, idx)
) WITHOUT ROWID;

-- Signed checkpoints (C2SP tlog-checkpoint bodies as signed notes).
CREATE TABLE ledger_checkpoints (
    workspace_id INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    root_hash    BLOB    NOT NULL,
    note         TEXT    NOT NULL,
    signed_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, size)
) WITHOUT ROWID;

-- Every verifier key that has signed checkpoints here (public halves only;
-- the signing key never enters the database).
CREATE TABLE ledger_keys (
    verifier_key TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    added_at     INTEGER NOT NULL
);

-- The install's name in every checkpoint's origin line.
CREATE TABLE ledger_install (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    origin TEXT    NOT NULL
);

CREATE TRIGGER ledger_leaves_no_update BEFORE UPDATE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'ledger_leaves is append-only'); END;
CREATE TRIGGER ledger_leaves_no_delete BEFORE DELETE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'ledger_leaves is append-only'); END;
CREATE TRIGGER ledger_hashes_no_update BEFORE UPDATE ON ledger_hashes
BEGIN SELECT RAISE(ABORT, 'ledger_hashes is append-only'); END;
CREATE TRIGGER ledger_hashes_no_delete BEFORE DELETE ON ledger_hashes
BEGIN SELECT RAISE(ABORT, 'ledger_hashes is append-only'); END;
CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;
CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;

-- Entries written before the ledger existed are sealed too, oldest first.
INSERT INTO ledger_pending (workspace_id, log, entry_id)
    SELECT workspace_id, log, id FROM (
        SELECT workspace_id, 'activity_events' AS log, id, occurred_at AS at FROM activity_events
        UNION ALL
        SELECT workspace_id, 'inventory_log', id, recorded_at FROM inventory_log)
    ORDER BY at, log, id;

-- +goose Down
DROP TABLE ledger_install;
DROP TABLE ledger_keys;
DROP TABLE ledger_checkpoints;
DROP TABLE ledger_hashes;
DROP TABLE ledger_leaves;
DROP TRIGGER ledger_pending_activity_events;
DROP TRIGGER ledger_pending_inventory_log;
DROP TABLE ledger_pending;
