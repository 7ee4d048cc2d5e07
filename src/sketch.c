/*-------------------------------------------------------------------------
 *
 * sketch.c
 *		Owns the quantile sketch that gives every stored statement its
 *		p50 / p95 / p99 / p99.9 execution times.
 *
 * Times are kept in microseconds on a logarithmic scale: bucket k holds the
 * values in (gamma^(k-1), gamma^k], gamma = (1 + a) / (1 - a) with
 * a = SA_SKETCH_ALPHA (just under 2 %).  Reading bucket k back as
 * 2 gamma^k / (gamma + 1) is within 2 % of any value in it, so every
 * quantile is within 2 % of the true one (the value of that rank among the
 * recorded ones).  The bucket of a value is found without calling log():
 * the exponent of the double gives the integer part of log2, a table of
 * 1,025 values of log2(1 + i/1024) with linear interpolation gives the rest
 * (error under 2e-7), so recording costs a few dozen instructions.  Bucket 0
 * holds everything up to 1 us; 576 buckets reach 2.7 hours, and longer
 * times are counted in the last bucket (the store keeps the exact maximum
 * and clamps quantiles to it).
 *
 * Counts are 16 bits, so the sketch is 1,152 bytes.  When a bucket would
 * pass 65,535, every count is halved (rounding down): the shape of the
 * distribution is kept, and from then on older executions weigh less than
 * recent ones, which is what a latency figure should show.  A quantile then
 * rests on buckets of at least a few dozen executions, so the rounding moves
 * no quantile by more than a fraction of a percent of its rank.
 *
 * Callers serialize access (the store holds the entry's spinlock); nothing
 * here allocates or throws.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "sketch.h"

/* log(gamma), computed once */
static double sk_log_gamma = 0.0;

/* 1 / log2(gamma), and log2(1 + i / 1024) for i in 0..1024 */
#define SK_LOG2_TABLE_BITS 10
static double sk_inv_log2_gamma = 0.0;
static double sk_log2_table[(1 << SK_LOG2_TABLE_BITS) + 1];

/*
 * log(gamma) for SA_SKETCH_ALPHA.
 */
static inline double
sketch_log_gamma(void)
{
	if (sk_log_gamma == 0.0)
		sk_log_gamma = log((1.0 + SA_SKETCH_ALPHA) / (1.0 - SA_SKETCH_ALPHA));
	return sk_log_gamma;
}

/*
 * Empty sketch.
 */
void
sa_sketch_init(SaSketch *sk)
{
	memset(sk, 0, sizeof(SaSketch));
}

/*
 * Fill the log2 table (once per process).
 */
static void
sketch_init_table(void)
{
	int			i;

	for (i = 0; i <= (1 << SK_LOG2_TABLE_BITS); i++)
		sk_log2_table[i] = log2(1.0 + (double) i / (1 << SK_LOG2_TABLE_BITS));
	sk_inv_log2_gamma = 1.0 / log2((1.0 + SA_SKETCH_ALPHA) / (1.0 - SA_SKETCH_ALPHA));
}

/*
 * log2 of a positive, finite, normal double.
 */
static inline double
sketch_log2(double x)
{
	union
	{
		double		d;
		uint64		u;
	}			v;
	int			e;
	uint64		mant;
	int			idx;
	double		frac;

	v.d = x;
	e = (int) ((v.u >> 52) & 0x7ff) - 1023;
	mant = v.u & ((UINT64CONST(1) << 52) - 1);
	idx = (int) (mant >> (52 - SK_LOG2_TABLE_BITS));
	frac = (double) (mant & ((UINT64CONST(1) << (52 - SK_LOG2_TABLE_BITS)) - 1)) /
		(double) (UINT64CONST(1) << (52 - SK_LOG2_TABLE_BITS));
	return e + sk_log2_table[idx] +
		(sk_log2_table[idx + 1] - sk_log2_table[idx]) * frac;
}

/*
 * Bucket of a time in milliseconds.  Callers compute it before taking the
 * entry's spinlock: the first call in a process fills the log2 table.
 */
int
sa_sketch_bucket(double ms)
{
	double		us = ms * 1000.0;
	double		k;

	if (!(us > 1.0))			/* also catches NaN */
		return 0;
	if (us > 1e12)
		return SA_SKETCH_BUCKETS - 1;
	if (unlikely(sk_inv_log2_gamma == 0.0))
		sketch_init_table();
	k = sketch_log2(us) * sk_inv_log2_gamma;
	if (k >= SA_SKETCH_BUCKETS - 1)
		return SA_SKETCH_BUCKETS - 1;
	/* ceil() of a positive value below the bucket count, without libm */
	return (int) k + ((double) (int) k < k);
}

/*
 * The time a bucket stands for, in milliseconds (as the quantiles read it).
 */
double
sa_sketch_bucket_ms(int k)
{
	double		lg = sketch_log_gamma();

	if (k <= 0)
		return 0.001;
	return 2.0 * exp(lg * k) / (exp(lg) + 1.0) / 1000.0;
}

/*
 * Record one execution time.
 */
void
sa_sketch_add(SaSketch *sk, double ms)
{
	sa_sketch_add_bucket(sk, sa_sketch_bucket(ms));
}

/*
 * Count one execution in a bucket from sa_sketch_bucket().
 */
void
sa_sketch_add_bucket(SaSketch *sk, int b)
{
	if (sk->counts[b] == PG_UINT16_MAX)
	{
		int			i;

		for (i = 0; i < SA_SKETCH_BUCKETS; i++)
			sk->counts[i] >>= 1;
	}
	sk->counts[b]++;
}

/*
 * Fill out_ms[0..nq-1] with the quantiles q[] (each in [0, 1]).  Returns
 * false when the sketch is empty.  The quantile q is the nearest-rank one:
 * the value of rank ceil(q * n) (1-based) among the n recorded values.
 */
bool
sa_sketch_quantiles(const SaSketch *sk, const double *q, int nq, double *out_ms)
{
	uint64		n = 0;
	double		lg = sketch_log_gamma();
	double		gamma = exp(lg);
	int			i,
				j;

	for (i = 0; i < SA_SKETCH_BUCKETS; i++)
		n += sk->counts[i];
	if (n == 0)
		return false;

	for (j = 0; j < nq; j++)
	{
		double		qq = q[j];
		uint64		rank;
		uint64		cum = 0;

		if (!(qq >= 0.0))
			qq = 0.0;
		if (qq > 1.0)
			qq = 1.0;
		rank = (uint64) ceil(qq * (double) n);
		rank = (rank > 0) ? rank - 1 : 0;	/* 0-based */
		for (i = 0; i < SA_SKETCH_BUCKETS - 1; i++)
		{
			cum += sk->counts[i];
			if (cum > rank)
				break;
		}
		if (i == 0)
			out_ms[j] = 0.001;	/* bucket 0 holds everything up to 1 us */
		else
			out_ms[j] = 2.0 * exp(lg * i) / (gamma + 1.0) / 1000.0;
	}
	return true;
}
