/*-------------------------------------------------------------------------
 *
 * store.c
 *		Owns the shared-memory statement store: one entry per (user,
 *		database, query id, top-level flag) with its counters, its latency
 *		sketch, its history histogram (SaHist, read by snapshot.c) and its
 *		normalized text; eviction when full; saving to and loading from disk.
 *
 * Layout.  Entries live in a fixed array of scale_advisor.max slots; a
 * shared hash table maps a key to its slot, and a stack holds the free
 * slots.  Each slot owns a fixed text area of scale_advisor.max_query_length
 * + 1 bytes in a second array, so a reader copies one text at a time
 * straight from shared memory and never has to load every text at once.
 *
 * Locking.  One LWLock (tranche "scale_advisor") guards the hash table, the
 * free stack and which slot belongs to which key:
 *	- backends recording a statement hold it in SHARED mode and update the
 *	  entry's counters under the entry's spinlock (mutex);
 *	- creating an entry, evicting, resetting and loading hold it EXCLUSIVE;
 *	- readers hold it SHARED and copy each entry under its spinlock.
 * The store-wide figures in SaShared (evictions, saves, ...) are guarded by
 * SaShared.mutex.  Nothing that can throw runs while a spinlock is held.
 *
 * Backend-local cache.  Each backend remembers, for the last statements it
 * ran (a small direct-mapped table), the slot and the slot's generation.
 * Recording then validates the slot under the shared lock (same key, same
 * generation: the generation changes whenever a slot changes hands, which
 * needs the exclusive lock) instead of hashing the key, and the
 * post-parse-analyze check "is this statement stored already?" costs a few
 * reads.  That check may be stale if the entry was evicted in between; the
 * entry is then recreated at ExecutorEnd from the statement's own text, as
 * pg_stat_statements does in the same race.
 *
 * Eviction.  When no slot is free, the creator (holding the lock
 * exclusively) samples SA_EVICT_SAMPLE random slots and evicts the one with
 * the lowest usage (usage grows by one per execution).  That costs a few
 * dozen reads, never a sort of the whole table; each time a further
 * max / 2 entries have been evicted, every usage is halved (one pass, no
 * sort), so that statements popular long ago make room eventually.
 *
 * Persistence.  The store is written to pg_stat/scale_advisor.stat when the
 * server shuts down cleanly (by the postmaster, after every backend has
 * exited) and every scale_advisor.save_interval seconds by the background
 * worker (worker.c), through a temporary file and a durable rename.  A save
 * copies the entries and their texts into local memory under the lock (in
 * shared mode: recording goes on) and writes the file after releasing it,
 * so a slow or full disk never holds up new statements.  The
 * postmaster loads the file when it creates the shared memory, at start and
 * again after a crash, so a crash loses what changed since the last save.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <unistd.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "compat.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "store.h"

#define SA_STAT_FILE		"pg_stat/scale_advisor.stat"
#define SA_STAT_FILE_TMP	SA_STAT_FILE ".tmp"
#define SA_FILE_MAGIC		0x5CA1AD01
#define SA_FILE_VERSION		3
#define SA_EVICT_SAMPLE		24

/* one slot of the entry array */
typedef struct SaEntry
{
	SaKey		key;
	bool		in_use;
	uint32		generation;		/* bumped whenever the slot changes hands */
	int			encoding;
	int			query_len;
	slock_t		mutex;			/* guards c, sketch and samples_left */
	int32		samples_left;	/* examples still wanted since created/loaded */
	SaCounters	c;
	SaSketch	sketch;
} SaEntry;

/* hash table entry: key to slot */
typedef struct SaHashEntry
{
	SaKey		key;
	int			slot;
} SaHashEntry;

/* store-wide shared state */
typedef struct SaShared
{
	LWLock	   *lock;
	int			nfree;			/* free slots on the stack (under lock) */
	int64		evictions_since_decay;	/* under lock */
	slock_t		mutex;			/* guards the figures below */
	int64		evictions;
	TimestampTz stats_reset;
	TimestampTz last_save;
	int64		saves;
	int64		save_failures;
	int64		loaded_entries;
} SaShared;

/* GUCs */
int			sa_max_entries = 5000;
int			sa_max_query_length = 2048;
int			sa_save_interval = 300;
bool		sa_save_enabled = true;
double		sa_slow_query_ms = -1.0;

/*
 * scale_advisor.track_history, defined by history.c: kept here, below both
 * the hooks that pass it to sa_store_record and the history that reads it
 */
bool		sa_track_history = true;

/* pointers into shared memory, set by store_shmem_startup */
static SaShared *sa_shared = NULL;

/* backend-local cache of key -> slot (see above) */
#define SA_LOCAL_CACHE_SIZE 256
typedef struct SaLocalRef
{
	SaKey		key;
	int			slot;			/* -1: empty */
	uint32		generation;
} SaLocalRef;
static SaLocalRef local_cache[SA_LOCAL_CACHE_SIZE];
static bool local_cache_ready = false;

