
-- The key the batches walk and the archive must enforce: the primary key,
-- else the narrowest valid, non-partial unique index on NOT NULL columns.
CREATE FUNCTION @extschema@._archive_key(rel regclass)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k name[];
BEGIN
	SELECT array_agg(a.attname ORDER BY c.ord) INTO k
	FROM (SELECT i.indexrelid, i.indkey
		  FROM pg_index i
		  WHERE i.indrelid = rel AND i.indisunique AND i.indisvalid
			AND i.indpred IS NULL AND i.indexprs IS NULL
			AND NOT EXISTS (SELECT 1 FROM pg_attribute na
							WHERE na.attrelid = rel
							  AND na.attnum = ANY (i.indkey::int2[])
							  AND NOT na.attnotnull)
		  ORDER BY i.indisprimary DESC, i.indnatts, i.indexrelid
		  LIMIT 1) ix,
		 unnest(ix.indkey::int2[]) WITH ORDINALITY AS c(attnum, ord),
		 pg_attribute a
	WHERE a.attrelid = rel AND a.attnum = c.attnum;
	IF k IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('table %s has no primary key', rel),
			HINT = 'Archiving needs a primary key (or a unique index on NOT NULL columns) to move every row exactly once; add one, for example ALTER TABLE ... ADD PRIMARY KEY (id).';
	END IF;
	RETURN k;
END $$;
