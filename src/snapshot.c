/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		Statement history for the scale readiness views: a latency histogram
 *		and one captured example per statement, and the background worker
 *		that takes snapshots of them (and of table sizes) at a fixed interval.
 *
 * The statement store keeps cumulative figures; the regressions view needs
 * the latency distribution of a window of time (the last hour against the
 * day before).  Quantiles cannot be subtracted, histograms can: so every
 * store entry also counts its executions in SA_HIST_BUCKETS latency buckets
 * whose bounds grow by a factor of sqrt(2) from 10 microseconds (bucket 0
 * holds everything faster, the last bucket everything slower than about
 * 84 s); this file owns those bounds.  The store files a time under the
 * bucket of its sketch bucket's representative time (within 2 % of it), so
 * counting costs a table lookup and an increment under the entry's
 * spinlock the store takes anyway.  _history() sums the entries of each
 * (database, query identifier); a snapshot copies those cumulative counts
 * into a table; the difference of two snapshots is the histogram of the
 * time between them.
 *
 * This file keeps one example of each statement as it ran: the text of the
 * statement (with its literals, when the client sent them inline) and the
 * values and types of its bound parameters (extended protocol), so that
 * workload_script() can replay the statement mix with real values.  The
 * store asks for an example on the first executions of an entry and then
 * once every 1,024 (SaStatement.want_sample); the observer looks the
 * statement up and builds the example only when it has none.  Examples are
 * shown only to the role that ran them and to members of
 * pg_read_all_stats, like the statement text of pg_stat_statements, and
 * _history() shows other roles' statements only to those members; the
 * bound parameter values of an example only to the role that ran it and to
 * superusers (src/privs.c holds both rules).
 * scale_advisor.capture_parameters = off stops capturing parameter values;
 * scale_advisor.track_history = off stops counting and capturing.
 *
 * Locking: the examples' hash table is protected by one LWLock of the
 * tranche "scale_advisor_history".  Looking an example up takes it shared;
 * adding or removing examples takes it exclusively.  When the table is full
 * (scale_advisor.history_max), the tenth of the examples least recently
 * confirmed is evicted at once.  Output functions of parameter types run
 * with no lock held.
 *
 * Table sizes are read with _relation_size_nowait(), which takes its locks
 * (ACCESS SHARE on the table, its TOAST table and their indexes) only when
 * they are free at once: a snapshot or a monitoring view never waits behind
 * a table owner's ACCESS EXCLUSIVE lock (a TRUNCATE, an ALTER TABLE, a
 * REINDEX); the table is skipped and snapshot() says so.
 *
 * The background worker "scale_advisor snapshot" connects to the database
 * named by scale_advisor.database and calls scale_advisor.snapshot() every
 * scale_advisor.snapshot_interval seconds.  When the extension is not
 * created in that database it says so once in the log and keeps sleeping;
 * it skips its turn while the server is in recovery.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <unistd.h>

#include "access/relation.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "scale_advisor.h"
#include "store.h"

/* latency buckets: bucket 0 below 10 us, then bounds times sqrt(2) */
#define SA_HIST_BASE_MS 0.01

/* room for the example of one statement */
#define SA_SAMPLE_TEXT 2048
#define SA_SAMPLE_VALUES 1024
#define SA_SAMPLE_MAXPARAMS 32

typedef struct SaHistKey
{
	Oid			dbid;
	uint64		queryid;
} SaHistKey;

/* the example of one statement */
typedef struct SaHistEntry
{
	SaHistKey	key;			/* hash key, must be first */
	slock_t		mutex;			/* protects last_seen */
	TimestampTz last_seen;		/* last time the store asked for it */
	Oid			userid;			/* role that ran the example */
	int			nparams;
	uint32		nullmask;
	Oid			ptypes[SA_SAMPLE_MAXPARAMS];
	char		text[SA_SAMPLE_TEXT];
	char		values[SA_SAMPLE_VALUES];	/* NUL-separated values */
} SaHistEntry;

typedef struct SaHistShared
{
	LWLock	   *lock;
	TimestampTz reset_time;
} SaHistShared;

