/*-------------------------------------------------------------------------
 *
 * nplus1.c
 *		N+1 detection: runs of one statement executed again and again with
 *		different parameters (the loop an ORM hides behind lazy loading),
 *		runs of the same statement with the same parameters (a cacheable
 *		repeat), and INSERT loops; with a rewrite built from the
 *		statement's own tree by nplus1_rewrite.c.
 *
 * Owns:
 *	- the per-backend run tracker (static memory, no locks): a few slots,
 *	  one per recently executed query id, each holding the run that query
 *	  id is in.  A run goes on while the statement is executed again in the
 *	  same transaction block or, across transactions and outside of them,
 *	  while the session is never idle longer than
 *	  scale_advisor.n_plus_one_window_ms (from the end of one statement to
 *	  the start of the next: the application's think time, so that slow
 *	  statements keep their loop together and a poller does not make one).
 *	  A run without a parent goes on across the end of a transaction block
 *	  only when that block ran nothing else (an ORM that wraps each save in
 *	  BEGIN/COMMIT), so that repeated multi-statement transactions do not
 *	  look like loops.  Other statements between the executions do not end
 *	  a run; its parent running again does, unless the parent is itself
 *	  going through the rows of its own parent (a nested loop).  Statements
 *	  that read only the system catalogs are not looked at (an ORM reading
 *	  the catalog between the parent and the loop changes nothing).
 *	- the shared table of detections (NpSharedState and a hash table keyed
 *	  by database, user, query id, kind and application_name).
 *	- the pooled runs (np_pool): a loop spread over several connections of
 *	  one pool, or over transactions that a transaction-mode pooler hands to
 *	  different server connections.  A backend's run that is not confined
 *	  to one transaction block and has a parent, or began right after the
 *	  session was idle (a connection taken from a pool), is one backend's
 *	  share of a pooled run, keyed by database, user, application_name,
 *	  client address and query id.  Its counts go to the shared entry when
 *	  the share reaches thresholds (each of its executions until the pooled
 *	  run reached scale_advisor.n_plus_one_min_calls, then each time the
 *	  share doubles, and when it ends); the pooled run is flagged once
 *	  with the parent any of its shares found.  Both are registered through
 *	  sa_shmem_register().
 *
 * Cost: the per-statement path finds the statement's slot and updates its
 * run; it allocates nothing and takes no lock.  Parameters are hashed (the
 * text's slice, or the bound values) only until the run is decided, so a
 * statement repeated for ever costs no hashing.  Shared memory is touched
 * only at the thresholds above, when a run is first flagged, each time a
 * flagged run doubles, and when it ends.  The rewrite is built when a run
 * is flagged and the shared entry has none yet.
 *
 * Locking: np_state->lock (one LWLock) for the detections: shared mode to
 * look an entry up and update its counters under the entry's spinlock;
 * exclusive mode to create, evict or remove entries.  The texts of an entry
 * are written only under the exclusive lock and read under the shared lock.
 * Each pooled run has its own spinlock, which protects all of it; it is
 * never held while np_state->lock is taken or waited for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "parser/parser.h"
#include "port/pg_bitutils.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "nplus1.h"
#include "scale_advisor.h"
#include "shmem.h"

/* the kinds of detection (NP_KIND_*), as shown in the view */
static const char *const np_kind_names[] = {
	"none", "n_plus_one", "repeated_identical", "insert_loop"
};

static NpSlot np_slots[NP_SLOTS];
static uint64 np_slot_qid[NP_SLOTS];	/* np_slots[i]'s key (np_slot_key) */
static uint32 np_watch_mask = 0;	/* slots whose run has a parent */
static NpParent np_parents[NP_PARENTS];
static uint32 np_tick = 0;
static uint64 np_xact_seq = 1;
static uint32 np_open_mask = 0; /* slots whose run has counts to publish when
								 * it ends */
static uint32 np_block_mask = 0;	/* those flagged inside their block */
static bool np_exit_registered = false;

/*
 * Application contexts.  A transaction-mode pooler hands one server
 * connection to several clients in turn and sets each one's
 * application_name: the runs, the idle time and the statement before are
 * followed per application_name, so that the loops of clients that share
 * a server connection neither mix nor cut each other.  A slot belongs to
 * one context (its key is the query id with the context's number in its
 * top bits).
 *
 * Breaks: break_tick is the tick of the first statement after the context
 * was idle longer than the window; wide_tick the tick of the first
 * statement after a transaction block that ran more than one statement
 * ended.  A run whose last execution came before either cannot go on
 * (outside its own transaction block).
 */
#define NP_APPS			4

typedef struct NpApp
{
	char		name[NAMEDATALEN];
	bool		used;
	uint32		seen;			/* np_tick when it was last current */
	TimestampTz last_end;		/* end of its latest statement */
	uint32		break_tick;
	uint32		wide_tick;
	/* the statement before the current one */
	uint64		prev_queryid;
	Oid			prev_userid;
	uint64		prev_rows;
	uint64		prev_xact;
	TimestampTz prev_ts;
	int			prev_slot;
	/* hash of its pooled runs' key but the query id (np_pool_prefix) */
	bool		pool_prefix_ok;
	Oid			pool_prefix_db;
	Oid			pool_prefix_user;
	uint64		pool_prefix;
} NpApp;

static NpApp np_apps[NP_APPS];
static NpApp *np_cur = &np_apps[0];
static int	np_cur_app = 0;
static const char *np_app_seen = NULL;	/* application_name when np_cur was
										 * chosen */
static int	np_block_stmts = 0; /* statements of the current transaction */

/* the key of a slot: query id and application context */
#define np_slot_key(queryid, app) ((queryid) ^ ((uint64) (app) << 61))

/* hash of the client's address, for the pooled runs */
static uint32 np_client = 0;
static bool np_client_known = false;

/* ----------------------------------------------------------------
 * Shared state
 * ----------------------------------------------------------------
 */
typedef struct NpKey
{
	Oid			dbid;
	Oid			userid;
	uint64		queryid;
	uint32		kind;
	char		appname[NAMEDATALEN];
} NpKey;

typedef struct NpEntry
{
	NpKey		key;			/* hash key, first */
	slock_t		mutex;			/* protects the counters below */
	int64		detections;
	int64		repeated_calls;
	int64		max_run;
	int64		last_run;		/* length of the latest run, so far */
	double		total_ms;
	uint64		parent_queryid;
	int64		parent_rows;
	TimestampTz first_seen;
	TimestampTz last_seen;
	/* texts: written under the exclusive lock */
	bool		has_rewrite;
	uint64		rewrite_parent; /* parent the join_query was built for */
	char		query[NP_QUERY_LEN];
	char		parent_query[NP_QUERY_LEN];
	char		batched[NP_BATCHED_LEN];
	char		joined[NP_JOIN_LEN];
	char		batched_note[NP_NOTE_LEN];	/* what batched is, or why none */
	char		joined_note[NP_JOIN_NOTE_LEN];	/* what joined is */
} NpEntry;

typedef struct NpSharedState
{
	LWLock	   *lock;
	int64		dropped;		/* entries evicted for lack of room */
} NpSharedState;

static NpSharedState *np_state = NULL;
static HTAB *np_hash = NULL;

/*
 * Pooled runs: a small open-addressed table, each entry under its own
 * spinlock.  gen changes whenever the entry starts another run, so that a
 * share that comes back late finds out that its run is gone.
 */
#define NP_POOL_RUNS		128
#define NP_POOL_PROBE		8

typedef struct NpPoolKey
{
	Oid			dbid;
	Oid			userid;
	uint64		queryid;
	uint32		client;			/* hash of the client's address */
	char		appname[NAMEDATALEN];
} NpPoolKey;

typedef struct NpPoolRun
{
	slock_t		mutex;			/* protects everything below */
	bool		used;
	bool		decided;		/* flagged, or found not to be a loop */
	bool		flagging;		/* a share is flagging it now */
	bool		superseded;		/* its parent ran again: the next page */
	TimestampTz superseded_at;	/* start of that execution of the parent */
	uint8		kind;			/* NP_KIND_NONE until flagged */
	uint32		gen;
	NpPoolKey	key;
	CmdType		operation;
	int			shares;			/* backends that added to it */
	TimestampTz first_ts;		/* start of its earliest share */
	TimestampTz last_end;		/* end of the latest execution reported */
	int64		calls;
	int64		changes;
	int64		identical;
	double		run_ms;
	int64		published;		/* calls already added to the detection */
	double		published_ms;
	uint64		parent_queryid; /* 0: no share found a parent yet */
	TimestampTz parent_ts;		/* start of the parent's execution */
	int64		parent_rows;	/* rows its executions fed (most a share saw) */
	int64		parent_last;	/* rows of the latest of them */
	bool		parent_loop;	/* the loop is nested in its parent */
	NpParent	parent;			/* its text (parent.queryid 0: unknown) */
} NpPoolRun;

static NpPoolRun *np_pool = NULL;

/*
 * The query id of each entry's key, packed: what np_pool_exists reads,
 * without locks, for a statement run once.  Written under the entry's
 * spinlock when it starts a run.
 */
static uint64 *np_pool_qid = NULL;

/* ----------------------------------------------------------------
 * GUCs
 * ----------------------------------------------------------------
 */
static bool np_enabled = true;
static int	np_min_calls = 10;
static int	np_window_ms = 100;
static bool np_nested = false;
static int	np_max_entries = 200;

PG_FUNCTION_INFO_V1(scale_advisor_n_plus_one_entries);
PG_FUNCTION_INFO_V1(scale_advisor_n_plus_one_entries_1_1);
PG_FUNCTION_INFO_V1(scale_advisor_n_plus_one_reset);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_n_plus_one_reset_1_1,
					scale_advisor_n_plus_one_reset);

static void np_observe(const SaStatement *st);
static void np_utility(void);
static void np_flag(NpSlot *slot, const SaStatement *st, const char *txt,
					int len);
static void np_publish(NpSlot *slot);
static void np_end_run(NpSlot *slot);
static bool np_pool_exists(NpSlot *slot);
static void np_register_exit(void);
static void np_contribute(NpSlot *slot, const char *txt, int len,
						  ParamListInfo params, bool join_only);
static void np_settle_parent(NpSlot *slot);
static void np_pool_supersede(NpSlot *slot, TimestampTz when);

/* ----------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------
 */
static Size
np_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(NpSharedState));

	size = add_size(size, MAXALIGN(mul_size(NP_POOL_RUNS,
											sizeof(NpPoolRun))));
	size = add_size(size, MAXALIGN(mul_size(NP_POOL_RUNS, sizeof(uint64))));
	return add_size(size, hash_estimate_size(np_max_entries,
											 sizeof(NpEntry)));
}

/*
 * create or attach to the shared N+1 table (runs holding AddinShmemInitLock)
 */
