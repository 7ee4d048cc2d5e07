
---------------------------------------------------------------------------
-- Advice
---------------------------------------------------------------------------

CREATE FUNCTION @extschema@._partition_advice()
RETURNS TABLE (relation regclass, total_size text, total_bytes bigint, est_rows bigint,
			   column_name name, column_type regtype, why text, inserts bigint,
			   updates_deletes bigint, seq_scans bigint, suggested_interval text,
			   blockers text, suggested_call text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	a record;
	min_bytes bigint := @extschema@._t('partition_min_bytes');
	span numeric;
	per_part numeric;
	iv text;
	cand text[];
	best numeric;
	score numeric;
	step numeric;
	lo text;
	hi text;
BEGIN
	PERFORM @extschema@._require_stats_reader('scale_advisor.partition_advice');
	FOR r IN
		SELECT c.oid, @extschema@._relation_size_nowait(c.oid) AS bytes, c.reltuples,
			   coalesce(st.n_tup_ins, 0) AS ins, coalesce(st.n_tup_upd + st.n_tup_del, 0) AS upd,
			   coalesce(st.seq_scan, 0) AS seq
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		  AND n.nspname !~ '^pg_temp' AND n.nspname !~ '^pg_toast'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
						  AND d.objid = c.oid AND d.deptype = 'e')
		  AND @extschema@._relation_size_nowait(c.oid) >= min_bytes
		ORDER BY 2 DESC
	LOOP
		-- candidate columns: time or integer columns that lead an index
		-- (queries filter on them) and grow with the physical order
		FOR a IN
			SELECT att.attname, att.atttypid::regtype AS typ, @extschema@._pt_kind(att.atttypid::regtype) AS kind,
				   s.correlation, s.histogram_bounds::text::text[] AS hb,
				   EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = att.attrelid AND d.adnum = att.attnum
						   AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') OR att.attidentity <> '' AS seq,
				   (SELECT sum(coalesce(si.idx_scan, 0)) FROM pg_index i
					LEFT JOIN pg_stat_all_indexes si ON si.indexrelid = i.indexrelid
					WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum) AS idx_scans
			FROM pg_attribute att
			JOIN pg_namespace n ON true
			JOIN pg_class c ON c.oid = att.attrelid AND n.oid = c.relnamespace
			LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = att.attname
			WHERE att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
			  AND @extschema@._pt_kind(att.atttypid::regtype) IS NOT NULL
			  AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum)
			  AND (abs(coalesce(s.correlation, 0)) >= 0.8 OR (att.attidentity <> '' AND s.correlation IS NULL))
			ORDER BY (@extschema@._pt_kind(att.atttypid::regtype) = 'time') DESC, abs(coalesce(s.correlation, 0)) DESC, att.attnum
			LIMIT 1
		LOOP
			relation := r.oid;
			total_bytes := r.bytes;
			total_size := pg_size_pretty(r.bytes);
			est_rows := greatest(r.reltuples, 0)::bigint;
			column_name := a.attname;
			column_type := a.typ;
			inserts := r.ins;
			updates_deletes := r.upd;
			seq_scans := r.seq;
			why := format('%s on disk; %I %s and follows the insert order (correlation %s); %s index scans on it; %s%% of writes are updates or deletes',
						  pg_size_pretty(r.bytes), a.attname,
						  CASE WHEN a.kind = 'time' THEN 'is a time column' WHEN a.seq THEN 'is a growing id' ELSE 'is an integer key' END,
						  coalesce(round(a.correlation::numeric, 2)::text, 'unknown'), coalesce(a.idx_scans, 0),
						  CASE WHEN r.ins + r.upd = 0 THEN 0 ELSE round(100.0 * r.upd / (r.ins + r.upd)) END);
			-- size each partition near 2 GB
			iv := NULL;
			lo := a.hb[1];
			hi := a.hb[array_upper(a.hb, 1)];
			IF lo IS NOT NULL AND hi IS NOT NULL THEN
				span := @extschema@._pt_to_num(a.typ, hi) - @extschema@._pt_to_num(a.typ, lo);
			ELSE
				span := NULL;
			END IF;
			IF span IS NOT NULL AND span > 0 THEN
				IF a.kind = 'time' THEN
					best := NULL;
					FOREACH iv IN ARRAY ARRAY['1 hour', '1 day', '7 days', '1 month', '3 months', '1 year'] LOOP
						per_part := r.bytes * extract(epoch FROM iv::interval) / span;
						score := abs(ln(greatest(per_part, 1) / 2147483648.0));
						IF best IS NULL OR score < best THEN
							best := score;
							suggested_interval := iv;
						END IF;
					END LOOP;
				ELSE
					step := span * 2147483648.0 / greatest(r.bytes, 1);
					step := power(10, floor(log(greatest(step, 1))));
					suggested_interval := step::bigint::text;
				END IF;
			ELSE
				suggested_interval := CASE WHEN a.kind = 'time' THEN '1 month' ELSE '1000000' END;
			END IF;
			blockers := (SELECT string_agg(b, '; ') FROM @extschema@.partition_blockers(r.oid, a.attname) b);
			suggested_call := format('CALL scale_advisor.partition_table(%L, %L, %L);', r.oid::regclass::text,
									 a.attname, suggested_interval);
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;
