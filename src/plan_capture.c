/*-------------------------------------------------------------------------
 *
 * plan_capture.c
 *		Plan capture for index advice: a shared table of the statements whose
 *		finished plans lacked an index (what plan_needs.c reports), each with
 *		one real execution's text and parameter values, and the SQL functions
 *		that read and reset it (index_workload).
 *
 * The capture uses the observers of src/hooks.c: for a sample of
 * executions (scale_advisor.plan_sample_rate) the executor start observer
 * turns on row counting (INSTRUMENT_ROWS, never timing), and the statement
 * observer walks the finished plan at ExecutorEnd; executions slower than
 * scale_advisor.plan_capture_ms are walked too, with the planner's row
 * estimates when they were not sampled, and so is, with row counting, the
 * first execution in a backend of a statement not captured yet
 * (first_uncaptured), so that a rare statement is not missed.  Statements
 * that lacked nothing leave no trace.
 *
 * Shared state: one hash table keyed by (database, user, query id), at most
 * scale_advisor.plan_max entries, and a header, all protected by
 * one LWLock (tranche "scale_advisor_plans"): shared to read, exclusive to
 * add, update, evict or reset.  Only sampled or slow executions that lacked
 * an index take the lock, and the first execution of each statement in a
 * backend (shared, to see whether it is captured); every other execution
 * returns before taking it.
 *
 * Persistence, as for the statement store (store.c): the captured
 * statements are written to pg_stat/scale_advisor_plans.stat when the
 * server shuts down cleanly (by the postmaster, after every backend has
 * exited) and by the saver worker every scale_advisor.save_interval seconds
 * (worker.c), through a temporary file and a durable rename; the
 * postmaster loads the file when it creates the shared memory.  A save
 * copies the entries under the lock in shared mode and writes them after
 * releasing it.  scale_advisor.save = off turns both off.  A file that does
 * not read back whole, or whose records fail the checks of plans_load, is
 * ignored from the first bad record on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_operator.h"
#include "common/hashfn.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "executor/instrument.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "index_advice.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "store.h"

#define SA_PLANS_FILE		"pg_stat/scale_advisor_plans.stat"
#define SA_PLANS_FILE_TMP	SA_PLANS_FILE ".tmp"
#define SA_PLANS_MAGIC		0x5CA1AD1A
#define SA_PLANS_VERSION	1

#define SA_TEXT_MAX		2048	/* statement text plus parameter values */
#define SA_MAX_PARAMS	32
#define SA_MAX_OBS		4		/* scanned relations kept per statement */
#define SA_TERMS_MAX	160
#define SA_PATH_MAX		256

/* GUCs */
static double plan_sample_rate = 0.01;
static int	plan_capture_ms = 1000;
static int	plan_max_statements = 1000;	/* scale_advisor.plan_max */
static int	plan_max_statements_old = -1;	/* its 1.0 name */
static bool plan_max_set = false;	/* plan_max given a value (not default) */

typedef struct SaObs
{
	Oid			relid;
	char		scan;
	bool		actual;
	int64		n;				/* executions that saw it */
	double		rows_scanned;	/* sums over those executions */
	double		rows_removed;
	char		terms[SA_TERMS_MAX];
} SaObs;

typedef struct SaPlanKey
{
	Oid			dbid;
	Oid			userid;
	uint64		queryid;
} SaPlanKey;

typedef struct SaPlanEntry
{
	SaPlanKey	key;
	TimestampTz first_seen;
	TimestampTz last_seen;
	int64		sampled_calls;
	int64		slow_calls;		/* captured outside the sample: slow, or a
								 * first execution (first_uncaptured) */
	double		sampled_ms;
	double		slow_ms;
	double		example_ms;		/* the execution whose text is kept */
	int			nobs;
	SaObs		obs[SA_MAX_OBS];
	bool		truncated;
	int			nparams;
	Oid			ptypes[SA_MAX_PARAMS];
	bool		pnull[SA_MAX_PARAMS];
	char		search_path[SA_PATH_MAX];	/* as the example ran */
	int			used;			/* bytes of text[] used */
	char		txt[SA_TEXT_MAX];	/* text \0 value \0 value \0 ... */
} SaPlanEntry;

typedef struct SaPlanShared
{
	LWLock	   *lock;
	TimestampTz reset_time;
	int64		evictions;
} SaPlanShared;

static SaPlanShared *plan_shared = NULL;
static HTAB *plan_hash = NULL;

/* executions of this backend that were picked for row counting */
#define SA_SAMPLED_SLOTS 8
static QueryDesc *sampled[SA_SAMPLED_SLOTS];
static bool sampled_first[SA_SAMPLED_SLOTS];	/* picked as a first one */
static int	n_sampled = 0;		/* non-NULL entries of sampled[] */

