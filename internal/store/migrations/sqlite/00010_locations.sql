-- Locations: warehouse → zone → bin (any depth), shared by inventory and assets.

-- +goose Up
CREATE TABLE locations (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id    INTEGER REFERENCES locations (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('warehouse', 'zone', 'bin', 'other')),
    code         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    -- path is the chain of codes from the root, "WH1/A/03", kept for display
    -- and for "this location and everything under it" queries.
    path         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    archived_at  INTEGER
);
CREATE UNIQUE INDEX locations_path ON locations (workspace_id, path);
CREATE INDEX locations_parent ON locations (workspace_id, parent_id);

-- +goose Down
DROP TABLE locations;
