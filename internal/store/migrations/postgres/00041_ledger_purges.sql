-- Retention meets the ledger (issue 13, docs/ACTIVITY.md "Retention").
--
-- ledger_purges records every batch the retention purge deleted from the
-- activity log: verification reports those entries as purged by retention
-- (their leaf hashes stay in ledger_leaves, so the tree still verifies)
-- instead of as deleted. It is append-only like the other ledger tables.
--
-- The activity log's row trigger is replaced by one that lets exactly one
-- kind of delete through: an event that has expired under its workspace's
-- retention as the database stores it (00003), in a workspace without a
-- legal hold, that is sealed, and whose leaf is covered by a purge record
-- written before the delete. Every other DELETE (and every UPDATE) is still
-- refused. On top of that the runtime role holds no DELETE on the table
-- (store.GrantRuntime): it deletes only through stocktrail_purge_activity, a
-- SECURITY DEFINER function that runs as the tables' owner and deletes
-- nothing the trigger refuses. It lives here and not in 00023 because it
-- reads this migration's table and the ledger's leaves (00040).

-- +goose Up
CREATE TABLE ledger_purges (
    workspace_id BIGINT NOT NULL,
    -- The largest sequence number of the batch; every purged entry of the
    -- batch has a leaf at or below it.
    up_to_seq    BIGINT NOT NULL,
    entry_count  BIGINT NOT NULL,
    purged_at    BIGINT NOT NULL,
    -- The plan rule that applied, as people read it ("Business plan: 90 days").
    rule         TEXT   NOT NULL,
    PRIMARY KEY (workspace_id, up_to_seq)
);
CREATE TRIGGER ledger_purges_append_only BEFORE UPDATE OR DELETE ON ledger_purges
    FOR EACH ROW EXECUTE FUNCTION stocktrail_refuse_ledger_change();
CREATE TRIGGER ledger_purges_no_truncate BEFORE TRUNCATE ON ledger_purges
    FOR EACH STATEMENT EXECUTE FUNCTION stocktrail_refuse_ledger_change();

-- Named stocktrail_refuse_… so that GrantRuntime still sees activity_events
-- as append-only (SELECT and INSERT alone).
-- +goose StatementBegin
CREATE FUNCTION stocktrail_refuse_activity_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND EXISTS (SELECT 1 FROM workspaces w
                    WHERE w.id = OLD.workspace_id AND w.legal_hold = 0
                      AND OLD.occurred_at < (extract(epoch FROM statement_timestamp()) * 1000000)::bigint
                                            - w.activity_retention_days::bigint * 86400000000)
       AND EXISTS (SELECT 1 FROM ledger_leaves l
                    WHERE l.workspace_id = OLD.workspace_id AND l.log = 'activity_events' AND l.entry_id = OLD.id
                      AND l.seq <= (SELECT max(p.up_to_seq) FROM ledger_purges p WHERE p.workspace_id = OLD.workspace_id)) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: only the retention purge deletes, and only expired, sealed events outside a legal hold', TG_TABLE_NAME;
END
$$;
-- +goose StatementEnd
DROP TRIGGER activity_events_append_only ON activity_events;
CREATE TRIGGER activity_events_append_only BEFORE UPDATE OR DELETE ON activity_events
    FOR EACH ROW EXECUTE FUNCTION stocktrail_refuse_activity_change();

-- The one way the runtime role deletes activity events. It runs as the
-- owner, so the runtime role needs no DELETE grant; what it may delete is
-- still only what the trigger above lets through.
-- +goose StatementBegin
CREATE FUNCTION stocktrail_purge_activity(p_workspace BIGINT, p_ids BIGINT[]) RETURNS SETOF BIGINT
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DELETE FROM activity_events WHERE workspace_id = p_workspace AND id = ANY (p_ids) RETURNING id
$$;
-- +goose StatementEnd
-- Functions are executable by PUBLIC by default; only the runtime role gets
-- it (store.GrantRuntime), so no other login of the database can call it.
REVOKE ALL ON FUNCTION stocktrail_purge_activity(BIGINT, BIGINT[]) FROM PUBLIC;

-- +goose Down
DROP FUNCTION stocktrail_purge_activity(BIGINT, BIGINT[]);
DROP TRIGGER activity_events_append_only ON activity_events;
CREATE TRIGGER activity_events_append_only BEFORE UPDATE OR DELETE ON activity_events
    FOR EACH ROW EXECUTE FUNCTION stocktrail_refuse_change();
DROP FUNCTION stocktrail_refuse_activity_change();
DROP TABLE ledger_purges;
