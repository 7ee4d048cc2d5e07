/*-------------------------------------------------------------------------
 *
 * history.c
 *		Statement history for the scale readiness views: the latency
 *		histograms the store counts per statement, read per (database, query
 *		identifier) by _history(), and up to SA_SAMPLE_SLOTS captured
 *		examples of each statement.
 *
 * The statement store keeps cumulative figures; the regressions view needs
 * the latency distribution of a window of time (the last hour against the
 * day before).  Quantiles cannot be subtracted, histograms can: so every
 * store entry also counts its executions in a histogram whose buckets are
 * those of the latency sketch from 10 us to 110 s (SA_HIST_FIRST and
 * SA_HIST_BUCKETS, hist.h), never scaled, so that a window's quantiles are
 * as accurate as the store's (2 %).  Counting
 * costs an increment under the entry's spinlock the store takes anyway.
 * _history() sums the entries of each (database, query identifier); a
 * snapshot copies those cumulative counts (modulo 2^32) into a table; the
 * difference of two snapshots is the histogram of the time between them.
 * Snapshots taken by version 1.0 hold 48 buckets of bounds growing by
 * sqrt(2) from 10 microseconds; the functions of hist.c still read them.
 *
 * This file keeps up to SA_SAMPLE_SLOTS examples of each statement as it
 * ran: the text of the statement (with its literals, when the client sent
 * them inline) and the values and types of its bound parameters (extended
 * protocol), so that workload_script() can replay the statement mix with
 * real, varied values.  The store asks for an example on the first
 * executions of an entry after it was created or loaded at server start,
 * then once every SA_SAMPLE_EVERY (SaStatement.want_sample); a new example
 * replaces the oldest, an example already kept is not added twice.  The
 * examples are saved to pg_stat/scale_advisor_examples.stat with the
 * statement store (scale_advisor.save: by the saver worker and by the
 * postmaster at a clean shutdown) and loaded when the postmaster creates
 * shared memory, so that a restart does not empty the workload script; a
 * record that is not well formed is skipped.  Examples are
 * shown only to the role that ran them and to members of
 * pg_read_all_stats, like the statement text of pg_stat_statements, and
 * _history() shows other roles' statements only to those members; the
 * bound parameter values of an example only to the role that ran it and to
 * superusers (src/privs.c holds both rules).
 * scale_advisor.capture_parameters = off stops capturing parameter values;
 * scale_advisor.track_history = off stops counting and capturing.
 *
 * Locking: the examples' hash table is protected by one LWLock of the
 * tranche "scale_advisor_history".  Looking examples up and copying them
 * takes it shared; adding or removing examples takes it exclusively.  When
 * the table is full (scale_advisor.history_max statements), the tenth of
 * the statements least recently confirmed is evicted at once.  An example
 * is built (output functions of parameter types and all) before the lock
 * is taken: nothing that can throw runs under it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <unistd.h>

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "commands/dbcommands.h"
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
#include "shmem.h"
#include "store.h"

/* room for the examples of one statement */
#define SA_SAMPLE_TEXT 2048		/* longest text of an example */
#define SA_SAMPLE_VALUES 1024	/* longest parameter values of an example */
#define SA_SAMPLE_MAXPARAMS 32
#define SA_SAMPLE_SLOTS 4		/* examples kept per statement */
#define SA_SAMPLE_AREA 4096		/* bytes they share */

typedef struct SaHistKey
{
	Oid			dbid;
	uint64		queryid;
} SaHistKey;

/*
 * The examples of one statement.  area holds nsamples examples, oldest
 * first, each at a 4-byte aligned offset: an SaSampleHdr, the parameter
 * types (Oid[nparams]), the text (NUL-terminated) and the values (each
 * NUL-terminated, "" for a NULL).
 */
typedef struct SaHistEntry
{
	SaHistKey	key;			/* hash key, must be first */
	slock_t		mutex;			/* protects last_seen */
	TimestampTz last_seen;		/* last time the store asked for it */
	int			nsamples;
	int			used;			/* bytes of area in use */
	char		area[SA_SAMPLE_AREA];
} SaHistEntry;

