
-- Forget the history: the snapshots and the statement histograms.  Named
-- as the other resets (n_plus_one_reset, index_workload_reset): what, then
-- _reset.
CREATE FUNCTION @extschema@.history_reset()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('history_reset()');
	DELETE FROM @extschema@.snapshots;
	PERFORM @extschema@._history_reset();
END
$$;
REVOKE ALL ON FUNCTION @extschema@.history_reset() FROM PUBLIC;

-- The 1.0 name of history_reset(), kept for the scripts that call it (a
-- role needs EXECUTE on history_reset() too).
CREATE FUNCTION @extschema@.reset_history()
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@.history_reset() $$;
COMMENT ON FUNCTION @extschema@.reset_history() IS
'old name of history_reset()';
REVOKE ALL ON FUNCTION @extschema@.reset_history() FROM PUBLIC;
