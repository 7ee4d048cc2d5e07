/*-------------------------------------------------------------------------
 *
 * advice_outcome.c
 *		The before/after check of index advice: what was predicted when an
 *		index was advised, and what the statements it served measured once
 *		it exists.
 *
 * When scale_advisor.index_advice is read (advisor.c), every advised index
 * and every statement it serves is recorded in the table
 * scale_advisor.index_advice_predictions: the planner's cost of the
 * statement without and with the index, and the statement's figures in the
 * statement store at that moment (calls, execution time, the latency
 * histogram of the readiness history).  While the index does not exist,
 * each reading of the advice refreshes those figures, so they stand for
 * "before" up to the last time the advice was given.  Once an index with
 * the same definition exists (found in pg_index, whatever its name), the
 * view scale_advisor.index_advice_outcome shows the statement's figures
 * since then (the store's figures now minus the recorded ones) next to the
 * recorded ones and to the prediction (the mean time scaled by the cost
 * ratio, as the advice weighs its savings).
 *
 * Who sees what: the table has row-level security (a role reads the rows of
 * its own statements; roles that may read all statistics read all) and is
 * written only by this file, as the table's owner (the extension's owner)
 * in a security-restricted operation with the reader's statements only: a
 * reader records predictions about the statements it gets advice from.
 * _index_advice_outcome() reads the table as the caller (the policy
 * applies) and checks the same rule again before it reads the store.
 *
 * Recording is skipped in a read-only transaction and on a standby, and runs
 * in a subtransaction: an error there (other than cancel and the like) is
 * reported as a WARNING and leaves the table as it was; the advice is still
 * returned.  Rows not refreshed for SA_PREDICTION_KEEP_DAYS days are
 * deleted when predictions are recorded.
 *
 * No shared state of its own; the statement store is read through
 * sa_store_read_all (its lock, shared).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "index_advice.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "store.h"

#define SA_PREDICTIONS_TABLE "index_advice_predictions"
#define SA_PREDICTION_KEEP_DAYS 90

PG_FUNCTION_INFO_V1(scale_advisor_index_advice_outcome);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_index_advice_outcome_1_1,
					scale_advisor_index_advice_outcome);

typedef struct StmtFiguresKey
{
	uint64		queryid;
	Oid			userid;
} StmtFiguresKey;

/* a statement's figures in the store, summed over its entries */
typedef struct StmtFigures
{
	StmtFiguresKey key;			/* hash key (padding zeroed) */
	bool		found;
	int64		calls;
	double		total_ms;
	TimestampTz first_seen;
	int64		buckets[SA_HIST_BUCKETS];
} StmtFigures;

