-- The daily rollups (00021) also count, per row, the events outside the
-- workspace's business hours and keep the time of the last one, so the user
-- activity summary (Reports → Audit, internal/activity/reports.go) reads
-- after-hours actions and "last active" from them instead of every event.
--
-- After hours is decided when the day is rolled up, with the business hours
-- and time zone in force then (the job rolls a day up shortly after it
-- closes): a later change of business hours does not rewrite past days.
-- Rollups are derived data: the rows rolled up before this migration lack
-- the new counts, so they are dropped with the watermarks and the job rolls
-- every day up again (summaries count from the events meanwhile).

-- +goose Up
ALTER TABLE activity_daily_counts ADD COLUMN after_hours BIGINT NOT NULL DEFAULT 0;
-- occurred_at (µs UTC) of the row's last event.
ALTER TABLE activity_daily_counts ADD COLUMN last_at BIGINT NOT NULL DEFAULT 0;
DELETE FROM activity_daily_counts;
DELETE FROM activity_rollup_watermarks;

-- +goose Down
DELETE FROM activity_daily_counts;
DELETE FROM activity_rollup_watermarks;
ALTER TABLE activity_daily_counts DROP COLUMN last_at;
ALTER TABLE activity_daily_counts DROP COLUMN after_hours;
