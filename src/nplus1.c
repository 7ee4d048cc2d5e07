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
 *	  same transaction block or, outside of one, within
 *	  scale_advisor.n_plus_one_window_ms of its previous execution.  Other
 *	  statements between the executions do not end it.
 *	- the shared table of detections (NpSharedState and a hash table keyed
 *	  by database, user, query id, kind and application_name), registered
 *	  through sa_shmem_register().
 *
 * Cost: the per-statement path hashes the statement's text slice and its
 * bound parameters, finds its slot and updates it; it allocates nothing
 * and takes no lock.  Shared memory is touched only when a run is first
 * flagged (it reaches scale_advisor.n_plus_one_min_calls), each time a
 * flagged run doubles, and when a flagged run ends.  The rewrite is built
 * when a run is flagged and the shared entry has none yet.
 *
 * Locking: np_state->lock (one LWLock).  Shared mode to look an entry up
 * and update its counters under the entry's spinlock; exclusive mode to
 * create, evict or remove entries.  The texts of an entry are written only
 * under the exclusive lock and read under the shared lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_node.h"
#include "parser/parse_param.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "port/pg_bitutils.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "nplus1.h"
#include "scale_advisor.h"

/* the kinds of detection (NP_KIND_*), as shown in the view */
static const char *const np_kind_names[] = {
	"none", "n_plus_one", "repeated_identical", "insert_loop"
};


static NpSlot np_slots[NP_SLOTS];
static uint64 np_slot_qid[NP_SLOTS];	/* np_slots[i].queryid, densely */
static uint32 np_watch_mask = 0;	/* slots whose run has a parent */
static NpParent np_parents[NP_PARENTS];
static uint32 np_tick = 0;
static uint64 np_xact_seq = 1;
static int	np_open_flagged = 0;	/* flagged runs not yet ended */
static TimestampTz np_next_sweep = 0;	/* when to look for ended runs */
static bool np_exit_registered = false;

/* the statement before the current one */
static uint64 np_prev_queryid = 0;
static Oid	np_prev_userid = InvalidOid;
static uint64 np_prev_rows = 0;
static uint64 np_prev_xact = 0;
static TimestampTz np_prev_ts = 0;

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
} NpEntry;

typedef struct NpSharedState
{
	LWLock	   *lock;
	int64		dropped;		/* entries evicted for lack of room */
} NpSharedState;

static NpSharedState *np_state = NULL;
static HTAB *np_hash = NULL;

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

static void np_observe(const SaStatement *st);
static void np_flag(NpSlot *slot, const SaStatement *st, const char *txt,
					int len);
static void np_publish(NpSlot *slot);
static void np_end_run(NpSlot *slot);
static void np_end_runs(bool all, uint64 xact, TimestampTz now);

/* ----------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------
 */
static Size
np_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(NpSharedState)),
					hash_estimate_size(np_max_entries, sizeof(NpEntry)));
}

static void
np_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	np_state = ShmemInitStruct("scale_advisor n_plus_one",
							   sizeof(NpSharedState), &found);
	if (!found)
	{
		np_state->lock = &(GetNamedLWLockTranche("scale_advisor n_plus_one"))->lock;
		np_state->dropped = 0;
	}
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
static void
np_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* runs of the ending transaction block end with it */
			if (np_open_flagged > 0)
				np_end_runs(false, np_xact_seq, 0);
			np_xact_seq++;
			break;
		default:
			break;
	}
}