/* a hash table of the statements whose figures are wanted */
static HTAB *
figures_create(void)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(StmtFiguresKey);
	ctl.entrysize = sizeof(StmtFigures);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create("scale_advisor statement figures", 64, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* want the figures of one statement */
static StmtFigures *
figures_want(HTAB *h, uint64 queryid, Oid userid)
{
	StmtFiguresKey k;
	StmtFigures *f;
	bool		found;

	memset(&k, 0, sizeof(k));
	k.queryid = queryid;
	k.userid = userid;
	f = (StmtFigures *) hash_search(h, &k, HASH_ENTER, &found);
	if (!found)
	{
		f->found = false;
		f->calls = 0;
		f->total_ms = 0;
		f->first_seen = 0;
		memset(f->buckets, 0, sizeof(f->buckets));
	}
	return f;
}

/* store visitor: add an entry of this database to the statement it is */
static void
figures_visit(const SaEntrySnapshot *snap, void *arg)
{
	HTAB	   *h = (HTAB *) arg;
	StmtFiguresKey k;
	StmtFigures *f;
	int			i;

	if (snap->key.dbid != MyDatabaseId)
		return;
	memset(&k, 0, sizeof(k));
	k.queryid = snap->key.queryid;
	k.userid = snap->key.userid;
	f = (StmtFigures *) hash_search(h, &k, HASH_FIND, NULL);
	if (f == NULL)
		return;
	f->found = true;
	f->calls += snap->c.calls;
	f->total_ms += snap->c.total_exec;
	if (f->first_seen == 0 || snap->c.first_seen < f->first_seen)
		f->first_seen = snap->c.first_seen;
	for (i = 0; i < SA_HIST_BUCKETS; i++)
		f->buckets[i] += snap->c.hist.buckets[i];
}

/* read the figures of every wanted statement from the store */
static void
figures_fill(HTAB *h)
{
	if (sa_store_attached() && hash_get_num_entries(h) > 0)
		sa_store_read_all(figures_visit, h);
}

/* a histogram as an int8[] of SA_HIST_BUCKETS elements */
static Datum
buckets_datum(const int64 *buckets)
{
	Datum		d[SA_HIST_BUCKETS];
	int			i;

	for (i = 0; i < SA_HIST_BUCKETS; i++)
		d[i] = Int64GetDatum(buckets[i]);
	return PointerGetDatum(construct_array(d, SA_HIST_BUCKETS, INT8OID, 8,
										   FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/* an int8[] of SA_HIST_BUCKETS elements into buckets; false if not one */
static bool
buckets_from_datum(Datum d, int64 *buckets)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	if (ARR_ELEMTYPE(arr) != INT8OID || ARR_NDIM(arr) != 1)
		return false;
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	if (n != SA_HIST_BUCKETS)
		return false;
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			return false;
		buckets[i] = DatumGetInt64(elems[i]);
	}
	return true;
}

/*
 * The predictions table, or InvalidOid when the extension's SQL objects do
 * not have it (a 1.0 installation running this library).
 */
static Oid
predictions_table(void)
{
	Oid			nsp = sa_extension_schema("scale_advisor");

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(SA_PREDICTIONS_TABLE, nsp);
}

/* the owner of a relation */
static Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* order predictions the same way in every session (no lock cycles) */
static int
cmp_prediction(const ListCell *a, const ListCell *b)
{
	SaPrediction *x = (SaPrediction *) lfirst(a);
	SaPrediction *y = (SaPrediction *) lfirst(b);
	int			c = strcmp(x->index_sql, y->index_sql);

	if (c != 0)
		return c;
	if (x->queryid != y->queryid)
		return x->queryid < y->queryid ? -1 : 1;
	if (x->userid != y->userid)
		return x->userid < y->userid ? -1 : 1;
	return 0;
}

/* insert or refresh every prediction, then forget the stale ones (SPI) */
static void
write_predictions(Oid table, List *preds, HTAB *figs)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(table));
	char	   *qualified = quote_qualified_identifier(nsp, get_rel_name(table));
	char	   *upsert;
	char	   *prune;
	Oid			types[12] = {OIDOID, TEXTOID, TEXTOID, INT8OID, OIDOID,
		TIMESTAMPTZOID, FLOAT8OID, FLOAT8OID, INT8OID, FLOAT8OID,
	INT8ARRAYOID, TIMESTAMPTZOID};
	Oid			ptypes[1] = {TIMESTAMPTZOID};
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	ListCell   *lc;
	SPIPlanPtr	plan;

	upsert = psprintf("INSERT INTO %s AS p (relid, index_sql, index_def, queryid, userid,"
					  " first_advised, last_advised, cost_before, cost_after,"
					  " calls, total_exec_ms, buckets, store_first_seen)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12)"
					  " ON CONFLICT (index_sql, queryid, userid) DO UPDATE SET"
					  " relid = EXCLUDED.relid, index_def = EXCLUDED.index_def,"
					  " last_advised = EXCLUDED.last_advised,"
					  " cost_before = EXCLUDED.cost_before,"
					  " cost_after = EXCLUDED.cost_after, calls = EXCLUDED.calls,"
					  " total_exec_ms = EXCLUDED.total_exec_ms,"
					  " buckets = EXCLUDED.buckets,"
					  " store_first_seen = EXCLUDED.store_first_seen",
					  qualified);
	prune = psprintf("DELETE FROM %s WHERE last_advised OPERATOR(pg_catalog.<) $1",
					 qualified);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(upsert, 12, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare the recording of predictions");
	foreach(lc, preds)
	{
		SaPrediction *p = (SaPrediction *) lfirst(lc);
		StmtFigures *f = figures_want(figs, p->queryid, p->userid);
		Datum		values[12];
		char		nulls[12];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = ObjectIdGetDatum(p->relid);
		values[1] = CStringGetTextDatum(p->index_sql);
		values[2] = CStringGetTextDatum(p->index_def);
		values[3] = Int64GetDatum((int64) p->queryid);
		values[4] = ObjectIdGetDatum(p->userid);
		values[5] = TimestampTzGetDatum(now);
		values[6] = Float8GetDatum(p->cost_before);
		values[7] = Float8GetDatum(p->cost_after);
		values[8] = Int64GetDatum(f->calls);
		values[9] = Float8GetDatum(f->total_ms);
		values[10] = buckets_datum(f->buckets);
		if (f->found)
			values[11] = TimestampTzGetDatum(f->first_seen);
		else
			nulls[11] = 'n';
		if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record a prediction");
	}
	{
		Datum		v[1];

		v[0] = TimestampTzGetDatum(now - (int64) SA_PREDICTION_KEEP_DAYS *
								   USECS_PER_DAY);
		if (SPI_execute_with_args(prune, 1, ptypes, v, NULL, false,
								  0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete old predictions");
	}
	SPI_finish();
}

/*
 * Record the predictions of the advice just given (SaPrediction *), as the
 * owner of the predictions table in a security-restricted operation, in a
 * subtransaction.  Nothing is recorded in a read-only transaction, on a
 * standby, or when the extension's SQL objects have no such table.
 */
void
sa_record_predictions(List *preds)
{
	Oid			table;
	HTAB	   *figs;
	ListCell   *lc;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			save_userid;
	int			save_sec_context;

	if (preds == NIL || RecoveryInProgress() || XactReadOnly)
		return;
	table = predictions_table();
	if (!OidIsValid(table))
		return;
	list_sort(preds, cmp_prediction);

	figs = figures_create();
	foreach(lc, preds)
	{
		SaPrediction *p = (SaPrediction *) lfirst(lc);

		(void) figures_want(figs, p->queryid, p->userid);
	}
	figures_fill(figs);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		int			save_nestlevel;

		SetUserIdAndSecContext(relation_owner(table),
							   save_sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		save_nestlevel = sa_push_search_path("pg_catalog, pg_temp");
		write_predictions(table, preds, figs);
		AtEOXact_GUC(true, save_nestlevel);
		SetUserIdAndSecContext(save_userid, save_sec_context);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(save_userid, save_sec_context);
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (sa_error_ends_reading(edata->sqlerrcode))
			ReThrowError(edata);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("could not record the predictions of the index advice: %s",
						edata->message),
				 errhint("scale_advisor.index_advice_outcome will compare with the figures recorded earlier.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/* one row of the predictions table, as read */
typedef struct PredRow
{
	Oid			relid;
	char	   *index_sql;
	char	   *index_def;
	uint64		queryid;
	Oid			userid;
	TimestampTz first_advised;
	TimestampTz last_advised;
	double		cost_before;
	double		cost_after;
	int64		calls;
	double		total_ms;
	int64		buckets[SA_HIST_BUCKETS];
	bool		have_buckets;
	TimestampTz store_first_seen;	/* 0 when the store did not know it */
} PredRow;

/* the rows of the predictions table the caller may read (SPI, as caller) */
static List *
read_predictions(Oid table)
{
	char	   *q;
	List	   *rows = NIL;
	uint64		i;
	MemoryContext cxt = CurrentMemoryContext;
	SaReader	reader = sa_reader(true);

	q = psprintf("SELECT relid, index_sql, index_def, queryid, userid, first_advised,"
				 " last_advised, cost_before, cost_after, calls, total_exec_ms,"
				 " buckets, store_first_seen FROM %s",
				 quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)),
											get_rel_name(table)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(q, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", SA_PREDICTIONS_TABLE);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		PredRow    *r;
		MemoryContext old;
		Datum		d;

		old = MemoryContextSwitchTo(cxt);
		r = (PredRow *) palloc0(sizeof(PredRow));
		r->relid = DatumGetObjectId(SPI_getbinval(tup, td, 1, &isnull));
		r->index_sql = TextDatumGetCString(SPI_getbinval(tup, td, 2, &isnull));
		r->index_def = TextDatumGetCString(SPI_getbinval(tup, td, 3, &isnull));
		d = SPI_getbinval(tup, td, 4, &isnull);
		r->queryid = (uint64) DatumGetInt64(d);
		r->userid = DatumGetObjectId(SPI_getbinval(tup, td, 5, &isnull));
		d = SPI_getbinval(tup, td, 6, &isnull);
		r->first_advised = DatumGetTimestampTz(d);
		d = SPI_getbinval(tup, td, 7, &isnull);
		r->last_advised = DatumGetTimestampTz(d);
		r->cost_before = DatumGetFloat8(SPI_getbinval(tup, td, 8, &isnull));
		r->cost_after = DatumGetFloat8(SPI_getbinval(tup, td, 9, &isnull));
		r->calls = DatumGetInt64(SPI_getbinval(tup, td, 10, &isnull));
		r->total_ms = DatumGetFloat8(SPI_getbinval(tup, td, 11, &isnull));
		d = SPI_getbinval(tup, td, 12, &isnull);
		r->have_buckets = !isnull && buckets_from_datum(d, r->buckets);
		d = SPI_getbinval(tup, td, 13, &isnull);
		r->store_first_seen = isnull ? 0 : DatumGetTimestampTz(d);
		/* the policy's rule, checked again */
		if (sa_reader_sees(&reader, r->userid))
			rows = lappend(rows, r);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return rows;
}

/*
 * The valid index of the table that has the definition the advice gave,
 * or InvalidOid.
 */
static Oid
find_advised_index(PredRow *r)
{
	SaHypoIndex *h;
	ListCell   *lc;

	if (get_rel_name(r->relid) == NULL)
		return InvalidOid;
	h = sa_hypo_deserialize(r->relid, r->index_def);
	if (h == NULL)
		return InvalidOid;
	foreach(lc, sa_table_index_descs(r->relid))
	{
		SaIndexDesc *d = (SaIndexDesc *) lfirst(lc);

		if (d->usable && sa_hypo_same(&d->h, h))
			return d->oid;
	}
	return InvalidOid;
}

/*
 * SQL: scale_advisor._index_advice_outcome() — per recorded prediction the
 * caller may read: the index now found (or NULL), the recorded figures
 * ("before") and the figures since ("after", NULL while the index does not
 * exist), as calls, execution time and latency histograms.
 */
Datum
scale_advisor_index_advice_outcome(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			table;
	List	   *rows;
	HTAB	   *figs;
	ListCell   *lc;

	sa_require_loaded();
	sa_init_srf(fcinfo);
	table = predictions_table();
	if (!OidIsValid(table))
		return (Datum) 0;
	rows = read_predictions(table);
	figs = figures_create();
	foreach(lc, rows)
	{
		PredRow    *r = (PredRow *) lfirst(lc);

		(void) figures_want(figs, r->queryid, r->userid);
	}
	figures_fill(figs);

	foreach(lc, rows)
	{
		PredRow    *r = (PredRow *) lfirst(lc);
		StmtFigures *f = figures_want(figs, r->queryid, r->userid);
		Oid			index = find_advised_index(r);
		Datum		values[17];
		bool		nulls[17];

		CHECK_FOR_INTERRUPTS();
		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(r->relid);
		values[1] = CStringGetTextDatum(r->index_sql);
		values[2] = ObjectIdGetDatum(index);
		nulls[2] = !OidIsValid(index);
		values[3] = TimestampTzGetDatum(r->first_advised);
		values[4] = TimestampTzGetDatum(r->last_advised);
		values[5] = Int64GetDatum((int64) r->queryid);
		values[6] = ObjectIdGetDatum(r->userid);
		values[7] = Float8GetDatum(r->cost_before);
		values[8] = Float8GetDatum(r->cost_after);
		values[9] = Int64GetDatum(r->calls);
		values[10] = Float8GetDatum(r->total_ms);
		if (r->have_buckets)
			values[11] = buckets_datum(r->buckets);
		else
			nulls[11] = true;
		values[15] = BoolGetDatum(f->found);
		nulls[16] = true;
		if (!OidIsValid(index) || !f->found)
		{
			nulls[12] = nulls[13] = nulls[14] = true;
		}
		else
		{
			int64		after[SA_HIST_BUCKETS];
			bool		same = (r->store_first_seen == f->first_seen &&
								f->calls >= r->calls);
			int			i;

			/* since the recorded figures, or all of them after a reset */
			values[12] = Int64GetDatum(same ? f->calls - r->calls : f->calls);
			values[13] = Float8GetDatum(same ? f->total_ms - r->total_ms :
										f->total_ms);
			for (i = 0; i < SA_HIST_BUCKETS; i++)
			{
				after[i] = f->buckets[i];
				if (same && r->have_buckets)
					after[i] -= r->buckets[i];
				if (after[i] < 0)
				{
					/* the history was reset in between: all of it */
					memcpy(after, f->buckets, sizeof(after));
					break;
				}
			}
			values[14] = buckets_datum(after);
		}
		if (OidIsValid(index))
		{
			PgStat_StatTabEntry *t = pgstat_fetch_stat_tabentry(index);

			if (t)
			{
				values[16] = Int64GetDatum(t->numscans);
				nulls[16] = false;
			}
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
