
-- a relation name made of base and suffix, cut to fit in 63 bytes: the
-- base is cut first, down to its first 8 characters (which keep names such
-- as sa1_, sa2_ apart), then the suffix (a long column or index name)
CREATE FUNCTION @extschema@._pt_name(base text, suffix text)
RETURNS name
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b text := left(base, 63);
	s text := left(suffix, 63);
BEGIN
	WHILE octet_length(b || '_' || s) > 63 AND length(b) > 8 LOOP
		b := left(b, -1);
	END LOOP;
	WHILE octet_length(b || '_' || s) > 63 LOOP
		s := left(s, -1);
	END LOOP;
	RETURN (b || '_' || s)::name;
END
$$;
