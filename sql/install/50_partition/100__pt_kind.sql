
---------------------------------------------------------------------------
-- Key arithmetic.  Keys are handled as numeric: integer keys as they are,
-- time keys as seconds since 1970-01-01 00:00 UTC (timestamp and date keys
-- are read as UTC wall-clock time), so that bounds do not depend on the
-- session's TimeZone.
---------------------------------------------------------------------------

-- 'time', 'int', or NULL for a type that cannot be a partition key here
CREATE FUNCTION @extschema@._pt_kind(typ regtype)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN typ IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN 'time'
	WHEN typ IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'int'
END
$$;
