-- The tables archiving writes into (the targets of archive_policies and of
-- archive_runs, when the archiving part is installed): their indexes serve
-- unarchive() and retention, which run rarely, so unused_indexes does not
-- offer to drop them.  Row-level security shows a role only its own
-- policies and runs, while monitoring must see them all: so
-- _archive_tables_all() reads them as the extension's owner and returns
-- nothing but the tables' OIDs; only readers of all statistics may run it.
-- _archive_tables() runs as its caller, refuses (with the hint naming the
-- grant) a caller that may not read all statistics, then calls it: a check
-- inside a SECURITY DEFINER function would see its owner, not its caller.
CREATE FUNCTION @extschema@._archive_tables_all()
RETURNS SETOF pg_catalog.oid
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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
REVOKE ALL ON FUNCTION @extschema@._archive_tables_all() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._archive_tables_all() TO pg_read_all_stats;

CREATE FUNCTION @extschema@._archive_tables()
RETURNS SETOF pg_catalog.oid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_stats_reader('scale_advisor.unused_indexes');
	RETURN QUERY SELECT a FROM @extschema@._archive_tables_all() a;
END
$$;
