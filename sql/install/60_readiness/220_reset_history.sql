
-- Forget the history: the snapshots and the statement histograms.
CREATE FUNCTION @extschema@.reset_history()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('reset_history()');
	DELETE FROM @extschema@.snapshots;
	PERFORM @extschema@._history_reset();
END
$$;
REVOKE ALL ON FUNCTION @extschema@.reset_history() FROM PUBLIC;
