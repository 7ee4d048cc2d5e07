
-- pagination
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_pagination(stmts @extschema@._statement[])
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('pagination_rows'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s rows a call: %s)', s.queryid, round(s.rows::numeric / s.calls),
								@extschema@._short(s.query)) ORDER BY s.rows::numeric / s.calls DESC), '; ')
	INTO v_n, v_txt
	FROM unnest(stmts) s
	WHERE s.calls > 0 AND s.rows::numeric / s.calls >= v_t
	  AND s.query ~* '^\s*(select|with)\M'
	  AND s.query !~* '\m(limit|fetch\s+(first|next))\M';
	"check" := 'pagination';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no read returns many rows without LIMIT'
				  ELSE pg_catalog.format('%s: %s', @extschema@._n(v_n, 'statement'), v_txt) END;
	target := pg_catalog.format('reads returning %s rows or more per call use LIMIT', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'page through results with keyset pagination: WHERE id > $last_id ORDER BY id LIMIT 100 (not OFFSET)' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_pagination(@extschema@._statement[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_pagination(@extschema@._statement[]) TO pg_read_all_stats;
