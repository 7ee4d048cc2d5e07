
-- The comment of a partition detached for the archiving helper and not
-- yet emptied by it (retention_action archive).
CREATE FUNCTION @extschema@._pm_pending_comment(sch name, tbl name)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('scale_advisor: detached from %I.%I for archiving', sch, tbl)
$$;
