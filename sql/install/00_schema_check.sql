-- Refuse a schema that a role other than a superuser controls.

-- The schema must be trustworthy before anything is created in it
-- ("Security Considerations for Extension Scripts" in the PostgreSQL
-- documentation).  The control file names the schema scale_advisor; when it
-- exists already, CREATE EXTENSION installs into it.  A role that owns it,
-- or may create objects in it, could then put a function or procedure of
-- its own there (scale_advisor.archive(text, text, text), an operator)
-- that a superuser later runs.  So the schema must be owned by a superuser
-- or by the role running this script, no other role that is not a
-- superuser may have CREATE on it, and every object already in it must be
-- owned by a superuser.  This file opens the install script and, as
-- the start of sql/scale_advisor--1.0--1.1.sql (the same text), the update script.  Every
-- name below is qualified with pg_catalog and compared with pg_catalog
-- operators: nothing in the schema is used before it is checked.
DO $sa_schema_check$
DECLARE
	v_nsp oid := '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid;
	v_owner pg_catalog.text;
	v_bad pg_catalog.text;
BEGIN
	SELECT r.rolname INTO v_owner
	  FROM pg_catalog.pg_namespace n
	  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
	 WHERE n.oid OPERATOR(pg_catalog.=) v_nsp
	   AND NOT r.rolsuper
	   AND r.rolname OPERATOR(pg_catalog.<>) pg_catalog."current_user"();
	IF v_owner IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('schema %I is owned by role %I, which is not a superuser',
										'@extschema@', v_owner),
			DETAIL = 'A role that owns the schema of scale_advisor could put functions or procedures in it that a superuser would run.',
			HINT = pg_catalog.format('Check what the schema contains, then drop it (DROP SCHEMA %I) or give it to a superuser (ALTER SCHEMA %I OWNER TO %I), and run the command again.',
									 '@extschema@', '@extschema@', pg_catalog."current_user"());
	END IF;

	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname) INTO v_bad
	  FROM pg_catalog.pg_namespace n,
		   pg_catalog.aclexplode(n.nspacl) a
	  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
	 WHERE n.oid OPERATOR(pg_catalog.=) v_nsp
	   AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
	   AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
	   AND (a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid OR NOT coalesce(r.rolsuper, false));
	IF v_bad IS NOT NULL OR EXISTS (
		SELECT 1 FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
		 WHERE n.oid OPERATOR(pg_catalog.=) v_nsp
		   AND a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid
		   AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('roles other than the owner may create objects in schema %I: %s',
										'@extschema@', coalesce(v_bad, 'PUBLIC')),
			HINT = pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM those roles, check what they created there, and run the command again.',
									 '@extschema@');
	END IF;

	SELECT pg_catalog.string_agg(x.what, ', ' ORDER BY x.what) INTO v_bad
	  FROM (SELECT pg_catalog.format('relation %I.%I owned by %s', '@extschema@', c.relname, c.relowner::pg_catalog.regrole) AS what, c.relowner AS owner
			  FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('routine %I.%I(%s) owned by %s', '@extschema@', p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid), p.proowner::pg_catalog.regrole), p.proowner
			  FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('type %I.%I owned by %s', '@extschema@', t.typname, t.typowner::pg_catalog.regrole), t.typowner
			  FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('operator %I.%s(%s, %s) owned by %s', '@extschema@', o.oprname, o.oprleft::pg_catalog.regtype, o.oprright::pg_catalog.regtype, o.oprowner::pg_catalog.regrole), o.oprowner
			  FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('collation %I.%I owned by %s', '@extschema@', l.collname, l.collowner::pg_catalog.regrole), l.collowner
			  FROM pg_catalog.pg_collation l WHERE l.collnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('conversion %I.%I owned by %s', '@extschema@', v.conname, v.conowner::pg_catalog.regrole), v.conowner
			  FROM pg_catalog.pg_conversion v WHERE v.connamespace OPERATOR(pg_catalog.=) v_nsp) x
	  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) x.owner
	 WHERE NOT r.rolsuper;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('schema %I contains objects owned by roles that are not superusers',
										'@extschema@'),
			DETAIL = pg_catalog.left(v_bad, 1000),
			HINT = 'Check and drop those objects (they may be planted to run as a superuser), then run the command again.';
	END IF;
END
$sa_schema_check$;