static HTAB *sa_hash = NULL;
static SaEntry *sa_entries = NULL;
static char *sa_texts = NULL;
static int *sa_free = NULL;

static Size store_shmem_size(void);
static void store_shmem_startup(void);
static void store_shmem_shutdown(int code, Datum arg);
static int	entry_create(const SaKey *key, const char *text, int len);
static void entry_remove(int slot);
static void store_load(void);
static bool store_write_file(void);

/* text area of a slot */
#define SLOT_TEXT(slot) (sa_texts + (Size) (slot) * (sa_max_query_length + 1))

/*
 * Define the store's GUCs and ask for its shared memory.
 */
void
sa_store_init(void)
{
	DefineCustomIntVariable("scale_advisor.max",
							"Maximum number of statements tracked.",
							"When the store is full, the least used statements are evicted.",
							&sa_max_entries,
							5000, 100, INT_MAX / 2,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.max_query_length",
							"Bytes of statement text kept per statement.",
							"Longer texts are cut at this length.",
							&sa_max_query_length,
							2048, 64, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("scale_advisor.save",
							 "Save statement statistics across server restarts.",
							 NULL,
							 &sa_save_enabled,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.save_interval",
							"Seconds between periodic saves of the statement store (0 saves only at shutdown).",
							"After a crash, what changed since the last save is lost.",
							&sa_save_interval,
							300, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	/*
	 * The 1.0 name of the threshold slow_statement_ms: when set (0 or more)
	 * it gives the threshold's value where set_threshold() has not; its
	 * default, -1, means not set (SQL reads it: _threshold_alias()).
	 */
	DefineCustomRealVariable("scale_advisor.slow_query_ms",
							 "Old name of the threshold slow_statement_ms (-1: not set).",
							 "scale_advisor.set_threshold('slow_statement_ms', ...) takes precedence.",
							 &sa_slow_query_ms,
							 -1.0, -1.0, 3600.0 * 1000.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	sa_shmem_register("scale_advisor", store_shmem_size, 1, store_shmem_startup);
}

/*
 * Bytes of shared memory the store needs.
 */
static Size
store_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(SaShared));

	size = add_size(size, hash_estimate_size(sa_max_entries, sizeof(SaHashEntry)));
	size = add_size(size, MAXALIGN(mul_size(sa_max_entries, sizeof(SaEntry))));
	size = add_size(size, MAXALIGN(mul_size(sa_max_entries, sa_max_query_length + 1)));
	size = add_size(size, MAXALIGN(mul_size(sa_max_entries, sizeof(int))));
	return size;
}

/*
 * Create or attach to the store; the postmaster also loads the saved file.
 */
/*
 * At server start (shared memory just created): load a saved file with
 * load, or, with scale_advisor.save off, remove the file a run that saved
 * it left, so that turning saving on again never brings back old data.
 */
void
sa_load_saved(const char *path, void (*load) (void))
{
	if (sa_save_enabled)
		load();
	else
		unlink(path);
}

static void
store_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;
	int			i;

	sa_shared = NULL;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	sa_shared = ShmemInitStruct("scale_advisor store", sizeof(SaShared), &found);
	sa_entries = ShmemInitStruct("scale_advisor entries",
								 mul_size(sa_max_entries, sizeof(SaEntry)), &found);
	sa_texts = ShmemInitStruct("scale_advisor texts",
							   mul_size(sa_max_entries, sa_max_query_length + 1), &found);
	sa_free = ShmemInitStruct("scale_advisor free slots",
							  mul_size(sa_max_entries, sizeof(int)), &found);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(SaKey);
	info.entrysize = sizeof(SaHashEntry);
	sa_hash = ShmemInitHash("scale_advisor hash", sa_max_entries, sa_max_entries,
							&info, HASH_ELEM | HASH_BLOBS);

	if (!found)
	{
		sa_shared->lock = &(GetNamedLWLockTranche("scale_advisor"))->lock;
		SpinLockInit(&sa_shared->mutex);
		sa_shared->evictions = 0;
		sa_shared->evictions_since_decay = 0;
		sa_shared->stats_reset = GetCurrentTimestamp();
		sa_shared->last_save = 0;
		sa_shared->saves = 0;
		sa_shared->save_failures = 0;
		sa_shared->loaded_entries = 0;
		for (i = 0; i < sa_max_entries; i++)
		{
			memset(&sa_entries[i], 0, sizeof(SaEntry));
			SpinLockInit(&sa_entries[i].mutex);
			/* hand out low slots first */
			sa_free[i] = sa_max_entries - 1 - i;
		}
		sa_shared->nfree = sa_max_entries;
	}
	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
	{
		on_shmem_exit(store_shmem_shutdown, (Datum) 0);
		if (!found)
			sa_load_saved(SA_STAT_FILE, store_load);
	}
}