/*
 * Query ids this backend has run since the captured statements were last
 * reset, as one bit each in a bitmap indexed by the id's low bits (query
 * ids are hashes).  The first execution of a statement that is not
 * captured yet is walked whatever the sample, so that a statement that runs
 * rarely is not left out of the advice until a sample happens to pick it
 * (at 1 %, 10 calls an hour take 10 hours on average): one look-up in the
 * shared table per backend and statement.  A bit once set stays set, so a
 * backend that runs many statements never looks one up twice nor walks it
 * twice as a first one; two ids that share a bit leave the second one's
 * first execution to the sample (with 5,000 statements in one backend,
 * about 2 % of them, the later ones more often).  16 kB a backend.
 */
#define SA_SEEN_BITS (1 << 17)
static uint64 seen_queryids[SA_SEEN_BITS / 64];
static TimestampTz seen_since = 0;	/* plan_shared->reset_time they follow */

/*
 * Executions until the next sampled one.  Drawing the gap between two
 * samples from the geometric distribution samples each execution with
 * probability plan_sample_rate, as one draw per execution would, at the
 * cost of one draw per sample.
 */
static int64 sample_countdown = 0;
static double sample_countdown_rate = -1.0;

PG_FUNCTION_INFO_V1(scale_advisor_index_workload);
PG_FUNCTION_INFO_V1(scale_advisor_index_workload_reset);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_index_workload_1_1,
					scale_advisor_index_workload);
SA_SQL_FUNCTION_1_1(scale_advisor_index_workload_reset_1_1,
					scale_advisor_index_workload_reset);

/* ---------------------------------------------------------------------
 * Capture
 * ---------------------------------------------------------------------
 */

/* hash of a captured statement's key */
static uint32
plan_key_hash(const void *key, Size keysize)
{
	const SaPlanKey *k = (const SaPlanKey *) key;

	return hash_bytes_uint32((uint32) k->queryid) ^
		hash_bytes_uint32((uint32) (k->queryid >> 32)) ^
		hash_bytes_uint32(k->dbid ^ (k->userid << 7));
}

/* do two keys match (0) or not (1), as dynahash wants */
static int
plan_key_match(const void *a, const void *b, Size keysize)
{
	const SaPlanKey *x = (const SaPlanKey *) a;
	const SaPlanKey *y = (const SaPlanKey *) b;

	return (x->queryid == y->queryid && x->dbid == y->dbid &&
			x->userid == y->userid) ? 0 : 1;
}

static void plans_shmem_shutdown(int code, Datum arg);
static bool plans_write_file(void);
static void plans_load(void);

/* shared memory needed for the captured statements */
static Size
plans_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(SaPlanShared)),
					hash_estimate_size(plan_max_statements,
									   sizeof(SaPlanEntry)));
}

/*
 * create or attach to the captured statements (runs holding
 * AddinShmemInitLock), and load them
 */
static void
plans_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	plan_shared = ShmemInitStruct("scale_advisor plans",
								  sizeof(SaPlanShared), &found);
	if (!found)
	{
		plan_shared->lock = &(GetNamedLWLockTranche("scale_advisor_plans"))->lock;
		plan_shared->reset_time = GetCurrentTimestamp();
		plan_shared->evictions = 0;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(SaPlanKey);
	info.entrysize = sizeof(SaPlanEntry);
	info.hash = plan_key_hash;
	info.match = plan_key_match;
	plan_hash = ShmemInitHash("scale_advisor plan statements",
							  plan_max_statements, plan_max_statements,
							  &info, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE);
	if (!IsUnderPostmaster)
	{
		on_shmem_exit(plans_shmem_shutdown, (Datum) 0);
		if (!found)
			sa_load_saved(SA_PLANS_FILE, plans_load);
	}
}

/* the fixed part of an entry, written before its used text bytes */
#define SA_PLAN_FIXED	offsetof(SaPlanEntry, txt)

typedef struct SaPlansFileHeader
{
	uint32		magic;
	uint32		version;
	uint32		entry_size;		/* SA_PLAN_FIXED of the writer */
	int32		count;
	TimestampTz reset_time;
	int64		evictions;
} SaPlansFileHeader;

/*
 * Postmaster exit: save the captured statements unless the exit is a crash.
 */
static void
plans_shmem_shutdown(int code, Datum arg)
{
	if (code != 0 || plan_shared == NULL || !sa_save_enabled)
		return;
	(void) plans_write_file();
}

/*
 * Save the captured statements; called by the saver worker.
 */
bool
sa_plans_save(void)
{
	if (plan_shared == NULL || !sa_save_enabled)
		return false;
	return plans_write_file();
}

