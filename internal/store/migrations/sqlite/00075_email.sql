-- E-mail notifications (internal/mail): a workspace's standing recipients,
-- the durable outbox of messages to send (one row per message and
-- recipient, written in the same transaction as the mail consumer's ledger
-- cursor, so each alert is mailed once) and every delivery attempt's outcome.

-- +goose Up
CREATE TABLE email_recipients (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    address      TEXT    NOT NULL,
    added_by     TEXT    NOT NULL,
    added_at     INTEGER NOT NULL,
    UNIQUE (workspace_id, address)
);

CREATE TABLE email_outbox (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id),
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- kind: alert (from an ALERT_RAISED activity event) or test (an admin's
    -- test message); source_event_id is the activity event behind it.
    kind            TEXT    NOT NULL CHECK (kind IN ('alert', 'test')),
    source_event_id INTEGER NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    -- pending: to send at next_attempt_at; sent; failed: gave up after the
    -- last allowed attempt (an admin may retry it).
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         INTEGER,
    UNIQUE (workspace_id, source_event_id, recipient)
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);
CREATE INDEX email_outbox_recent ON email_outbox (workspace_id, id);

CREATE TABLE email_attempts (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES email_outbox (id),
    attempted_at INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    ok           INTEGER NOT NULL CHECK (ok IN (0, 1)),
    smtp_code    INTEGER NOT NULL DEFAULT 0,
    error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX email_attempts_message ON email_attempts (workspace_id, message_id, id);

-- +goose Down
DROP TABLE email_attempts;
DROP TABLE email_outbox;
DROP TABLE email_recipients;
