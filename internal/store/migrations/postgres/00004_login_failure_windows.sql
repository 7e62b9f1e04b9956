-- Failed logins coalesced per (account, address) and window (internal/auth/loginfailures.go).
--
-- A flood of refused logins must not write one activity event per attempt (the
-- log is append-only and can never shrink): the first failure of an
-- (e-mail, IP) pair in a window writes a LOGIN_FAILED event at once, further
-- failures in that window only count here, and the attempts counted here but
-- not yet in an event ("pending") are written as ONE event carrying their
-- number, first_at and last_at: by the first failure after the window, by the
-- next successful login of that pair, or by the job that flushes stale
-- windows. Mutable bookkeeping, not a log: no append-only triggers.

-- +goose Up
CREATE TABLE login_failure_windows (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id),
    -- The e-mail that was tried (lower case) and the client address.
    email         TEXT   NOT NULL,
    ip            TEXT   NOT NULL,
    -- The account tried, 0 when the e-mail matches none.
    user_id       BIGINT NOT NULL,
    -- When the window opened (µs UTC): it covers [window_start, window_start + window).
    window_start  BIGINT NOT NULL,
    -- The attempts counted but not yet written as an event, with the times
    -- of the first and last of them (0 when none are pending).
    pending       BIGINT NOT NULL,
    pending_first BIGINT NOT NULL,
    pending_last  BIGINT NOT NULL,
    -- The distinct reasons of the pending attempts, comma-separated.
    reasons       TEXT   NOT NULL,
    PRIMARY KEY (workspace_id, email, ip)
);
-- The flush job looks for windows that ended with attempts pending.
CREATE INDEX login_failure_windows_pending ON login_failure_windows (window_start) WHERE pending > 0;

-- +goose Down
DROP TABLE login_failure_windows;
