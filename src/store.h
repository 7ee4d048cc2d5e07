/*-------------------------------------------------------------------------
 *
 * store.h
 *		The shared-memory statement store (see store.c for the design and
 *		its locking: one LWLock for the table, a spinlock per entry).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_STORE_H
#define SA_STORE_H

#include "postgres.h"

#include "executor/instrument.h"
#include "utils/timestamp.h"

#include "hist.h"
#include "sketch.h"

/* identity of a stored statement */
typedef struct SaKey
{
	Oid			userid;
	Oid			dbid;
	uint64		queryid;
	bool		toplevel;
} SaKey;

/*
 * Latency histogram of an entry for the readiness history: the bucket layout
 * (SA_HIST_FIRST, SA_HIST_BUCKETS, sa_hist_of_sketch) and what the counts
 * mean are described in hist.h.
 */
typedef struct SaHist
{
	int64		calls;
	int64		rows;
	double		total_ms;
	TimestampTz first_seen;
	uint32		buckets[SA_HIST_BUCKETS];
} SaHist;

/* what one finished execution adds to its entry */
typedef struct SaExecution
{
	double		exec_ms;
	uint64		rows;
	const BufferUsage *bufusage;	/* may be NULL */
	const WalUsage *walusage;	/* may be NULL */
	double		plan_ms;		/* planning time, when planned == true */
	bool		planned;
	bool		history;		/* count it in the entry's SaHist */
} SaExecution;

/* counters of one entry, as the readers get them */
typedef struct SaCounters
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
	double		usage;			/* eviction priority, decays */
	SaHist		hist;
} SaCounters;

/* a copy of one entry handed to a reader */
typedef struct SaEntrySnapshot
{
	SaKey		key;
	SaCounters	c;
	SaSketch	sketch;
	int			encoding;
	int			query_len;
	const char *query;			/* points into shared memory; read under the
								 * lock */
} SaEntrySnapshot;

/* store-wide figures for scale_advisor.info */
typedef struct SaStoreInfo
{
	int64		entries;
	int64		max_entries;
	int64		evictions;
	int64		memory_bytes;
	int64		entry_bytes;
	int64		text_bytes_per_entry;
	TimestampTz stats_reset;
	TimestampTz last_save;
	int64		saves;
	int64		save_failures;
	int64		loaded_entries;
} SaStoreInfo;

extern int	sa_max_entries;
extern int	sa_max_query_length;
extern int	sa_save_interval;
extern bool sa_save_enabled;
extern void sa_load_saved(const char *path, void (*load) (void));
extern bool sa_track_history;	/* scale_advisor.track_history */

extern bool sa_store_attached(void);
extern bool sa_store_record(const SaKey *key, const char *source_text,
							int stmt_location, int stmt_len,
							const SaExecution *ex);
extern void sa_store_record_error(const SaKey *key, const char *text, int len);
extern bool sa_store_has(const SaKey *key);
extern void sa_store_create(const SaKey *key, const char *text, int len);
extern int64 sa_store_reset(Oid userid, Oid dbid, uint64 queryid);
extern void sa_store_hist_reset(void);
extern void sa_store_get_info(SaStoreInfo *info);
extern bool sa_store_save(void);

/*
 * Readers: sa_store_read_all calls visit for every entry in use, with a copy
 * of its counters and sketch taken under the entry's spinlock, while it
 * holds the store's lock in shared mode.  snap->query points into shared
 * memory and is valid only during the call.  The visitor runs under the
 * LWLock: it must be quick, and an error it throws releases the lock
 * through the transaction's abort.
 */
typedef void (*sa_store_visitor) (const SaEntrySnapshot *snap, void *arg);
extern void sa_store_read_all(sa_store_visitor visit, void *arg);

#endif							/* SA_STORE_H */