static void
np_exit(int code, Datum arg)
{
	if (np_open_flagged > 0)
		np_end_runs(true, 0, 0);
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
							"Outside a transaction block, the longest gap between two executions of a run.",
							NULL,
							&np_window_ms, 100, 0, 3600000, PGC_USERSET,
							GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("scale_advisor.n_plus_one_nested",
							 "Also looks at statements nested inside functions and triggers.",
							 "They are only seen when scale_advisor.track is 'all'.",
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
	RegisterXactCallback(np_xact_callback, NULL);
}

/* ----------------------------------------------------------------
 * Hashing (the per-statement path)
 * ----------------------------------------------------------------
 */
#define NP_MUL UINT64CONST(0x9E3779B97F4A7C15)

static inline uint64
np_mix(uint64 h, uint64 w)
{
	h = (h ^ w) * NP_MUL;
	return h ^ (h >> 31);
}

/*
 * Hash of a byte string, 16 bytes per step in two lanes.  Each step is
 * bijective in the lane's state, so texts that differ in one word (one
 * constant) always hash differently.
 */
#define NP_MUL2 UINT64CONST(0xC2B2AE3D27D4EB4F)

static uint64
np_hash_bytes(const char *p, int len, uint64 h)
{
	uint64		a = h,
				b = h ^ NP_MUL2;
	uint64		w1,
				w2;

	while (len >= 16)
	{
		memcpy(&w1, p, 8);
		memcpy(&w2, p + 8, 8);
		a = (a ^ w1) * NP_MUL;
		b = (b ^ w2) * NP_MUL2;
		p += 16;
		len -= 16;
	}
	if (len >= 8)
	{
		memcpy(&w1, p, 8);
		a = (a ^ w1) * NP_MUL;
		p += 8;
		len -= 8;
	}
	w2 = (uint64) len << 56;
	while (len-- > 0)
		w2 ^= (uint64) (unsigned char) p[len] << (len * 8);
	b = (b ^ w2) * NP_MUL2;
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
/*
 * The slot of queryid, or the least recently used one.  On the way, runs
 * that walked the rows of this statement (their parent) are over: the
 * parent running again means the next page, the next loop.
 */
static inline NpSlot *
np_find_slot(uint64 queryid)
{
	int			i;
	NpSlot	   *victim;

	if (unlikely(np_watch_mask != 0))
	{
		uint32		m = np_watch_mask;

		while (m != 0)
		{
			NpSlot	   *s;

			i = pg_rightmost_one_pos32(m);
			m &= m - 1;
			s = &np_slots[i];
			if (s->parent_queryid == queryid && np_slot_qid[i] != queryid)
			{
				if (s->kind != NP_KIND_NONE)
					np_end_run(s);
				s->calls = 0;
				s->xact = UINT64_MAX;	/* the next execution starts anew */
				np_watch_mask &= ~((uint32) 1 << i);
			}
		}
	}
	for (i = 0; i < NP_SLOTS; i++)
		if (np_slot_qid[i] == queryid)
			return &np_slots[i];
	victim = &np_slots[0];
	for (i = 1; i < NP_SLOTS; i++)
		if (np_slots[i].used < victim->used)
			victim = &np_slots[i];
	return victim;
}

/*
 * When the statement run just before a run began is itself a loop that
 * went on after the run began (an ORM fetching comments, then the author,
 * for each post), the parent is that loop's own parent.
 */
static void
np_settle_parent(NpSlot *slot)
{
	int			i,
				j;

	for (i = 0; i < 4 && slot->parent_queryid != 0; i++)
	{
		NpSlot	   *ps = NULL;

		for (j = 0; j < NP_SLOTS; j++)
			if (np_slots[j].queryid == slot->parent_queryid &&
				np_slots[j].userid == slot->userid &&
				&np_slots[j] != slot)
				ps = &np_slots[j];
		if (ps == NULL || ps->calls < 2 || ps->xact != slot->xact ||
			(int32) (ps->used - slot->start_tick) <= 0)
			break;
		slot->parent_queryid = ps->parent_queryid;
		slot->parent_rows = ps->parent_rows;
	}
}

static void
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
			np_parents[i].used = np_tick;
			return;
		}
		if (np_parents[i].used < victim->used)
			victim = &np_parents[i];
	}
	victim->queryid = queryid;
	victim->userid = userid;
	victim->used = np_tick;
	if (len < NP_PARENT_LEN)
	{
		memcpy(victim->text, txt, len);
		victim->text[len] = '\0';
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

static void
np_observe(const SaStatement *st)
{
	const char *txt;
	int			len;
	TimestampTz now;
	uint64		xact;
	uint64		h;
	NpSlot	   *slot;
	ParamListInfo params = st->params;
	int			nparams = 0;
	uint64		mask = 0;
	int			i;

	if (!np_enabled || st->operation == CMD_UTILITY ||
		st->operation == CMD_UNKNOWN || st->query_desc == NULL)
		return;
	if (!st->toplevel && !np_nested)
		return;

	now = GetCurrentStatementStartTimestamp();
	/* nested statements share the transaction of their top-level one */
	xact = (!st->toplevel || IsTransactionBlock()) ? np_xact_seq : 0;

	/*
	 * This statement's part of the source text.  Its constants are what
	 * differs from one execution to the next, unless the values are bound
	 * parameters (hashed below).
	 */
	txt = st->source_text;
	len = 0;
	if (txt != NULL)
	{
		if (st->stmt_location > 0)
			txt += st->stmt_location;
		len = st->stmt_len > 0 ? st->stmt_len : (int) strlen(txt);
	}
	if (params != NULL && params->numParams > 0 && params->paramFetch == NULL)
		h = st->queryid;
	else
		h = np_hash_bytes(txt, len, st->queryid);

	slot = np_find_slot(st->queryid);
	np_tick++;

	/* flagged runs whose time is up end here, looked for once a window */
	if (unlikely(np_open_flagged > 0) && now >= np_next_sweep)
	{
		np_end_runs(false, UINT64_MAX, now);
		np_next_sweep = now + (int64) np_window_ms * 1000;
	}

	if (slot->queryid != st->queryid || slot->xact != xact ||
		slot->userid != st->userid ||
		(xact == 0 && now - slot->last_ts > (int64) np_window_ms * 1000))
	{
		/* a new run */
		if (slot->kind != NP_KIND_NONE)
			np_end_run(slot);
		slot->queryid = st->queryid;
		np_slot_qid[slot - np_slots] = st->queryid;
		np_watch_mask &= ~((uint32) 1 << (slot - np_slots));
		slot->decided = false;
		slot->xact = xact;
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
		/*
		 * The statement before is the parent only when the same role ran
		 * it: after SET ROLE (or inside a SECURITY DEFINER function) the
		 * text of another role's statement must not reach this one's entry.
		 */
		if (np_prev_queryid != 0 && np_prev_xact == xact &&
			np_prev_userid == st->userid &&
			(xact != 0 || now - np_prev_ts <= (int64) np_window_ms * 1000))
		{
			slot->parent_queryid = np_prev_queryid;
			slot->parent_rows = np_prev_rows;
		}
		else
		{
			slot->parent_queryid = 0;
			slot->parent_rows = 0;
		}
	}
	slot->used = np_tick;

	/* bound parameters (extended protocol) */
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
					if (slot->calls > 0 && slot->phash[i] != (uint32) ph)
						mask |= UINT64CONST(1) << i;
					slot->phash[i] = (uint32) ph;
				}
			}
		}
	}
	slot->vary_mask |= mask;
	slot->nparams = nparams;

	slot->calls++;
	if (slot->calls == 1 || h != slot->last_hash)
		slot->changes++;
	else
		slot->identical++;
	slot->last_hash = h;
	slot->run_ms += st->exec_ms;
	slot->last_ts = now;
	if (unlikely(slot->calls == 2))
	{
		np_settle_parent(slot);
		if (slot->parent_queryid != 0)
			np_watch_mask |= (uint32) 1 << (slot - np_slots);
	}

	/* keep an earlier text of the run to find the constant that varies */
	if (slot->calls >= 2 && slot->calls + 1 == (uint32) np_min_calls &&
		len < NP_STASH_LEN)
	{
		memcpy(slot->stash, txt, len);
		slot->stash_len = len;
	}

	if (slot->calls >= (uint32) np_min_calls)
	{
		if (!slot->decided)
			np_flag(slot, st, txt, len);
		else if (slot->kind != NP_KIND_NONE &&
				 slot->calls >= 2 * slot->published_calls)
			np_publish(slot);
	}

	np_prev_queryid = st->queryid;
	np_prev_userid = st->userid;
	np_prev_rows = st->rows;
	np_prev_xact = xact;
	np_prev_ts = now;
	if (st->rows >= 2 && st->operation == CMD_SELECT && txt != NULL)
		np_remember_parent(st->queryid, st->userid, txt, len, params);
}

