
-- The readiness checklist: one row per check, in this order (the view
-- checklist puts the failing ones first).  Each check is a function of its
-- own, _check_<name>() (62_readiness_checks/1NN__check_*.sql), returning
-- its row(s) ("check", status pass/warn/fail, value, target, advice); the
-- statements are read once here for the checks that need them.
CREATE FUNCTION @extschema@._checklist()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_stmts @extschema@._statement[];
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_stats_reader('scale_advisor.checklist');
	-- the statements, read once for every check that needs them
	v_stmts := ARRAY(SELECT s FROM @extschema@._statements() s);
	RETURN QUERY
	SELECT * FROM @extschema@._check_slow_statements(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_missing_indexes()
	UNION ALL SELECT * FROM @extschema@._check_sequential_scans()
	UNION ALL SELECT * FROM @extschema@._check_n_plus_one()
	UNION ALL SELECT * FROM @extschema@._check_cacheable_queries(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_connections()
	UNION ALL SELECT * FROM @extschema@._check_idle_in_transaction()
	UNION ALL SELECT * FROM @extschema@._check_role_timeouts()
	UNION ALL SELECT * FROM @extschema@._check_slow_query_logging()
	UNION ALL SELECT * FROM @extschema@._check_wal_archiving()
	UNION ALL SELECT * FROM @extschema@._check_autovacuum()
	UNION ALL SELECT * FROM @extschema@._check_dead_tuples()
	UNION ALL SELECT * FROM @extschema@._check_stale_statistics()
	UNION ALL SELECT * FROM @extschema@._check_table_bloat()
	UNION ALL SELECT * FROM @extschema@._check_index_bloat()
	UNION ALL SELECT * FROM @extschema@._check_cache_hit_ratio()
	UNION ALL SELECT * FROM @extschema@._check_pagination(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_archiving_partitioning()
	UNION ALL SELECT * FROM @extschema@._check_unused_indexes()
	UNION ALL SELECT * FROM @extschema@._check_duplicate_indexes()
	UNION ALL SELECT * FROM @extschema@._check_invalid_indexes()
	UNION ALL SELECT * FROM @extschema@._check_fk_without_index()
	UNION ALL SELECT * FROM @extschema@._check_transaction_id_age()
	UNION ALL SELECT * FROM @extschema@._check_regressions()
	UNION ALL SELECT * FROM @extschema@._check_capacity_2x();
END
$$;
