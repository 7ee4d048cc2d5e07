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

-- n and the noun, singular for 1: '1 call', '3 calls' (plural given when
-- it is not the noun and an s).
CREATE FUNCTION @extschema@._n(n numeric, singular text, plural text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(n::text, '?') || ' '
	   || CASE WHEN n = 1 THEN singular ELSE coalesce(plural, singular || 's') END
$$;

-- A time in milliseconds as a person reads it: '850 us', '12.3 ms',
-- '4.56 s', '2.1 min', '3.5 h' (three significant digits at most).
CREATE FUNCTION @extschema@._ms_pretty(ms double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN ms IS NULL THEN NULL
			WHEN ms = 'Infinity'::float8 OR ms = '-Infinity'::float8 OR ms = 'NaN'::float8 THEN ms::text
			WHEN abs(ms) < 1 THEN trim_scale(round((ms * 1000)::numeric, greatest(0, 2 - floor(log(greatest(abs(ms) * 1000, 1e-9)::numeric))::integer))) || ' us'
			WHEN abs(ms) < 1000 THEN trim_scale(round(ms::numeric, greatest(0, 2 - floor(log(abs(ms)::numeric))::integer))) || ' ms'
			WHEN abs(ms) < 60000 THEN trim_scale(round((ms / 1000)::numeric, greatest(0, 2 - floor(log(abs(ms / 1000)::numeric))::integer))) || ' s'
			WHEN abs(ms) < 3600000 THEN trim_scale(round((ms / 60000)::numeric, 1)) || ' min'
			ELSE trim_scale(round((ms / 3600000)::numeric, 1)) || ' h' END
$$;

-- A time in milliseconds rounded to what is meaningful: to the microsecond
-- (3 decimals), and to 4 significant digits above 10 seconds.
CREATE FUNCTION @extschema@._ms_round(ms double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN ms IS NULL OR ms = 'Infinity'::float8 OR ms = '-Infinity'::float8 OR ms = 'NaN'::float8 THEN ms
			WHEN abs(ms) < 10000 THEN round(ms::numeric, 3)::float8
			ELSE round(ms::numeric, 3 - floor(log(abs(ms)::numeric))::integer)::float8 END
$$;

-- True for a statement the application runs: a query or a change of rows
-- (SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE, MERGE, CALL, also
-- as the text of a prepared statement), leading comments and parentheses
-- aside.  Not DDL (CREATE DATABASE, CREATE INDEX, ALTER ...), maintenance
-- (ANALYZE, VACUUM, REINDEX, CLUSTER, REFRESH), COPY (bulk loads),
-- transaction control or SET, and not scale_advisor's own reads (a
-- monitoring scrape, this checklist).  A text the reader may not see
-- counts as the application's.
CREATE FUNCTION @extschema@._app_statement(p_query text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN p_query IS NULL OR p_query = '<insufficient privilege>' THEN true
			WHEN strpos(lower(p_query), '@extschema@.') > 0 THEN false
			ELSE regexp_replace(
					regexp_replace(p_query, '^(\s|/\*([^*]|\*+[^*/])*\*+/|--[^\n]*(\n|$)|\()*', ''),
					'^prepare\s+("[^"]+"|[^\s(]+)\s*(\([^)]*\))?\s*as\s+', '', 'i')
				 ~* '^(select|with|values|table|insert|update|delete|merge|call)\M' END
$$;

-- A text on one line, cut at a word boundary to at most n characters, with
-- ' ...' when something was cut.
CREATE FUNCTION @extschema@._cut(p_text text, n integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN length(t) <= n THEN t
			ELSE coalesce(nullif(regexp_replace(left(t, n + 1), '\s*\S*$', ''), ''), left(t, n)) || ' ...' END
FROM (SELECT btrim(regexp_replace(coalesce(p_text, '?'), '\s+', ' ', 'g')) AS t) x
$$;

-- The first five items of a list joined with sep, and how many more
-- ('a, b, c, d, e and 7 more'); NULL for no items.
CREATE FUNCTION @extschema@._list(items text[], sep text DEFAULT ', ')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT array_to_string(items[1:5], sep)
	   || CASE WHEN cardinality(items) > 5 THEN ' and ' || (cardinality(items) - 5) || ' more' ELSE '' END
$$;