/*
 * Postmaster exit: save the store unless the exit is a crash.
 */
static void
store_shmem_shutdown(int code, Datum arg)
{
	if (code != 0 || sa_shared == NULL || !sa_save_enabled)
		return;
	(void) store_write_file();
}

/*
 * True when the store's shared memory is there.
 */
bool
sa_store_attached(void)
{
	return sa_shared != NULL;
}

/*
 * Build the key for a hash lookup (padding bytes must be zero).
 */
static inline void
key_copy(SaKey *dst, const SaKey *src)
{
	memset(dst, 0, sizeof(SaKey));
	dst->userid = src->userid;
	dst->dbid = src->dbid;
	dst->queryid = src->queryid;
	dst->toplevel = src->toplevel;
}

/*
 * Equal keys?
 */
static inline bool
key_equal(const SaKey *a, const SaKey *b)
{
	return a->queryid == b->queryid && a->userid == b->userid &&
		a->dbid == b->dbid && a->toplevel == b->toplevel;
}

/*
 * The local cache line of a key.
 */
static inline SaLocalRef *
local_ref(const SaKey *key)
{
	uint64		h = (key->queryid ^ (key->queryid >> 29) ^
					 ((uint64) key->userid << 7) ^ key->dbid ^ (key->toplevel ? 0x55 : 0));

	if (unlikely(!local_cache_ready))
	{
		int			i;

		for (i = 0; i < SA_LOCAL_CACHE_SIZE; i++)
			local_cache[i].slot = -1;
		local_cache_ready = true;
	}
	return &local_cache[h & (SA_LOCAL_CACHE_SIZE - 1)];
}

/*
 * The lock preconditions stated below ("caller holds the lock"), checked in
 * assertion-enabled builds.  The postmaster loading the saved file at start
 * is alone and takes no lock.
 */
#define SA_ASSERT_LOCKED() \
	Assert(!IsUnderPostmaster || LWLockHeldByMe(sa_shared->lock))
#define SA_ASSERT_LOCKED_EXCLUSIVE() \
	Assert(!IsUnderPostmaster || \
		   LWLockHeldByMeInMode(sa_shared->lock, LW_EXCLUSIVE))

/*
 * Remember where a key lives.  Caller holds the lock.
 */
static inline void
local_remember(const SaKey *key, int slot)
{
	SaLocalRef *r = local_ref(key);

	SA_ASSERT_LOCKED();

	r->key = *key;
	r->slot = slot;
	r->generation = sa_entries[slot].generation;
}

/*
 * Slot of a key from the local cache, validated, or -1.  Caller holds the
 * lock (shared is enough).
 */
static inline int
local_lookup(const SaKey *key)
{
	SaLocalRef *r = local_ref(key);
	SaEntry    *e;

	SA_ASSERT_LOCKED();
	if (r->slot < 0 || !key_equal(&r->key, key))
		return -1;
	e = &sa_entries[r->slot];
	if (!e->in_use || e->generation != r->generation || !key_equal(&e->key, key))
		return -1;
	return r->slot;
}

/*
 * Slot of a key, or -1.  Caller holds the lock.
 */
static inline int
slot_lookup(const SaKey *key)
{
	SaKey		k;
	SaHashEntry *he;

	SA_ASSERT_LOCKED();
	key_copy(&k, key);
	he = (SaHashEntry *) hash_search(sa_hash, &k, HASH_FIND, NULL);
	return he ? he->slot : -1;
}

/*
 * Evict one entry: the least used among a random sample.  Caller holds the
 * lock exclusively and the store is full.
 */
static void
evict_one(void)
{
	int			victim = -1;
	double		best = 0.0;
	int			i;

	SA_ASSERT_LOCKED_EXCLUSIVE();
	for (i = 0; i < SA_EVICT_SAMPLE; i++)
	{
		int			s = (int) sa_random_range(sa_max_entries);

		if (!sa_entries[s].in_use)
			continue;
		if (victim < 0 || sa_entries[s].c.usage < best)
		{
			victim = s;
			best = sa_entries[s].c.usage;
		}
	}
	/* a sample that hit no used slot cannot happen when full; be safe */
	for (i = 0; victim < 0 && i < sa_max_entries; i++)
		if (sa_entries[i].in_use)
			victim = i;
	if (victim < 0)
		return;

	entry_remove(victim);
	SpinLockAcquire(&sa_shared->mutex);
	sa_shared->evictions++;
	SpinLockRelease(&sa_shared->mutex);

	if (++sa_shared->evictions_since_decay >= sa_max_entries / 2)
	{
		/* age every entry, so that old popularity fades */
		for (i = 0; i < sa_max_entries; i++)
			sa_entries[i].c.usage *= 0.5;
		sa_shared->evictions_since_decay = 0;
	}
}

/*
 * Remove the entry in a slot.  Caller holds the lock exclusively.
 */
