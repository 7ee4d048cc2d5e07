-- Objects every part of the extension uses.

-- True, or an error saying the library must be preloaded.  Views use it as a
-- one-time filter (WHERE scale_advisor._require_loaded()), PL/pgSQL
-- functions PERFORM it first.
CREATE FUNCTION @extschema@._require_loaded()
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_loaded';

-- Everyone may look into the schema; what each object lets them do is
-- granted object by object (monitoring views to PUBLIC, functions that
-- change anything to nobody but their owner unless an admin grants them).
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- True, or an error (insufficient_privilege, with a hint naming the grant)
-- when the current user may not read every role's statistics: superusers
-- and roles with the privileges of pg_read_all_stats (pg_monitor members)
-- may.  The monitoring views use it as a one-time filter, functions PERFORM
-- it first.  what names the view in the message.
CREATE FUNCTION @extschema@._require_stats_reader(what text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_stats_reader';

-- True, or an error when the server is a standby (in recovery): what writes
-- tables (archiving, partitioning, ignore lists, thresholds, snapshots)
-- PERFORMs it first, so that on a standby it stops before anything and says
-- why.  The in-memory figures (the statement store, N+1 detections,
-- captured plans) are per server and may be reset on a standby too.
CREATE FUNCTION @extschema@._require_primary(what text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	IF pg_catalog.pg_is_in_recovery() THEN
		RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction',
			MESSAGE = pg_catalog.format('%s cannot run on a standby server', what),
			HINT = 'Run it on the primary; its changes reach standbys through replication.';
	END IF;
	RETURN true;
END
$$;

-- pg_total_relation_size(rel) (or pg_relation_size(rel) when main_only),
-- or NULL when the relation is gone or a lock it needs is held by another
-- session in a conflicting mode (a TRUNCATE, ALTER TABLE, VACUUM FULL,
-- REINDEX in progress): it never waits.  The snapshots and the monitoring
-- views read sizes with it.
CREATE FUNCTION @extschema@._relation_size_nowait(rel pg_catalog.regclass,
												   main_only boolean DEFAULT false)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_relation_size_nowait';

-- A duration given as an interval, for a message: '500 ms', '2 s', '5 min',
-- or the interval's own text from an hour up.
CREATE FUNCTION @extschema@._duration_text(v interval)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN v IS NULL THEN 'NULL'
	WHEN v >= interval '1 hour' OR v <= interval '-1 hour' THEN v::text
	WHEN abs(extract(epoch FROM v)) < 1 THEN round(extract(epoch FROM v) * 1000, 3)::float8 || ' ms'
	WHEN abs(extract(epoch FROM v)) >= 60 AND mod(extract(epoch FROM v), 60) = 0
		THEN (extract(epoch FROM v) / 60)::float8 || ' min'
	ELSE round(extract(epoch FROM v), 3)::float8 || ' s'
END
$$;

-- Refuse a duration argument (or policy column) outside [lo, hi] (hi NULL:
-- no upper bound), or NULL unless nullable.  An interval reads a number
-- without a unit as seconds ('500' is 500 seconds, where lock_timeout = 500
-- in postgresql.conf means milliseconds), and once it is an interval the
-- unit can no longer be told apart: the bounds are set so that the usual
-- slips land outside them, and the hint names the unit.  why, when given,
-- is the DETAIL: what a value out of bounds would do.
CREATE FUNCTION @extschema@._check_duration(arg text, v interval, lo interval, hi interval,
	nullable boolean DEFAULT false, example text DEFAULT '2s', why text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	hint text := format('A number without a unit is read as seconds (%s => ''500'' is 500 seconds, not milliseconds as in postgresql.conf): write the unit, such as ''%s''.',
						arg, example);
BEGIN
	IF v IS NULL THEN
		IF nullable THEN
			RETURN;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = format('%s must not be NULL', arg),
			HINT = format('Give %s with its unit, such as ''%s''.', arg, example);
	END IF;
	IF v < lo THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN lo <= interval '0' THEN format('%s must not be negative, not %s', arg, @extschema@._duration_text(v))
						   WHEN v <= interval '0' THEN format('%s must be positive, not %s', arg, @extschema@._duration_text(v))
						   ELSE format('%s of %s is shorter than %s', arg, @extschema@._duration_text(v), @extschema@._duration_text(lo)) END,
			DETAIL = why, HINT = hint;
	END IF;
	IF v > hi THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('%s of %s is longer than %s', arg, @extschema@._duration_text(v), @extschema@._duration_text(hi)),
			DETAIL = why, HINT = hint;
	END IF;
END
$$;
