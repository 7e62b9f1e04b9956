-- Idempotency keys: which API request (per workspace, responsible party and
-- client-chosen key) has been claimed, applied and answered, so a retry is
-- answered from here instead of being applied again. This is a cache, not an
-- audit log: rows expire after 24 hours and are deleted by a cleanup job.

-- +goose Up
CREATE TABLE idempotency_keys (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    actor_kind   TEXT    NOT NULL,
    actor_id     INTEGER NOT NULL,
    idem_key     TEXT    NOT NULL,
    -- idem_key is a SHA-256 of the client's key, request_hash an HMAC of
    -- method, path and body, and body the answer sealed with AES-GCM, both
    -- under a secret derived from the client's key: answers may hold new API
    -- key secrets and requests passwords (see internal/idempotency/seal.go).
    request_hash TEXT    NOT NULL,
    method       TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    -- pending: an attempt holds the claim; committed: its change committed
    -- (in the same transaction as this state); done: its answer is stored.
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'committed', 'done')),
    -- token identifies the attempt holding the claim; a takeover of a stale
    -- claim changes it, so the old attempt can no longer commit.
    token        TEXT    NOT NULL,
    request_id   TEXT    NOT NULL DEFAULT '',
    status       INTEGER,
    content_type TEXT,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    -- claimed_at is the pending claim's lease, renewed while it runs.
    claimed_at   INTEGER NOT NULL,
    committed_at INTEGER,
    completed_at INTEGER,
    PRIMARY KEY (workspace_id, actor_kind, actor_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