typedef struct SaSampleHdr
{
	uint32		size;			/* bytes of the example, a multiple of 4 */
	Oid			userid;			/* role that ran it */
	TimestampTz taken;			/* when */
	uint32		nullmask;
	uint16		nparams;
	uint16		text_len;
	uint16		values_len;
	uint16		pad;
} SaSampleHdr;

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
	int			text_len;
	int			values_len;
	Oid			ptypes[SA_SAMPLE_MAXPARAMS];
	char		txt[SA_SAMPLE_TEXT];
	char		values[SA_SAMPLE_VALUES];
} SaSample;

/* GUCs */
static int	sa_history_max = 2000;
static bool sa_capture_parameters = true;

static SaHistShared *hist = NULL;
static HTAB *hist_htab = NULL;

/* the examples are saved with the store (scale_advisor.save) */
#define SA_EXAMPLES_FILE		"pg_stat/scale_advisor_examples.stat"
#define SA_EXAMPLES_FILE_TMP	SA_EXAMPLES_FILE ".tmp"
#define SA_EXAMPLES_MAGIC		0x5CA1AE01
#define SA_EXAMPLES_VERSION		1

typedef struct SaExamplesHeader
{
	uint32		magic;
	uint32		version;
	uint32		area_size;
	int32		count;
} SaExamplesHeader;

static void sa_hist_load(void);
static void sa_hist_shutdown(int code, Datum arg);

PG_FUNCTION_INFO_V1(scale_advisor_history);
PG_FUNCTION_INFO_V1(scale_advisor_history_examples);
PG_FUNCTION_INFO_V1(scale_advisor_history_reset);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_history_1_1, scale_advisor_history);
SA_SQL_FUNCTION_1_1(scale_advisor_history_examples_1_1,
					scale_advisor_history_examples);
SA_SQL_FUNCTION_1_1(scale_advisor_history_reset_1_1,
					scale_advisor_history_reset);

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

	/* the postmaster loads the examples saved, and saves them at exit */
	if (!IsUnderPostmaster)
	{
		on_shmem_exit(sa_hist_shutdown, (Datum) 0);
		if (!found)
			sa_load_saved(SA_EXAMPLES_FILE, sa_hist_load);
	}
}

/* true when an example area read from disk is well formed */
static bool
sa_area_valid(const SaHistEntry *e)
{
	int			off = 0;
	int			n;

	if (e->nsamples < 0 || e->nsamples > SA_SAMPLE_SLOTS ||
		e->used < 0 || e->used > SA_SAMPLE_AREA)
		return false;
	for (n = 0; n < e->nsamples; n++)
	{
		SaSampleHdr hdr;

		if (off + (int) sizeof(SaSampleHdr) > e->used)
			return false;
		memcpy(&hdr, e->area + off, sizeof(SaSampleHdr));
		if (hdr.nparams > SA_SAMPLE_MAXPARAMS || hdr.text_len >= SA_SAMPLE_TEXT ||
			hdr.values_len > SA_SAMPLE_VALUES ||
			hdr.size != INTALIGN(sizeof(SaSampleHdr) + hdr.nparams * sizeof(Oid) +
								 hdr.text_len + 1 + hdr.values_len) ||
			off + (int) hdr.size > e->used ||
			e->area[off + sizeof(SaSampleHdr) + hdr.nparams * sizeof(Oid) + hdr.text_len] != '\0')
			return false;
		/* the values: nparams NUL-terminated strings */
		{
			const char *v = (e->area + off + sizeof(SaSampleHdr) +
							 hdr.nparams * sizeof(Oid) + hdr.text_len + 1);
			int			left = hdr.values_len;
			int			i;

			for (i = 0; i < hdr.nparams; i++)
			{
				int			len = strnlen(v, left);

				if (len >= left)
					return false;
				v += len + 1;
				left -= len + 1;
			}
		}
		off += hdr.size;
	}
	return off == e->used;
}

/*
 * Load the saved examples into the fresh table (postmaster, no lock
 * needed).  A file that does not read back whole is ignored, with a LOG
 * message; an example that is not well formed is skipped.
 */
