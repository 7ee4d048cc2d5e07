
-- Ends a run: status, duration, VACUUM advice; releases the lock.
CREATE FUNCTION @extschema@._archive_finish(plan jsonb, state jsonb, final_status text, message text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moved bigint := (state->>'rows')::bigint;
	tuples double precision;
	advice text;
BEGIN
	-- the rows the table had when the run started, from the statistics
	-- collector's live count (fresh, unlike pg_class.reltuples, which only
	-- VACUUM and ANALYZE update, so that it still counts rows earlier runs
	-- moved out).  This session's own deletes are reported when the CALL
	-- ends, so the count still holds them, unless a VACUUM or ANALYZE
	-- recounted the table during the run: then they are added back.
	SELECT greatest(s.n_live_tup, 0)
		   + CASE WHEN greatest(s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze)
					   >= (SELECT ar.started_at FROM @extschema@.archive_runs ar
						   WHERE ar.run_id = (plan->>'run_id')::bigint)
				  THEN moved ELSE 0 END
	INTO tuples
	FROM pg_catalog.pg_stat_all_tables s WHERE s.relid = (plan->>'src')::regclass;
	IF moved >= 1000 AND moved >= 0.1 * greatest(coalesce(tuples, 0), moved) THEN
		advice := format('VACUUM (ANALYZE) %s', plan->>'src');
		RAISE NOTICE '%', format('%s rows were moved out of %s%s: %s',
			moved, plan->>'src',
			CASE WHEN tuples > 0 THEN format(' (about %s%% of its rows)', round(100 * moved / greatest(tuples, moved))) ELSE '' END,
			CASE WHEN (plan->>'vacuum')::boolean THEN 'vacuuming it now'
				 ELSE 'run ' || advice || ' to make the space reusable and refresh the planner statistics, or let autovacuum do it' END);
	END IF;
	UPDATE @extschema@.archive_runs AS ar
	SET status = final_status, error = message, finished_at = clock_timestamp(),
		duration = clock_timestamp() - ar.started_at, vacuum_advice = advice
	WHERE ar.run_id = (plan->>'run_id')::bigint;
	PERFORM @extschema@._archive_unlock((plan->>'relation')::oid::regclass);
	IF final_status = 'failed' THEN
		RAISE WARNING '%', format('%s of %s failed after %s rows: %s', plan->>'operation',
								  plan->>'relation_name', moved, message);
	END IF;
	RETURN advice;
END $$;
REVOKE ALL ON FUNCTION @extschema@._archive_finish FROM PUBLIC;