static void
np_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;
	int			i;

	np_state = ShmemInitStruct("scale_advisor n_plus_one",
							   sizeof(NpSharedState), &found);
	if (!found)
	{
		np_state->lock = &(GetNamedLWLockTranche("scale_advisor n_plus_one"))->lock;
		np_state->dropped = 0;
	}
	np_pool = ShmemInitStruct("scale_advisor n_plus_one pooled runs",
							  mul_size(NP_POOL_RUNS, sizeof(NpPoolRun)),
							  &found);
	if (!found)
	{
		for (i = 0; i < NP_POOL_RUNS; i++)
		{
			SpinLockInit(&np_pool[i].mutex);
			np_pool[i].used = false;
			np_pool[i].gen = 0;
		}
	}
	np_pool_qid = ShmemInitStruct("scale_advisor n_plus_one pooled run ids",
								  mul_size(NP_POOL_RUNS, sizeof(uint64)),
								  &found);
	if (!found)
		memset(np_pool_qid, 0, mul_size(NP_POOL_RUNS, sizeof(uint64)));
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(NpKey);
	info.entrysize = sizeof(NpEntry);
	np_hash = ShmemInitHash("scale_advisor n_plus_one entries",
							np_max_entries, np_max_entries,
							&info, HASH_ELEM | HASH_BLOBS);
}

/* ----------------------------------------------------------------
 * Transaction and exit callbacks
 * ----------------------------------------------------------------
 */
/*
 * End the flagged runs of the transaction block that ends now (a run
 * flagged inside one block is that block's loop).
 */
static void
np_end_block_runs(uint64 xact)
{
	uint32		m = np_block_mask;

	while (m != 0)
	{
		NpSlot	   *s = &np_slots[pg_rightmost_one_pos32(m)];

		m &= m - 1;
		if (s->last_xact == xact)
			np_end_run(s);
	}
}

/* end the runs a transaction block crossed at its commit or abort */
static void
np_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (np_block_mask != 0)
				np_end_block_runs(np_xact_seq);
			/* a block of several statements ends the runs it crossed */
			if (np_block_stmts > 1)
				np_cur->wide_tick = np_tick + 1;
			np_block_stmts = 0;
			np_xact_seq++;
			break;
		default:
			break;
	}
}

/* end every run that has counts to publish */
static void
np_end_all(void)
{
	while (np_open_mask != 0)
		np_end_run(&np_slots[pg_rightmost_one_pos32(np_open_mask)]);
}

/* backend exit: end this backend's open runs so their detections are kept */
static void
np_exit(int code, Datum arg)
{
	if (np_open_mask != 0)
		np_end_all();
}

/* ----------------------------------------------------------------
 * Initialisation
 * ----------------------------------------------------------------
 */
void
sa_nplus1_init(void)
{
	DefineCustomBoolVariable("scale_advisor.n_plus_one",
							 "Detects N+1 query loops, repeated identical statements and INSERT loops.",
							 "Turn it off for a role, database or session that loops on purpose (batch jobs).",
							 &np_enabled, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.n_plus_one_min_calls",
							"Executions of one statement in a run that make it a detection.",
							NULL,
							&np_min_calls, 10, 2, 1000000, PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.n_plus_one_window_ms",
							"Longest idle time of a session (end of one statement to the start of the next) within a run, outside a transaction block.",
							NULL,
							&np_window_ms, 100, 0, 3600000, PGC_USERSET,
							GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("scale_advisor.n_plus_one_nested",
							 "Also looks at statements nested inside functions.",
							 "They are only seen when scale_advisor.track is 'all'.  Statements run by triggers are never looked at.",
							 &np_nested, false, PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.n_plus_one_max",
							"Number of N+1 detections kept in shared memory.",
							NULL,
							&np_max_entries, 200, 10, 100000, PGC_POSTMASTER,
							0, NULL, NULL, NULL);

	sa_shmem_register("scale_advisor n_plus_one", np_shmem_size, 1,
					  np_shmem_startup);
	sa_register_statement_observer(np_observe);
	sa_register_utility_observer(np_utility);
	RegisterXactCallback(np_xact_callback, NULL);
}

/* ----------------------------------------------------------------
 * Hashing (the per-statement path)
 * ----------------------------------------------------------------
 */
#define NP_MUL UINT64CONST(0x9E3779B97F4A7C15)

/* one mixing step of the text hash */
static inline uint64
np_mix(uint64 h, uint64 w)
{
	h = (h ^ w) * NP_MUL;
	return h ^ (h >> 31);
}

/*
 * Hash of a byte string, 16 bytes per step in two lanes; the tail is the
 * last 16 bytes, read again where they overlap (no byte loop).  Each step
 * is bijective in the lane's state, so texts of one length that differ in
 * one word (one constant) always hash differently.
 */
#define NP_MUL2 UINT64CONST(0xC2B2AE3D27D4EB4F)

/* hash of len bytes at p, continuing from h (see the comment above) */
static uint64
np_hash_bytes(const char *p, int len, uint64 h)
{
	uint64		a = h ^ (uint64) len,
				b = h ^ NP_MUL2;
	uint64		w1,
				w2;
	int			n = len;

	while (n >= 16)
	{
		memcpy(&w1, p, 8);
		memcpy(&w2, p + 8, 8);
		a = (a ^ w1) * NP_MUL;
		b = (b ^ w2) * NP_MUL2;
		p += 16;
		n -= 16;
	}
	if (n > 0 && len >= 16)
	{
		/* the last 16 bytes, overlapping what was hashed already */
		memcpy(&w1, p + n - 16, 8);
		memcpy(&w2, p + n - 8, 8);
		a = (a ^ w1) * NP_MUL;
		b = (b ^ w2) * NP_MUL2;
	}
	else if (n > 0)
	{
		w2 = 0;
		if (n >= 8)
		{
			memcpy(&w1, p, 8);
			a = (a ^ w1) * NP_MUL;
			memcpy(&w2, p + n - 8, 8);
		}
		else
			while (n-- > 0)
				w2 = (w2 << 8) | (unsigned char) p[n];
		b = (b ^ w2) * NP_MUL2;
	}
	return np_mix(a ^ (b >> 32), b);
}

/* small cache of type lengths for parameter types we do not know */
static Oid	np_typ_oid[4];
static int16 np_typ_len[4];
static bool np_typ_byval[4];
static int	np_typ_next = 0;

/*
 * Hash of one parameter value.  Only called with ptype set (the extended
 * protocol always sets it).
 */
static uint64
np_hash_param(const ParamExternData *prm)
{
	int16		typlen;
	bool		byval;
	int			i;

	if (prm->isnull)
		return UINT64CONST(0x5bd1e995);
	switch (prm->ptype)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case BOOLOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return np_mix(0, (uint64) prm->value);
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case BYTEAOID:
		case NUMERICOID:
		case JSONBOID:
		case JSONOID:
			typlen = -1;
			byval = false;
			break;
		case UUIDOID:
			typlen = 16;
			byval = false;
			break;
		default:
			for (i = 0; i < 4; i++)
				if (np_typ_oid[i] == prm->ptype)
					break;
			if (i == 4)
			{
				i = np_typ_next;
				np_typ_next = (np_typ_next + 1) % 4;
				get_typlenbyval(prm->ptype, &np_typ_len[i], &np_typ_byval[i]);
				np_typ_oid[i] = prm->ptype;
			}
			typlen = np_typ_len[i];
			byval = np_typ_byval[i];
			break;
	}
	if (byval)
		return np_mix(0, (uint64) prm->value);
	if (typlen == -1)
	{
		const char *p = DatumGetPointer(prm->value);

		return np_hash_bytes(p, VARSIZE_ANY(p), 0);
	}
	if (typlen == -2)
	{
		const char *p = DatumGetPointer(prm->value);

		return np_hash_bytes(p, strlen(p), 0);
	}
	return np_hash_bytes(DatumGetPointer(prm->value), typlen, 0);
}

/* ----------------------------------------------------------------
 * The statement observer
 * ----------------------------------------------------------------
 */
/* the slot of a key (np_slot_key), or the least recently used one */
static inline int
np_find_slot(uint64 key)
{
	int			i;
	int			victim;

	for (i = 0; i < NP_SLOTS; i++)
		if (np_slot_qid[i] == key)
			return i;
	victim = 0;
	for (i = 1; i < NP_SLOTS; i++)
		if ((int32) (np_slots[i].used - np_slots[victim].used) < 0)
			victim = i;
	return victim;
}

/*
 * Does the statement read only the system catalogs (an ORM loading its
 * schema cache)?  Relations created by initdb have OIDs below
 * FirstNormalObjectId; a user table ends the scan at once.
 */
static inline bool
np_catalog_only(const PlannedStmt *ps)
{
	ListCell   *lc;
	bool		any = false;

	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		if (rte->relid >= FirstNormalObjectId)
			return false;
		any = true;
	}
	return any;
}

/*
 * The statement whose rows a run walks ran again.  Runs that walked its
 * rows are over (the next page, the next loop), unless it is itself going
 * through the rows of its own parent: then this is the outer loop's next
 * iteration, and the runs nested in it go on with its new rows.
 */
static pg_noinline void
np_parent_ran(NpSlot *ps, bool cont, const SaStatement *st, TimestampTz now)
{
	uint32		m = np_watch_mask;
	bool		iterating = (cont && ps->parent_queryid != 0 &&
							 ps->calls < ps->parent_rows);

	while (m != 0)
	{
		int			i = pg_rightmost_one_pos32(m);
		NpSlot	   *s = &np_slots[i];

		m &= m - 1;
		if (s->parent_queryid != st->queryid || s == ps ||
			s->userid != st->userid || s->app != np_cur_app)
			continue;
		if (iterating)
		{
			s->parent_rows += st->rows;
			s->parent_last = st->rows;
		}
		else
		{
			/* a pooled run that walked its rows is over for every share */
			if (s->pool_idx >= 0 && s->parent_rows >= 2)
				np_pool_supersede(s, now);
			np_end_run(s);
		}
	}
}

/*
 * Watch for the run's parent running again (see np_parent_ran): only a
 * statement that returned several rows can have fed a loop.
 */
static inline void
np_watch(NpSlot *slot)
{
	uint32		bit = (uint32) 1 << (slot - np_slots);

	if (slot->parent_queryid != 0 && slot->parent_rows >= 2)
		np_watch_mask |= bit;
	else
		np_watch_mask &= ~bit;
}

/*
 * When the statement run just before a run began is itself a loop that
 * went on after the run began, the run is either nested in it (several
 * executions per execution of that loop: the users of each post's
 * comments) and keeps it as parent, or a loop beside it over the same rows
 * (one execution each: the author of each post, beside its comments),
 * whose parent is that loop's own parent.
 */