static void
sa_hist_load(void)
{
	FILE	   *f;
	SaExamplesHeader hdr;
	SaHistEntry *e;
	SaHistEntry rec;
	int			i;

	f = AllocateFile(SA_EXAMPLES_FILE, PG_BINARY_R);
	if (f == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read scale_advisor file \"%s\": %m",
							SA_EXAMPLES_FILE)));
		return;
	}
	if (fread(&hdr, sizeof(hdr), 1, f) != 1 || hdr.magic != SA_EXAMPLES_MAGIC ||
		hdr.version != SA_EXAMPLES_VERSION || hdr.area_size != SA_SAMPLE_AREA ||
		hdr.count < 0)
	{
		ereport(LOG,
				(errmsg("ignoring scale_advisor file \"%s\": not written by this version",
						SA_EXAMPLES_FILE)));
		FreeFile(f);
		return;
	}
	for (i = 0; i < hdr.count && hash_get_num_entries(hist_htab) < sa_history_max; i++)
	{
		bool		found;

		memset(&rec, 0, sizeof(rec));
		if (fread(&rec.key, sizeof(rec.key), 1, f) != 1 ||
			fread(&rec.last_seen, sizeof(rec.last_seen), 1, f) != 1 ||
			fread(&rec.nsamples, sizeof(rec.nsamples), 1, f) != 1 ||
			fread(&rec.used, sizeof(rec.used), 1, f) != 1 ||
			rec.used < 0 || rec.used > SA_SAMPLE_AREA ||
			(rec.used > 0 && fread(rec.area, rec.used, 1, f) != 1))
		{
			ereport(LOG,
					(errmsg("scale_advisor file \"%s\" is truncated: %d of %d statements loaded",
							SA_EXAMPLES_FILE, i, hdr.count)));
			break;
		}
		if (!sa_area_valid(&rec) || rec.nsamples == 0)
			continue;
		e = hash_search(hist_htab, &rec.key, HASH_ENTER_NULL, &found);
		if (e == NULL || found)
			continue;
		SpinLockInit(&e->mutex);
		e->last_seen = rec.last_seen;
		e->nsamples = rec.nsamples;
		e->used = rec.used;
		memcpy(e->area, rec.area, rec.used);
	}
	FreeFile(f);
}

/*
 * Write the examples to their file, through a temporary file and a durable
 * rename: copied under the lock (in shared mode) into local memory, written
 * without it.  Called with the store's save (the saver worker, and the
 * postmaster at a clean shutdown).  A failure is logged and leaves the file
 * saved before.
 */
void
sa_hist_save(void)
{
	HASH_SEQ_STATUS status;
	SaHistEntry *e;
	SaHistEntry *all;
	SaExamplesHeader hdr;
	FILE	   *f;
	int			n = 0;
	int			room;
	int			i;
	bool		ok = true;

	if (hist == NULL || hist_htab == NULL)
		return;
	if (IsUnderPostmaster)
		LWLockAcquire(hist->lock, LW_SHARED);
	room = (int) hash_get_num_entries(hist_htab);
	all = MemoryContextAllocExtended(CurrentMemoryContext,
									 mul_size(Max(room, 1), sizeof(SaHistEntry)),
									 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (all != NULL)
	{
		hash_seq_init(&status, hist_htab);
		while ((e = hash_seq_search(&status)) != NULL)
		{
			if (n >= room)
			{
				hash_seq_term(&status);
				break;
			}
			memcpy(&all[n++], e, offsetof(SaHistEntry, area) + e->used);
		}
	}
	if (IsUnderPostmaster)
		LWLockRelease(hist->lock);
	if (all == NULL)
	{
		ereport(LOG,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not save the scale_advisor examples: out of memory")));
		return;
	}

	f = AllocateFile(SA_EXAMPLES_FILE_TMP, PG_BINARY_W);
	if (f == NULL)
		ok = false;
	hdr.magic = SA_EXAMPLES_MAGIC;
	hdr.version = SA_EXAMPLES_VERSION;
	hdr.area_size = SA_SAMPLE_AREA;
	hdr.count = n;
	if (ok && fwrite(&hdr, sizeof(hdr), 1, f) != 1)
		ok = false;
	for (i = 0; ok && i < n; i++)
	{
		e = &all[i];
		if (fwrite(&e->key, sizeof(e->key), 1, f) != 1 ||
			fwrite(&e->last_seen, sizeof(e->last_seen), 1, f) != 1 ||
			fwrite(&e->nsamples, sizeof(e->nsamples), 1, f) != 1 ||
			fwrite(&e->used, sizeof(e->used), 1, f) != 1 ||
			(e->used > 0 && fwrite(e->area, e->used, 1, f) != 1))
			ok = false;
	}
	if (ok && (fflush(f) != 0 || pg_fsync(fileno(f)) != 0))
		ok = false;
	if (f != NULL && FreeFile(f) != 0)
		ok = false;
	pfree(all);
	if (!ok || durable_rename(SA_EXAMPLES_FILE_TMP, SA_EXAMPLES_FILE, LOG) != 0)
	{
		if (!ok)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not write scale_advisor file \"%s\": %m",
							SA_EXAMPLES_FILE_TMP),
					 errdetail("The examples saved before, if any, are kept.")));
		unlink(SA_EXAMPLES_FILE_TMP);
	}
}

