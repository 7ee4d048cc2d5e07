-- The tables archiving writes into (the targets of archive_policies and of
-- archive_runs, when the archiving part is installed): their indexes serve
-- unarchive() and retention, which run rarely, so unused_indexes does not
-- offer to drop them.  Row-level security shows a role only its own
-- policies and runs, while monitoring must see them all: so this reads
-- them as the extension's owner and returns nothing but the tables' OIDs,
-- to readers that may read all statistics only.
CREATE FUNCTION @extschema@._archive_tables()
RETURNS SETOF pg_catalog.oid
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_stats_reader('scale_advisor.unused_indexes');
	IF pg_catalog.to_regclass('@extschema@.archive_runs') IS NULL
	   OR pg_catalog.to_regclass('@extschema@.archive_policies') IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE $q$
		SELECT DISTINCT pg_catalog.to_regclass(t.target)::pg_catalog.oid
		FROM (SELECT r.target FROM @extschema@.archive_runs r
			  WHERE r.target IS NOT NULL
			  UNION
			  SELECT p.target FROM @extschema@.archive_policies p
			  WHERE p.target IS NOT NULL) t
		WHERE pg_catalog.to_regclass(t.target) IS NOT NULL $q$;
END
$$;
