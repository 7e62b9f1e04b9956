-- Browsers that have logged in to an account before (OWASP's device
-- cookies): a login from one of them is not held up by the throttles an
-- attacker can trip for an account or a shared address, so nobody can lock
-- a person out by guessing their password from elsewhere. Only a hash of
-- the cookie's token is kept.

-- +goose Up
CREATE TABLE login_devices (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    token_hash   BLOB    NOT NULL PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);
CREATE INDEX login_devices_user ON login_devices (workspace_id, user_id);

-- +goose Down
DROP TABLE login_devices;
