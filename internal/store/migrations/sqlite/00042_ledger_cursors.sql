-- Where each background consumer of the sealed sequence (alerts, webhooks,
-- e-mail) has got to in each workspace. The consumer advances its cursor in
-- the transaction that writes what it made of the entries, so each entry is
-- handled exactly once across restarts.

-- +goose Up
CREATE TABLE ledger_cursors (
    workspace_id INTEGER NOT NULL,
    consumer     TEXT    NOT NULL,
    next_seq     INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, consumer)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE ledger_cursors;