/*
 * Copy every entry (in a backend under the lock in shared mode; the
 * postmaster at shutdown has no other process to fear), then write them to
 * a temporary file with no lock held and rename it into place.  Failures
 * are logged and leave the file saved before as it was.
 */
static bool
plans_write_file(void)
{
	MemoryContext cxt;
	MemoryContext old;
	SaPlansFileHeader hdr;
	SaPlanEntry *copy;
	HASH_SEQ_STATUS hs;
	SaPlanEntry *e;
	FILE	   *f;
	long		n;
	int			count = 0;
	int			i;
	bool		ok = true;
	bool		locked = IsUnderPostmaster;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "scale_advisor plans save",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = SA_PLANS_MAGIC;
	hdr.version = SA_PLANS_VERSION;
	hdr.entry_size = SA_PLAN_FIXED;
	if (locked)
		LWLockAcquire(plan_shared->lock, LW_SHARED);
	n = hash_get_num_entries(plan_hash);
	copy = MemoryContextAllocExtended(cxt, mul_size(Max(n, 1), sizeof(SaPlanEntry)),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (copy != NULL)
	{
		hash_seq_init(&hs, plan_hash);
		while ((e = hash_seq_search(&hs)) != NULL)
		{
			if (count < n)
				memcpy(&copy[count++], e, SA_PLAN_FIXED + Min(e->used, SA_TEXT_MAX));
		}
		hdr.reset_time = plan_shared->reset_time;
		hdr.evictions = plan_shared->evictions;
	}
	if (locked)
		LWLockRelease(plan_shared->lock);
	if (copy == NULL)
	{
		ereport(LOG,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not save scale_advisor captured plans: out of memory")));
		goto failed;
	}
	hdr.count = count;

	f = AllocateFile(SA_PLANS_FILE_TMP, PG_BINARY_W);
	if (f == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write scale_advisor file \"%s\": %m",
						SA_PLANS_FILE_TMP)));
		goto failed;
	}
	if (fwrite(&hdr, sizeof(hdr), 1, f) != 1)
		ok = false;
	for (i = 0; ok && i < count; i++)
	{
		e = &copy[i];
		if (fwrite(e, SA_PLAN_FIXED, 1, f) != 1 ||
			(e->used > 0 && fwrite(e->txt, e->used, 1, f) != 1))
			ok = false;
	}
	if (ok && fflush(f) != 0)
		ok = false;
	if (ok && pg_fsync(fileno(f)) != 0)
		ok = false;
	if (!ok)
	{
		int			save_errno = errno;

		FreeFile(f);
		errno = save_errno;
	}
	else if (FreeFile(f) != 0)
		ok = false;
	if (!ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write scale_advisor file \"%s\": %m",
						SA_PLANS_FILE_TMP),
				 errdetail("The captured plans saved before, if any, are kept.")));
		unlink(SA_PLANS_FILE_TMP);
		goto failed;
	}
	if (durable_rename(SA_PLANS_FILE_TMP, SA_PLANS_FILE, LOG) != 0)
	{
		unlink(SA_PLANS_FILE_TMP);
		goto failed;
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return true;

failed:
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}

/* a NUL inside buf[0 .. len) */
static bool
has_nul(const char *buf, int len)
{
	return len > 0 && memchr(buf, '\0', len) != NULL;
}

/*
 * Is a record read back from the file one this version could have written?
 * Its strings end inside their arrays and its counts are in range, so that
 * the readers (which trust them) cannot run off the entry.
 */
static bool
plan_record_ok(SaPlanEntry *e)
{
	int			i;
	int			off;

	if (e->used < 0 || e->used > SA_TEXT_MAX || e->nobs < 0 ||
		e->nobs > SA_MAX_OBS || e->nparams < 0 ||
		e->nparams > SA_MAX_PARAMS ||
		!has_nul(e->search_path, SA_PATH_MAX))
		return false;
	for (i = 0; i < e->nobs; i++)
		if (!has_nul(e->obs[i].terms, SA_TERMS_MAX))
			return false;
	if (e->used == 0)
		return e->nparams == 0;
	/* the text and one value per parameter, each ending in a NUL */
	off = 0;
	for (i = 0; i <= e->nparams; i++)
	{
		char	   *z;

		if (off >= e->used)
			return false;
		z = memchr(e->txt + off, '\0', e->used - off);
		if (z == NULL)
			return false;
		off = (z - e->txt) + 1;
	}
	return true;
}

/*
 * Load the saved file into the fresh table (postmaster, no lock needed).
 */
