
-- Detach a partition past retention, then drop it or move it to the
-- archive schema as the set says, as the parent's owner (a partition owned
-- by another role cannot be dropped or moved: the whole step fails).  One
-- transaction; errors are returned.
CREATE FUNCTION @extschema@._pm_retire(sch name, tbl name, part oid,
	OUT ok boolean, OUT err_code text, OUT message text, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	part_name := part::regclass::text;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF (SELECT relowner FROM pg_class WHERE oid = part)
			<> (SELECT relowner FROM pg_class WHERE oid = parent) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('partition %s is not owned by the owner of %s; it is left attached', part::regclass, parent),
				HINT = 'Retire it by hand, or give it to the owner of the partitioned table.';
		END IF;
		st := format('ALTER TABLE %s DETACH PARTITION %s', parent, part::regclass);
		PERFORM @extschema@._owner_exec(parent, st);
		IF s.retention_action = 'archive' THEN
			-- in the same transaction: a detached partition whose rows the
			-- archiving helper has not taken yet is found again by the
			-- next run, whatever stops this one
			st := format('COMMENT ON TABLE %s IS %L', part::regclass, @extschema@._pm_pending_comment(sch, tbl));
			PERFORM @extschema@._owner_exec(parent, st);
		END IF;
		IF s.retention_action = 'drop' THEN
			st := format('DROP TABLE %s', part::regclass);
			PERFORM @extschema@._owner_exec(parent, st);
		ELSIF s.retention_action = 'archive_schema' THEN
			st := format('ALTER TABLE %s SET SCHEMA %I', part::regclass, s.archive_schema);
			PERFORM @extschema@._owner_exec(parent, st);
			part_name := part::regclass::text;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pm_retire(name, name, oid) FROM PUBLIC;
