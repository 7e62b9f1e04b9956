-- The configuration changes report (Reports → Audit, internal/activity/reports.go)
-- lists, oldest first, every change of settings, roles, API keys, stations and
-- alert rules. Those events are few among many, and no index of 00020 finds
-- them in time order without reading past the rest (API keys' changes share
-- their entity type with every API call made with a key), so a partial
-- index holds just them. The report's query repeats this predicate word for
-- word (activity.configChangeCondition), which is how both engines know
-- the index applies.

-- +goose Up
CREATE INDEX activity_events_config_changes ON activity_events (workspace_id, occurred_at, id)
    WHERE category = 'configuration' OR action = 'ROLE_CHANGE'
       OR (entity_type IN ('api_keys', 'stations') AND action IN ('CREATE', 'UPDATE', 'DELETE', 'REVOKE'));

-- +goose Down
DROP INDEX activity_events_config_changes;