static void
entry_remove(int slot)
{
	SaEntry    *e = &sa_entries[slot];
	SaKey		k;

	SA_ASSERT_LOCKED_EXCLUSIVE();
	if (!e->in_use)
		return;
	key_copy(&k, &e->key);
	hash_search(sa_hash, &k, HASH_REMOVE, NULL);
	e->in_use = false;
	e->generation++;
	sa_free[sa_shared->nfree++] = slot;
}

/*
 * Create the entry of a key with its text (cut to max_query_length at a
 * character boundary); return its slot.  Caller holds the lock exclusively
 * and has checked that the key is absent.
 */
static int
entry_create(const SaKey *key, const char *text, int len)
{
	SaHashEntry *he;
	SaEntry    *e;
	SaKey		k;
	bool		found;
	int			slot;

	SA_ASSERT_LOCKED_EXCLUSIVE();
	if (sa_shared->nfree == 0)
		evict_one();
	if (sa_shared->nfree == 0)
		return -1;

	key_copy(&k, key);
	he = (SaHashEntry *) hash_search(sa_hash, &k, HASH_ENTER_NULL, &found);
	if (he == NULL)
		return -1;
	if (found)
		return he->slot;

	slot = sa_free[--sa_shared->nfree];
	he->slot = slot;
	e = &sa_entries[slot];
	e->key = k;
	e->in_use = true;
	e->generation++;
	e->encoding = GetDatabaseEncoding();
	memset(&e->c, 0, sizeof(SaCounters));
	e->c.first_seen = IsUnderPostmaster ? GetCurrentStatementStartTimestamp() : 0;
	e->c.last_seen = e->c.first_seen;
	e->c.usage = 1.0;
	e->samples_left = SA_SAMPLE_TRIES;
	sa_sketch_init(&e->sketch);

	if (text == NULL)
		len = 0;
	if (len > sa_max_query_length)
		len = pg_mbcliplen(text, len, sa_max_query_length);
	if (len > 0)
		memcpy(SLOT_TEXT(slot), text, len);
	SLOT_TEXT(slot)[len] = '\0';
	e->query_len = len;
	return slot;
}

/*
 * True when the key has an entry.
 */
bool
sa_store_has(const SaKey *key)
{
	int			slot;

	SaLocalRef *r;

	if (!sa_shared)
		return false;

	/* unlocked peek at the cached slot: a stale answer is harmless */
	r = local_ref(key);
	if (r->slot >= 0 && key_equal(&r->key, key) &&
		sa_entries[r->slot].generation == r->generation)
		return true;

	LWLockAcquire(sa_shared->lock, LW_SHARED);
	slot = slot_lookup(key);
	if (slot >= 0)
		local_remember(key, slot);
	LWLockRelease(sa_shared->lock);
	return slot >= 0;
}

/*
 * Create the key's entry with the given text unless it exists.
 */
void
sa_store_create(const SaKey *key, const char *text, int len)
{
	int			slot;

	if (!sa_shared)
		return;
	LWLockAcquire(sa_shared->lock, LW_EXCLUSIVE);
	slot = slot_lookup(key);
	if (slot < 0)
		slot = entry_create(key, text, len);
	if (slot >= 0)
		local_remember(key, slot);
	LWLockRelease(sa_shared->lock);
}

/*
 * Add one finished execution to the key's entry, creating the entry (with
 * the statement's own text) when it is missing.  Returns true when the
 * history wants an example of this execution: on the first SA_SAMPLE_TRIES
 * executions since the entry was created or loaded, then once every
 * SA_SAMPLE_EVERY (see snapshot.c).
 */
