-- Retention meets the ledger (issue 13, docs/ACTIVITY.md "Retention").
--
-- ledger_purges records every batch the retention purge deleted from the
-- activity log: verification reports those entries as purged by retention
-- (their leaf hashes stay in ledger_leaves, so the tree still verifies)
-- instead of as deleted. It is append-only like the other ledger tables.
--
-- The activity log's delete trigger is replaced by one that lets exactly one
-- kind of delete through: an event that has expired under its workspace's
-- retention as the database stores it (00003), in a workspace without a
-- legal hold, that is sealed, and whose leaf is covered by a purge record
-- written before the delete. Every other DELETE (and every UPDATE) is still
-- refused. It lives here and not in 00023 because it reads this migration's
-- table and the ledger's leaves (00040).

-- +goose Up
CREATE TABLE ledger_purges (
    workspace_id INTEGER NOT NULL,
    -- The largest sequence number of the batch; every purged entry of the
    -- batch has a leaf at or below it.
    up_to_seq    INTEGER NOT NULL,
    entry_count  INTEGER NOT NULL,
    purged_at    INTEGER NOT NULL,
    -- The plan rule that applied, as people read it ("Business plan: 90 days").
    rule         TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, up_to_seq)
) WITHOUT ROWID;

CREATE TRIGGER ledger_purges_no_update BEFORE UPDATE ON ledger_purges
BEGIN SELECT RAISE(ABORT, 'ledger_purges is append-only'); END;
CREATE TRIGGER ledger_purges_no_delete BEFORE DELETE ON ledger_purges
BEGIN SELECT RAISE(ABORT, 'ledger_purges is append-only'); END;

DROP TRIGGER activity_events_no_delete;
-- +goose StatementBegin
CREATE TRIGGER activity_events_no_delete BEFORE DELETE ON activity_events
WHEN NOT (
    EXISTS (SELECT 1 FROM workspaces w
             WHERE w.id = OLD.workspace_id AND w.legal_hold = 0
               AND OLD.occurred_at < CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)
                                     - w.activity_retention_days * 86400000000)
    AND EXISTS (SELECT 1 FROM ledger_leaves l
                 WHERE l.workspace_id = OLD.workspace_id AND l.log = 'activity_events' AND l.entry_id = OLD.id
                   AND l.seq <= (SELECT MAX(p.up_to_seq) FROM ledger_purges p WHERE p.workspace_id = OLD.workspace_id)))
BEGIN
    SELECT RAISE(ABORT, 'activity_events is append-only: only the retention purge deletes, and only expired, sealed events outside a legal hold');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER activity_events_no_delete;
CREATE TRIGGER activity_events_no_delete BEFORE DELETE ON activity_events
BEGIN SELECT RAISE(ABORT, 'activity_events is append-only'); END;
DROP TABLE ledger_purges;