static void
np_settle_parent(NpSlot *slot)
{
	int			i,
				j;

	slot->parent_loop = false;
	for (i = 0; i < 4 && slot->parent_queryid != 0; i++)
	{
		NpSlot	   *ps = NULL;
		uint32		pexec;

		for (j = 0; j < NP_SLOTS; j++)
			if (np_slot_qid[j] == np_slot_key(slot->parent_queryid, slot->app) &&
				np_slots[j].userid == slot->userid &&
				&np_slots[j] != slot)
				ps = &np_slots[j];
		if (ps == NULL || ps->calls < 2 ||
			(int32) (ps->used - slot->start_tick) <= 0)
			break;

		/*
		 * executions of the parent since this run began, counting the one
		 * just before it
		 */
		pexec = ps->calls >= slot->parent_calls0 ?
			ps->calls - slot->parent_calls0 + 1 : ps->calls;
		if (slot->calls > pexec)
		{
			slot->parent_loop = true;
			break;
		}
		slot->parent_queryid = ps->parent_queryid;
		slot->parent_rows = ps->parent_rows;
		slot->parent_last = ps->parent_last;
		slot->parent_ts = ps->parent_ts;
		slot->parent_calls0 = ps->parent_calls0;
	}
	if (slot->calls >= 2)
		np_watch(slot);
}

/* remember a statement that may be the parent of a loop (out of line) */
static pg_noinline void
np_remember_parent(uint64 queryid, Oid userid, const char *txt, int len,
				   ParamListInfo params)
{
	int			i;
	NpParent   *victim = &np_parents[0];

	for (i = 0; i < NP_PARENTS; i++)
	{
		if (np_parents[i].queryid == queryid &&
			np_parents[i].userid == userid)
		{
			/* the text of this execution: its constants fed the loop */
			victim = &np_parents[i];
			if (victim->len == len && memcmp(victim->txt, txt, len) == 0)
			{
				victim->used = np_tick;
				return;
			}
			break;
		}
		if ((int32) (np_parents[i].used - victim->used) < 0)
			victim = &np_parents[i];
	}
	victim->queryid = queryid;
	victim->userid = userid;
	victim->used = np_tick;
	if (len < NP_PARENT_LEN)
	{
		memcpy(victim->txt, txt, len);
		victim->txt[len] = '\0';
		victim->len = len;
	}
	else
		victim->len = -1;
	victim->nparams = 0;
	if (params != NULL && params->numParams > 0)
	{
		if (params->numParams <= NP_PARENT_PARAMS && params->paramFetch == NULL)
		{
			victim->nparams = params->numParams;
			for (i = 0; i < params->numParams; i++)
				victim->ptypes[i] = params->params[i].ptype;
		}
		else
			victim->nparams = -1;
	}
}

/* this statement's part of the source text */
static inline const char *
np_text(const SaStatement *st, int *len)
{
	const char *txt = st->source_text;

	*len = 0;
	if (txt == NULL)
		return NULL;
	if (st->stmt_location > 0)
		txt += st->stmt_location;
	*len = st->stmt_len > 0 ? st->stmt_len : (int) strlen(txt);
	return txt;
}

/* a new run of st's statement begins in slot */
static pg_noinline void
np_start_run(NpSlot *slot, const SaStatement *st, uint64 xact,
			 TimestampTz now, bool idle)
{
	int			i = slot - np_slots;
	NpApp	   *a = np_cur;

	if (slot->open)
		np_end_run(slot);

	/*
	 * The statement before is the parent when it ran in the same block, or
	 * with no idle time between, and when the same role ran it: after SET
	 * ROLE (or inside a SECURITY DEFINER function) the text of another role's
	 * statement must not reach this one's entry.
	 */
	if (a->prev_queryid != 0 && a->prev_queryid != st->queryid &&
		a->prev_userid == st->userid &&
		((xact != 0 && a->prev_xact == xact) || !idle))
	{
		NpSlot	   *ps = &np_slots[a->prev_slot];

		slot->parent_queryid = a->prev_queryid;
		slot->parent_rows = a->prev_rows;
		slot->parent_last = a->prev_rows;
		slot->parent_ts = a->prev_ts;
		slot->parent_calls0 = (ps->queryid == a->prev_queryid && ps->calls > 0) ?
			ps->calls : 1;
	}
	else
	{
		slot->parent_queryid = 0;
		slot->parent_rows = 0;
		slot->parent_last = 0;
		slot->parent_ts = 0;
		slot->parent_calls0 = 0;
	}
	slot->queryid = st->queryid;
	slot->app = np_cur_app;
	np_slot_qid[i] = np_slot_key(st->queryid, np_cur_app);
	np_watch_mask &= ~((uint32) 1 << i);
	slot->decided = false;
	slot->xact = xact;
	slot->last_xact = xact;
	slot->loose = (xact == 0);
	slot->idle_before = idle || a->prev_queryid == 0;
	slot->open = false;
	slot->first_ts = now;
	slot->calls = 0;
	slot->changes = 0;
	slot->identical = 0;
	slot->published_calls = 0;
	slot->run_ms = 0;
	slot->published_ms = 0;
	slot->vary_mask = 0;
	slot->nparams = 0;
	slot->operation = st->operation;
	slot->dbid = st->dbid;
	slot->userid = st->userid;
	slot->kind = NP_KIND_NONE;
	slot->stash_len = -1;
	slot->start_tick = np_tick;
	slot->pool_idx = -1;
	slot->pool_kind = NP_KIND_NONE;
	slot->pool_gen = 0;
	slot->pool_sent = 0;
	slot->pool_sent_changes = 0;
	slot->pool_sent_identical = 0;
	slot->pool_sent_ms = 0;
	slot->pool_sent_end = 0;
	slot->pool_seen = 0;
}

/* is the run a share of a pooled run (or may it become one)? */
static inline bool
np_pooled(const NpSlot *slot)
{
	return slot->loose && slot->pool_idx != -2 &&
		(slot->pool_idx >= 0 || slot->parent_rows >= 2 || slot->idle_before);
}

/*
 * The part of an execution's bookkeeping done only until its run is
 * decided: hash its parameters, count changes, and flag the run or give it
 * to its pooled run.
 */
static pg_noinline void
np_undecided(NpSlot *slot, const SaStatement *st)
{
	const char *txt;
	int			len;
	uint64		h;
	ParamListInfo params = st->params;
	int			nparams = 0;
	uint64		mask = 0;
	int			i;

	txt = np_text(st, &len);

	/*
	 * Constants in the text are what differs from one execution to the next,
	 * unless the values are bound parameters (hashed below).
	 */
	if (params != NULL && params->numParams > 0 && params->paramFetch == NULL)
		h = st->queryid;
	else
		h = np_hash_bytes(txt, len, st->queryid);
	if (params != NULL && params->numParams > 0)
	{
		if (params->paramFetch != NULL)
		{
			/* values only reachable through a hook: count as changed */
			h = np_mix(h, np_tick);
			mask = 1;
		}
		else
		{
			nparams = params->numParams;
			for (i = 0; i < nparams; i++)
			{
				uint64		ph = np_hash_param(&params->params[i]);

				h = np_mix(h, ph);
				if (i < NP_TRACK_PARAMS)
				{
					if (slot->calls > 1 && slot->phash[i] != (uint32) ph)
						mask |= UINT64CONST(1) << i;
					slot->phash[i] = (uint32) ph;
				}
			}
		}
	}
	slot->vary_mask |= mask;
	slot->nparams = nparams;
	if (slot->calls == 1 || h != slot->last_hash)
		slot->changes++;
	else
		slot->identical++;
	slot->last_hash = h;

	if (slot->calls < 2)
	{
		/*
		 * A connection of a pool may run a loop's statement only once (the
		 * last of the rows, a connection that came late): its execution
		 * joins a pooled run that already exists, never starts one.  When
		 * none exists yet (another connection's second execution comes
		 * later), it tries again when its run ends.  A pool as wide as the
		 * loop, each connection running it once, starts no pooled run.
		 */
		if (np_pooled(slot))
		{
			if (np_pool_exists(slot))
				np_contribute(slot, txt, len, params, true);
			if (slot->pool_idx == -1 && !slot->open)
			{
				slot->open = true;
				np_open_mask |= (uint32) 1 << (slot - np_slots);
				np_register_exit();
			}
		}
		return;
	}
	if (slot->calls == 2)
		np_watch(slot);

	/*
	 * Keep an earlier text of the run to find the constant that varies: the
	 * one before the run is flagged, or for a share of a pooled run (which
	 * may be flagged at any of its executions) its second one.
	 */
	if (len < NP_STASH_LEN && txt != NULL &&
		(slot->calls + 1 == (uint32) np_min_calls ||
		 (slot->calls == 2 && np_pooled(slot))))
	{
		memcpy(slot->stash, txt, len);
		slot->stash_len = len;
	}

	if (np_pooled(slot))
	{
		np_contribute(slot, txt, len, params, false);
		/* its pooled run reached the threshold: no more hashing */
		if (slot->pool_seen >= (uint64) np_min_calls ||
			slot->pool_kind != NP_KIND_NONE)
			slot->decided = true;
	}
	else if (slot->calls >= (uint32) np_min_calls)
		np_flag(slot, st, txt, len);
}

/*
 * Application context app was idle: the loops of its previous burst of
 * work are over.
 */
static pg_noinline void
np_end_loose_runs(int app)
{
	uint32		m = np_open_mask;

	while (m != 0)
	{
		NpSlot	   *s = &np_slots[pg_rightmost_one_pos32(m)];

		m &= m - 1;
		if (s->loose && s->app == app)
			np_end_run(s);
	}
}

/*
 * application_name changed: make its context the current one.  A context
 * not current for longer than the window has its loops ended; when all
 * are taken, the one current longest ago gives way, with its runs.
 */
static pg_noinline void
np_switch_app(TimestampTz now, int64 window)
{
	const char *name = application_name != NULL ? application_name : "";
	int			i,
				found = -1,
				unused = -1,
				oldest = -1;

	np_app_seen = application_name;
	for (i = 0; i < NP_APPS; i++)
	{
		NpApp	   *a = &np_apps[i];

		if (!a->used)
		{
			if (unused < 0)
				unused = i;
			continue;
		}
		if (strcmp(a->name, name) == 0)
			found = i;
		else if (np_open_mask != 0 && now - a->last_end > window)
			np_end_loose_runs(i);
		if (oldest < 0 || (int32) (a->seen - np_apps[oldest].seen) < 0)
			oldest = i;
	}
	if (found < 0)
	{
		int			victim = unused >= 0 ? unused : oldest;
		NpApp	   *a = &np_apps[victim];

		/* its slots are another application's from now on */
		for (i = 0; i < NP_SLOTS; i++)
		{
			if (np_slots[i].calls > 0 && np_slots[i].app == victim)
				np_end_run(&np_slots[i]);
			if (np_slots[i].app == victim)
				np_slot_qid[i] = 0;
		}
		memset(a, 0, sizeof(NpApp));
		strlcpy(a->name, name, NAMEDATALEN);
		a->used = true;
		found = victim;
	}
	np_cur_app = found;
	np_cur = &np_apps[found];
	np_cur->seen = np_tick;
}

/*
 * A utility statement is about to run (SET application_name, RESET,
 * DISCARD ALL...): look at application_name by its text at the next
 * statement.  On the statement path it is compared by address only.  A
 * new value is allocated while the old one is still alive, so one change
 * always gives another address; but two changes with no statement looked
 * at in between (a pooler setting the name of a client whose transaction
 * ran only utility statements, then the next client's) may give the second
 * value the address of the one seen last, freed by the first change: the
 * next client's statements would then count in the previous client's
 * context.
 */