/* ----------------------------------------------------------------
 * Publishing to shared memory (rare)
 * ----------------------------------------------------------------
 */
static void
np_make_key(NpKey *key, const NpSlot *slot)
{
	memset(key, 0, sizeof(NpKey));
	key->dbid = slot->dbid;
	key->userid = slot->userid;
	key->queryid = slot->queryid;
	key->kind = slot->kind;
	if (application_name != NULL)
		strlcpy(key->appname, application_name, NAMEDATALEN);
}

/*
 * Add what the run did since its last publication to its shared entry.
 */
static void
np_publish(NpSlot *slot)
{
	NpKey		key;
	NpEntry    *e;

	if (np_hash == NULL)
		return;
	np_make_key(&key, slot);
	LWLockAcquire(np_state->lock, LW_SHARED);
	e = (NpEntry *) hash_search(np_hash, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		e->repeated_calls += slot->calls - slot->published_calls;
		e->total_ms += slot->run_ms - slot->published_ms;
		if ((int64) slot->calls > e->max_run)
			e->max_run = slot->calls;
		e->last_run = slot->calls;
		e->last_seen = GetCurrentTimestamp();
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(np_state->lock);
	slot->published_calls = slot->calls;
	slot->published_ms = slot->run_ms;
}

static void
np_end_run(NpSlot *slot)
{
	if (slot->kind == NP_KIND_NONE)
		return;
	if (slot->calls != slot->published_calls)
		np_publish(slot);
	slot->kind = NP_KIND_NONE;
	np_open_flagged--;
}

/*
 * End flagged runs: all of them, or those of transaction block xact, or
 * (xact == UINT64_MAX) those whose time is up at now.
 */
static void
np_end_runs(bool all, uint64 xact, TimestampTz now)
{
	int			i;

	for (i = 0; i < NP_SLOTS; i++)
	{
		NpSlot	   *s = &np_slots[i];

		if (s->kind == NP_KIND_NONE)
			continue;
		if (all ||
			(xact != UINT64_MAX && s->xact == xact) ||
			(xact == UINT64_MAX &&
			 ((s->xact != 0 && s->xact != np_xact_seq) ||
			  (s->xact == 0 && now - s->last_ts > (int64) np_window_ms * 1000))))
			np_end_run(s);
	}
}

/* publish what flagged runs did so far, without ending them */
static void
np_flush_local(void)
{
	int			i;

	for (i = 0; i < NP_SLOTS; i++)
		if (np_slots[i].kind != NP_KIND_NONE &&
			np_slots[i].calls != np_slots[i].published_calls)
			np_publish(&np_slots[i]);
}


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

/*
 * Whether the shared entry for this run already has its rewrite (built
 * for this parent).
 */
static bool
np_entry_has_rewrite(NpSlot *slot)
{
	NpKey		key;
	NpEntry    *e;
	bool		result = false;

	np_make_key(&key, slot);
	LWLockAcquire(np_state->lock, LW_SHARED);
	e = (NpEntry *) hash_search(np_hash, &key, HASH_FIND, NULL);
	if (e != NULL && e->has_rewrite && e->rewrite_parent == slot->parent_queryid)
		result = true;
	LWLockRelease(np_state->lock);
	return result;
}

/* make room for one entry: drop the one seen least recently */
static void
np_evict_one(void)
{
	HASH_SEQ_STATUS seq;
	NpEntry    *e,
			   *victim = NULL;

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

/*
 * A run just reached the threshold: classify it, find its parent, build
 * the rewrite if its entry has none, and publish it.
 */
static void
np_flag(NpSlot *slot, const SaStatement *st, const char *txt, int len)
{
	NpParent   *parent;
	NpRewrite	rw = {NULL, NULL};
	NpKey		key;
	NpEntry    *e;
	bool		found;
	bool		build;
	TimestampTz now;
	MemoryContext tmpcxt = NULL,
				oldcxt;

	if (slot->operation == CMD_INSERT)
		slot->kind = NP_KIND_INSERT;
	else if (slot->changes >= (uint32) np_min_calls)
		slot->kind = NP_KIND_NPLUS1;
	else if (slot->identical + 1 >= (uint32) np_min_calls)
		slot->kind = NP_KIND_IDENTICAL;
	else
		return;					/* not yet decided */

	/*
	 * Outside a transaction block, a loop of lookups must walk the rows of
	 * a parent: a connection that serves one independent request after
	 * another (a pool, a benchmark) repeats its statements back to back
	 * with other keys too, but no statement before them returned the keys.
	 */
	slot->decided = true;
	if (slot->kind == NP_KIND_NPLUS1 && slot->xact == 0 &&
		slot->parent_rows < 2)
	{
		slot->kind = NP_KIND_NONE;
		return;
	}
	np_open_flagged++;

	if (!np_exit_registered)
	{
		before_shmem_exit(np_exit, (Datum) 0);
		np_exit_registered = true;
	}
	if (np_hash == NULL)
		return;

	/* the parent: the statement run just before the run began */
	np_settle_parent(slot);
	parent = np_find_parent(slot->parent_queryid, slot->userid);

	build = (slot->kind != NP_KIND_IDENTICAL) && !np_entry_has_rewrite(slot);

	tmpcxt = AllocSetContextCreate(TopMemoryContext, "scale_advisor n+1",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);

	/*
	 * Parsing the statement again takes catalog lookups: do it in a
	 * subtransaction so that any error is contained and rolled back.  Not
	 * possible in parallel mode; the rewrite is then built next time.
	 */
	if (build && txt != NULL && !IsInParallelMode() && IsTransactionState())
	{
		ResourceOwner oldowner = CurrentResourceOwner;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(tmpcxt);
		PG_TRY();
		{
			sa_np_build_rewrite(slot, txt, len, st->params, parent, &rw);
			rw.batched = sa_np_fit(rw.batched, NP_BATCHED_LEN);
			rw.joined = sa_np_fit(rw.joined, NP_JOIN_LEN);
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
		}
		PG_END_TRY();
	}
	else
		build = false;

	now = GetCurrentTimestamp();
	np_make_key(&key, slot);
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
			e->first_seen = now;
			e->has_rewrite = false;
			e->rewrite_parent = 0;
			e->query[0] = '\0';
			e->parent_query[0] = '\0';
			e->batched[0] = '\0';
			e->joined[0] = '\0';
		}
	}
	if (e != NULL)
	{
		NpParent   *pp = parent;

		if (e->query[0] == '\0')
			np_copy_text(e->query, NP_QUERY_LEN, txt, len);
		if (pp != NULL && (e->parent_queryid != slot->parent_queryid ||
						   e->parent_query[0] == '\0'))
			np_copy_text(e->parent_query, NP_QUERY_LEN,
						 pp->len >= 0 ? pp->text : NULL, pp->len);
		else if (pp == NULL && e->parent_queryid != slot->parent_queryid)
			e->parent_query[0] = '\0';
		if (build)
		{
			np_copy_text(e->batched, NP_BATCHED_LEN, rw.batched, -1);
			np_copy_text(e->joined, NP_JOIN_LEN, rw.joined, -1);
			e->has_rewrite = true;
			e->rewrite_parent = slot->parent_queryid;
		}
		SpinLockAcquire(&e->mutex);
		e->detections++;
		e->repeated_calls += slot->calls;
		e->total_ms += slot->run_ms;
		if ((int64) slot->calls > e->max_run)
			e->max_run = slot->calls;
		e->last_run = slot->calls;
		e->parent_queryid = slot->parent_queryid;
		e->parent_rows = slot->parent_rows;
		e->last_seen = now;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(np_state->lock);
	slot->published_calls = slot->calls;
	slot->published_ms = slot->run_ms;

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmpcxt);
}

/* ----------------------------------------------------------------
 * SQL interface
 * ----------------------------------------------------------------
 */
#define NP_COLS 18

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
	Oid			me = GetUserId();
	bool		all_stats;
	NpIgnore	ig;

	sa_require_loaded();
	np_read_ignore(fcinfo, &ig);
	sa_init_srf(fcinfo);
	if (np_hash == NULL)
		return (Datum) 0;
	all_stats = sa_may_read_all_stats(me);

	/* this session's own runs in progress are shown as they are now */
	np_flush_local();

	LWLockAcquire(np_state->lock, LW_SHARED);
	hash_seq_init(&seq, np_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[NP_COLS];
		bool		nulls[NP_COLS];
		bool		visible = all_stats || e->key.userid == me;
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
		Assert(c == NP_COLS);
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
	}
	np_watch_mask = 0;
	np_open_flagged = 0;
	np_prev_queryid = 0;
	PG_RETURN_VOID();
}
