
-- transaction ID age
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_transaction_id_age()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	SELECT pg_catalog.age(d.datfrozenxid) INTO v_n FROM pg_catalog.pg_database d
	WHERE d.datname = pg_catalog.current_database();
	"check" := 'transaction_id_age';
	status := CASE WHEN v_n >= (SELECT @extschema@._t('xid_age_critical')) THEN 'fail'
				   WHEN v_n >= (SELECT @extschema@._t('xid_age_warning')) THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('%s since the oldest unfrozen row', @extschema@._n(v_n, 'transaction'));
	target := pg_catalog.format('under %s', (SELECT @extschema@._t('xid_age_warning')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'VACUUM (FREEZE) the oldest tables (ORDER BY age(relfrozenxid) DESC); end long transactions and drop stale replication slots that hold back freezing' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_transaction_id_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_transaction_id_age() TO pg_read_all_stats;
