/*-------------------------------------------------------------------------
 *
 * stats_sql.c
 *		Owns the SQL-callable functions over the statement store: the rows
 *		behind scale_advisor.query_stats and scale_advisor.info, reset, and
 *		the sketch check used by the tests.
 *
 * One C entry point per SQL API version (the 1.0 definitions name the
 * _1_0 symbols, the 1.1 ones the _1_1 symbols, see scale_advisor.h), so
 * that a database still on an older SQL definition keeps working with a
 * newer library.
 *
 * No shared state of its own: the store is read through sa_store_read_all,
 * which holds the store's lock in shared mode around the visitor, and
 * changed through store.c's functions, which take it themselves.  Which
 * rows a reader sees is privs.c's rule (sa_reader).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "sketch.h"
#include "store.h"

PG_FUNCTION_INFO_V1(scale_advisor_query_stats_1_0);
PG_FUNCTION_INFO_V1(scale_advisor_info_1_0);
PG_FUNCTION_INFO_V1(scale_advisor_info_1_1);
PG_FUNCTION_INFO_V1(scale_advisor_reset_1_0);
PG_FUNCTION_INFO_V1(scale_advisor_sketch_quantiles_1_0);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_query_stats_1_1,
					scale_advisor_query_stats_1_0);
SA_SQL_FUNCTION_1_1(scale_advisor_reset_1_1, scale_advisor_reset_1_0);
SA_SQL_FUNCTION_1_1(scale_advisor_sketch_quantiles_1_1,
					scale_advisor_sketch_quantiles_1_0);

#define QUERY_STATS_COLS 34

/* state passed to the visitor */
typedef struct QueryStatsState
{
	ReturnSetInfo *rsinfo;
	SaReader	reader;
	bool		showtext;
} QueryStatsState;

/*
 * Emit one row of scale_advisor.query_stats.
 */
static void
query_stats_row(const SaEntrySnapshot *s, void *arg)
{
	QueryStatsState *st = (QueryStatsState *) arg;
	Datum		values[QUERY_STATS_COLS];
	bool		nulls[QUERY_STATS_COLS];
	int			i = 0;
	bool		visible = sa_reader_sees(&st->reader, s->key.userid);
	static const double qs[4] = {0.50, 0.95, 0.99, 0.999};
	double		qv[4];
	bool		have_q;
	char		wal_bytes[32];

	/*
	 * An entry made when a statement was parsed, which has neither finished
	 * nor failed yet (the statement running now, or one whose execution never
	 * started): nothing to show.
	 */
	if (s->c.calls == 0 && s->c.errors == 0)
		return;

	memset(nulls, 0, sizeof(nulls));

	values[i++] = ObjectIdGetDatum(s->key.dbid);
	values[i++] = ObjectIdGetDatum(s->key.userid);
	if (visible)
		values[i++] = Int64GetDatum((int64) s->key.queryid);
	else
		nulls[i++] = true;
	values[i++] = BoolGetDatum(s->key.toplevel);
	if (!st->showtext)
		nulls[i++] = true;
	else if (visible)
	{
		char	   *txt = pg_any_to_server(s->query, s->query_len, s->encoding);

		values[i++] = CStringGetTextDatum(txt);
		if (txt != s->query)
			pfree(txt);
	}
	else
		values[i++] = CStringGetTextDatum("<insufficient privilege>");

	values[i++] = Int64GetDatum(s->c.calls);
	values[i++] = Int64GetDatum(s->c.errors);
	values[i++] = Int64GetDatum(s->c.rows);
	values[i++] = Float8GetDatum(s->c.total_exec);
	if (s->c.calls > 0)
	{
		values[i++] = Float8GetDatum(s->c.mean_exec);
		values[i++] = Float8GetDatum(s->c.min_exec);
		values[i++] = Float8GetDatum(s->c.max_exec);
		values[i++] = Float8GetDatum(s->c.calls > 1 ?
									 sqrt(s->c.sum_var_exec / s->c.calls) : 0.0);
	}
	else
	{
		nulls[i++] = true;
		nulls[i++] = true;
		nulls[i++] = true;
		nulls[i++] = true;
	}
	have_q = sa_sketch_quantiles(&s->sketch, qs, 4, qv);
	for (int j = 0; j < 4; j++)
	{
		if (have_q)
		{
			/* a bucket's midpoint can lie just outside the observed range */
			double		v = qv[j];

			if (v > s->c.max_exec)
				v = s->c.max_exec;
			if (v < s->c.min_exec)
				v = s->c.min_exec;
			values[i++] = Float8GetDatum(v);
		}
		else
			nulls[i++] = true;
	}
	values[i++] = Int64GetDatum(s->c.plans);
	values[i++] = Float8GetDatum(s->c.total_plan);
	values[i++] = Int64GetDatum(s->c.shared_blks_hit);
	values[i++] = Int64GetDatum(s->c.shared_blks_read);
	values[i++] = Int64GetDatum(s->c.shared_blks_dirtied);
	values[i++] = Int64GetDatum(s->c.shared_blks_written);
	values[i++] = Int64GetDatum(s->c.local_blks_hit);
	values[i++] = Int64GetDatum(s->c.local_blks_read);
	values[i++] = Int64GetDatum(s->c.local_blks_dirtied);
	values[i++] = Int64GetDatum(s->c.local_blks_written);
	values[i++] = Int64GetDatum(s->c.temp_blks_read);
	values[i++] = Int64GetDatum(s->c.temp_blks_written);
	values[i++] = Int64GetDatum(s->c.wal_records);
	values[i++] = Int64GetDatum(s->c.wal_fpi);
	snprintf(wal_bytes, sizeof(wal_bytes), UINT64_FORMAT, s->c.wal_bytes);
	values[i++] = DirectFunctionCall3(numeric_in, CStringGetDatum(wal_bytes),
									  ObjectIdGetDatum(InvalidOid),
									  Int32GetDatum(-1));
	values[i++] = TimestampTzGetDatum(s->c.first_seen);
	values[i++] = TimestampTzGetDatum(s->c.last_seen);
	Assert(i == QUERY_STATS_COLS);

	tuplestore_putvalues(st->rsinfo->setResult, st->rsinfo->setDesc,
						 values, nulls);
}

