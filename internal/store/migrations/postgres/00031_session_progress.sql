-- Progress counters per session, so that the progress read after every scan
-- and polled by every open session page costs a few rows instead of a count
-- over the whole list. Counts are split over stripes so that 50 scanners do
-- not all wait for one row lock; progress is the sum over a session's stripes.
-- They change in the same transaction as the list rows they count.

-- +goose Up
CREATE TABLE inventory_session_progress (
    workspace_id BIGINT NOT NULL,
    session_id   BIGINT NOT NULL,
    stripe       INTEGER NOT NULL,
    scanned      BIGINT NOT NULL DEFAULT 0,
    total        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, session_id, stripe)
);

-- +goose Down
DROP TABLE inventory_session_progress;
