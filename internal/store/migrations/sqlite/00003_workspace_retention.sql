-- Retention of a workspace's activity log, and its legal hold (issue 13).
-- Both live in columns, not in the settings JSON, because the activity log's
-- delete trigger (00041) reads them: a purge may delete an event only when
-- the database itself says it has expired and no legal hold stops it.

-- +goose Up
-- Days activity events are kept. The plan sets the minimum (Starter 30,
-- Business 90, Enterprise 365); an Enterprise workspace may keep them longer.
ALTER TABLE workspaces ADD COLUMN activity_retention_days INTEGER NOT NULL DEFAULT 365 CHECK (activity_retention_days >= 30);
-- 1 while a legal hold stops every purge of the workspace.
ALTER TABLE workspaces ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0 CHECK (legal_hold IN (0, 1));
ALTER TABLE workspaces ADD COLUMN legal_hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN legal_hold_since INTEGER;
UPDATE workspaces SET activity_retention_days = CASE plan WHEN 'starter' THEN 30 WHEN 'business' THEN 90 ELSE 365 END;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN legal_hold_since;
ALTER TABLE workspaces DROP COLUMN legal_hold_reason;
ALTER TABLE workspaces DROP COLUMN legal_hold;
ALTER TABLE workspaces DROP COLUMN activity_retention_days;