static void
np_utility(void)
{
	np_app_seen = NULL;
}

/* is a trigger running (its statements are never looked at)? */
static bool
np_in_trigger(void)
{
	LOCAL_FCINFO(fcinfo, 0);

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetInt32(pg_trigger_depth(fcinfo)) > 0;
}

/*
 * statement observer: follow the runs of repeated statements of this backend
 */
static void
np_observe(const SaStatement *st)
{
	TimestampTz now;
	int64		window;
	uint64		xact;
	NpSlot	   *slot;
	NpApp	   *app;
	int			slotno;
	uint64		key;
	bool		idle;
	bool		cont;

	if (!np_enabled || st->operation == CMD_UTILITY ||
		st->operation == CMD_UNKNOWN || st->query_desc == NULL)
		return;
	/* statements of triggers are the triggers' business, not a loop */
	if (!st->toplevel && (!np_nested || np_in_trigger()))
		return;

	/*
	 * Idle time: from the end of the previous statement to the start of this
	 * one.  The end is the start plus the execution time.
	 */
	now = GetCurrentStatementStartTimestamp();
	window = (int64) np_window_ms * 1000;

	/*
	 * Another application_name: a pooler handing this server connection to
	 * another client sets it.  The setting gets a new string each time it is
	 * set; after a utility statement (SET) np_app_seen is NULL and the name
	 * is compared by its text (see np_utility).
	 */
	if (unlikely(application_name != np_app_seen))
		np_switch_app(now, window);
	app = np_cur;
	idle = now - app->last_end > window;
	app->last_end = now + (int64) (st->exec_ms * 1000.0);
	if (unlikely(idle))
	{
		app->break_tick = np_tick + 1;
		/* loops of the context's previous burst of work are over */
		if (np_open_mask != 0)
			np_end_loose_runs(np_cur_app);
	}
	if (np_catalog_only(st->query_desc->plannedstmt))
		return;
	if (st->toplevel)
		np_block_stmts++;
	/* nested statements share the transaction of their top-level one */
	xact = (!st->toplevel || IsTransactionBlock()) ? np_xact_seq : 0;

	key = np_slot_key(st->queryid, np_cur_app);
	slotno = np_find_slot(key);
	slot = &np_slots[slotno];
	np_tick++;

	/*
	 * The run goes on in its transaction block whatever the time, and outside
	 * it while the session was not idle since its last execution and, for a
	 * run without a parent, no block of several statements ended since.
	 */
	cont = np_slot_qid[slotno] == key && slot->calls > 0 &&
		slot->userid == st->userid &&
		((xact != 0 && slot->last_xact == xact) ||
		 ((int32) (slot->used - app->break_tick) >= 0 &&
		  (slot->parent_rows >= 2 ||
		   (int32) (slot->used - app->wide_tick) >= 0)));
	if (unlikely(np_watch_mask != 0))
		np_parent_ran(slot, cont, st, now);
	if (!cont)
		np_start_run(slot, st, xact, now, idle);
	else if (slot->last_xact != xact)
	{
		/* the run goes on in another transaction, or outside one */
		slot->loose = true;
		slot->last_xact = xact;
	}
	slot->used = np_tick;
	slot->calls++;
	slot->run_ms += st->exec_ms;
	slot->last_end = app->last_end;

	if (unlikely(!slot->decided))
		np_undecided(slot, st);
	else if (unlikely(slot->open))
	{
		/* publish, or give to the pooled run, each time the run doubles */
		if (slot->pool_idx >= 0)
		{
			if (slot->calls >= 2 * slot->pool_sent)
			{
				int			len;
				const char *txt = np_text(st, &len);

				np_contribute(slot, txt, len, st->params, false);
			}
		}
		else if (slot->kind != NP_KIND_NONE &&
				 slot->calls >= 2 * slot->published_calls)
			np_publish(slot);	/* (not a single execution left open) */
	}

	app->prev_queryid = st->queryid;
	app->prev_userid = st->userid;
	app->prev_rows = st->rows;
	app->prev_xact = xact;
	app->prev_ts = now;
	app->prev_slot = slotno;
	if (st->rows >= 2 && st->operation == CMD_SELECT)
	{
		int			len;
		const char *txt = np_text(st, &len);

		if (txt != NULL)
			np_remember_parent(st->queryid, st->userid, txt, len,
							   st->params);
	}
}

/* ----------------------------------------------------------------
 * Publishing to shared memory (rare)
 * ----------------------------------------------------------------
 */
static void
np_make_key(NpKey *key, const NpSlot *slot, uint8 kind)
{
	memset(key, 0, sizeof(NpKey));
	key->dbid = slot->dbid;
	key->userid = slot->userid;
	key->queryid = slot->queryid;
	key->kind = kind;
	strlcpy(key->appname, slot->appname, NAMEDATALEN);
}

/* the application the run belongs to: the one running it now */
static void
np_note_app(NpSlot *slot)
{
	strlcpy(slot->appname, application_name != NULL ? application_name : "",
			NAMEDATALEN);
}

/*
 * Add calls and time to a detection; when total is not 0 it is the length
 * of a run so far (of the latest run when latest), and parent_rows (when
 * not 0) what its parent fed it.
 */
