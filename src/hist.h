/*-------------------------------------------------------------------------
 *
 * hist.h
 *		The latency histograms of the readiness history (src/hist.c): their
 *		bucket layout.  A leaf: it depends only on the latency sketch
 *		(sketch.h).  The counts live in the store's entries (store.h,
 *		under the entry's spinlock).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_HIST_H
#define SA_HIST_H

#include "postgres.h"

#include "sketch.h"

/*
 * Latency histogram of an entry for the readiness history.  Its buckets are
 * the sketch's (sketch.h: bucket k holds the times in (gamma^(k-1), gamma^k]
 * microseconds and reads back within 2 % of each) from SA_HIST_FIRST on:
 * history bucket i is sketch bucket SA_HIST_FIRST + i, which covers 10 us
 * to 110 s (faster times count in the first, slower ones in the last), so
 * that the quantiles of a window of time are as accurate as the store's
 * own.  Unlike the sketch's, its counts are never scaled, so two readings
 * can be subtracted: they are kept modulo 2^32 (a bucket wraps after 4
 * billion executions) and the difference of two readings, taken modulo
 * 2^32, is exact for any window with fewer executions than that per
 * bucket.  It counts executions (not utility statements) while
 * scale_advisor.track_history is on, from the entry's creation or the last
 * reset_history().
 */
#define SA_HIST_FIRST 58		/* sketch bucket of 10 us */
#define SA_HIST_BUCKETS 408		/* up to sketch bucket 465, 110 s */
#define sa_hist_of_sketch(k) \
	((k) <= SA_HIST_FIRST ? 0 : \
	 (k) >= SA_HIST_FIRST + SA_HIST_BUCKETS - 1 ? SA_HIST_BUCKETS - 1 : \
	 (k) - SA_HIST_FIRST)

#endif							/* SA_HIST_H */