static void
plans_load(void)
{
	FILE	   *f;
	SaPlansFileHeader hdr;
	SaPlanEntry *rec;
	int			i;
	int			loaded = 0;

	f = AllocateFile(SA_PLANS_FILE, PG_BINARY_R);
	if (f == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read scale_advisor file \"%s\": %m",
							SA_PLANS_FILE)));
		return;
	}
	if (fread(&hdr, sizeof(hdr), 1, f) != 1 ||
		hdr.magic != SA_PLANS_MAGIC || hdr.version != SA_PLANS_VERSION ||
		hdr.entry_size != SA_PLAN_FIXED || hdr.count < 0)
	{
		ereport(LOG,
				(errmsg("ignoring scale_advisor file \"%s\": not written by this version",
						SA_PLANS_FILE)));
		FreeFile(f);
		return;
	}
	rec = (SaPlanEntry *) palloc0(sizeof(SaPlanEntry));
	for (i = 0; i < hdr.count; i++)
	{
		SaPlanEntry *e;
		bool		found;

		if (fread(rec, SA_PLAN_FIXED, 1, f) != 1 ||
			rec->used < 0 || rec->used > SA_TEXT_MAX ||
			(rec->used > 0 && fread(rec->txt, rec->used, 1, f) != 1) ||
			!plan_record_ok(rec))
		{
			ereport(LOG,
					(errmsg("scale_advisor file \"%s\" is truncated or damaged: %d of %d captured statements loaded",
							SA_PLANS_FILE, loaded, hdr.count)));
			break;
		}
		if (hash_get_num_entries(plan_hash) >= plan_max_statements)
			break;				/* plan_max was lowered */
		e = (SaPlanEntry *) hash_search(plan_hash, &rec->key, HASH_ENTER_NULL,
										&found);
		if (e == NULL)
			break;
		if (found)
			continue;
		memcpy(((char *) e) + sizeof(SaPlanKey), ((char *) rec) + sizeof(SaPlanKey),
			   SA_PLAN_FIXED - sizeof(SaPlanKey) + rec->used);
		loaded++;
	}
	pfree(rec);
	FreeFile(f);
	plan_shared->reset_time = hdr.reset_time;
	plan_shared->evictions = hdr.evictions;
}

/*
 * remember an execution picked for row counting (the oldest is forgotten
 * when every slot is taken)
 */
static void
remember_sampled(QueryDesc *qd, bool first)
{
	int			i;

	for (i = 0; i < SA_SAMPLED_SLOTS; i++)
		if (sampled[i] == NULL)
		{
			sampled[i] = qd;
			sampled_first[i] = first;
			n_sampled++;
			return;
		}
	/* too deeply nested: forget the oldest */
	memmove(&sampled[0], &sampled[1], sizeof(QueryDesc *) * (SA_SAMPLED_SLOTS - 1));
	memmove(&sampled_first[0], &sampled_first[1],
			sizeof(bool) * (SA_SAMPLED_SLOTS - 1));
	sampled[SA_SAMPLED_SLOTS - 1] = qd;
	sampled_first[SA_SAMPLED_SLOTS - 1] = first;
}

/* was qd picked (*first: as a first execution, not by the sample)? */
static bool
forget_sampled(QueryDesc *qd, bool *first)
{
	int			i;

	for (i = 0; i < SA_SAMPLED_SLOTS; i++)
		if (sampled[i] == qd)
		{
			sampled[i] = NULL;
			*first = sampled_first[i];
			n_sampled--;
			return true;
		}
	*first = false;
	return false;
}

/*
 * Is this the first execution of statement queryid in this backend (since
 * the last reset) and is it not captured yet?  Takes the lock in shared
 * mode only on the first execution.
 */
static bool
first_uncaptured(uint64 queryid)
{
	uint32		bit;
	uint64	   *word;
	uint64		mask;
	SaPlanKey	key;
	bool		known;

	if (queryid == UINT64CONST(0) || plan_shared == NULL)
		return false;
	if (unlikely(seen_since != plan_shared->reset_time))
	{
		memset(seen_queryids, 0, sizeof(seen_queryids));
		seen_since = plan_shared->reset_time;
	}
	bit = (uint32) (queryid ^ (queryid >> 32)) & (SA_SEEN_BITS - 1);
	word = &seen_queryids[bit / 64];
	mask = UINT64CONST(1) << (bit % 64);
	if (likely(*word & mask))
		return false;
	*word |= mask;
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.userid = GetUserId();
	key.queryid = queryid;
	LWLockAcquire(plan_shared->lock, LW_SHARED);
	known = hash_search(plan_hash, &key, HASH_FIND, NULL) != NULL;
	LWLockRelease(plan_shared->lock);
	return !known;
}

/* executions until the next sample, drawn for plan_sample_rate (0, 1) */
static int64
sample_gap(void)
{
	double		u = sa_random_double();
	double		g;

	g = floor(log(1.0 - u) / log(1.0 - plan_sample_rate)) + 1.0;
	if (!(g >= 1.0))
		return 1;
	if (g > 1e15)
		return (int64) 1e15;
	return (int64) g;
}

