-- N+1 detection (src/nplus1.c): loops of one statement with different
-- parameters, repeats of one statement with the same parameters, and INSERT
-- loops, with the rewrite that replaces them.

-- Detections to keep out of the view: a query id, an application_name, or
-- a query id for one application_name only.  created_by is the role that
-- added the rule: a rule keeps out only the detections of roles whose
-- privileges its creator has, and (row-level security) each role sees and
-- changes only the rules of roles whose privileges it has; superusers see
-- all.  Rules of 1.0 get the role named in added_by (or the extension's
-- owner when that role is gone).
CREATE TABLE @extschema@.n_plus_one_ignore_list (
	queryid bigint,
	application_name text,
	note text,
	added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	added_by name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT n_plus_one_ignore_list_target
		CHECK (queryid IS NOT NULL OR application_name IS NOT NULL),
	created_by pg_catalog.regrole NOT NULL DEFAULT (CURRENT_USER)::pg_catalog.regrole
);
CREATE UNIQUE INDEX n_plus_one_ignore_list_key
	ON @extschema@.n_plus_one_ignore_list
	((COALESCE(queryid, 0)), (COALESCE(application_name, '')), created_by);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.n_plus_one_ignore_list', '');
ALTER TABLE @extschema@.n_plus_one_ignore_list ENABLE ROW LEVEL SECURITY;
CREATE POLICY n_plus_one_ignore_list_creator ON @extschema@.n_plus_one_ignore_list
	USING (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'));
GRANT SELECT ON @extschema@.n_plus_one_ignore_list TO PUBLIC;

-- Rows matching an ignore rule (query id or NULL, application name or
-- NULL, the rule's creator; arrays of the same length) are left out before
-- other roles' query ids are hidden; a rule matches only the rows of roles
-- whose privileges its creator has.
CREATE FUNCTION @extschema@._n_plus_one_entries(
	ignore_queryids bigint[] DEFAULT NULL,
	ignore_applications text[] DEFAULT NULL,
	ignore_creators oid[] DEFAULT NULL,
	OUT dbid oid,
	OUT userid oid,
	OUT application_name text,
	OUT kind text,
	OUT queryid bigint,
	OUT query text,
	OUT parent_queryid bigint,
	OUT parent_query text,
	OUT parent_rows bigint,
	OUT detections bigint,
	OUT repeated_calls bigint,
	OUT max_run bigint,
	OUT last_run bigint,
	OUT total_ms double precision,
	OUT batched_query text,
	OUT join_query text,
	OUT first_seen timestamptz,
	OUT last_seen timestamptz,
	OUT batched_note text,
	OUT join_note text)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_entries_1_1';

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

-- Keep a statement (optionally only for one application_name) out of the
-- view.
CREATE FUNCTION @extschema@.n_plus_one_ignore(
	queryid bigint,
	application_name text DEFAULT NULL,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore()');
	IF n_plus_one_ignore.queryid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'queryid must not be null',
			HINT = 'Pass the queryid shown in scale_advisor.n_plus_one, or use n_plus_one_ignore_application() to ignore an application.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid = n_plus_one_ignore.queryid
				  AND i.application_name IS NOT DISTINCT FROM n_plus_one_ignore.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (n_plus_one_ignore.queryid, n_plus_one_ignore.application_name,
			n_plus_one_ignore.note);
	RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_ignore(bigint, text, text) FROM PUBLIC;

-- Keep every statement of an application (a batch job that loops on
-- purpose) out of the view.
CREATE FUNCTION @extschema@.n_plus_one_ignore_application(
	application_name text,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore_application()');
	IF n_plus_one_ignore_application.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'application_name must not be null',
			HINT = 'Pass the application_name shown in scale_advisor.n_plus_one.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid IS NULL
				  AND i.application_name = n_plus_one_ignore_application.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (NULL, n_plus_one_ignore_application.application_name,
			n_plus_one_ignore_application.note);
	RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_ignore_application(text, text) FROM PUBLIC;

-- Undo n_plus_one_ignore / n_plus_one_ignore_application; returns the number
-- of entries removed.
CREATE FUNCTION @extschema@.n_plus_one_unignore(
	queryid bigint DEFAULT NULL,
	application_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_unignore()');
	IF n_plus_one_unignore.queryid IS NULL
	   AND n_plus_one_unignore.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'queryid and application_name must not both be null',
			HINT = 'Pass the queryid, the application_name, or both, as given to n_plus_one_ignore.';
	END IF;
	DELETE FROM @extschema@.n_plus_one_ignore_list AS i
	 WHERE i.queryid IS NOT DISTINCT FROM n_plus_one_unignore.queryid
	   AND i.application_name IS NOT DISTINCT FROM n_plus_one_unignore.application_name;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_unignore(bigint, text) FROM PUBLIC;

-- Forget every detection.
CREATE FUNCTION @extschema@.n_plus_one_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_reset';
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_reset() FROM PUBLIC;