static void
np_entry_add(const NpKey *key, int64 calls, double ms, int64 total,
			 bool latest, uint64 parent_queryid, int64 parent_rows)
{
	NpEntry    *e;

	if (np_hash == NULL)
		return;
	LWLockAcquire(np_state->lock, LW_SHARED);
	e = (NpEntry *) hash_search(np_hash, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		e->repeated_calls += calls;
		e->total_ms += ms;
		if (total > e->max_run)
			e->max_run = total;
		if (latest && total > 0)
			e->last_run = total;
		if (parent_rows > 0 && e->parent_queryid == parent_queryid)
			e->parent_rows = parent_rows;
		e->last_seen = GetCurrentTimestamp();
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(np_state->lock);
}

/* add what a flagged run did since its last publication to its entry */
static void
np_publish(NpSlot *slot)
{
	NpKey		key;

	np_make_key(&key, slot, slot->kind);
	np_entry_add(&key, slot->calls - slot->published_calls,
				 slot->run_ms - slot->published_ms, slot->calls, true,
				 slot->parent_queryid, slot->parent_last);
	slot->published_calls = slot->calls;
	slot->published_ms = slot->run_ms;
}

/*
 * The run in slot is over: publish what it did (or give the rest of this
 * share to its pooled run).  Its next execution starts a new run.
 */
static void
np_end_run(NpSlot *slot)
{
	if (slot->open)
	{
		if (slot->pool_idx >= 0)
			np_contribute(slot, NULL, 0, NULL, false);
		else if (slot->pool_idx == -1 && slot->calls == 1)
		{
			/* a single execution (see np_undecided) */
			if (np_pool_exists(slot))
				np_contribute(slot, NULL, 0, NULL, true);
		}
		else if (slot->kind != NP_KIND_NONE &&
				 slot->calls != slot->published_calls)
			np_publish(slot);
		slot->open = false;
		np_open_mask &= ~((uint32) 1 << (slot - np_slots));
		np_block_mask &= ~((uint32) 1 << (slot - np_slots));
	}
	slot->kind = NP_KIND_NONE;
	slot->calls = 0;
	np_watch_mask &= ~((uint32) 1 << (slot - np_slots));
}

/* publish what the session's runs did so far, without ending them */
static void
np_flush_local(void)
{
	uint32		m = np_open_mask;

	while (m != 0)
	{
		NpSlot	   *s = &np_slots[pg_rightmost_one_pos32(m)];

		m &= m - 1;
		if (s->pool_idx >= 0)
		{
			if (s->calls != s->pool_sent)
				np_contribute(s, NULL, 0, NULL, false);
		}
		else if (s->kind != NP_KIND_NONE && s->calls != s->published_calls)
			np_publish(s);
	}
}

/* the remembered parent statement of a query id and user, or NULL */
static NpParent *
np_find_parent(uint64 queryid, Oid userid)
{
	int			i;

	if (queryid == 0)
		return NULL;
	for (i = 0; i < NP_PARENTS; i++)
		if (np_parents[i].queryid == queryid &&
			np_parents[i].userid == userid)
			return &np_parents[i];
	return NULL;
}

/* Whether a detection already has its rewrite (built for this parent). */
static bool
np_entry_has_rewrite(const NpKey *key, uint64 parent_queryid)
{
	NpEntry    *e;
	bool		result = false;

	LWLockAcquire(np_state->lock, LW_SHARED);
	e = (NpEntry *) hash_search(np_hash, key, HASH_FIND, NULL);
	if (e != NULL && e->has_rewrite && e->rewrite_parent == parent_queryid)
		result = true;
	LWLockRelease(np_state->lock);
	return result;
}

/*
 * Make room for one entry: drop the one seen least recently.  Caller holds
 * np_state->lock exclusively.
 */
static void
np_evict_one(void)
{
	HASH_SEQ_STATUS seq;
	NpEntry    *e,
			   *victim = NULL;

	Assert(LWLockHeldByMeInMode(np_state->lock, LW_EXCLUSIVE));
	hash_seq_init(&seq, np_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (victim == NULL || e->last_seen < victim->last_seen)
			victim = e;
	if (victim != NULL)
	{
		hash_search(np_hash, &victim->key, HASH_REMOVE, NULL);
		np_state->dropped++;
	}
}

/*
 * copy a text into dst (cap bytes): leading blanks skipped, cut at a
 * character boundary
 */
static void
np_copy_text(char *dst, int cap, const char *src, int len)
{
	if (src == NULL)
	{
		dst[0] = '\0';
		return;
	}
	if (len < 0)
		len = strlen(src);
	while (len > 0 && isspace((unsigned char) *src))
	{
		src++;
		len--;
	}
	if (len >= cap)
		len = pg_mbcliplen(src, len, cap - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* ----------------------------------------------------------------
 * Statements that already take a list of keys
 * ----------------------------------------------------------------
 */
#define NP_IN_KEY		0		/* compared for equality: a key */
#define NP_IN_LIST		1		/* IN (...), = ANY (...), VALUES rows */
#define NP_IN_RANGE		2		/* <, >, BETWEEN, LIMIT, OFFSET: a page */

/* where the parameters and constants of a statement are used */
typedef struct NpInputs
{
	int			mode;			/* of the subtree being walked */
	uint64		key_params;		/* parameters compared for equality */
	uint64		list_params;	/* parameters in a list or a range */
	List	   *consts;			/* A_Const nodes, in walk order */
	List	   *modes;			/* their modes */
} NpInputs;

/* note where each parameter and constant of a raw parse tree is used */
static bool
np_inputs_walker(Node *node, void *context)
{
	NpInputs   *w = (NpInputs *) context;
	int			save = w->mode;

	if (node == NULL)
		return false;
	if (IsA(node, ParamRef))
	{
		int			n = ((ParamRef *) node)->number;

		if (n >= 1 && n <= 64)
		{
			if (w->mode == NP_IN_KEY)
				w->key_params |= UINT64CONST(1) << (n - 1);
			else
				w->list_params |= UINT64CONST(1) << (n - 1);
		}
		return false;
	}
	if (IsA(node, A_Const))
	{
		w->consts = lappend(w->consts, node);
		w->modes = lappend_int(w->modes, w->mode);
		return false;
	}
	if (IsA(node, A_Expr))
	{
		A_Expr	   *a = (A_Expr *) node;
		int			inner = -1;

		switch (a->kind)
		{
			case AEXPR_IN:
			case AEXPR_OP_ANY:
			case AEXPR_OP_ALL:
				inner = NP_IN_LIST;
				break;
			case AEXPR_BETWEEN:
			case AEXPR_NOT_BETWEEN:
			case AEXPR_BETWEEN_SYM:
			case AEXPR_NOT_BETWEEN_SYM:
				inner = NP_IN_RANGE;
				break;
			case AEXPR_OP:
				if (list_length(a->name) >= 1 && IsA(llast(a->name), String))
				{
					const char *op = strVal(llast(a->name));

					if (strcmp(op, "<") == 0 || strcmp(op, ">") == 0 ||
						strcmp(op, "<=") == 0 || strcmp(op, ">=") == 0)
						inner = NP_IN_RANGE;
				}
				break;
			default:
				break;
		}
		if (inner == NP_IN_LIST)
		{
			np_inputs_walker(a->lexpr, w);
			w->mode = inner;
			np_inputs_walker(a->rexpr, w);
			w->mode = save;
			return false;
		}
		if (inner == NP_IN_RANGE)
		{
			w->mode = inner;
			np_inputs_walker(a->lexpr, w);
			np_inputs_walker(a->rexpr, w);
			w->mode = save;
			return false;
		}
	}
	if (IsA(node, SelectStmt))
	{
		SelectStmt *s = (SelectStmt *) node;
		Node	   *count = s->limitCount;
		Node	   *offset = s->limitOffset;
		List	   *values = s->valuesLists;
		bool		r;

		w->mode = NP_IN_RANGE;
		np_inputs_walker(count, w);
		np_inputs_walker(offset, w);
		w->mode = save;
		s->limitCount = NULL;
		s->limitOffset = NULL;
		/* a multi-row VALUES is a list of rows */
		if (list_length(values) >= 2)
		{
			w->mode = NP_IN_LIST;
			np_inputs_walker((Node *) values, w);
			w->mode = save;
			s->valuesLists = NIL;
		}
		r = raw_expression_tree_walker(node, np_inputs_walker, w);
		s->limitCount = count;
		s->limitOffset = offset;
		s->valuesLists = values;
		return r;
	}
	return raw_expression_tree_walker(node, np_inputs_walker, w);
}

/* walk the one statement of text; false when it is not one statement */
static bool
np_inputs(const char *text, int len, NpInputs *w)
{
	List	   *raw;
	Node	   *stmt;

	memset(w, 0, sizeof(NpInputs));
	raw = raw_parser(pnstrdup(text, len), RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		return false;
	stmt = linitial_node(RawStmt, raw)->stmt;
	/* PREPARE name AS ...: the text EXECUTE runs */
	if (IsA(stmt, PrepareStmt))
		stmt = ((PrepareStmt *) stmt)->query;
	if (!IsA(stmt, SelectStmt) && !IsA(stmt, InsertStmt) &&
		!IsA(stmt, UpdateStmt) && !IsA(stmt, DeleteStmt))
		return false;
	np_inputs_walker(stmt, w);
	return true;
}

/*
 * Does the run's statement already take a list of keys, or a page of
 * rows, in what varies from one execution to the next (`id IN ($1, ...,
 * $25)`, `= ANY ($1)`, `id > $1 ... LIMIT $2`, a multi-row VALUES)?  Then
 * the run is what batching looks like, not a loop to batch.  Bound
 * parameters: those that varied (the first NP_TRACK_PARAMS are followed;
 * when none of them varied, the others did); an array parameter is a list.
 * Constants: those that differ from an earlier text of the run, or, with
 * none kept, all of them but booleans and NULLs.  May throw (the caller
 * catches).
 */
static bool
np_takes_key_list(NpSlot *slot, const char *txt, int len,
				  ParamListInfo params)
{
	NpInputs	cur;
	ListCell   *lc1,
			   *lc2;
	int			varying = 0;

	if (txt == NULL || !np_inputs(txt, len, &cur))
		return false;

	if (params != NULL && params->numParams > 0)
	{
		uint64		vary = slot->vary_mask;
		uint64		arrays = 0;
		int			n = Min(params->numParams, 64);
		int			i;

		if (params->paramFetch != NULL)
			return false;
		for (i = 0; i < n; i++)
			if (OidIsValid(params->params[i].ptype) &&
				type_is_array(params->params[i].ptype))
				arrays |= UINT64CONST(1) << i;
		if (vary == 0)
		{
			for (i = NP_TRACK_PARAMS; i < n; i++)
				vary |= UINT64CONST(1) << i;
		}
		if (vary == 0)
			return false;
		/* every parameter that varied is in a list or a range */
		return (vary & cur.key_params & ~arrays) == 0 &&
			(vary & ~(cur.list_params | arrays)) == 0;
	}

	if (slot->stash_len >= 0 &&
		(slot->stash_len != len || memcmp(slot->stash, txt, len) != 0))
	{
		NpInputs	old;
		int			n,
					m,
					i;

		if (!np_inputs(slot->stash, slot->stash_len, &old))
			return false;
		n = list_length(cur.consts);
		m = list_length(old.consts);
		if (n == m)
		{
			forboth(lc1, cur.consts, lc2, old.consts)
			{
				if (equal(lfirst(lc1), lfirst(lc2)))
					continue;
				if (list_nth_int(cur.modes, foreach_current_index(lc1)) ==
					NP_IN_KEY)
					return false;
				varying++;
			}
			return varying > 0;
		}

		/*
		 * a list of another length: the first and last constants that differ
		 */
		for (i = 0; i < Min(n, m); i++)
			if (!equal(list_nth(cur.consts, i), list_nth(old.consts, i)))
				break;
		if (i < n && list_nth_int(cur.modes, i) == NP_IN_KEY)
			return false;
		for (i = 0; i < Min(n, m); i++)
			if (!equal(list_nth(cur.consts, n - 1 - i),
					   list_nth(old.consts, m - 1 - i)))
				break;
		if (i < n && list_nth_int(cur.modes, n - 1 - i) == NP_IN_KEY)
			return false;
		return true;
	}

	forboth(lc1, cur.consts, lc2, cur.modes)
	{
		A_Const    *c = (A_Const *) lfirst(lc1);

		if (c->isnull || nodeTag(&c->val) == T_Boolean)
			continue;
		if (lfirst_int(lc2) == NP_IN_KEY)
			return false;
		varying++;
	}
	return varying > 0;
}

/* ----------------------------------------------------------------
 * Detections
 * ----------------------------------------------------------------
 */
/* the kind of a run from its counts, NP_KIND_NONE while undecided */
static uint8
np_classify(CmdType operation, int64 changes, int64 identical)
{
	if (operation == CMD_INSERT)
		return NP_KIND_INSERT;
	if (changes >= np_min_calls)
		return NP_KIND_NPLUS1;
	if (identical + 1 >= np_min_calls)
		return NP_KIND_IDENTICAL;
	return NP_KIND_NONE;
}

/*
 * A run of kind reached the threshold with calls executions in ms: unless
 * its statement already takes a list of keys, build the rewrite if its
 * detection has none, and count the detection.  slot is the run (or this
 * backend's share of it), txt the text of its statement and params its
 * parameters now, parent the parent's text (or NULL), parent_loop whether
 * the loop is nested in its parent.  Returns false when the run is not a
 * loop.
 */
static bool
np_detect(NpSlot *slot, uint8 kind, const char *txt, int len,
		  ParamListInfo params, NpParent *parent, bool parent_loop,
		  uint64 parent_queryid, int64 parent_rows, int64 calls, double ms)
{
	NpRewrite	rw = {NULL, NULL, NULL, NULL};
	NpKey		key;
	NpEntry    *e;
	bool		found;
	bool		build;
	volatile bool batched = false;
	uint8		saved_kind = slot->kind;
	TimestampTz now;
	MemoryContext tmpcxt,
				oldcxt;

	if (np_hash == NULL)
		return true;
	np_make_key(&key, slot, kind);
	build = (kind != NP_KIND_IDENTICAL) &&
		!np_entry_has_rewrite(&key, parent_queryid);

	tmpcxt = AllocSetContextCreate(TopMemoryContext, "scale_advisor n+1",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);

	/*
	 * Parsing the statement again takes catalog lookups: do it in a
	 * subtransaction so that any error is contained and rolled back.  Not
	 * possible in parallel mode; the rewrite is then built next time.
	 */
	if (kind != NP_KIND_IDENTICAL && txt != NULL && !IsInParallelMode() &&
		IsTransactionState())
	{
		ResourceOwner oldowner = CurrentResourceOwner;

		slot->kind = kind;
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(tmpcxt);
		PG_TRY();
		{
			batched = np_takes_key_list(slot, txt, len, params);
			if (!batched && build)
			{
				/*
				 * A parent that is itself a loop (the loop is nested in it)
				 * runs once per row of its own parent: a JOIN with one of its
				 * executions is not the loop.
				 */
				sa_np_build_rewrite(slot, txt, len, params,
									parent_loop ? NULL : parent, &rw);
				rw.batched = sa_np_fit(rw.batched, NP_BATCHED_LEN);
				rw.joined = sa_np_fit(rw.joined, NP_JOIN_LEN);
				rw.batched_note = sa_np_fit(rw.batched_note, NP_NOTE_LEN);
				rw.joined_note = sa_np_fit(rw.joined_note, NP_JOIN_NOTE_LEN);
			}
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(tmpcxt);
			CurrentResourceOwner = oldowner;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(tmpcxt);
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(tmpcxt);
			CurrentResourceOwner = oldowner;
			rw.batched = NULL;
			rw.joined = NULL;
			rw.batched_note = NULL;
			rw.joined_note = NULL;
		}
		PG_END_TRY();
		slot->kind = saved_kind;
	}
	else
		build = false;

	if (batched)
	{
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(tmpcxt);
		return false;
	}

	now = GetCurrentTimestamp();
	LWLockAcquire(np_state->lock, LW_EXCLUSIVE);
	e = (NpEntry *) hash_search(np_hash, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		if (hash_get_num_entries(np_hash) >= np_max_entries)
			np_evict_one();
		e = (NpEntry *) hash_search(np_hash, &key, HASH_ENTER_NULL, &found);
		if (e != NULL)
		{
			SpinLockInit(&e->mutex);
			e->detections = 0;
			e->repeated_calls = 0;
			e->max_run = 0;
			e->last_run = 0;
			e->total_ms = 0;
			e->parent_queryid = 0;
			e->parent_rows = 0;
			e->first_seen = now;
			e->has_rewrite = false;
			e->rewrite_parent = 0;
			e->query[0] = '\0';
			e->parent_query[0] = '\0';
			e->batched[0] = '\0';
			e->joined[0] = '\0';
			e->batched_note[0] = '\0';
			e->joined_note[0] = '\0';
		}
	}
	if (e != NULL)
	{
		if (e->query[0] == '\0')
			np_copy_text(e->query, NP_QUERY_LEN, txt, len);
		if (parent != NULL && (e->parent_queryid != parent_queryid ||
							   e->parent_query[0] == '\0'))
			np_copy_text(e->parent_query, NP_QUERY_LEN,
						 parent->len >= 0 ? parent->txt : NULL, parent->len);
		else if (parent == NULL && e->parent_queryid != parent_queryid)
			e->parent_query[0] = '\0';
		if (build)
		{
			np_copy_text(e->batched, NP_BATCHED_LEN, rw.batched, -1);
			np_copy_text(e->joined, NP_JOIN_LEN, rw.joined, -1);
			np_copy_text(e->batched_note, NP_NOTE_LEN, rw.batched_note, -1);
			np_copy_text(e->joined_note, NP_JOIN_NOTE_LEN, rw.joined_note, -1);
			e->has_rewrite = true;
			e->rewrite_parent = parent_queryid;
		}
		SpinLockAcquire(&e->mutex);
		e->detections++;
		e->repeated_calls += calls;
		e->total_ms += ms;
		if (calls > e->max_run)
			e->max_run = calls;
		e->last_run = calls;
		e->parent_queryid = parent_queryid;
		e->parent_rows = parent_rows;
		e->last_seen = now;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(np_state->lock);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmpcxt);
	return true;
}

/* the first detection of the session needs its exit callback */
static void
np_register_exit(void)
{
	if (!np_exit_registered)
	{
		before_shmem_exit(np_exit, (Datum) 0);
		np_exit_registered = true;
	}
}

/*
 * A run of this backend (in a transaction block, or with nothing to pool
 * with) reached the threshold: classify it, find its parent, and flag it.
 */
static void
np_flag(NpSlot *slot, const SaStatement *st, const char *txt, int len)
{
	uint8		kind;
	NpParent   *parent = NULL;

	kind = np_classify(slot->operation, slot->changes, slot->identical);
	if (kind == NP_KIND_NONE)
		return;					/* not yet decided */
	slot->decided = true;
	np_settle_parent(slot);
	np_note_app(slot);

	/*
	 * Outside a transaction block, a loop of lookups must walk the rows of a
	 * parent: a connection that serves one independent request after another
	 * (a pool, a benchmark) repeats its statements back to back with other
	 * keys too, but no statement before them returned the keys.
	 */
	if (kind == NP_KIND_NPLUS1 && slot->loose && slot->parent_rows < 2)
		return;

	/*
	 * The same values each time: no statement fed them, so the statement that
	 * happened to run before is no parent.
	 */
	if (kind == NP_KIND_IDENTICAL || slot->parent_rows < 2)
	{
		slot->parent_queryid = 0;
		slot->parent_rows = 0;
		slot->parent_last = 0;
		np_watch(slot);
	}
	else
		parent = np_find_parent(slot->parent_queryid, slot->userid);

	if (!np_detect(slot, kind, txt, len, st->params, parent,
				   slot->parent_loop,
				   slot->parent_queryid, slot->parent_last, slot->calls,
				   slot->run_ms))
		return;
	slot->kind = kind;
	slot->open = true;
	np_open_mask |= (uint32) 1 << (slot - np_slots);
	if (!slot->loose)
		np_block_mask |= (uint32) 1 << (slot - np_slots);
	slot->published_calls = slot->calls;
	slot->published_ms = slot->run_ms;
	np_register_exit();
}

/* ----------------------------------------------------------------
 * Pooled runs
 * ----------------------------------------------------------------
 */
static uint32
np_client_hash(void)
{
	if (!np_client_known)
	{
		/* the client's address without its port (0 for a local socket) */
		np_client = 0;
		if (MyBEEntry != NULL)
		{
			const struct sockaddr *sa;

			sa = (const struct sockaddr *) &MyBEEntry->st_clientaddr.addr;
			if (sa->sa_family == AF_INET)
				np_client = (uint32) np_hash_bytes((const char *)
												   &((const struct sockaddr_in *) sa)->sin_addr,
												   sizeof(struct in_addr), 1);
			else if (sa->sa_family == AF_INET6)
				np_client = (uint32) np_hash_bytes((const char *)
												   &((const struct sockaddr_in6 *) sa)->sin6_addr,
												   sizeof(struct in6_addr), 2);
		}
		np_client_known = true;
	}
	return np_client;
}

static void
np_pool_key(NpPoolKey *key, const NpSlot *slot)
{
	memset(key, 0, sizeof(NpPoolKey));
	key->dbid = slot->dbid;
	key->userid = slot->userid;
	key->queryid = slot->queryid;
	key->client = np_client_hash();
	strlcpy(key->appname, slot->appname, NAMEDATALEN);
}

/* hash of a pooled run's key but its query id */
static uint64
np_pool_prefix(Oid dbid, Oid userid, uint32 client, const char *appname)
{
	return np_hash_bytes(appname, strlen(appname),
						 np_mix(np_mix(dbid, userid), client));
}

/* first entry of the table to look at for a key */
static inline uint32
np_pool_bucket(uint64 prefix, uint64 queryid)
{
	return (uint32) np_mix(prefix, queryid);
}

/* what a run that gives way to another one still has to publish */
typedef struct NpPoolClosed
{
	bool		valid;
	NpKey		key;
	int64		calls;
	double		ms;
	int64		total;			/* the run's length */
} NpPoolClosed;

/* reset pooled run r (locked) for a new run; note what it leaves */
static void
np_pool_reset(NpPoolRun *r, const NpPoolKey *key, const NpSlot *slot,
			  NpPoolClosed *closed)
{
	if (r->used && r->kind != NP_KIND_NONE && r->calls > r->published)
	{
		closed->valid = true;
		memset(&closed->key, 0, sizeof(NpKey));
		closed->key.dbid = r->key.dbid;
		closed->key.userid = r->key.userid;
		closed->key.queryid = r->key.queryid;
		closed->key.kind = r->kind;
		memcpy(closed->key.appname, r->key.appname, NAMEDATALEN);
		closed->calls = r->calls - r->published;
		closed->ms = r->run_ms - r->published_ms;
		closed->total = r->calls;
	}
	r->used = true;
	r->gen++;
	r->key = *key;
	np_pool_qid[r - np_pool] = key->queryid;
	r->decided = false;
	r->flagging = false;
	r->superseded = false;
	r->superseded_at = 0;
	r->kind = NP_KIND_NONE;
	r->operation = slot->operation;
	r->shares = 0;
	r->first_ts = slot->first_ts;
	r->last_end = slot->last_end;
	r->calls = 0;
	r->changes = 0;
	r->identical = 0;
	r->run_ms = 0;
	r->published = 0;
	r->published_ms = 0;
	r->parent_queryid = 0;
	r->parent_ts = 0;
	r->parent_rows = 0;
	r->parent_last = 0;
	r->parent_loop = false;
	r->parent.queryid = 0;
}

/*
 * Is some pooled run of the slot's key in the table, that the slot's run
 * may join by its times (see np_pool_join)?  Read without the entries'
 * spinlocks: a hint, checked again under them when joining.  A run of the
 * key long over (the statement looped once, and now runs once per
 * request) costs no lock.
 */
static bool
np_pool_exists(NpSlot *slot)
{
	NpApp	   *a = &np_apps[slot->app];
	int64		window = (int64) np_window_ms * 1000;
	uint32		h;
	int			i;

	if (np_pool_qid == NULL)
		return false;
	if (!a->pool_prefix_ok || a->pool_prefix_db != slot->dbid ||
		a->pool_prefix_user != slot->userid)
	{
		a->pool_prefix = np_pool_prefix(slot->dbid, slot->userid,
										np_client_hash(), a->name);
		a->pool_prefix_db = slot->dbid;
		a->pool_prefix_user = slot->userid;
		a->pool_prefix_ok = true;
	}
	h = np_pool_bucket(a->pool_prefix, slot->queryid);
	for (i = 0; i < NP_POOL_PROBE; i++)
	{
		int			e = (h + i) % NP_POOL_RUNS;

		if (((volatile uint64 *) np_pool_qid)[e] == slot->queryid)
		{
			volatile NpPoolRun *r = &np_pool[e];

			if (slot->first_ts > r->last_end + window ||
				slot->last_end + window < r->first_ts)
				continue;
			/* the run's application: its context's name */
			strlcpy(slot->appname, a->name, NAMEDATALEN);
			return true;
		}
	}
	return false;
}

/*
 * The pooled run a new share joins, returned locked: among the entries of
 * its key, the latest one it may join (it began at most one window after
 * that run's last execution and ended at most one window before its first
 * one, and its parent, if it has one, is the run's parent execution); else
 * a free or stale entry, or the oldest entry of its key, reset for a new
 * run.  NULL when there is no room.  A share with a later execution of the
 * parent than a run's marks that run superseded (the next page began): the
 * shares without a parent leave it.  With join_only (a single execution),
 * only an existing run is joined, and none is superseded.
 */
static NpPoolRun *
np_pool_join(const NpPoolKey *key, const NpSlot *slot, bool has_parent,
			 bool join_only, NpPoolClosed *closed)
{
	uint32		h = np_pool_bucket(np_pool_prefix(key->dbid, key->userid,
												  key->client, key->appname),
									   key->queryid);
	int64		window = (int64) np_window_ms * 1000;
	int64		stale = Max(2 * window, USECS_PER_SEC);
	NpPoolRun  *best = NULL,
			   *freeone = NULL,
			   *oldest = NULL;
	TimestampTz best_end = 0,
				oldest_end = 0;
	int			i;

	for (i = 0; i < NP_POOL_PROBE; i++)
	{
		NpPoolRun  *r = &np_pool[(h + i) % NP_POOL_RUNS];

		SpinLockAcquire(&r->mutex);
		if (r->used && memcmp(&r->key, key, sizeof(NpPoolKey)) == 0)
		{
			/*
			 * A single execution tried again when its run ends (see
			 * np_end_run) may be long over: it must not join a later loop.
			 * Nor may one whose parent ran after the run began give the run
			 * its parent: that is another request that listed the rows
			 * again and looked up one of them (the loop's shares with the
			 * real parent would no longer join the run).
			 */
			bool		joinable = (slot->first_ts <= r->last_end + window &&
									slot->last_end + window >= r->first_ts &&
									!r->superseded &&
									(!has_parent ||
									 (r->parent_queryid == 0 &&
									  (!join_only ||
									   slot->parent_ts <= r->first_ts)) ||
									 (r->parent_queryid == slot->parent_queryid &&
									  r->parent_ts == slot->parent_ts)));

			/*
			 * A later execution of its parent: the run is the last page.
			 * Not for a single execution (join_only): another request that
			 * ran the parent and one lookup would cut a loop that goes on.
			 */
			if (!join_only && has_parent && r->parent_queryid != 0 &&
				r->parent_ts < slot->parent_ts && !r->superseded)
			{
				r->superseded = true;
				r->superseded_at = slot->parent_ts;
			}

			if (joinable && (best == NULL || r->last_end > best_end))
			{
				best = r;
				best_end = r->last_end;
			}
			else if (oldest == NULL || r->last_end < oldest_end)
			{
				oldest = r;
				oldest_end = r->last_end;
			}
		}
		else if (freeone == NULL &&
				 (!r->used || slot->last_end - r->last_end > stale))
			freeone = r;
		SpinLockRelease(&r->mutex);
	}

	if (best != NULL)
	{
		SpinLockAcquire(&best->mutex);
		if (best->used && memcmp(&best->key, key, sizeof(NpPoolKey)) == 0)
			return best;
		SpinLockRelease(&best->mutex);
		return NULL;
	}
	if (join_only)
		return NULL;
	if (freeone != NULL)
	{
		SpinLockAcquire(&freeone->mutex);
		if (!freeone->used || slot->last_end - freeone->last_end > stale)
		{
			np_pool_reset(freeone, key, slot, closed);
			return freeone;
		}
		SpinLockRelease(&freeone->mutex);
		return NULL;
	}
	if (oldest != NULL)
	{
		SpinLockAcquire(&oldest->mutex);
		if (oldest->used && memcmp(&oldest->key, key, sizeof(NpPoolKey)) == 0)
		{
			np_pool_reset(oldest, key, slot, closed);
			return oldest;
		}
		SpinLockRelease(&oldest->mutex);
	}
	return NULL;
}

/* copy a parent's header and text (not the unused rest of the buffer) */
static void
np_copy_parent(NpParent *dst, const NpParent *src)
{
	memcpy(dst, src, offsetof(NpParent, txt));
	if (src->len >= 0)
		memcpy(dst->txt, src->txt, src->len + 1);
}

/*
 * The parent of the pooled run that slot is a share of ran again at when:
 * the run is over (the next page), for the shares of other backends too.
 */
static void
np_pool_supersede(NpSlot *slot, TimestampTz when)
{
	NpPoolRun  *r = &np_pool[slot->pool_idx];

	SpinLockAcquire(&r->mutex);
	if (r->used && r->gen == slot->pool_gen && !r->superseded &&
		r->parent_queryid == slot->parent_queryid &&
		r->parent_ts == slot->parent_ts)
	{
		r->superseded = true;
		r->superseded_at = when;
	}
	SpinLockRelease(&r->mutex);
}

/*
 * Pooled run r (locked) was superseded: give it the part of what share
 * slot did since it last came that happened before the next page began,
 * assuming the executions evenly spread over that time, and note what is
 * to be published to r's detection in *closed.
 */
static void
np_pool_split(NpPoolRun *r, NpSlot *slot, NpPoolClosed *closed)
{
	uint32		unsent = slot->calls - slot->pool_sent;
	uint32		before;
	double		frac;
	double		ms;

	if (r->superseded_at <= slot->pool_sent_end ||
		slot->last_end <= slot->pool_sent_end)
		return;
	frac = (double) (r->superseded_at - slot->pool_sent_end) /
		(double) (slot->last_end - slot->pool_sent_end);
	if (frac > 1.0)
		frac = 1.0;
	before = (uint32) (unsent * frac + 0.5);
	if (before == 0)
		return;
	ms = (slot->run_ms - slot->pool_sent_ms) * frac;
	r->calls += before;
	if (slot->changes >= slot->identical)
	{
		r->changes += before;
		slot->pool_sent_changes += before;
	}
	else
	{
		r->identical += before;
		slot->pool_sent_identical += before;
	}
	r->run_ms += ms;
	slot->pool_sent += before;
	slot->pool_sent_ms += ms;
	if (r->kind != NP_KIND_NONE && r->calls > r->published)
	{
		closed->valid = true;
		memset(&closed->key, 0, sizeof(NpKey));
		closed->key.dbid = r->key.dbid;
		closed->key.userid = r->key.userid;
		closed->key.queryid = r->key.queryid;
		closed->key.kind = r->kind;
		memcpy(closed->key.appname, r->key.appname, NAMEDATALEN);
		closed->calls = r->calls - r->published;
		closed->ms = r->run_ms - r->published_ms;
		closed->total = r->calls;
		r->published = r->calls;
		r->published_ms = r->run_ms;
	}
}

/*
 * Give what this backend's share of a pooled run did since last time to
 * the pooled run, and publish to its detection once it is flagged.  With
 * the statement's text (txt not NULL: the share's statement is running),
 * flag the pooled run when it reached the threshold.
 */
static void
np_contribute(NpSlot *slot, const char *txt, int len, ParamListInfo params,
			  bool join_only)
{
	NpPoolKey	key;
	NpPoolRun  *r;
	NpPoolClosed closed;
	NpParent	pcopy;
	bool		has_parent;
	bool		flag_it = false;
	uint8		kind = NP_KIND_NONE;
	int64		dcalls = 0,
				total = 0,
				prows = 0;
	double		dms = 0;
	uint64		pqid = 0;
	uint32		gen;
	bool		ploop = false;
	uint32		untracked;
	uint32		changes = slot->changes;
	uint32		identical = slot->identical;

	closed.valid = false;
	pcopy.queryid = 0;
	if (np_pool == NULL)
	{
		slot->pool_idx = -2;
		return;
	}
	if (txt != NULL)
		np_settle_parent(slot);
	has_parent = slot->parent_queryid != 0 && slot->parent_rows >= 2;
	/* (a run that ends later keeps the name it had when it ran) */
	if (slot->pool_idx == -1 && txt != NULL)
		np_note_app(slot);
	np_pool_key(&key, slot);

	if (slot->pool_idx >= 0)
	{
		r = &np_pool[slot->pool_idx];
		SpinLockAcquire(&r->mutex);
		if (!r->used || r->gen != slot->pool_gen)
		{
			/* its pooled run is gone: publish to its detection, if any */
			SpinLockRelease(&r->mutex);
			if (slot->pool_kind != NP_KIND_NONE && slot->calls > slot->pool_sent)
			{
				NpKey		ek;

				np_make_key(&ek, slot, slot->pool_kind);
				np_entry_add(&ek, slot->calls - slot->pool_sent,
							 slot->run_ms - slot->pool_sent_ms, 0, false, 0, 0);
			}
			slot->pool_sent = slot->calls;
			slot->pool_sent_ms = slot->run_ms;
			return;
		}
		if (r->superseded && !has_parent && slot->calls > slot->pool_sent)
		{
			/*
			 * The next page began.  Of what this share did since it last
			 * came, the part before the page began (in proportion of time)
			 * stays with this run, the rest goes to the next one.
			 */
			np_pool_split(r, slot, &closed);
			SpinLockRelease(&r->mutex);
			slot->pool_idx = -1;
			if (closed.valid)
			{
				np_entry_add(&closed.key, closed.calls, closed.ms,
							 closed.total, false, 0, 0);
				closed.valid = false;
			}
		}
	}
	if (slot->pool_idx < 0)
	{
		r = np_pool_join(&key, slot, has_parent, join_only, &closed);
		if (r == NULL && join_only)
			return;				/* no run to join: not a share (yet) */
		if (r == NULL)
		{
			/* no room: the run is followed in this backend alone */
			slot->pool_idx = -2;
			return;
		}
		slot->pool_idx = r - np_pool;
		slot->pool_gen = r->gen;
		r->shares++;
		if (!slot->open)
		{
			slot->open = true;
			np_open_mask |= (uint32) 1 << (slot - np_slots);
			np_register_exit();
		}
	}

	/*
	 * Add this share's new executions.  Once the share is decided its
	 * parameters are no longer hashed: its later executions count as what
	 * most of its earlier ones were.
	 */
	untracked = slot->calls - slot->changes - slot->identical;
	if (slot->changes >= slot->identical)
		changes = slot->changes + untracked;
	else
		identical = slot->identical + untracked;
	r->calls += slot->calls - slot->pool_sent;
	r->changes += changes - slot->pool_sent_changes;
	r->identical += identical - slot->pool_sent_identical;
	r->run_ms += slot->run_ms - slot->pool_sent_ms;
	/*
	 * A single execution without a parent (another request that ran the
	 * statement once) is counted but does not keep the run going, nor move
	 * its start back: a steady stream of them would otherwise make one
	 * endless loop.
	 */
	if (slot->calls > 1 || has_parent)
	{
		if (slot->last_end > r->last_end)
			r->last_end = slot->last_end;
		if (slot->first_ts < r->first_ts)
			r->first_ts = slot->first_ts;
	}
	slot->pool_sent = slot->calls;
	slot->pool_sent_changes = changes;
	slot->pool_sent_identical = identical;
	slot->pool_sent_ms = slot->run_ms;
	slot->pool_sent_end = slot->last_end;

	/* the parent this share found, with its text */
	if (has_parent)
	{
		if (r->parent_queryid == 0 ||
			(r->parent_queryid != slot->parent_queryid && txt != NULL))
		{
			NpParent   *p = np_find_parent(slot->parent_queryid,
										   slot->userid);

			r->parent_queryid = slot->parent_queryid;
			r->parent_ts = slot->parent_ts;
			r->parent_rows = slot->parent_rows;
			r->parent_last = slot->parent_last;
			r->parent_loop = slot->parent_loop;
			if (p != NULL)
				np_copy_parent(&r->parent, p);
			else
				r->parent.queryid = 0;
		}
		else if (r->parent_queryid == slot->parent_queryid)
		{
			if ((int64) slot->parent_rows > r->parent_rows)
				r->parent_rows = slot->parent_rows;
			r->parent_last = slot->parent_last;
			if (txt != NULL)
				r->parent_loop = slot->parent_loop;
		}
	}

	if (r->kind != NP_KIND_NONE)
	{
		/* flagged: publish what was added since */
		kind = r->kind;
		dcalls = r->calls - r->published;
		dms = r->run_ms - r->published_ms;
		r->published = r->calls;
		r->published_ms = r->run_ms;
		total = r->calls;
		pqid = r->parent_queryid;
		prows = r->parent_last;
	}
	else if (!r->decided && !r->flagging && txt != NULL &&
			 r->calls >= np_min_calls)
	{
		kind = np_classify(r->operation, r->changes, r->identical);
		if (kind == NP_KIND_NPLUS1 && r->parent_rows < 2)
			kind = NP_KIND_NONE;	/* no statement fed the keys (yet) */

		/*
		 * The rewrite needs to know what varies: the bound parameters that
		 * changed, or an earlier text of this share that differs from this
		 * one (unless the text is too long to keep).  Without either, a later
		 * execution flags the run.
		 */
		if (kind != NP_KIND_NONE && kind != NP_KIND_IDENTICAL &&
			(params == NULL || params->numParams == 0) &&
			len < NP_STASH_LEN &&
			(slot->stash_len < 0 ||
			 (slot->stash_len == len && memcmp(slot->stash, txt, len) == 0)))
			kind = NP_KIND_NONE;
		if (kind != NP_KIND_NONE)
		{
			flag_it = true;
			r->flagging = true;
			dcalls = r->calls;
			dms = r->run_ms;
			r->published = r->calls;
			r->published_ms = r->run_ms;
			total = r->calls;
			if (kind != NP_KIND_IDENTICAL)
			{
				pqid = r->parent_queryid;
				prows = r->parent_last;
				ploop = r->parent_loop;
				if (r->parent.queryid != 0)
					np_copy_parent(&pcopy, &r->parent);
				else
					pcopy.queryid = 0;
			}
		}
	}
	gen = r->gen;
	slot->pool_seen = r->calls;
	slot->pool_kind = r->kind;
	SpinLockRelease(&r->mutex);

	if (closed.valid)
		np_entry_add(&closed.key, closed.calls, closed.ms, closed.total,
					 false, 0, 0);

	if (flag_it)
	{
		bool		loop;

		loop = np_detect(slot, kind, txt, len, params,
						 (pqid != 0 && pcopy.queryid != 0) ? &pcopy : NULL,
						 ploop, pqid, prows, total, dms);
		SpinLockAcquire(&r->mutex);
		if (r->used && r->gen == gen)
		{
			r->flagging = false;
			r->decided = true;
			if (loop)
			{
				r->kind = kind;
				/* what other shares added meanwhile */
				dcalls = r->calls - r->published;
				dms = r->run_ms - r->published_ms;
				r->published = r->calls;
				r->published_ms = r->run_ms;
				total = r->calls;
				prows = r->parent_last;
			}
			slot->pool_kind = r->kind;
		}
		else
			loop = false;
		SpinLockRelease(&r->mutex);
		if (loop && dcalls > 0)
		{
			NpKey		ek;

			np_make_key(&ek, slot, kind);
			np_entry_add(&ek, dcalls, dms, total, true, pqid, prows);
		}
	}
	else if (kind != NP_KIND_NONE && dcalls > 0)
	{
		NpKey		ek;

		np_make_key(&ek, slot, kind);
		np_entry_add(&ek, dcalls, dms, total, true, pqid, prows);
	}
}

/* ----------------------------------------------------------------
 * SQL interface
 * ----------------------------------------------------------------
 */
#define NP_COLS_1_0 18
#define NP_COLS 20				/* 1.1: the two notes */

/* a text column: the placeholder when not visible, NULL when empty */
static Datum
np_text_or_null(const char *s, bool visible, bool *isnull)
{
	if (!visible)
	{
		*isnull = false;
		return CStringGetTextDatum("<insufficient privilege>");
	}
	if (s[0] == '\0')
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	return CStringGetTextDatum(s);
}

/*
 * The ignore list handed to _n_plus_one_entries(): pairs of a query id and
 * an application name, either NULL for "any", and (1.1) the role that
 * created each rule: a rule keeps out only the entries of roles whose
 * privileges its creator has.
 */
typedef struct NpIgnore
{
	int			n;
	bool	   *qnull;
	Datum	   *qids;
	bool	   *anull;
	Datum	   *apps;
	Datum	   *creators;		/* NULL: rules apply to every role (1.0) */
	bool	   *cnull;
} NpIgnore;

/* read the ignore rules passed to _n_plus_one_entries into ig */
static void
np_read_ignore(FunctionCallInfo fcinfo, NpIgnore *ig)
{
	int			na = 0;

	ig->n = 0;
	ig->creators = NULL;
	if (PG_NARGS() < 2 || PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return;
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), INT8OID, 8, FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &ig->qids, &ig->qnull, &ig->n);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false,
					  TYPALIGN_INT, &ig->apps, &ig->anull, &na);
	if (na != ig->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the ignore lists must have the same length"),
				 errhint("Pass one query id (or NULL) and one application name (or NULL) per ignore rule.")));
	if (PG_NARGS() >= 3)
	{
		int			nc = 0;

		/* no creators: the rules apply to nobody's entries */
		if (PG_ARGISNULL(2))
		{
			ig->n = 0;
			return;
		}
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), OIDOID, sizeof(Oid),
						  true, TYPALIGN_INT, &ig->creators, &ig->cnull,
						  &nc);
		if (nc != ig->n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the ignore lists must have the same length"),
					 errhint("Pass one creator role per ignore rule.")));
	}
}

