/*-------------------------------------------------------------------------
 *
 * sketch.h
 *		Bounded log-bucketed quantile sketch for execution times
 *		(src/sketch.c).  No locking of its own: callers serialize access (the
 *		store holds the entry's spinlock).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_SKETCH_H
#define SA_SKETCH_H

#include "postgres.h"

/*
 * Relative accuracy of every quantile the sketch returns: a value v is
 * counted in bucket k = ceil(log_gamma(v)), gamma = (1 + a) / (1 - a), and
 * read back as 2 gamma^k / (gamma + 1), which is within a * v of v.  The
 * logarithm is interpolated from a table (error below 2e-7), so a is set a
 * little under the promised 2 %.
 */
#define SA_SKETCH_ALPHA		0.0199
#define SA_SKETCH_BUCKETS	576 /* 1 us .. 2.7 hours */

typedef struct SaSketch
{
	uint16		counts[SA_SKETCH_BUCKETS];
} SaSketch;

extern void sa_sketch_init(SaSketch *sk);
extern int	sa_sketch_bucket(double ms);
extern double sa_sketch_bucket_ms(int k);
extern void sa_sketch_add_bucket(SaSketch *sk, int bucket);
extern void sa_sketch_add(SaSketch *sk, double ms);
extern bool sa_sketch_quantiles(const SaSketch *sk, const double *q, int nq,
								double *out_ms);

#endif							/* SA_SKETCH_H */
