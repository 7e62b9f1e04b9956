-- Assets and inventory sessions (seed 003): the asset register, photos kept
-- in the database so every node can serve them, inventory sessions with their
-- snapshot (expected list), scans and staged changes, and schedules.
-- Every table leads with workspace_id, also in its primary key.

-- +goose Up
CREATE TABLE assets (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tag          TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    category     TEXT   NOT NULL DEFAULT '',
    status       TEXT   NOT NULL CHECK (status IN ('active', 'in_use', 'in_repair', 'retired', 'lost')),
    condition    TEXT   NOT NULL CHECK (condition IN ('new', 'good', 'fair', 'poor', 'broken')),
    assignee     TEXT   NOT NULL DEFAULT '',
    location_id  INTEGER,
    notes        TEXT   NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    FOREIGN KEY (location_id) REFERENCES locations (id)
);
CREATE UNIQUE INDEX assets_tag ON assets (workspace_id, tag);
CREATE INDEX assets_location ON assets (workspace_id, location_id);

-- Schedules create sessions ahead of time; spec is a standard 5-field cron
-- expression (daily, weekly and monthly recurrences are stored as one too).
CREATE TABLE inventory_schedules (
    workspace_id    INTEGER  NOT NULL REFERENCES workspaces (id),
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL,
    recurrence      TEXT    NOT NULL CHECK (recurrence IN ('daily', 'weekly', 'monthly', 'cron')),
    spec            TEXT    NOT NULL,
    location_id     INTEGER,
    exclude_retired INTEGER NOT NULL DEFAULT 0,
    active          INTEGER NOT NULL DEFAULT 1,
    created_by      TEXT    NOT NULL,
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL,
    FOREIGN KEY (location_id) REFERENCES locations (id)
);

CREATE TABLE inventory_sessions (
    workspace_id    INTEGER  NOT NULL REFERENCES workspaces (id),
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('scheduled', 'in_progress', 'completed', 'cancelled')),
    location_id     INTEGER,
    exclude_retired INTEGER NOT NULL DEFAULT 0,
    schedule_id     INTEGER,
    -- occurrence_at is the schedule's occurrence this session stands for;
    -- unique per schedule so restarts and several nodes create it once.
    occurrence_at   INTEGER,
    created_by      TEXT    NOT NULL,
    created_at      INTEGER  NOT NULL,
    started_at      INTEGER,
    started_by      TEXT    NOT NULL DEFAULT '',
    finished_at     INTEGER,
    finished_by     TEXT    NOT NULL DEFAULT '',
    cancelled_at    INTEGER,
    lost_marked     INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (location_id) REFERENCES locations (id),
    FOREIGN KEY (schedule_id) REFERENCES inventory_schedules (id)
);
CREATE UNIQUE INDEX inventory_sessions_occurrence ON inventory_sessions (workspace_id, schedule_id, occurrence_at);
CREATE INDEX inventory_sessions_status ON inventory_sessions (workspace_id, status, id);

-- One row per asset on a session's list: its values at snapshot time, when
-- and by whom it was found, the changes staged for it and, once finished,
-- the changes applied.
CREATE TABLE inventory_session_items (
    workspace_id      INTEGER NOT NULL,
    session_id        INTEGER NOT NULL,
    asset_id          INTEGER NOT NULL,
    origin            TEXT   NOT NULL CHECK (origin IN ('snapshot', 'included')),
    tag               TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    condition         TEXT   NOT NULL,
    assignee          TEXT   NOT NULL,
    location_id       INTEGER,
    added_at          INTEGER NOT NULL,
    excluded_at       INTEGER,
    excluded_by       TEXT   NOT NULL DEFAULT '',
    scanned_at        INTEGER,
    scanned_by        TEXT   NOT NULL DEFAULT '',
    scan_method       TEXT   NOT NULL DEFAULT '',
    staged_condition  TEXT,
    staged_assignee   TEXT,
    staged_location_id INTEGER,
    staged_comment    TEXT,
    staged_by         TEXT   NOT NULL DEFAULT '',
    applied_changes   TEXT,
    PRIMARY KEY (workspace_id, session_id, asset_id),
    FOREIGN KEY (session_id) REFERENCES inventory_sessions (id),
    FOREIGN KEY (asset_id) REFERENCES assets (id)
);
CREATE INDEX inventory_session_items_asset ON inventory_session_items (workspace_id, asset_id);

-- Every accepted scan, keyed by the client's scan id so that a retry from a
-- phone on a bad connection is recognised and never counted twice.
CREATE TABLE inventory_scans (
    workspace_id   INTEGER NOT NULL,
    session_id     INTEGER NOT NULL,
    client_scan_id TEXT   NOT NULL,
    asset_id       INTEGER NOT NULL,
    outcome        TEXT   NOT NULL CHECK (outcome IN ('found', 'repeat', 'unexpected')),
    method         TEXT   NOT NULL CHECK (method IN ('scan', 'manual')),
    scanned_at     INTEGER NOT NULL,
    scanned_by     TEXT   NOT NULL,
    PRIMARY KEY (workspace_id, session_id, client_scan_id),
    FOREIGN KEY (session_id) REFERENCES inventory_sessions (id)
);

-- Photo bytes live in the database so that every node serves them. A photo
-- staged in a session (session_id set) joins the asset when the session
-- finishes (applied = 1).
CREATE TABLE asset_photos (
    workspace_id INTEGER  NOT NULL,
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id     INTEGER  NOT NULL,
    session_id   INTEGER,
    applied      INTEGER NOT NULL DEFAULT 1,
    content_type TEXT    NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   INTEGER  NOT NULL,
    data         BLOB   NOT NULL,
    uploaded_by  TEXT    NOT NULL,
    uploaded_at  INTEGER  NOT NULL,
    FOREIGN KEY (asset_id) REFERENCES assets (id)
);
CREATE INDEX asset_photos_asset ON asset_photos (workspace_id, asset_id);

-- +goose Down
DROP TABLE asset_photos;
DROP TABLE inventory_scans;
DROP TABLE inventory_session_items;
DROP TABLE inventory_sessions;
DROP TABLE inventory_schedules;
DROP TABLE assets;
