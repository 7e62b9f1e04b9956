-- Alert rules and the alerts they raise (Configuration → Notifications).
-- alert_rules: what to watch for, with the thresholds as JSON (their fields
-- depend on the kind and are validated by internal/alerts).
-- alerts: one record per burst; alert_evidence: the log entries that fired
-- it or joined the burst; alert_pending: matching entries counted towards a
-- rule's threshold that have not fired yet (the evaluation's window, kept in
-- the database so a restart neither loses nor repeats an alert).
-- Every table leads with workspace_id, also in its primary key.

-- +goose Up
CREATE TABLE alert_rules (
    workspace_id INTEGER  NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL CHECK (kind IN ('failed_logins', 'after_hours_access', 'bulk_export', 'large_correction', 'after_hours_stock_change')),
    name         TEXT    NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    params       TEXT    NOT NULL,
    email_to     TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER  NOT NULL,
    updated_at   INTEGER  NOT NULL
);
CREATE UNIQUE INDEX alert_rules_name ON alert_rules (workspace_id, name);

CREATE TABLE alerts (
    workspace_id    INTEGER  NOT NULL REFERENCES workspaces (id),
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id         INTEGER  NOT NULL,
    kind            TEXT    NOT NULL,
    rule_name       TEXT    NOT NULL,
    group_key       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('open', 'acknowledged')),
    evidence_count  INTEGER NOT NULL,
    weight          INTEGER  NOT NULL,
    first_at        INTEGER  NOT NULL,
    last_at         INTEGER  NOT NULL,
    raised_at       INTEGER  NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT    NOT NULL DEFAULT '',
    ack_note        TEXT    NOT NULL DEFAULT '',
    FOREIGN KEY (rule_id) REFERENCES alert_rules (id)
);
CREATE INDEX alerts_status ON alerts (workspace_id, status, id);
CREATE INDEX alerts_rule_key ON alerts (workspace_id, rule_id, group_key, status);

CREATE TABLE alert_evidence (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    alert_id     INTEGER NOT NULL,
    log          TEXT   NOT NULL CHECK (log IN ('activity_events', 'inventory_log')),
    entry_id     INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    occurred_at  INTEGER NOT NULL,
    weight       INTEGER NOT NULL,
    summary      TEXT   NOT NULL,
    PRIMARY KEY (workspace_id, alert_id, log, entry_id),
    FOREIGN KEY (alert_id) REFERENCES alerts (id)
);

CREATE TABLE alert_pending (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    rule_id      INTEGER NOT NULL,
    log          TEXT   NOT NULL CHECK (log IN ('activity_events', 'inventory_log')),
    entry_id     INTEGER NOT NULL,
    group_key    TEXT   NOT NULL,
    subject      TEXT   NOT NULL,
    seq          INTEGER NOT NULL,
    occurred_at  INTEGER NOT NULL,
    weight       INTEGER NOT NULL,
    summary      TEXT   NOT NULL,
    PRIMARY KEY (workspace_id, rule_id, log, entry_id),
    FOREIGN KEY (rule_id) REFERENCES alert_rules (id)
);

CREATE INDEX alert_pending_key ON alert_pending (workspace_id, rule_id, group_key);

-- +goose Down
DROP TABLE alert_pending;
DROP TABLE alert_evidence;
DROP TABLE alerts;
DROP TABLE alert_rules;