/* an example built outside any lock */
typedef struct SaSample
{
	bool		valid;
	int			nparams;
	uint32		nullmask;
	Oid			ptypes[SA_SAMPLE_MAXPARAMS];
	char		text[SA_SAMPLE_TEXT];
	char		values[SA_SAMPLE_VALUES];
} SaSample;

/* GUCs */
static int	sa_snapshot_interval = 900;
static int	sa_snapshot_keep = 2880;
static char *sa_database = NULL;
static int	sa_history_max = 2000;
static bool sa_capture_parameters = true;
bool		sa_track_history = true;

static SaHistShared *hist = NULL;
static HTAB *hist_htab = NULL;

PGDLLEXPORT void sa_snapshot_worker_main(Datum arg);

PG_FUNCTION_INFO_V1(scale_advisor_history);
PG_FUNCTION_INFO_V1(scale_advisor_history_reset);
PG_FUNCTION_INFO_V1(scale_advisor_hist_quantile);
PG_FUNCTION_INFO_V1(scale_advisor_hist_count_above);
PG_FUNCTION_INFO_V1(scale_advisor_host_cpus);
PG_FUNCTION_INFO_V1(scale_advisor_relation_size_nowait);

/*
 * Shared memory needed for the history table.
 */
static Size
sa_hist_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(SaHistShared)),
					hash_estimate_size(sa_history_max, sizeof(SaHistEntry)));
}

/*
 * Create or attach to the history table (runs holding AddinShmemInitLock).
 */
static void
sa_hist_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	hist = ShmemInitStruct("scale_advisor history", sizeof(SaHistShared),
						   &found);
	if (!found)
	{
		hist->lock = &(GetNamedLWLockTranche("scale_advisor_history"))->lock;
		hist->reset_time = GetCurrentTimestamp();
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(SaHistKey);
	info.entrysize = sizeof(SaHistEntry);
	hist_htab = ShmemInitHash("scale_advisor history hash",
							  sa_history_max, sa_history_max,
							  &info, HASH_ELEM | HASH_BLOBS);
}

/*
 * The history bucket an execution time falls in.
 */
int
sa_hist_bucket(double ms)
{
	int			b;

	if (!(ms >= SA_HIST_BASE_MS))	/* also NaN */
		return 0;
	b = (int) floor(2.0 * log2(ms / SA_HIST_BASE_MS)) + 1;
	if (b < 1)
		b = 1;
	if (b >= SA_HIST_BUCKETS)
		b = SA_HIST_BUCKETS - 1;
	return b;
}

/* lower bound of a bucket in milliseconds */
static double
sa_hist_lower(int b)
{
	if (b <= 0)
		return 0.0;
	return SA_HIST_BASE_MS * pow(2.0, (b - 1) / 2.0);
}

/* upper bound of a bucket in milliseconds (the last one is open) */
static double
sa_hist_upper(int b)
{
	return SA_HIST_BASE_MS * pow(2.0, b / 2.0);
}

/*
 * Build the example of a statement: its own text and its bound parameters
 * as text.  Leaves sample->valid false when it does not fit.
 */
static void
sa_build_sample(const SaStatement *stmt, SaSample *sample)
{
	const char *src = stmt->source_text;
	int			loc = stmt->stmt_location;
	int			len = stmt->stmt_len;
	int			used = 0;
	int			i;

	sample->valid = false;
	sample->nparams = 0;
	sample->nullmask = 0;
	if (src == NULL)
		return;
	if (loc < 0 || loc > (int) strlen(src))
	{
		loc = 0;
		len = 0;
	}
	src += loc;
	if (len <= 0 || len > (int) strlen(src))
		len = strlen(src);
	while (len > 0 && isspace((unsigned char) *src))
	{
		src++;
		len--;
	}
	while (len > 0 && (isspace((unsigned char) src[len - 1]) ||
					   src[len - 1] == ';'))
		len--;
	if (len <= 0 || len >= SA_SAMPLE_TEXT)
		return;
	memcpy(sample->text, src, len);
	sample->text[len] = '\0';

	if (stmt->params != NULL && stmt->params->numParams > 0)
	{
		ParamListInfo params = stmt->params;

		/* parameters fetched on demand (PL/pgSQL) cannot be read here */
		if (params->paramFetch != NULL ||
			params->numParams > SA_SAMPLE_MAXPARAMS ||
			!sa_capture_parameters)
			return;
		for (i = 0; i < params->numParams; i++)
		{
			ParamExternData *p = &params->params[i];
			Oid			outfn;
			bool		isvarlena;
			char	   *val;
			int			vlen;

			if (!OidIsValid(p->ptype))
				return;
			sample->ptypes[i] = p->ptype;
			if (p->isnull)
			{
				sample->nullmask |= ((uint32) 1) << i;
				val = "";
			}
			else
			{
				getTypeOutputInfo(p->ptype, &outfn, &isvarlena);
				val = OidOutputFunctionCall(outfn, p->value);
			}
			vlen = strlen(val);
			if (used + vlen + 1 > SA_SAMPLE_VALUES)
				return;
			memcpy(sample->values + used, val, vlen + 1);
			used += vlen + 1;
		}
		sample->nparams = params->numParams;
	}
	sample->valid = true;
}

