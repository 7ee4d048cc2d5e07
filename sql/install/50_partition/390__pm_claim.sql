
-- Claim a set for this session's maintenance run: NULL when claimed, else
-- who holds it.  The claim is the set's partition_set_state row (its
-- running_pid), which only roles that may write that row can set, unlike
-- an advisory lock, which any role can take.  A claim whose session has
-- gone, or is not running a statement, is stale and taken over; the run it
-- belonged to did not finish (killed, cancelled or failed where it could
-- not record it), which is recorded as a failure of the set and logged.
CREATE FUNCTION @extschema@._pm_claim(sch name, tbl name, wait interval)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st record;
	act record;
	msg text;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM wait) * 1000)::bigint::text, true);
		SELECT s.running_pid, s.running_backend_start, s.last_started INTO st
		FROM @extschema@.partition_set_state s
		WHERE s.parent_schema = sch AND s.parent_table = tbl
		FOR UPDATE;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN lock_not_available THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RETURN format('another transaction holds its state row (%s)', msg);
	END;
	IF st.running_pid IS NOT NULL AND st.running_pid <> pg_backend_pid() THEN
		SELECT a.usename, a.backend_start, a.state INTO act
		FROM pg_stat_activity a WHERE a.pid = st.running_pid;
		-- (backend_start and state are NULL for a session the caller may
		-- not see in full: taken as running)
		IF FOUND AND (act.backend_start IS NULL OR act.backend_start = st.running_backend_start)
			AND coalesce(act.state, 'active') NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)') THEN
			RETURN format('process %s of role %s, started %s', st.running_pid,
						  coalesce(quote_ident(act.usename::text), '?'), st.last_started);
		END IF;
	END IF;
	IF st.running_pid IS NOT NULL THEN
		msg := format('the run of process %s started %s did not finish (its session ended, or it was cancelled or failed before it could record it)',
					  st.running_pid, st.last_started);
		UPDATE @extschema@.partition_set_state
		SET last_error = msg, last_error_at = clock_timestamp(),
			consecutive_failures = consecutive_failures + 1
		WHERE parent_schema = sch AND parent_table = tbl;
		PERFORM @extschema@._pt_log(sch, tbl, 'interrupted', false, msg);
	END IF;
	UPDATE @extschema@.partition_set_state
	SET running_pid = pg_backend_pid(),
		running_backend_start = (SELECT a.backend_start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()),
		last_started = clock_timestamp()
	WHERE parent_schema = sch AND parent_table = tbl;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pm_claim(name, name, interval) FROM PUBLIC;
