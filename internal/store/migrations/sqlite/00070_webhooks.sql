-- Webhooks (internal/notify): endpoints with their signing secret, the
-- streams each endpoint subscribes to, the outbox of deliveries (one per
-- endpoint, sealed entry and format, written in the transaction that
-- advances the "webhooks" ledger cursor) and every delivery attempt.
-- The River job that sends a delivery carries only its ids.

-- +goose Up
CREATE TABLE webhook_endpoints (
    workspace_id      INTEGER  NOT NULL REFERENCES workspaces (id),
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    url               TEXT    NOT NULL,
    -- The Standard Webhooks signing secret ("whsec_" + base64 of 32 random
    -- bytes). It signs every request, so it is kept as is; it is shown once.
    secret            TEXT    NOT NULL,
    enabled           INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER  NOT NULL,
    updated_at        INTEGER  NOT NULL,
    secret_rotated_at INTEGER  NOT NULL
);

CREATE TABLE webhook_subscriptions (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  INTEGER NOT NULL,
    -- activity: activity events of one category (filter) or all (filter '');
    -- changes: change-log entries of one action type or all; alerts.
    stream       TEXT   NOT NULL CHECK (stream IN ('activity', 'changes', 'alerts')),
    filter       TEXT   NOT NULL DEFAULT '',
    format       TEXT   NOT NULL CHECK (format IN ('json', 'ocsf')),
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id)
);
CREATE UNIQUE INDEX webhook_subscriptions_stream ON webhook_subscriptions (workspace_id, endpoint_id, stream, filter);

CREATE TABLE webhook_deliveries (
    workspace_id    INTEGER  NOT NULL REFERENCES workspaces (id),
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER  NOT NULL,
    message_id      TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    seq             INTEGER  NOT NULL,
    log             TEXT    NOT NULL,
    entry_id        INTEGER  NOT NULL,
    format          TEXT    NOT NULL CHECK (format IN ('json', 'ocsf')),
    -- The body is fixed when the delivery is written, so every attempt and
    -- a redelivery send the same bytes.
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER  NOT NULL,
    finished_at     INTEGER,
    FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id)
);
CREATE UNIQUE INDEX webhook_deliveries_entry ON webhook_deliveries (workspace_id, endpoint_id, seq, format);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (workspace_id, endpoint_id, id);
-- Finished deliveries are pruned after 30 days (notify.PruneDeliveries).
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at);

CREATE TABLE webhook_attempts (
    workspace_id INTEGER  NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  INTEGER  NOT NULL,
    attempted_at INTEGER  NOT NULL,
    duration_us  INTEGER  NOT NULL,
    -- NULL when no answer came (refused, timed out, address not allowed).
    status_code  INTEGER,
    error        TEXT    NOT NULL DEFAULT '',
    response     TEXT    NOT NULL DEFAULT '',
    FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (workspace_id, delivery_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP TABLE webhook_endpoints;