/* qsort comparator: entries seen earlier first */
static int
sa_cmp_last_seen(const void *a, const void *b)
{
	TimestampTz ta = (*(SaHistEntry *const *) a)->last_seen;
	TimestampTz tb = (*(SaHistEntry *const *) b)->last_seen;

	if (ta < tb)
		return -1;
	if (ta > tb)
		return 1;
	return 0;
}

/*
 * Evict the tenth of the entries least recently used.  Caller holds
 * hist->lock exclusively.
 */
static void
sa_hist_evict(void)
{
	HASH_SEQ_STATUS status;
	SaHistEntry **all;
	SaHistEntry *e;
	long		n = hash_get_num_entries(hist_htab);
	long		i = 0;
	long		drop;

	Assert(LWLockHeldByMeInMode(hist->lock, LW_EXCLUSIVE));
	all = palloc(n * sizeof(SaHistEntry *));
	hash_seq_init(&status, hist_htab);
	while ((e = hash_seq_search(&status)) != NULL)
		all[i++] = e;
	qsort(all, i, sizeof(SaHistEntry *), sa_cmp_last_seen);
	drop = Max(1, i / 10);
	for (n = 0; n < drop && n < i; n++)
		hash_search(hist_htab, &all[n]->key, HASH_REMOVE, NULL);
	pfree(all);
}

/* copy an example into an entry; caller holds hist->lock exclusively */
static void
sa_store_sample(SaHistEntry *e, const SaSample *s, Oid userid)
{
	Assert(LWLockHeldByMeInMode(hist->lock, LW_EXCLUSIVE));
	e->userid = userid;
	e->nparams = s->nparams;
	e->nullmask = s->nullmask;
	memcpy(e->ptypes, s->ptypes, sizeof(e->ptypes));
	memcpy(e->text, s->text, sizeof(e->text));
	memcpy(e->values, s->values, sizeof(e->values));
}

/*
 * Statement observer: keep an example of the statement when the store asks
 * for one and there is none yet.
 */
static pg_noinline void sa_hist_capture(const SaStatement *stmt);

static void
sa_hist_observe(const SaStatement *stmt)
{
	if (likely(!stmt->want_sample) || hist == NULL || !sa_track_history ||
		stmt->queryid == UINT64CONST(0) || stmt->operation == CMD_UTILITY)
		return;
	sa_hist_capture(stmt);
}