/* postmaster exit: save the examples with the store */
static void
sa_hist_shutdown(int code, Datum arg)
{
	if (code == 0 && sa_save_enabled)
		sa_hist_save();
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
	memcpy(sample->txt, src, len);
	sample->txt[len] = '\0';
	sample->text_len = len;

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
	sample->values_len = used;
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

/* bytes an example takes in an entry's area */
static uint32
sa_sample_size(const SaSample *s)
{
	return INTALIGN(sizeof(SaSampleHdr) + s->nparams * sizeof(Oid) +
					s->text_len + 1 + s->values_len);
}

/* the example at offset off of an area: header, types, text, values */
static void
sa_sample_at(const char *area, int off, SaSampleHdr *hdr,
			 const Oid **ptypes, const char **text, const char **values)
{
	const char *p = area + off;

	memcpy(hdr, p, sizeof(SaSampleHdr));
	p += sizeof(SaSampleHdr);
	*ptypes = (const Oid *) p;
	p += hdr->nparams * sizeof(Oid);
	*text = p;
	p += hdr->text_len + 1;
	*values = p;
}

/* true when the entry holds an example with the same text and values */
static bool
sa_sample_known(const SaHistEntry *e, const SaSample *s)
{
	int			off = 0;
	int			n;

	for (n = 0; n < e->nsamples; n++)
	{
		SaSampleHdr hdr;
		const Oid  *ptypes;
		const char *text;
		const char *values;

		sa_sample_at(e->area, off, &hdr, &ptypes, &text, &values);
		if (hdr.text_len == s->text_len && hdr.values_len == s->values_len &&
			hdr.nparams == s->nparams && hdr.nullmask == s->nullmask &&
			memcmp(text, s->txt, s->text_len) == 0 &&
			memcmp(values, s->values, s->values_len) == 0)
			return true;
		off += hdr.size;
	}
	return false;
}

/*
 * Add an example to an entry, after dropping the oldest ones while the
 * entry holds SA_SAMPLE_SLOTS or the new one does not fit.  Caller holds
 * the lock exclusively.
 */
static void
sa_store_sample(SaHistEntry *e, const SaSample *s, Oid userid,
				TimestampTz taken)
{
	uint32		size = sa_sample_size(s);
	SaSampleHdr hdr;
	char	   *p;

	Assert(LWLockHeldByMeInMode(hist->lock, LW_EXCLUSIVE));
	Assert(size <= SA_SAMPLE_AREA);
	while (e->nsamples > 0 &&
		   (e->nsamples >= SA_SAMPLE_SLOTS || e->used + size > SA_SAMPLE_AREA))
	{
		SaSampleHdr first;

		memcpy(&first, e->area, sizeof(SaSampleHdr));
		memmove(e->area, e->area + first.size, e->used - first.size);
		e->used -= first.size;
		e->nsamples--;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.size = size;
	hdr.userid = userid;
	hdr.taken = taken;
	hdr.nullmask = s->nullmask;
	hdr.nparams = s->nparams;
	hdr.text_len = s->text_len;
	hdr.values_len = s->values_len;
	p = e->area + e->used;
	memcpy(p, &hdr, sizeof(hdr));
	p += sizeof(hdr);
	memcpy(p, s->ptypes, s->nparams * sizeof(Oid));
	p += s->nparams * sizeof(Oid);
	memcpy(p, s->txt, s->text_len);
	p[s->text_len] = '\0';
	p += s->text_len + 1;
	memcpy(p, s->values, s->values_len);
	e->used += size;
	e->nsamples++;
}

/*
 * Statement observer: keep an example of the statement when the store asks
 * for one (its first executions, then one in SA_SAMPLE_EVERY).
 */
static pg_noinline void sa_hist_capture(const SaStatement *stmt);

/*
 * statement observer: capture an example when the store asks for one (cheap
 * test inline)
 */
static void
sa_hist_observe(const SaStatement *stmt)
{
	if (likely(!stmt->want_sample) || hist == NULL || !sa_track_history ||
		stmt->queryid == UINT64CONST(0) || stmt->operation == CMD_UTILITY)
		return;
	sa_hist_capture(stmt);
}

/* build the example of a statement and add it to its entry (out of line) */
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

	/* build the example outside the lock */
	sample = palloc(sizeof(SaSample));
	sa_build_sample(stmt, sample);

	LWLockAcquire(hist->lock, LW_SHARED);
	e = hash_search(hist_htab, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		e->last_seen = now;
		SpinLockRelease(&e->mutex);
		found = !sample->valid || sa_sample_known(e, sample);
	}
	else
		found = !sample->valid;
	LWLockRelease(hist->lock);
	if (found)
	{
		pfree(sample);
		return;
	}

	LWLockAcquire(hist->lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(hist_htab) >= sa_history_max &&
		hash_search(hist_htab, &key, HASH_FIND, NULL) == NULL)
		sa_hist_evict();
	e = hash_search(hist_htab, &key, HASH_ENTER_NULL, &found);
	if (e != NULL)
	{
		if (!found)
		{
			SpinLockInit(&e->mutex);
			e->nsamples = 0;
			e->used = 0;
		}
		e->last_seen = now;
		if (!sa_sample_known(e, sample))
			sa_store_sample(e, sample, stmt->userid, now);
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
	SaReader	reader;
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

	if (h->calls <= 0 || !sa_reader_sees(&hc->reader, snap->key.userid))
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
 * The parameter types and values of an example as arrays (values[0] and
 * values[1]): the values NULL for a NULL parameter.
 */
static void
sa_sample_arrays(const SaSampleHdr *hdr, const Oid *ptypes,
				 const char *v, Datum *types, Datum *vals)
{
	Datum		td[SA_SAMPLE_MAXPARAMS];
	Datum		vd[SA_SAMPLE_MAXPARAMS];
	bool		vn[SA_SAMPLE_MAXPARAMS];
	int			dims[1];
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < hdr->nparams; i++)
	{
		Oid			t;

		memcpy(&t, ptypes + i, sizeof(Oid));
		td[i] = ObjectIdGetDatum(t);
		vn[i] = (hdr->nullmask & (((uint32) 1) << i)) != 0;
		vd[i] = vn[i] ? (Datum) 0 : CStringGetTextDatum(v);
		v += strlen(v) + 1;
	}
	dims[0] = hdr->nparams;
	*types = PointerGetDatum(construct_array(td, hdr->nparams, REGTYPEOID, 4,
											 true, TYPALIGN_INT));
	*vals = PointerGetDatum(construct_md_array(vd, vn, 1, dims, lbs, TEXTOID,
											   -1, false, TYPALIGN_INT));
}

/*
 * SQL: scale_advisor._history() returns one row per tracked statement, with
 * its latest example.
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

	hc.reader = sa_reader(true);

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
		Datum	   *bd;
		SaHistEntry *e;
		SaSampleHdr hdr;
		const Oid  *ptypes = NULL;
		const char *text = NULL;
		const char *vals = NULL;
		bool		has_sample = false;
		int			i;

		memset(&hdr, 0, sizeof(hdr));
		/* the examples, copied under the lock; the latest is shown */
		LWLockAcquire(hist->lock, LW_SHARED);
		e = hash_search(hist_htab, &sum->key, HASH_FIND, NULL);
		if (e != NULL && e->nsamples > 0)
		{
			memcpy(copy, e, offsetof(SaHistEntry, area) + e->used);
			has_sample = true;
		}
		LWLockRelease(hist->lock);
		if (has_sample)
		{
			int			off = 0;

			for (i = 0; i < copy->nsamples; i++)
			{
				sa_sample_at(copy->area, off, &hdr, &ptypes, &text, &vals);
				off += hdr.size;
			}
		}

		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(sum->key.dbid);
		values[1] = Int64GetDatum((int64) sum->key.queryid);
		values[2] = ObjectIdGetDatum(has_sample ? hdr.userid : sum->userid);
		values[3] = Int64GetDatum(sum->h.calls);
		values[4] = Int64GetDatum(sum->h.rows);
		values[5] = Float8GetDatum(sum->h.total_ms);
		bd = palloc(sizeof(Datum) * SA_HIST_BUCKETS);
		for (i = 0; i < SA_HIST_BUCKETS; i++)
			bd[i] = Int64GetDatum((int64) sum->h.buckets[i]);
		values[6] = PointerGetDatum(construct_array(bd, SA_HIST_BUCKETS,
													INT8OID, 8,
													FLOAT8PASSBYVAL,
													TYPALIGN_DOUBLE));
		pfree(bd);
		values[7] = TimestampTzGetDatum(sum->h.first_seen);
		values[8] = TimestampTzGetDatum(sum->last_seen);
		nulls[9] = nulls[10] = nulls[11] = true;
		/*
		 * An example's text holds the literals it ran with (values, as its
		 * parameters are): the statement's own role and superusers only;
		 * other readers have the normalized text in query_stats.
		 */
		if (has_sample && sa_reader_sees(&hc.reader, hdr.userid) &&
			sa_may_see_values(hc.reader.me, hdr.userid))
		{
			values[9] = CStringGetTextDatum(text);
			nulls[9] = false;
			if (hdr.nparams > 0)
			{
				sa_sample_arrays(&hdr, ptypes, vals, &values[10], &values[11]);
				nulls[10] = nulls[11] = false;
			}
		}
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
	pfree(copy);
	hash_destroy(hc.sums);

	return (Datum) 0;
}

/*
 * SQL: scale_advisor._history_examples() returns every example kept, one
 * row each, oldest first per statement: those of the caller's statements,
 * or of all when it may read all statistics; the text and the parameter
 * values only to the example's own role and superusers (NULL otherwise).
 */
Datum
scale_advisor_history_examples(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	HASH_SEQ_STATUS status;
	SaHistEntry *e;
	SaHistEntry *all;
	int			nall = 0;
	int			room;
	int			k;
	SaReader	reader;

	sa_require_loaded();
	sa_init_srf(fcinfo);
	tupstore = rsinfo->setResult;
	tupdesc = rsinfo->setDesc;
	reader = sa_reader(true);

	/* copy every entry under the lock, build the rows without it */
	LWLockAcquire(hist->lock, LW_SHARED);
	room = (int) hash_get_num_entries(hist_htab);
	all = palloc_extended(mul_size(Max(room, 1), sizeof(SaHistEntry)),
						  MCXT_ALLOC_NO_OOM);
	if (all != NULL)
	{
		hash_seq_init(&status, hist_htab);
		while ((e = hash_seq_search(&status)) != NULL)
		{
			if (nall >= room)
			{
				hash_seq_term(&status);
				break;
			}
			memcpy(&all[nall++], e, offsetof(SaHistEntry, area) + e->used);
		}
	}
	LWLockRelease(hist->lock);
	if (all == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory copying the examples of %d statements", room)));

	for (k = 0; k < nall; k++)
	{
		int			off = 0;
		int			n;

		e = &all[k];
		for (n = 0; n < e->nsamples; n++)
		{
			Datum		values[8];
			bool		nulls[8];
			SaSampleHdr hdr;
			const Oid  *ptypes;
			const char *text;
			const char *vals;

			sa_sample_at(e->area, off, &hdr, &ptypes, &text, &vals);
			off += hdr.size;
			if (!sa_reader_sees(&reader, hdr.userid))
				continue;
			memset(nulls, 0, sizeof(nulls));
			values[0] = ObjectIdGetDatum(e->key.dbid);
			values[1] = Int64GetDatum((int64) e->key.queryid);
			values[2] = ObjectIdGetDatum(hdr.userid);
			values[3] = Int32GetDatum(n + 1);
			values[4] = TimestampTzGetDatum(hdr.taken);
			/* its text and values: its own role and superusers (see above) */
			if (!sa_may_see_values(reader.me, hdr.userid))
				nulls[5] = nulls[6] = nulls[7] = true;
			else
			{
				values[5] = CStringGetTextDatum(text);
				if (hdr.nparams > 0)
					sa_sample_arrays(&hdr, ptypes, vals, &values[6], &values[7]);
				else
					nulls[6] = nulls[7] = true;
			}
			tuplestore_putvalues(tupstore, tupdesc, values, nulls);
		}
	}
	pfree(all);
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
 * Define the history GUCs, reserve shared memory, register the observer.
 */
void
sa_history_init(void)
{
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
}
