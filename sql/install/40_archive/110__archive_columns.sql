
-- Checks that the archive table matches the main table: every column of
-- the main table exists in the archive with the same type; extra archive
-- columns must be nullable, have a default or be generated.  Returns the
-- columns to copy in the given direction.
CREATE FUNCTION @extschema@._archive_columns(main regclass, arch regclass, operation text)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	problems text;
	cols name[];
BEGIN
	SELECT string_agg(p, '; ' ORDER BY n) INTO problems
	FROM (SELECT m.attnum AS n,
				 CASE WHEN a.attname IS NULL
					  THEN format('column %I (%s) is missing', m.attname,
								  format_type(m.atttypid, m.atttypmod))
					  ELSE format('column %I is %s, not %s', m.attname,
								  format_type(a.atttypid, a.atttypmod),
								  format_type(m.atttypid, m.atttypmod))
				 END AS p
		  FROM pg_attribute m
		  LEFT JOIN pg_attribute a
			ON a.attrelid = arch AND a.attname = m.attname
		   AND a.attnum > 0 AND NOT a.attisdropped
		  WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
			AND (a.attname IS NULL OR a.atttypid <> m.atttypid
				 OR (a.atttypmod <> m.atttypmod AND a.atttypmod <> -1))
		  UNION ALL
		  SELECT 10000 + a.attnum,
				 format('extra column %I is NOT NULL without a default', a.attname)
		  FROM pg_attribute a
		  WHERE a.attrelid = arch AND a.attnum > 0 AND NOT a.attisdropped
			AND a.attnotnull AND NOT a.atthasdef AND a.attgenerated = ''
			AND operation = 'archive'
			AND NOT EXISTS (SELECT 1 FROM pg_attribute m
							WHERE m.attrelid = main AND m.attname = a.attname
							  AND m.attnum > 0 AND NOT m.attisdropped)) x;
	IF problems IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
			MESSAGE = format('archive table %s does not match table %s', arch, main),
			DETAIL = problems || '.',
			HINT = 'The archive needs every column of the table, with the same types.';
	END IF;
	-- copy the columns the receiving side does not generate itself
	SELECT array_agg(m.attname ORDER BY m.attnum) INTO cols
	FROM pg_attribute m
	JOIN pg_attribute a ON a.attrelid = arch AND a.attname = m.attname
	WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
	  AND CASE WHEN operation = 'archive' THEN a.attgenerated = ''
			   ELSE m.attgenerated = '' END;
	RETURN cols;
END $$;