bool
sa_store_record(const SaKey *key, const char *source_text,
				int stmt_location, int stmt_len, const SaExecution *ex)
{
	SaEntry    *e;
	SaCounters *c;
	int			slot;
	int			bucket;
	bool		want_sample = false;

	if (!sa_shared)
		return false;

	/* nothing that can be done before the locks is done under them */
	bucket = sa_sketch_bucket(ex->exec_ms);

	LWLockAcquire(sa_shared->lock, LW_SHARED);
	slot = local_lookup(key);
	if (slot < 0)
	{
		slot = slot_lookup(key);
		if (slot >= 0)
			local_remember(key, slot);
	}
	if (slot < 0)
	{
		const char *text = source_text;
		int			loc = stmt_location;
		int			len = stmt_len;

		LWLockRelease(sa_shared->lock);
		if (text)
			text = CleanQuerytext(text, &loc, &len);

		else
			len = 0;
		LWLockAcquire(sa_shared->lock, LW_EXCLUSIVE);
		slot = slot_lookup(key);
		if (slot < 0)
			slot = entry_create(key, text, len);
		if (slot < 0)
		{
			LWLockRelease(sa_shared->lock);
			return false;
		}
		local_remember(key, slot);
	}

	e = &sa_entries[slot];
	c = &e->c;
	SpinLockAcquire(&e->mutex);
	c->calls++;
	c->rows += ex->rows;
	c->total_exec += ex->exec_ms;
	if (c->calls == 1)
	{
		c->min_exec = ex->exec_ms;
		c->max_exec = ex->exec_ms;
		c->mean_exec = ex->exec_ms;
		c->sum_var_exec = 0.0;
	}
	else
	{
		double		old_mean = c->mean_exec;

		c->mean_exec += (ex->exec_ms - old_mean) / c->calls;
		c->sum_var_exec += (ex->exec_ms - old_mean) * (ex->exec_ms - c->mean_exec);
		if (ex->exec_ms < c->min_exec)
			c->min_exec = ex->exec_ms;
		if (ex->exec_ms > c->max_exec)
			c->max_exec = ex->exec_ms;
	}
	if (ex->planned)
	{
		c->plans++;
		c->total_plan += ex->plan_ms;
	}
	if (ex->bufusage)
	{
		const BufferUsage *b = ex->bufusage;

		c->shared_blks_hit += b->shared_blks_hit;
		c->shared_blks_read += b->shared_blks_read;
		c->shared_blks_dirtied += b->shared_blks_dirtied;
		c->shared_blks_written += b->shared_blks_written;
		c->local_blks_hit += b->local_blks_hit;
		c->local_blks_read += b->local_blks_read;
		c->local_blks_dirtied += b->local_blks_dirtied;
		c->local_blks_written += b->local_blks_written;
		c->temp_blks_read += b->temp_blks_read;
		c->temp_blks_written += b->temp_blks_written;
	}
	if (ex->walusage)
	{
		c->wal_records += ex->walusage->wal_records;
		c->wal_fpi += ex->walusage->wal_fpi;
		c->wal_bytes += ex->walusage->wal_bytes;
	}
	c->last_seen = GetCurrentStatementStartTimestamp();
	c->usage += 1.0;
	sa_sketch_add_bucket(&e->sketch, bucket);
	if (ex->history)
	{
		SaHist	   *h = &c->hist;

		if (h->calls == 0)
			h->first_seen = c->last_seen;
		h->calls++;
		h->rows += ex->rows;
		h->total_ms += ex->exec_ms;
		h->buckets[sa_hist_of_sketch(bucket)]++;
		if (e->samples_left > 0)
		{
			e->samples_left--;
			want_sample = true;
		}
		else
			want_sample = (h->calls & (SA_SAMPLE_EVERY - 1)) == 0;
	}
	SpinLockRelease(&e->mutex);

	LWLockRelease(sa_shared->lock);
	return want_sample;
}

/*
 * Count a statement that ended in an error, creating its entry with text
 * when it is missing (text NULL: the error is then not counted).  Runs from
 * transaction abort callbacks: must not throw.
 */
void
sa_store_record_error(const SaKey *key, const char *text, int len)
{
	int			slot;
	SaEntry    *e;

	if (!sa_shared)
		return;
	LWLockAcquire(sa_shared->lock, LW_SHARED);
	slot = slot_lookup(key);
	if (slot < 0)
	{
		LWLockRelease(sa_shared->lock);
		if (text == NULL)
			return;				/* no entry and no text to make one with */
		LWLockAcquire(sa_shared->lock, LW_EXCLUSIVE);
		slot = slot_lookup(key);
		if (slot < 0)
			slot = entry_create(key, text, len);
		if (slot < 0)
		{
			LWLockRelease(sa_shared->lock);
			return;
		}
	}
	e = &sa_entries[slot];
	SpinLockAcquire(&e->mutex);
	e->c.errors++;
	e->c.usage += 1.0;
	e->c.last_seen = GetCurrentStatementStartTimestamp();
	SpinLockRelease(&e->mutex);
	LWLockRelease(sa_shared->lock);
}

/*
 * Remove the entries matching the filter (0 matches anything); with no
 * filter at all, also restart the store-wide figures.  Returns how many
 * entries went.
 */
int64
sa_store_reset(Oid userid, Oid dbid, uint64 queryid)
{
	int64		removed = 0;
	int			i;

	LWLockAcquire(sa_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < sa_max_entries; i++)
	{
		SaEntry    *e = &sa_entries[i];

		if (!e->in_use)
			continue;
		if ((userid == InvalidOid || e->key.userid == userid) &&
			(dbid == InvalidOid || e->key.dbid == dbid) &&
			(queryid == 0 || e->key.queryid == queryid))
		{
			entry_remove(i);
			removed++;
		}
	}
	if (userid == InvalidOid && dbid == InvalidOid && queryid == 0)
	{
		SpinLockAcquire(&sa_shared->mutex);
		sa_shared->evictions = 0;
		sa_shared->stats_reset = GetCurrentTimestamp();
		SpinLockRelease(&sa_shared->mutex);
		sa_shared->evictions_since_decay = 0;
	}
	LWLockRelease(sa_shared->lock);
	return removed;
}