static pg_noinline void
sa_hist_capture(const SaStatement *stmt)
{
	SaHistKey	key;
	SaHistEntry *e;
	TimestampTz now;
	SaSample   *sample;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.dbid = stmt->dbid;
	key.queryid = stmt->queryid;
	now = GetCurrentStatementStartTimestamp();

	LWLockAcquire(hist->lock, LW_SHARED);
	e = hash_search(hist_htab, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		e->last_seen = now;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(hist->lock);
	if (e != NULL)
		return;

	/* build the example outside the lock, then add it */
	sample = palloc(sizeof(SaSample));
	sa_build_sample(stmt, sample);
	if (!sample->valid)
	{
		pfree(sample);
		return;
	}

	LWLockAcquire(hist->lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(hist_htab) >= sa_history_max &&
		hash_search(hist_htab, &key, HASH_FIND, NULL) == NULL)
		sa_hist_evict();
	e = hash_search(hist_htab, &key, HASH_ENTER_NULL, &found);
	if (e != NULL && !found)
	{
		SpinLockInit(&e->mutex);
		e->last_seen = now;
		sa_store_sample(e, sample, stmt->userid);
	}
	LWLockRelease(hist->lock);
	pfree(sample);
}

/* one (database, query id) of _history(), summed over the store's entries */
typedef struct SaHistSum
{
	SaHistKey	key;			/* hash key, must be first */
	Oid			userid;			/* a role that ran it */
	SaHist		h;
	TimestampTz last_seen;
} SaHistSum;

typedef struct SaHistCollect
{
	HTAB	   *sums;
	Oid			me;
	bool		see_all;
} SaHistCollect;

/* store visitor: add an entry's histogram to its (database, query id) */
static void
sa_hist_collect(const SaEntrySnapshot *snap, void *arg)
{
	SaHistCollect *hc = (SaHistCollect *) arg;
	const SaHist *h = &snap->c.hist;
	SaHistKey	key;
	SaHistSum  *sum;
	bool		found;
	int			i;

	if (h->calls <= 0 || (!hc->see_all && snap->key.userid != hc->me))
		return;
	memset(&key, 0, sizeof(key));
	key.dbid = snap->key.dbid;
	key.queryid = snap->key.queryid;
	sum = hash_search(hc->sums, &key, HASH_ENTER, &found);
	if (!found)
	{
		memset(((char *) sum) + sizeof(SaHistKey), 0,
			   sizeof(SaHistSum) - sizeof(SaHistKey));
		sum->userid = snap->key.userid;
		sum->h.first_seen = h->first_seen;
	}
	sum->h.calls += h->calls;
	sum->h.rows += h->rows;
	sum->h.total_ms += h->total_ms;
	if (h->first_seen < sum->h.first_seen)
		sum->h.first_seen = h->first_seen;
	if (snap->c.last_seen > sum->last_seen)
		sum->last_seen = snap->c.last_seen;
	for (i = 0; i < SA_HIST_BUCKETS; i++)
		sum->h.buckets[i] += h->buckets[i];
}

/*
 * SQL: scale_advisor._history() returns one row per tracked statement.
 */
Datum
scale_advisor_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	HASH_SEQ_STATUS status;
	HASHCTL		info;
	SaHistCollect hc;
	SaHistSum  *sum;
	SaHistEntry *copy;

	sa_require_loaded();
	sa_init_srf(fcinfo);
	tupstore = rsinfo->setResult;
	tupdesc = rsinfo->setDesc;

	hc.me = GetUserId();
	hc.see_all = sa_may_read_all_stats(hc.me);

	/* sum the store's histograms per (database, query id) */
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(SaHistKey);
	info.entrysize = sizeof(SaHistSum);
	info.hcxt = CurrentMemoryContext;
	hc.sums = hash_create("scale_advisor history sums", 256, &info,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	sa_store_read_all(sa_hist_collect, &hc);

	copy = palloc(sizeof(SaHistEntry));
	hash_seq_init(&status, hc.sums);
	while ((sum = hash_seq_search(&status)) != NULL)
	{
		Datum		values[12];
		bool		nulls[12];
		Datum		bd[SA_HIST_BUCKETS];
		SaHistEntry *e;
		bool		has_sample = false;
		int			i;

		/* the example, copied under the lock */
		LWLockAcquire(hist->lock, LW_SHARED);
		e = hash_search(hist_htab, &sum->key, HASH_FIND, NULL);
		if (e != NULL)
		{
			memcpy(copy, e, sizeof(SaHistEntry));
			has_sample = true;
		}
		LWLockRelease(hist->lock);

		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(sum->key.dbid);
		values[1] = Int64GetDatum((int64) sum->key.queryid);
		values[2] = ObjectIdGetDatum(has_sample ? copy->userid : sum->userid);
		values[3] = Int64GetDatum(sum->h.calls);
		values[4] = Int64GetDatum(sum->h.rows);
		values[5] = Float8GetDatum(sum->h.total_ms);
		for (i = 0; i < SA_HIST_BUCKETS; i++)
			bd[i] = Int64GetDatum(sum->h.buckets[i]);
		values[6] = PointerGetDatum(construct_array(bd, SA_HIST_BUCKETS,
													INT8OID, 8,
													FLOAT8PASSBYVAL,
													TYPALIGN_DOUBLE));
		values[7] = TimestampTzGetDatum(sum->h.first_seen);
		values[8] = TimestampTzGetDatum(sum->last_seen);
		if (has_sample && (hc.see_all || copy->userid == hc.me))
		{
			values[9] = CStringGetTextDatum(copy->text);
			/* parameter values: the statement's own role and superusers */
			if (copy->nparams > 0 && sa_may_see_values(hc.me, copy->userid))
			{
				Datum		td[SA_SAMPLE_MAXPARAMS];
				Datum		vd[SA_SAMPLE_MAXPARAMS];
				bool		vn[SA_SAMPLE_MAXPARAMS];
				int			dims[1];
				int			lbs[1] = {1};
				const char *v = copy->values;

				for (i = 0; i < copy->nparams; i++)
				{
					td[i] = ObjectIdGetDatum(copy->ptypes[i]);
					vn[i] = (copy->nullmask & (((uint32) 1) << i)) != 0;
					vd[i] = vn[i] ? (Datum) 0 : CStringGetTextDatum(v);
					v += strlen(v) + 1;
				}
				dims[0] = copy->nparams;
				values[10] = PointerGetDatum(construct_array(td, copy->nparams,
															 REGTYPEOID, 4,
															 true,
															 TYPALIGN_INT));
				values[11] = PointerGetDatum(construct_md_array(vd, vn, 1,
																dims, lbs,
																TEXTOID, -1,
																false,
																TYPALIGN_INT));
			}
			else
			{
				nulls[10] = true;
				nulls[11] = true;
			}
		}
		else
		{
			nulls[9] = true;
			nulls[10] = true;
			nulls[11] = true;
		}
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
	pfree(copy);
	hash_destroy(hc.sums);

	return (Datum) 0;
}

/*
 * SQL: scale_advisor._history_reset() restarts every statement's histogram
 * and forgets the examples.
 */
Datum
scale_advisor_history_reset(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS status;
	SaHistEntry *e;

	sa_require_loaded();
	sa_store_hist_reset();
	LWLockAcquire(hist->lock, LW_EXCLUSIVE);
	hash_seq_init(&status, hist_htab);
	while ((e = hash_seq_search(&status)) != NULL)
		hash_search(hist_htab, &e->key, HASH_REMOVE, NULL);
	hist->reset_time = GetCurrentTimestamp();
	LWLockRelease(hist->lock);
	PG_RETURN_VOID();
}

/*
 * Read a histogram argument: an int8 array of SA_HIST_BUCKETS elements
 * without NULLs.  Returns false for anything else.
 */
static bool
sa_read_hist(ArrayType *arr, int64 *counts)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	if (ARR_NDIM(arr) != 1 || ARR_ELEMTYPE(arr) != INT8OID)
		return false;
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	if (n != SA_HIST_BUCKETS)
		return false;
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			return false;
		counts[i] = DatumGetInt64(elems[i]);
	}
	return true;
}