/* should this execution be sampled? */
static inline bool
sample_this_one(void)
{
	if (plan_sample_rate >= 1.0)
		return true;
	if (unlikely(sample_countdown_rate != plan_sample_rate))
	{
		sample_countdown_rate = plan_sample_rate;
		sample_countdown = sample_gap();
	}
	if (--sample_countdown > 0)
		return false;
	sample_countdown = sample_gap();
	return true;
}

/* executor start observer: pick a sample of executions for row counting */
static void
plans_executor_start(QueryDesc *query_desc, int eflags, uint64 queryid)
{
	bool		first = false;

	if (plan_sample_rate <= 0 || (eflags & EXEC_FLAG_EXPLAIN_ONLY))
		return;
	if (query_desc->operation == CMD_INSERT &&
		query_desc->plannedstmt->planTree &&
		IsA(query_desc->plannedstmt->planTree, ModifyTable) &&
		outerPlan(query_desc->plannedstmt->planTree) &&
		IsA(outerPlan(query_desc->plannedstmt->planTree), Result))
		return;					/* INSERT ... VALUES: nothing to index */
	if (!sample_this_one())
	{
		if (!first_uncaptured(queryid))
			return;
		first = true;
	}
	if (!sa_stmt_may_need(query_desc->plannedstmt))
		return;					/* nothing to learn from counting rows */
	query_desc->instrument_options |= INSTRUMENT_ROWS;
	remember_sampled(query_desc, first);
}

/* the statement's own part of the source text, trimmed */
static void
statement_text(const SaStatement *stmt, const char **start, int *len)
{
	const char *s = stmt->source_text;
	int			loc = stmt->stmt_location;
	int			l = stmt->stmt_len;

	if (loc < 0 || loc > (int) strlen(s))
	{
		loc = 0;
		l = strlen(s);
	}
	else if (l <= 0)
		l = strlen(s + loc);
	s += loc;
	while (l > 0 && isspace((unsigned char) *s))
	{
		s++;
		l--;
	}
	while (l > 0 && (isspace((unsigned char) s[l - 1]) || s[l - 1] == ';'))
		l--;
	*start = s;
	*len = l;
}

/*
 * Keep this execution's text and parameter values as the example.  Caller
 * holds plan_shared->lock exclusively.
 */
static void
store_example(SaPlanEntry *e, const SaStatement *stmt, char **pvals,
			  Oid *ptypes, bool *pnull, int nparams, bool params_ok)
{
	const char *s;
	int			len;
	int			used;
	int			i;

	Assert(LWLockHeldByMeInMode(plan_shared->lock, LW_EXCLUSIVE));
	statement_text(stmt, &s, &len);
	e->truncated = false;
	if (namespace_search_path == NULL ||
		strlen(namespace_search_path) >= SA_PATH_MAX)
		e->truncated = true;
	else
		strlcpy(e->search_path, namespace_search_path, SA_PATH_MAX);
	if (len >= SA_TEXT_MAX || !params_ok)
	{
		e->truncated = true;
		len = Min(len, SA_TEXT_MAX - 1);
	}
	memcpy(e->txt, s, len);
	e->txt[len] = '\0';
	used = len + 1;
	e->nparams = 0;
	for (i = 0; i < nparams && !e->truncated; i++)
	{
		int			vl = pnull[i] ? 0 : strlen(pvals[i]);

		if (used + vl + 1 > SA_TEXT_MAX)
		{
			e->truncated = true;
			break;
		}
		if (!pnull[i])
			memcpy(e->txt + used, pvals[i], vl);
		e->txt[used + vl] = '\0';
		used += vl + 1;
		e->ptypes[i] = ptypes[i];
		e->pnull[i] = pnull[i];
	}
	if (!e->truncated)
		e->nparams = nparams;
	e->used = used;
}

/*
 * Make room for one statement: drop the one with the least sampled and slow
 * time.  Caller holds plan_shared->lock exclusively.
 */
static void
evict_one(void)
{
	HASH_SEQ_STATUS hs;
	SaPlanEntry *e;
	SaPlanEntry *victim = NULL;
	double		vscore = 0;

	Assert(LWLockHeldByMeInMode(plan_shared->lock, LW_EXCLUSIVE));
	hash_seq_init(&hs, plan_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		double		score = e->sampled_ms + e->slow_ms;

		if (victim == NULL || score < vscore)
		{
			victim = e;
			vscore = score;
		}
	}
	if (victim)
	{
		hash_search(plan_hash, &victim->key, HASH_REMOVE, NULL);
		plan_shared->evictions++;
	}
}

static void plans_capture(const SaStatement *stmt);

