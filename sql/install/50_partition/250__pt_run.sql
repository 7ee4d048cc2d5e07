
-- Run statements in one subtransaction under lock_timeout, each as the
-- owner of the table run_as names at the same position (_owner_exec), or
-- as the caller where it is NULL (only our own configuration rows).  A
-- statement that is a LOCK TABLE starts the exclusive part: after it the
-- table's fingerprint must still be the planned one, and the time from
-- there to the end is returned as lock_ms.  Errors are returned, not raised
-- (a cancel too, as 57014).
CREATE FUNCTION @extschema@._pt_run(stmts text[], run_as regclass[], lock_timeout interval,
	relation regclass DEFAULT NULL, fingerprint text DEFAULT NULL,
	OUT ok boolean, OUT err_code text, OUT message text, OUT lock_ms double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s text;
	i integer;
	locked_at timestamptz;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	ok := true;
	IF cardinality(stmts) <> coalesce(cardinality(run_as), 0) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'every statement needs the table whose owner runs it',
			HINT = 'Pass run_as with as many entries as stmts (NULL for the caller).';
	END IF;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM lock_timeout) * 1000)::bigint::text, true);
		FOR i IN 1 .. coalesce(cardinality(stmts), 0) LOOP
			s := stmts[i];
			IF run_as[i] IS NULL THEN
				EXECUTE s;
			ELSE
				PERFORM @extschema@._owner_exec(run_as[i], s);
			END IF;
			IF s LIKE 'LOCK TABLE %' AND locked_at IS NULL THEN
				locked_at := clock_timestamp();
				IF fingerprint IS NOT NULL AND @extschema@._pt_fingerprint(relation) <> fingerprint THEN
					RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
						MESSAGE = format('%s changed while it was being converted', relation);
				END IF;
			END IF;
		END LOOP;
		IF locked_at IS NOT NULL THEN
			lock_ms := extract(epoch FROM clock_timestamp() - locked_at) * 1000;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	-- a cancel (or statement_timeout) too: the caller must still undo what
	-- it committed before, then raise it
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(s, 200) || ')';
	END;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pt_run(text[], regclass[], interval, regclass, text) FROM PUBLIC;
