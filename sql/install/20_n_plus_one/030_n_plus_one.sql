
-- One row per (database, user, application_name, kind, statement), the
-- loops that cost the most time first.  The suggestion is the batched
-- statement and the JOIN, each after its note (comment lines: what it does
-- and what each $n is, or why no statement replaces the loop).
CREATE VIEW @extschema@.n_plus_one AS
SELECT e.dbid,
	   e.userid,
	   e.application_name,
	   e.kind,
	   e.queryid,
	   e.query,
	   e.parent_queryid,
	   e.parent_query,
	   e.parent_rows,
	   e.detections,
	   e.repeated_calls,
	   e.max_run,
	   round(e.repeated_calls::numeric / NULLIF(e.detections, 0), 1) AS avg_run,
	   e.last_run,
	   round(e.total_ms::numeric, 3) AS total_ms,
	   CASE
		 WHEN e.queryid IS NULL THEN
		   '<insufficient privilege>'
		 WHEN e.kind = 'repeated_identical' THEN
		   '-- the same statement ran ' || e.max_run
		   || ' times in a row with the same parameters: run it once and reuse its result'
		 ELSE
		   coalesce(e.batched_note,
					CASE WHEN e.kind = 'insert_loop' THEN
					  '-- insert all the rows with one multi-row INSERT ... VALUES (...), (...) or with COPY instead of one INSERT per row'
					ELSE
					  '-- one statement for all the keys (WHERE key = ANY($1)) instead of one statement per key'
					END)
		   || coalesce(E'\n' || e.batched_query || ';', '')
		   || coalesce(E'\n' || coalesce(e.join_note,
										 '-- or, instead of looping over the rows of the parent query, join to it:')
					   || E'\n' || e.join_query || ';', '')
	   END AS suggestion,
	   e.batched_query,
	   e.join_query,
	   e.first_seen,
	   e.last_seen
  FROM @extschema@._n_plus_one_entries(
		(SELECT pg_catalog.array_agg(i.queryid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.application_name ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.created_by::pg_catalog.oid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i)) AS e
 WHERE @extschema@._require_loaded()
 ORDER BY e.total_ms DESC, e.repeated_calls DESC;
GRANT SELECT ON @extschema@.n_plus_one TO PUBLIC;
