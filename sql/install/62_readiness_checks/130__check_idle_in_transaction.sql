
-- sessions idle in a transaction
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_idle_in_transaction()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_x numeric;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('idle_in_transaction_s'));
	SELECT count(*), max(extract(epoch FROM pg_catalog.now() - a.state_change))
	INTO v_n, v_x
	FROM pg_catalog.pg_stat_activity a
	WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
	  AND a.state_change < pg_catalog.now() - pg_catalog.make_interval(secs => v_t::float8);
	"check" := 'idle_in_transaction';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := CASE WHEN v_n = 0 THEN 'no session idle in a transaction'
				  ELSE pg_catalog.format('%s idle in a transaction, the oldest for %s s', @extschema@._n(v_n, 'session'), round(v_x)) END;
	target := pg_catalog.format('none idle in a transaction over %s s', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'commit or roll back promptly in the application; SELECT pid, query FROM pg_stat_activity WHERE state LIKE ''idle in transaction%'' shows them; set idle_in_transaction_session_timeout' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_idle_in_transaction() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_idle_in_transaction() TO pg_read_all_stats;