/*
 * SQL: scale_advisor._hist_quantile(buckets int8[], q float8) estimates the
 * q-quantile of a histogram in milliseconds, interpolating linearly inside
 * the bucket that holds it.  NULL for an empty histogram.
 */
Datum
scale_advisor_hist_quantile(PG_FUNCTION_ARGS)
{
	int64		counts[SA_HIST_BUCKETS];
	double		q = PG_GETARG_FLOAT8(1);
	double		total = 0;
	double		rank;
	double		seen = 0;
	int			i;

	if (!sa_read_hist(PG_GETARG_ARRAYTYPE_P(0), counts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram must be an int8 array of %d elements without nulls",
						SA_HIST_BUCKETS)));
	if (!(q >= 0.0 && q <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantile must be between 0 and 1")));
	for (i = 0; i < SA_HIST_BUCKETS; i++)
		total += Max(counts[i], 0);
	if (total <= 0)
		PG_RETURN_NULL();
	rank = q * total;
	for (i = 0; i < SA_HIST_BUCKETS; i++)
	{
		double		c = Max(counts[i], 0);

		if (c > 0 && seen + c >= rank)
		{
			double		lo = sa_hist_lower(i);
			double		hi = (i == SA_HIST_BUCKETS - 1) ? lo * 2 : sa_hist_upper(i);

			PG_RETURN_FLOAT8(lo + (hi - lo) * ((rank - seen) / c));
		}
		seen += c;
	}
	PG_RETURN_FLOAT8(sa_hist_lower(SA_HIST_BUCKETS - 1));
}

/*
 * SQL: scale_advisor._hist_count_above(buckets int8[], ms float8) estimates
 * how many executions took longer than ms: the buckets above it, and the
 * share of the bucket holding ms that lies above it, rounded up.
 */
Datum
scale_advisor_hist_count_above(PG_FUNCTION_ARGS)
{
	int64		counts[SA_HIST_BUCKETS];
	double		ms = PG_GETARG_FLOAT8(1);
	double		n = 0;
	int			i;

	if (!sa_read_hist(PG_GETARG_ARRAYTYPE_P(0), counts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram must be an int8 array of %d elements without nulls",
						SA_HIST_BUCKETS)));
	for (i = 0; i < SA_HIST_BUCKETS; i++)
	{
		double		lo = sa_hist_lower(i);
		double		hi = (i == SA_HIST_BUCKETS - 1) ? lo * 2 : sa_hist_upper(i);
		double		c = Max(counts[i], 0);

		if (lo >= ms)
			n += c;
		else if (hi > ms)
			n += c * (hi - ms) / (hi - lo);
	}
	PG_RETURN_INT64((int64) ceil(n - 1e-9));
}