/* does an ignore rule match this query id, application and user? */
static bool
np_ignored(const NpIgnore *ig, uint64 queryid, const char *appname,
		   Oid userid)
{
	int			i;

	for (i = 0; i < ig->n; i++)
	{
		if (!ig->qnull[i] && (uint64) DatumGetInt64(ig->qids[i]) != queryid)
			continue;
		if (!ig->anull[i])
		{
			char	   *a = TextDatumGetCString(ig->apps[i]);
			bool		same = strcmp(a, appname) == 0;

			pfree(a);
			if (!same)
				continue;
		}
		/* a rule covers the roles whose privileges its creator has */
		if (ig->creators != NULL &&
			(ig->cnull[i] ||
			 !has_privs_of_role(DatumGetObjectId(ig->creators[i]), userid)))
			continue;
		return true;
	}
	return false;
}

/*
 * scale_advisor._n_plus_one_entries(ignore_queryids, ignore_applications):
 * one row per shared entry, less those the ignore pairs match.  Query texts
 * and query ids of other users are hidden unless the caller has the
 * privileges of pg_read_all_stats (the ignore rules are applied before, so
 * that a rule by query id also keeps out the hidden rows it matches).
 */
Datum
scale_advisor_n_plus_one_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	NpEntry    *e;
	SaReader	reader;
	NpIgnore	ig;
	int			ncols;

	sa_require_loaded();
	np_read_ignore(fcinfo, &ig);
	sa_init_srf(fcinfo);
	ncols = rsinfo->setDesc->natts;
	if (ncols != NP_COLS && ncols != NP_COLS_1_0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("scale_advisor._n_plus_one_entries returns %d or %d columns, the SQL definition expects %d",
						NP_COLS_1_0, NP_COLS, ncols),
				 errhint("Run ALTER EXTENSION scale_advisor UPDATE.")));
	if (np_hash == NULL)
		return (Datum) 0;
	reader = sa_reader(true);

	/* this session's own runs in progress are shown as they are now */
	np_flush_local();

	LWLockAcquire(np_state->lock, LW_SHARED);
	hash_seq_init(&seq, np_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[NP_COLS];
		bool		nulls[NP_COLS];
		bool		visible = sa_reader_sees(&reader, e->key.userid);
		int			c = 0;
		int64		detections,
					repeated_calls,
					max_run,
					last_run,
					parent_rows;
		double		total_ms;
		uint64		parent_queryid;
		TimestampTz first_seen,
					last_seen;

		if (ig.n > 0 && np_ignored(&ig, e->key.queryid, e->key.appname,
								   e->key.userid))
			continue;

		SpinLockAcquire(&e->mutex);
		detections = e->detections;
		repeated_calls = e->repeated_calls;
		max_run = e->max_run;
		last_run = e->last_run;
		parent_rows = e->parent_rows;
		total_ms = e->total_ms;
		parent_queryid = e->parent_queryid;
		first_seen = e->first_seen;
		last_seen = e->last_seen;
		SpinLockRelease(&e->mutex);

		memset(nulls, 0, sizeof(nulls));
		values[c++] = ObjectIdGetDatum(e->key.dbid);
		values[c++] = ObjectIdGetDatum(e->key.userid);
		values[c++] = CStringGetTextDatum(e->key.appname);
		values[c++] = CStringGetTextDatum(np_kind_names[e->key.kind]);
		values[c] = Int64GetDatum((int64) e->key.queryid);
		nulls[c] = !visible;
		c++;
		values[c] = np_text_or_null(e->query, visible, &nulls[c]);
		c++;
		if (parent_queryid != 0 && visible)
			values[c] = Int64GetDatum((int64) parent_queryid);
		else
			nulls[c] = true;
		c++;
		values[c] = np_text_or_null(e->parent_query, visible, &nulls[c]);
		c++;
		if (parent_queryid != 0)
			values[c] = Int64GetDatum(parent_rows);
		else
			nulls[c] = true;
		c++;
		values[c++] = Int64GetDatum(detections);
		values[c++] = Int64GetDatum(repeated_calls);
		values[c++] = Int64GetDatum(max_run);
		values[c++] = Int64GetDatum(last_run);
		values[c++] = Float8GetDatum(total_ms);
		values[c] = np_text_or_null(e->batched, visible, &nulls[c]);
		c++;
		values[c] = np_text_or_null(e->joined, visible, &nulls[c]);
		c++;
		values[c++] = TimestampTzGetDatum(first_seen);
		values[c++] = TimestampTzGetDatum(last_seen);
		if (ncols == NP_COLS)
		{
			values[c] = np_text_or_null(e->batched_note, visible, &nulls[c]);
			c++;
			values[c] = np_text_or_null(e->joined_note, visible, &nulls[c]);
			c++;
		}
		Assert(c == ncols);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(np_state->lock);
	return (Datum) 0;
}

