
-- What must match between planning and the exclusive step: if any of it
-- changes in between, the swap is retried with a new plan.
CREATE FUNCTION @extschema@._pt_fingerprint(relation regclass)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT md5(concat_ws('|',
	(SELECT c.relname || ':' || c.relowner || ':' || coalesce(c.relacl::text, '')
	 FROM pg_class c WHERE c.oid = relation),
	(SELECT string_agg(a.attname || ':' || a.atttypid || ':' || a.attnotnull || ':' || a.attidentity::text
					   || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ':' || coalesce(a.attacl::text, ''),
					   ',' ORDER BY a.attnum)
	 FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped),
	(SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY i.indexrelid)
	 FROM pg_index i WHERE i.indrelid = relation),
	(SELECT string_agg(con.conname || pg_get_constraintdef(con.oid), ',' ORDER BY con.oid)
	 FROM pg_constraint con WHERE con.conrelid = relation OR con.confrelid = relation),
	(SELECT string_agg(pg_get_triggerdef(t.oid) || t.tgenabled::text, ',' ORDER BY t.oid)
	 FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal)))
$$;