/*
 * SQL: scale_advisor._host_cpus() is the number of CPUs online on the
 * database server, or NULL when the system does not tell.
 */
Datum
scale_advisor_host_cpus(PG_FUNCTION_ARGS)
{
	long		n = -1;

#ifdef _SC_NPROCESSORS_ONLN
	n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
	if (n <= 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32((int32) n);
}

/* take an ACCESS SHARE lock on relid if it is free now; remember it */
static bool
sa_lock_nowait(Oid relid, List **locked)
{
	if (!OidIsValid(relid))
		return true;
	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return false;
	*locked = lappend_oid(*locked, relid);
	return true;
}

/* lock the indexes of an open relation without waiting */
static bool
sa_lock_indexes_nowait(Relation rel, List **locked)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		ok = true;

	foreach(lc, indexes)
	{
		if (!sa_lock_nowait(lfirst_oid(lc), locked))
		{
			ok = false;
			break;
		}
	}
	list_free(indexes);
	return ok;
}

/*
 * SQL: scale_advisor._relation_size_nowait(rel, main_only) returns
 * pg_total_relation_size(rel), or pg_relation_size(rel, 'main') when
 * main_only, or NULL when the relation is gone or when a lock it needs (on
 * the relation, its TOAST table or one of their indexes) is held in a
 * conflicting mode by another session: it never waits.
 */
Datum
scale_advisor_relation_size_nowait(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		main_only = PG_GETARG_BOOL(1);
	List	   *locked = NIL;
	Relation	rel;
	Oid			toastid = InvalidOid;
	bool		ok;
	Datum		size = (Datum) 0;
	ListCell   *lc;

	if (!sa_lock_nowait(relid, &locked))
		PG_RETURN_NULL();
	rel = try_relation_open(relid, NoLock);
	ok = (rel != NULL);
	if (ok && main_only)
	{
		relation_close(rel, NoLock);
		size = DirectFunctionCall2(pg_relation_size, ObjectIdGetDatum(relid),
								   CStringGetTextDatum("main"));
		UnlockRelationOid(relid, AccessShareLock);
		list_free(locked);
		PG_RETURN_DATUM(size);
	}
	if (ok)
	{
		toastid = rel->rd_rel->reltoastrelid;
		ok = sa_lock_indexes_nowait(rel, &locked) &&
			sa_lock_nowait(toastid, &locked);
		relation_close(rel, NoLock);
	}
	if (ok && OidIsValid(toastid))
	{
		Relation	toast = try_relation_open(toastid, NoLock);

		if (toast != NULL)
		{
			ok = sa_lock_indexes_nowait(toast, &locked);
			relation_close(toast, NoLock);
		}
	}
	if (ok)
		size = DirectFunctionCall1(pg_total_relation_size,
								   ObjectIdGetDatum(relid));
	foreach(lc, locked)
		UnlockRelationOid(lfirst_oid(lc), AccessShareLock);
	list_free(locked);
	if (!ok)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(size);
}