/*
 * scale_advisor._n_plus_one_entries(ignore_queryids, ignore_applications,
 * ignore_creators), version 1.1: the same, each rule applied only to the
 * entries of roles whose privileges its creator has.
 */
Datum
scale_advisor_n_plus_one_entries_1_1(PG_FUNCTION_ARGS)
{
	return scale_advisor_n_plus_one_entries(fcinfo);
}

/*
 * scale_advisor.n_plus_one_reset(): forget every detection.  Runs in
 * progress in other sessions are counted again from their next detection.
 */
Datum
scale_advisor_n_plus_one_reset(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	NpEntry    *e;
	int			i;

	sa_require_loaded();
	if (np_hash != NULL)
	{
		LWLockAcquire(np_state->lock, LW_EXCLUSIVE);
		hash_seq_init(&seq, np_hash);
		while ((e = hash_seq_search(&seq)) != NULL)
			hash_search(np_hash, &e->key, HASH_REMOVE, NULL);
		np_state->dropped = 0;
		LWLockRelease(np_state->lock);
	}
	/* this session starts afresh too */
	for (i = 0; i < NP_SLOTS; i++)
	{
		np_slots[i].queryid = 0;
		np_slot_qid[i] = 0;
		np_slots[i].kind = NP_KIND_NONE;
		np_slots[i].calls = 0;
		np_slots[i].open = false;
		np_slots[i].pool_idx = -1;
	}
	np_watch_mask = 0;
	np_open_mask = 0;
	np_block_mask = 0;
	memset(np_apps, 0, sizeof(np_apps));
	np_cur = &np_apps[0];
	np_cur_app = 0;
	np_app_seen = NULL;
	/* and so do the pooled runs */
	if (np_pool != NULL)
	{
		for (i = 0; i < NP_POOL_RUNS; i++)
		{
			SpinLockAcquire(&np_pool[i].mutex);
			np_pool[i].used = false;
			np_pool[i].gen++;
			np_pool_qid[i] = 0;
			SpinLockRelease(&np_pool[i].mutex);
		}
	}
	PG_RETURN_VOID();
}
