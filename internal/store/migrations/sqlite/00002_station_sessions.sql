-- Web sessions of scanning stations (the station screen at /station). They
-- are kept apart from users' sessions: a session here acts as a station, and
-- revoking the station deletes its sessions. draft holds the lines of a batch
-- initialize being scanned, until it is submitted.

-- +goose Up
CREATE TABLE station_sessions (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   BLOB    NOT NULL UNIQUE,
    station_id   INTEGER NOT NULL REFERENCES stations (id),
    csrf_token   TEXT    NOT NULL,
    draft        TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX station_sessions_station ON station_sessions (workspace_id, station_id);

-- +goose Down
DROP TABLE station_sessions;