/*
 * Restart every entry's history histogram (reset_history()).
 */
void
sa_store_hist_reset(void)
{
	int			i;

	LWLockAcquire(sa_shared->lock, LW_SHARED);
	for (i = 0; i < sa_max_entries; i++)
	{
		SaEntry    *e = &sa_entries[i];

		if (!e->in_use)
			continue;
		SpinLockAcquire(&e->mutex);
		memset(&e->c.hist, 0, sizeof(SaHist));
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(sa_shared->lock);
}

/*
 * Store-wide figures.
 */
void
sa_store_get_info(SaStoreInfo *info)
{
	memset(info, 0, sizeof(SaStoreInfo));
	LWLockAcquire(sa_shared->lock, LW_SHARED);
	info->entries = sa_max_entries - sa_shared->nfree;
	LWLockRelease(sa_shared->lock);
	info->max_entries = sa_max_entries;
	info->memory_bytes = store_shmem_size();
	info->entry_bytes = sizeof(SaEntry) + sizeof(SaHashEntry) + sizeof(int);
	info->text_bytes_per_entry = sa_max_query_length + 1;
	SpinLockAcquire(&sa_shared->mutex);
	info->evictions = sa_shared->evictions;
	info->stats_reset = sa_shared->stats_reset;
	info->last_save = sa_shared->last_save;
	info->saves = sa_shared->saves;
	info->save_failures = sa_shared->save_failures;
	info->loaded_entries = sa_shared->loaded_entries;
	SpinLockRelease(&sa_shared->mutex);
}

/*
 * Call visit for every entry, holding the lock in shared mode.  The text
 * pointer in the snapshot is only valid during the call.  An error thrown
 * by visit releases the lock with the transaction's abort.
 */
void
sa_store_read_all(sa_store_visitor visit, void *arg)
{
	int			i;
	SaEntrySnapshot snap;

	LWLockAcquire(sa_shared->lock, LW_SHARED);
	for (i = 0; i < sa_max_entries; i++)
	{
		SaEntry    *e = &sa_entries[i];

		if (!e->in_use)
			continue;
		snap.key = e->key;
		snap.encoding = e->encoding;
		snap.query_len = e->query_len;
		snap.query = SLOT_TEXT(i);
		SpinLockAcquire(&e->mutex);
		snap.c = e->c;
		snap.sketch = e->sketch;
		SpinLockRelease(&e->mutex);
		visit(&snap, arg);
	}
	LWLockRelease(sa_shared->lock);
}

/*
 * Write the store to its file; called by the saver worker (which saves the
 * examples of the readiness history with it, worker.c) and by the
 * postmaster at shutdown.
 */
bool
sa_store_save(void)
{
	bool		ok;

	if (!sa_shared || !sa_save_enabled)
		return false;
	ok = store_write_file();
	return ok;
}

/* file record header */
typedef struct SaFileRecord
{
	SaKey		key;
	SaCounters	c;
	SaSketch	sketch;
	int32		encoding;
	int32		query_len;
} SaFileRecord;

/*
 * The record of version 2 files (scale_advisor 1.0): the history histogram
 * had 48 buckets of its own.  They are loaded with their counters and
 * sketch; their history starts afresh.
 */
typedef struct SaHistV2
{
	int64		calls;
	int64		rows;
	double		total_ms;
	TimestampTz first_seen;
	int64		buckets[48];
} SaHistV2;

typedef struct SaCountersV2
{
	int64		calls;
	int64		errors;
	int64		rows;
	int64		plans;
	double		total_exec;
	double		min_exec;
	double		max_exec;
	double		mean_exec;
	double		sum_var_exec;
	double		total_plan;
	int64		shared_blks_hit;
	int64		shared_blks_read;
	int64		shared_blks_dirtied;
	int64		shared_blks_written;
	int64		local_blks_hit;
	int64		local_blks_read;
	int64		local_blks_dirtied;
	int64		local_blks_written;
	int64		temp_blks_read;
	int64		temp_blks_written;
	int64		wal_records;
	int64		wal_fpi;
	uint64		wal_bytes;
	TimestampTz first_seen;
	TimestampTz last_seen;
	double		usage;
	SaHistV2	hist;
} SaCountersV2;

typedef struct SaFileRecordV2
{
	SaKey		key;
	SaCountersV2 c;
	SaSketch	sketch;
	int32		encoding;
	int32		query_len;
} SaFileRecordV2;

/* the counters of a version 2 record, with an empty history histogram */
static void
counters_from_v2(SaCounters *c, const SaCountersV2 *o)
{
	memset(c, 0, sizeof(SaCounters));
	c->calls = o->calls;
	c->errors = o->errors;
	c->rows = o->rows;
	c->plans = o->plans;
	c->total_exec = o->total_exec;
	c->min_exec = o->min_exec;
	c->max_exec = o->max_exec;
	c->mean_exec = o->mean_exec;
	c->sum_var_exec = o->sum_var_exec;
	c->total_plan = o->total_plan;
	c->shared_blks_hit = o->shared_blks_hit;
	c->shared_blks_read = o->shared_blks_read;
	c->shared_blks_dirtied = o->shared_blks_dirtied;
	c->shared_blks_written = o->shared_blks_written;
	c->local_blks_hit = o->local_blks_hit;
	c->local_blks_read = o->local_blks_read;
	c->local_blks_dirtied = o->local_blks_dirtied;
	c->local_blks_written = o->local_blks_written;
	c->temp_blks_read = o->temp_blks_read;
	c->temp_blks_written = o->temp_blks_written;
	c->wal_records = o->wal_records;
	c->wal_fpi = o->wal_fpi;
	c->wal_bytes = o->wal_bytes;
	c->first_seen = o->first_seen;
	c->last_seen = o->last_seen;
	c->usage = o->usage;
}

typedef struct SaFileHeader
{
	uint32		magic;
	uint32		version;
	uint32		record_size;
	int32		count;
	int64		evictions;
	TimestampTz stats_reset;
} SaFileHeader;

/*
 * A copy of the store taken for writing it to disk: the header, the records
 * and, one after the other, their texts.
 */
typedef struct SaSaveCopy
{
	SaFileHeader hdr;
	SaFileRecord *recs;
	char	   *texts;			/* the records' texts, back to back */
	Size		text_bytes;
} SaSaveCopy;

/*
 * Copy every entry into memory of cxt, so that the file can be written
 * without holding the store's lock: a slow or full disk must not stall the
 * backends that wait for the exclusive lock to create entries.  In a
 * backend the lock is held in shared mode during the copy, a memory copy
 * of each entry; the postmaster at shutdown has no other process to fear.  Returns false, having logged why, when
 * the memory cannot be had.
 */
static bool
store_copy_for_save(SaSaveCopy *copy, MemoryContext cxt)
{
	bool		locked = IsUnderPostmaster;
	int			used = 0;
	Size		text_bytes = 0;
	int			count = 0;
	char	   *t;
	int			i;

	memset(copy, 0, sizeof(SaSaveCopy));
	copy->hdr.magic = SA_FILE_MAGIC;
	copy->hdr.version = SA_FILE_VERSION;
	copy->hdr.record_size = sizeof(SaFileRecord);

	if (locked)
		LWLockAcquire(sa_shared->lock, LW_SHARED);

	/*
	 * Which slots are used and their texts' lengths only change under the
	 * exclusive lock: count them first, allocate, then copy.
	 */
	for (i = 0; i < sa_max_entries; i++)
	{
		if (!sa_entries[i].in_use)
			continue;
		used++;
		text_bytes += sa_entries[i].query_len;
	}
	copy->recs = MemoryContextAllocExtended(cxt,
											mul_size(Max(used, 1), sizeof(SaFileRecord)),
											MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	copy->texts = MemoryContextAllocExtended(cxt, Max(text_bytes, 1),
											 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (copy->recs == NULL || copy->texts == NULL)
	{
		if (locked)
			LWLockRelease(sa_shared->lock);
		ereport(LOG,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not save scale_advisor statistics: out of memory"),
				 errdetail("Copying %d statements needed %zu bytes.",
						   used, (Size) used * sizeof(SaFileRecord) + text_bytes)));
		return false;
	}

	SpinLockAcquire(&sa_shared->mutex);
	copy->hdr.evictions = sa_shared->evictions;
	copy->hdr.stats_reset = sa_shared->stats_reset;
	SpinLockRelease(&sa_shared->mutex);

	t = copy->texts;
	for (i = 0; i < sa_max_entries && count < used; i++)
	{
		SaEntry    *e = &sa_entries[i];
		SaFileRecord *rec = &copy->recs[count];

		if (!e->in_use)
			continue;
		rec->key = e->key;
		rec->encoding = e->encoding;
		rec->query_len = e->query_len;
		SpinLockAcquire(&e->mutex);
		rec->c = e->c;
		rec->sketch = e->sketch;
		SpinLockRelease(&e->mutex);
		if (rec->query_len > 0)
		{
			memcpy(t, SLOT_TEXT(i), rec->query_len);
			t += rec->query_len;
		}
		count++;
	}

	if (locked)
		LWLockRelease(sa_shared->lock);

	copy->hdr.count = count;
	copy->text_bytes = t - copy->texts;
	return true;
}

/*
 * Write every entry to a temporary file, then rename it into place.  The
 * entries are copied first (store_copy_for_save) and written with no lock
 * held.  On any failure (a full disk, an I/O error) the temporary file is
 * removed and the file saved before stays as it was.
 */
static bool
store_write_file(void)
{
	MemoryContext cxt;
	MemoryContext old;
	SaSaveCopy	copy;
	FILE	   *f = NULL;
	const char *t;
	int			i;
	bool		ok = true;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "scale_advisor save",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	if (!store_copy_for_save(&copy, cxt))
		goto failed;

	f = AllocateFile(SA_STAT_FILE_TMP, PG_BINARY_W);
	if (f == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write scale_advisor file \"%s\": %m",
						SA_STAT_FILE_TMP)));
		goto failed;
	}

	if (fwrite(&copy.hdr, sizeof(SaFileHeader), 1, f) != 1)
		ok = false;
	t = copy.texts;
	for (i = 0; ok && i < copy.hdr.count; i++)
	{
		SaFileRecord *rec = &copy.recs[i];

		if (fwrite(rec, sizeof(SaFileRecord), 1, f) != 1 ||
			(rec->query_len > 0 && fwrite(t, rec->query_len, 1, f) != 1))
			ok = false;
		t += rec->query_len;
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
						SA_STAT_FILE_TMP),
				 errdetail("The statistics saved before, if any, are kept.")));
		unlink(SA_STAT_FILE_TMP);
		goto failed;
	}
	if (durable_rename(SA_STAT_FILE_TMP, SA_STAT_FILE, LOG) != 0)
	{
		unlink(SA_STAT_FILE_TMP);
		goto failed;
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	SpinLockAcquire(&sa_shared->mutex);
	sa_shared->saves++;
	sa_shared->last_save = GetCurrentTimestamp();
	SpinLockRelease(&sa_shared->mutex);
	return true;

failed:
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	SpinLockAcquire(&sa_shared->mutex);
	sa_shared->save_failures++;
	SpinLockRelease(&sa_shared->mutex);
	return false;
}

