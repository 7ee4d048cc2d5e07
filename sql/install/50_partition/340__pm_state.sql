
-- Record the start or the end of a set's maintenance.
CREATE FUNCTION @extschema@._pm_state(sch name, tbl name, started boolean, err text,
	created integer DEFAULT 0, retired integer DEFAULT 0, moved bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dpart regclass;
	remaining bigint;
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	IF started THEN
		-- (maintain_partitions claims the set with _pm_claim instead)
		UPDATE @extschema@.partition_set_state
		SET last_started = clock_timestamp()
		WHERE parent_schema = sch AND parent_table = tbl;
		RETURN;
	END IF;
	IF @extschema@._pt_rel(sch, tbl) IS NOT NULL THEN
		SELECT p.part::regclass INTO dpart
		FROM @extschema@._pt_partitions(format('%I.%I', sch, tbl)::regclass) p WHERE p.is_default;
	END IF;
	IF dpart IS NOT NULL THEN
		remaining := (@extschema@._owner_exec(dpart,
			format('SELECT jsonb_build_object(''n'', count(*)) FROM (SELECT 1 FROM ONLY %s LIMIT 10000000) x', dpart)) ->> 'n')::bigint;
		IF remaining > 0 THEN
			RAISE WARNING '% rows are in the default partition % of %.%', remaining, dpart, sch, tbl
				USING HINT = 'Maintenance moves rows whose key is set into new partitions; rows with a NULL key stay there.';
		END IF;
	END IF;
	UPDATE @extschema@.partition_set_state
	SET last_finished = clock_timestamp(),
		last_success = CASE WHEN err IS NULL THEN clock_timestamp() ELSE last_success END,
		last_error = CASE WHEN err IS NULL THEN last_error ELSE err END,
		last_error_at = CASE WHEN err IS NULL THEN last_error_at ELSE clock_timestamp() END,
		consecutive_failures = CASE WHEN err IS NULL THEN 0 ELSE consecutive_failures + 1 END,
		partitions_created = partitions_created + created,
		partitions_retired = partitions_retired + retired,
		default_rows_moved = default_rows_moved + moved,
		default_rows_remaining = remaining,
		running_pid = CASE WHEN running_pid = pg_backend_pid() THEN NULL ELSE running_pid END,
		running_backend_start = CASE WHEN running_pid = pg_backend_pid() THEN NULL ELSE running_backend_start END
	WHERE parent_schema = sch AND parent_table = tbl;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pm_state(name, name, boolean, text, integer, integer, bigint) FROM PUBLIC;