/*
 * Transaction end: executions that failed never reached ExecutorEnd, so
 * their sampled[] slots are freed here.
 */
static void
plans_xact_callback(XactEvent event, void *arg)
{
	if (n_sampled == 0)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
	{
		memset(sampled, 0, sizeof(sampled));
		n_sampled = 0;
	}
}

/*
 * Statement observer: capture what sampled or slow executions lacked.  The
 * test for "neither" is kept apart from the capture so that it costs a few
 * instructions.
 */
static void
plans_statement_end(const SaStatement *stmt)
{
	if (n_sampled == 0 &&
		(plan_capture_ms < 0 || stmt->exec_ms < plan_capture_ms))
		return;
	plans_capture(stmt);
}

/* walk a finished plan and record what it lacked (out of line) */
static pg_noinline void
plans_capture(const SaStatement *stmt)
{
	QueryDesc  *qd = stmt->query_desc;
	bool		was_sampled;
	bool		first;
	bool		slow;
	List	   *needs;
	MemoryContext cxt;
	MemoryContext old;
	SaPlanKey	key;
	SaPlanEntry *e;
	bool		found;
	ListCell   *lc;
	char	   *pvals[SA_MAX_PARAMS];
	Oid			ptypes[SA_MAX_PARAMS];
	bool		pnull[SA_MAX_PARAMS];
	int			nparams = 0;
	bool		params_ok = true;
	TimestampTz now;

	if (qd == NULL)
		return;
	was_sampled = forget_sampled(qd, &first);
	slow = (plan_capture_ms >= 0 && stmt->exec_ms >= plan_capture_ms);
	if (!was_sampled && !slow)
		return;
	if (plan_shared == NULL || qd->plannedstmt == NULL ||
		qd->plannedstmt->commandType == CMD_UTILITY)
		return;
	if (!sa_stmt_may_need(qd->plannedstmt))
		return;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "scale_advisor plan capture",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	needs = sa_plan_needs(qd->plannedstmt,
						  was_sampled ? qd->planstate : NULL);
	if (needs == NIL)
		goto done;

	/* bound parameters of the extended protocol, as text */
	if (stmt->params && stmt->params->numParams > 0)
	{
		ParamListInfo p = stmt->params;
		int			i;

		if (p->paramFetch != NULL || p->numParams > SA_MAX_PARAMS)
			params_ok = false;
		for (i = 0; params_ok && i < p->numParams; i++)
		{
			ParamExternData *x = &p->params[i];
			Oid			typoutput;
			bool		varlena;

			ptypes[i] = x->ptype;
			pnull[i] = x->isnull || !OidIsValid(x->ptype);
			pvals[i] = NULL;
			if (!pnull[i])
			{
				getTypeOutputInfo(x->ptype, &typoutput, &varlena);
				if (varlena &&
					toast_raw_datum_size(x->value) > SA_TEXT_MAX)
				{
					params_ok = false;
					break;
				}
				pvals[i] = OidOutputFunctionCall(typoutput, x->value);
			}
		}
		nparams = p->numParams;
	}

	key.dbid = stmt->dbid;
	key.userid = stmt->userid;
	key.queryid = stmt->queryid;
	now = GetCurrentTimestamp();

	LWLockAcquire(plan_shared->lock, LW_EXCLUSIVE);
	e = (SaPlanEntry *) hash_search(plan_hash, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		if (hash_get_num_entries(plan_hash) >= plan_max_statements)
			evict_one();
		e = (SaPlanEntry *) hash_search(plan_hash, &key, HASH_ENTER_NULL,
										&found);
		if (e == NULL)
		{
			LWLockRelease(plan_shared->lock);
			goto done;
		}
		memset(((char *) e) + sizeof(SaPlanKey), 0,
			   offsetof(SaPlanEntry, txt) - sizeof(SaPlanKey));
		e->first_seen = now;
		e->example_ms = -1;
	}
	e->last_seen = now;
	if (was_sampled && !first)
	{
		e->sampled_calls++;
		e->sampled_ms += stmt->exec_ms;
	}
	else
	{
		/* not picked by the sample: it does not scale the calls up */
		e->slow_calls++;
		e->slow_ms += stmt->exec_ms;
	}
	if (stmt->exec_ms > e->example_ms)
	{
		e->example_ms = stmt->exec_ms;
		store_example(e, stmt, pvals, ptypes, pnull, nparams, params_ok);
	}
	foreach(lc, needs)
	{
		SaScanNeed *need = (SaScanNeed *) lfirst(lc);
		SaObs	   *o = NULL;
		int			i;

		for (i = 0; i < e->nobs; i++)
			if (e->obs[i].relid == need->relid)
			{
				o = &e->obs[i];
				break;
			}
		if (o == NULL)
		{
			if (e->nobs >= SA_MAX_OBS)
				continue;
			o = &e->obs[e->nobs++];
			memset(o, 0, sizeof(SaObs));
			o->relid = need->relid;
		}
		if (o->terms[0] == '\0' || (need->actual && !o->actual))
		{
			/* get_attname may not run under the lock: see below */
			o->terms[0] = '\1';
		}
		o->scan = need->scan;
		o->n++;
		o->rows_scanned += need->rows_scanned;
		o->rows_removed += need->rows_removed;
		o->actual |= need->actual;
	}
	LWLockRelease(plan_shared->lock);

	/*
	 * Describe the terms outside the lock (that needs catalog lookups), then
	 * store the descriptions of the relations that asked for one.
	 */
	{
		char	   *texts[SA_MAX_OBS];
		Oid			relids[SA_MAX_OBS];
		int			n = 0;

		foreach(lc, needs)
		{
			SaScanNeed *need = (SaScanNeed *) lfirst(lc);

			if (n >= SA_MAX_OBS)
				break;
			relids[n] = need->relid;
			texts[n] = sa_terms_text(need->relid, need->terms, true);
			n++;
		}
		LWLockAcquire(plan_shared->lock, LW_EXCLUSIVE);
		e = (SaPlanEntry *) hash_search(plan_hash, &key, HASH_FIND, NULL);
		if (e)
		{
			int			i,
						j;

			for (i = 0; i < e->nobs; i++)
				for (j = 0; j < n; j++)
					if (e->obs[i].relid == relids[j] &&
						e->obs[i].terms[0] == '\1')
						strlcpy(e->obs[i].terms, texts[j], SA_TERMS_MAX);
		}
		LWLockRelease(plan_shared->lock);
	}

done:
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * Copy the captured statements of this database out of shared memory (all
 * users' when allowed, else the current user's).
 */
List *
sa_captured_statements(bool all_users)
{
	HASH_SEQ_STATUS hs;
	SaPlanEntry *e;
	List	   *result = NIL;
	TimestampTz now = GetCurrentTimestamp();
	SaReader	reader;

	if (plan_shared == NULL)
		return NIL;
	reader = sa_reader(all_users);
	LWLockAcquire(plan_shared->lock, LW_SHARED);
	hash_seq_init(&hs, plan_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		SaCapturedStmt *s;
		int			i;
		char	   *p;
		double		calls;

		if (e->key.dbid != MyDatabaseId)
			continue;
		if (!sa_reader_sees(&reader, e->key.userid))
			continue;
		if (e->used == 0)
			continue;
		s = (SaCapturedStmt *) palloc0(sizeof(SaCapturedStmt));
		s->queryid = e->key.queryid;
		s->userid = e->key.userid;
		s->text = pstrdup(e->txt);
		s->search_path = pstrdup(e->search_path);
		s->truncated = e->truncated;
		s->nparams = e->nparams;
		s->ptypes = (Oid *) palloc0(sizeof(Oid) * Max(e->nparams, 1));
		s->pvalues = (char **) palloc0(sizeof(char *) * Max(e->nparams, 1));
		p = e->txt + strlen(e->txt) + 1;
		for (i = 0; i < e->nparams; i++)
		{
			s->ptypes[i] = e->ptypes[i];
			s->pvalues[i] = e->pnull[i] ? NULL : pstrdup(p);
			p += strlen(p) + 1;
		}
		if (e->sampled_calls > 0 && plan_sample_rate > 0)
		{
			calls = e->sampled_calls / Min(plan_sample_rate, 1.0);
			s->mean_ms = e->sampled_ms / e->sampled_calls;
		}
		else
		{
			calls = e->slow_calls;
			s->mean_ms = e->slow_calls > 0 ? e->slow_ms / e->slow_calls : 0;
		}
		calls = Max(calls, (double) (e->sampled_calls + e->slow_calls));
		s->est_calls = calls;
		s->hours = Max((double) (now - e->first_seen) / USECS_PER_SEC / 3600.0,
					   1.0 / 60.0);
		result = lappend(result, s);
	}
	LWLockRelease(plan_shared->lock);
	return result;
}

/*
 * SQL: scale_advisor.index_workload — what the captured plans lacked, per
 * statement and relation.
 */
Datum
scale_advisor_index_workload(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS hs;
	SaPlanEntry *e;
	SaReader	reader = sa_reader(true);

	sa_require_loaded();
	sa_init_srf(fcinfo);
	if (plan_shared == NULL)
		return (Datum) 0;
	LWLockAcquire(plan_shared->lock, LW_SHARED);
	hash_seq_init(&hs, plan_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		int			i;

		/* others' statements only to roles that may read all statistics */
		if (e->key.dbid != MyDatabaseId || !sa_reader_sees(&reader, e->key.userid))
			continue;
		for (i = 0; i < e->nobs; i++)
		{
			SaObs	   *o = &e->obs[i];
			Datum		values[12];
			bool		nulls[12];

			memset(nulls, 0, sizeof(nulls));
			values[0] = Int64GetDatum((int64) e->key.queryid);
			values[1] = ObjectIdGetDatum(e->key.userid);
			values[2] = ObjectIdGetDatum(o->relid);
			values[3] = CStringGetTextDatum(o->scan == 's' ? "seq scan" : "index scan with filter");
			if (o->terms[0] == '\0' || o->terms[0] == '\1')
				nulls[4] = true;
			else
				values[4] = CStringGetTextDatum(o->terms);
			values[5] = Int64GetDatum(o->n);
			values[6] = Float8GetDatum(o->n ? o->rows_scanned / o->n : 0);
			values[7] = Float8GetDatum(o->n ? o->rows_removed / o->n : 0);
			values[8] = BoolGetDatum(o->actual);
			values[9] = Int64GetDatum(e->sampled_calls + e->slow_calls);
			values[10] = Float8GetDatum((e->sampled_calls + e->slow_calls) > 0 ?
										(e->sampled_ms + e->slow_ms) /
										(e->sampled_calls + e->slow_calls) : 0);
			/*
			 * the text as captured holds its literals: the statement's own
			 * role and superusers only (others have query_stats' normalized
			 * text for the query id)
			 */
			if (sa_may_see_values(reader.me, e->key.userid))
				values[11] = CStringGetTextDatum(e->txt);
			else
				nulls[11] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
	}
	LWLockRelease(plan_shared->lock);
	return (Datum) 0;
}

/*
 * SQL: scale_advisor.index_workload_reset() — forget every captured plan.
 */
Datum
scale_advisor_index_workload_reset(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS hs;
	SaPlanEntry *e;

	sa_require_loaded();
	LWLockAcquire(plan_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&hs, plan_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
		hash_search(plan_hash, &e->key, HASH_REMOVE, NULL);
	plan_shared->reset_time = GetCurrentTimestamp();
	LWLockRelease(plan_shared->lock);
	PG_RETURN_VOID();
}

/* note whether plan_max was given a value (the last value applied wins) */
static bool
check_plan_max(int *newval, void **extra, GucSource source)
{
	plan_max_set = (source > PGC_S_DEFAULT);
	return true;
}

/* the 1.0 name takes what plan_max takes, or -1 (not set) */
static bool
check_plan_max_old(int *newval, void **extra, GucSource source)
{
	if (*newval == -1 || *newval >= 10)
		return true;
	GUC_check_errdetail("scale_advisor.plan_max_statements must be -1 or between 10 and 100000.");
	GUC_check_errhint("Set scale_advisor.plan_max instead; this is its old name.");
	return false;
}

/* define the capture GUCs, reserve shared memory, register the observers */
void
sa_plans_init(void)
{
	RegisterXactCallback(plans_xact_callback, NULL);
	DefineCustomRealVariable("scale_advisor.plan_sample_rate",
							 "Fraction of executions whose plans are walked with row counts for index advice.",
							 NULL, &plan_sample_rate, 0.01, 0.0, 1.0,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.plan_capture_ms",
							"Executions slower than this are always walked for index advice (-1 turns it off).",
							NULL, &plan_capture_ms, 1000, -1, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.plan_max",
							"Statements whose plans are kept for index advice.",
							NULL, &plan_max_statements, 1000, 10, 100000,
							PGC_POSTMASTER, 0, check_plan_max, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.plan_max_statements",
							"Old name of scale_advisor.plan_max (-1: not set).",
							"Used when scale_advisor.plan_max is left at its default.",
							&plan_max_statements_old, -1, -1, 100000,
							PGC_POSTMASTER, 0, check_plan_max_old, NULL, NULL);

	/*
	 * The 1.0 name, when set, gives the capacity unless the new one is set
	 * too (to any value, its default included); SHOW scale_advisor.plan_max
	 * then tells the capacity in use.  Both are fixed at server start, when
	 * this runs.
	 */
	if (plan_max_statements_old >= 0 && !plan_max_set)
	{
		char		value[32];

		snprintf(value, sizeof(value), "%d", plan_max_statements_old);
		SetConfigOption("scale_advisor.plan_max", value, PGC_POSTMASTER,
						PGC_S_OVERRIDE);
	}
	sa_shmem_register("scale_advisor_plans", plans_shmem_size, 1,
					  plans_shmem_startup);
	sa_register_executor_start_observer(plans_executor_start);
	sa_register_statement_observer(plans_statement_end);
}