/*
 * Load the saved file into a fresh store (postmaster, no lock needed).  A
 * file that does not read back whole is ignored with a LOG message.
 */
static void
store_load(void)
{
	FILE	   *f;
	SaFileHeader hdr;
	SaFileRecord rec;
	char	   *buf = NULL;
	int			i;
	int			loaded = 0;

	f = AllocateFile(SA_STAT_FILE, PG_BINARY_R);
	if (f == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read scale_advisor file \"%s\": %m",
							SA_STAT_FILE)));
		return;
	}
	if (fread(&hdr, sizeof(hdr), 1, f) != 1 ||
		hdr.magic != SA_FILE_MAGIC ||
		!((hdr.version == SA_FILE_VERSION &&
		   hdr.record_size == sizeof(SaFileRecord)) ||
		  (hdr.version == 2 &&
		   hdr.record_size == sizeof(SaFileRecordV2))) ||
		hdr.count < 0)
	{
		ereport(LOG,
				(errmsg("ignoring scale_advisor file \"%s\": not written by this version",
						SA_STAT_FILE)));
		FreeFile(f);
		return;
	}

	buf = palloc(1024 * 1024 + 1);
	for (i = 0; i < hdr.count; i++)
	{
		int			slot;
		int			len;
		bool		ok;

		if (hdr.version == 2)
		{
			SaFileRecordV2 old;

			ok = fread(&old, sizeof(old), 1, f) == 1;
			if (ok)
			{
				rec.key = old.key;
				counters_from_v2(&rec.c, &old.c);
				rec.sketch = old.sketch;
				rec.encoding = old.encoding;
				rec.query_len = old.query_len;
			}
		}
		else
			ok = fread(&rec, sizeof(rec), 1, f) == 1;
		if (!ok ||
			rec.query_len < 0 || rec.query_len > 1024 * 1024 ||
			(rec.query_len > 0 && fread(buf, rec.query_len, 1, f) != 1))
		{
			ereport(LOG,
					(errmsg("scale_advisor file \"%s\" is truncated: %d of %d statements loaded",
							SA_STAT_FILE, loaded, hdr.count)));
			break;
		}
		if (sa_shared->nfree == 0)
			break;				/* scale_advisor.max was lowered */
		if (slot_lookup(&rec.key) >= 0)
			continue;

		/*
		 * A text longer than scale_advisor.max_query_length (lowered since
		 * the save) is cut here at a character of the statement's own
		 * encoding: entry_create would cut it in the postmaster's, which is
		 * SQL_ASCII, possibly in the middle of a character.
		 */
		len = rec.query_len;
		if (len > sa_max_query_length)
			len = PG_VALID_BE_ENCODING(rec.encoding) ?
				pg_encoding_mbcliplen(rec.encoding, buf, len, sa_max_query_length) :
				sa_max_query_length;
		slot = entry_create(&rec.key, buf, len);
		if (slot < 0)
			break;
		sa_entries[slot].c = rec.c;
		sa_entries[slot].sketch = rec.sketch;
		sa_entries[slot].encoding = rec.encoding;
		loaded++;
	}
	pfree(buf);
	FreeFile(f);
	sa_shared->evictions = hdr.evictions;
	sa_shared->stats_reset = hdr.stats_reset;
	sa_shared->loaded_entries = loaded;
}
