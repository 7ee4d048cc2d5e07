
-- start of the partition slot that holds x (slots aligned in UTC: months
-- from January of year 0, fixed lengths from Monday 2000-01-03, integers
-- from 0)
CREATE FUNCTION @extschema@._pt_slot(kind text, part_interval text, x numeric)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	u timestamp;
	n integer;
	m integer;
	step numeric;
BEGIN
	IF kind = 'int' THEN
		step := part_interval::numeric;
		RETURN x - mod(mod(x, step) + step, step);
	END IF;
	iv := part_interval::interval;
	u := to_timestamp(x) AT TIME ZONE 'UTC';
	IF extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0 THEN
		n := (extract(year FROM iv) * 12 + extract(month FROM iv))::integer;
		m := (extract(year FROM u) * 12 + extract(month FROM u) - 1)::integer;
		m := m - m % n;
		RETURN extract(epoch FROM make_timestamp(m / 12, m % 12 + 1, 1, 0, 0, 0));
	END IF;
	RETURN extract(epoch FROM date_bin(iv, u, timestamp '2000-01-03'));
END
$$;