/*
 * SQL: scale_advisor._query_stats(showtext boolean) returns setof record:
 * the statements that finished or failed at least once.  Other users'
 * statements keep their figures but hide text and query id unless the
 * caller is a superuser or a member of pg_read_all_stats.
 */
Datum
scale_advisor_query_stats_1_0(PG_FUNCTION_ARGS)
{
	QueryStatsState st;

	sa_require_loaded();
	if (!sa_store_attached())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("scale_advisor shared memory is not initialized")));

	sa_init_srf(fcinfo);
	st.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (st.rsinfo->setDesc->natts != QUERY_STATS_COLS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("scale_advisor._query_stats returns %d columns, the SQL definition expects %d",
						QUERY_STATS_COLS, st.rsinfo->setDesc->natts),
				 errhint("Run ALTER EXTENSION scale_advisor UPDATE.")));
	st.reader = sa_reader(true);
	st.showtext = PG_ARGISNULL(0) ? true : PG_GETARG_BOOL(0);
	sa_store_read_all(query_stats_row, &st);
	return (Datum) 0;
}

/*
 * SQL: scale_advisor._info() returns one row of store-wide figures.
 */
Datum
scale_advisor_info_1_0(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[11];
	bool		nulls[11];
	SaStoreInfo info;
	int			i = 0;

	sa_require_loaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	sa_store_get_info(&info);
	memset(nulls, 0, sizeof(nulls));
	values[i++] = Int64GetDatum(info.entries);
	values[i++] = Int64GetDatum(info.max_entries);
	values[i++] = Int64GetDatum(info.evictions);
	values[i++] = Int64GetDatum(info.memory_bytes);
	values[i++] = Int64GetDatum(info.entry_bytes);
	values[i++] = Int64GetDatum(info.text_bytes_per_entry);
	values[i++] = TimestampTzGetDatum(info.stats_reset);
	if (info.last_save != 0)
		values[i++] = TimestampTzGetDatum(info.last_save);
	else
		nulls[i++] = true;
	values[i++] = Int64GetDatum(info.saves);
	values[i++] = Int64GetDatum(info.save_failures);
	values[i++] = Int64GetDatum(info.loaded_entries);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * SQL 1.1: scale_advisor._info(), for readers of all statistics only (the
 * info view's figures are monitoring data; 1.0's _info() was open to all).
 */
Datum
scale_advisor_info_1_1(PG_FUNCTION_ARGS)
{
	sa_require_stats_reader("scale_advisor.info");
	return scale_advisor_info_1_0(fcinfo);
}

/*
 * SQL: scale_advisor.reset(userid oid, dbid oid, queryid bigint) returns
 * the number of statements removed.  0 matches anything; NULL is refused.
 */
Datum
scale_advisor_reset_1_0(PG_FUNCTION_ARGS)
{
	sa_require_loaded();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("scale_advisor.reset arguments must not be null"),
				 errhint("Pass 0 to match every user, database or query id.")));
	PG_RETURN_INT64(sa_store_reset(PG_GETARG_OID(0), PG_GETARG_OID(1),
								   (uint64) PG_GETARG_INT64(2)));
}

/*
 * SQL: scale_advisor._sketch_quantiles(values float8[], quantiles float8[])
 * feeds the values (milliseconds) into a fresh sketch and returns its
 * answer for each quantile.  Used to test the sketch's accuracy.
 */
Datum
scale_advisor_sketch_quantiles_1_0(PG_FUNCTION_ARGS)
{
	ArrayType  *va;
	ArrayType  *qa;
	Datum	   *vd;
	Datum	   *qd;
	bool	   *vn;
	bool	   *qn;
	int			nv;
	int			nq;
	SaSketch	sk;
	double	   *q;
	double	   *out;
	Datum	   *od;
	int			i;

	sa_require_loaded();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	va = PG_GETARG_ARRAYTYPE_P(0);
	qa = PG_GETARG_ARRAYTYPE_P(1);
	deconstruct_array(va, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &vd, &vn, &nv);
	deconstruct_array(qa, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &qd, &qn, &nq);
	sa_sketch_init(&sk);
	for (i = 0; i < nv; i++)
		if (!vn[i])
			sa_sketch_add(&sk, DatumGetFloat8(vd[i]));
	q = palloc(sizeof(double) * Max(nq, 1));
	out = palloc(sizeof(double) * Max(nq, 1));
	for (i = 0; i < nq; i++)
	{
		if (qn[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("quantiles must not be null")));
		q[i] = DatumGetFloat8(qd[i]);
	}
	if (!sa_sketch_quantiles(&sk, q, nq, out))
		PG_RETURN_NULL();
	od = palloc(sizeof(Datum) * Max(nq, 1));
	for (i = 0; i < nq; i++)
		od[i] = Float8GetDatum(out[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(od, nq, FLOAT8OID, 8, FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}