/*
 * One turn of the worker: call scale_advisor.snapshot() if the extension
 * exists in this database.  Errors are logged and the worker carries on.
 */
static void
sa_snapshot_turn(bool *said_missing)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		char	   *schema = NULL;

		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT n.nspname::text FROM pg_catalog.pg_extension e"
						" JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
						" WHERE e.extname = 'scale_advisor'", true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look up extension scale_advisor");
		if (SPI_processed > 0)
			schema = SPI_getvalue(SPI_tuptable->vals[0],
								  SPI_tuptable->tupdesc, 1);
		if (schema == NULL)
		{
			if (!*said_missing)
				ereport(LOG,
						(errmsg("scale_advisor snapshot worker: extension scale_advisor is not created in database \"%s\", no snapshots are taken",
								sa_database),
						 errhint("Run CREATE EXTENSION scale_advisor in that database, or set scale_advisor.database.")));
			*said_missing = true;
		}
		else
		{
			StringInfoData sql;

			*said_missing = false;
			initStringInfo(&sql);
			appendStringInfo(&sql, "SELECT %s.snapshot()",
							 quote_identifier(schema));
			pgstat_report_activity(STATE_RUNNING, sql.data);
			if (SPI_execute(sql.data, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "snapshot query failed");
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Main function of the snapshot worker.
 */
void
sa_snapshot_worker_main(Datum arg)
{
	bool		said_missing = false;
	TimestampTz last = GetCurrentTimestamp();

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(sa_database, NULL, 0);
	ereport(LOG,
			(errmsg("scale_advisor snapshot worker started in database \"%s\"",
					sa_database)));

	for (;;)
	{
		long		timeout = -1;
		int			flags = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		now = GetCurrentTimestamp();
		if (sa_snapshot_interval > 0)
		{
			TimestampTz due = TimestampTzPlusMilliseconds(last,
														  (int64) sa_snapshot_interval * 1000);

			if (now >= due)
			{
				if (!RecoveryInProgress())
					sa_snapshot_turn(&said_missing);
				last = GetCurrentTimestamp();
				continue;
			}
			timeout = (long) ((due - now) / 1000) + 1;
			flags |= WL_TIMEOUT;
		}

		(void) WaitLatch(MyLatch, flags, timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * Define the GUCs, reserve shared memory, register the observer and the
 * worker.
 */
void
sa_snapshot_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("scale_advisor.snapshot_interval",
							"Seconds between two snapshots taken by the background worker (0 disables it).",
							NULL,
							&sa_snapshot_interval,
							900, 0, 7 * 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.snapshot_keep",
							"Number of snapshots kept; older ones are deleted when a snapshot is taken.",
							NULL,
							&sa_snapshot_keep,
							2880, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("scale_advisor.database",
							   "Database the snapshot worker connects to.",
							   NULL,
							   &sa_database,
							   "postgres",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.history_max",
							"Number of statements whose example (text and parameter values) is kept.",
							NULL,
							&sa_history_max,
							2000, 100, 1000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("scale_advisor.capture_parameters",
							 "Keep one example of the bound parameter values of each statement.",
							 NULL,
							 &sa_capture_parameters,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("scale_advisor.track_history",
							 "Keep latency histograms and examples of statements for snapshots, regressions and workload scripts.",
							 NULL,
							 &sa_track_history,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	sa_shmem_register("scale_advisor_history", sa_hist_shmem_size, 1,
					  sa_hist_shmem_startup);
	sa_register_statement_observer(sa_hist_observe);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 600;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "scale_advisor");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "sa_snapshot_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "scale_advisor snapshot worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "scale_advisor snapshot");
	RegisterBackgroundWorker(&worker);
}
