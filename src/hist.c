/*-------------------------------------------------------------------------
 *
 * hist.c
 *		Reading the latency histograms of the readiness history: the
 *		quantile and the count of executions above a time, for the
 *		histograms the store counts (hist.h) and for those of version 1.0
 *		still found in snapshot rows taken before the update.
 *
 * A leaf beside sketch.c: pure arithmetic on int8 arrays passed from SQL,
 * no shared state and no locking.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

#include "compat.h"
#include "hist.h"
#include "scale_advisor.h"
#include "sketch.h"

PG_FUNCTION_INFO_V1(scale_advisor_hist_quantile);
PG_FUNCTION_INFO_V1(scale_advisor_hist_count_above);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_hist_quantile_1_1,
					scale_advisor_hist_quantile);
SA_SQL_FUNCTION_1_1(scale_advisor_hist_count_above_1_1,
					scale_advisor_hist_count_above);

/*
 * The 48 buckets of the history histograms of version 1.0 (still found in
 * snapshot rows taken before the update): bucket 0 below 10 us, then bounds
 * growing by sqrt(2).  Lower and upper bound of one, in milliseconds.
 */
#define SA_HIST_V1_BUCKETS 48
#define SA_HIST_V1_BASE_MS 0.01

/* lower bound of a 1.0 bucket, in milliseconds */
static double
sa_hist_v1_lower(int b)
{
	if (b <= 0)
		return 0.0;
	return SA_HIST_V1_BASE_MS * pow(2.0, (b - 1) / 2.0);
}

/* upper bound of a 1.0 bucket, in milliseconds */
static double
sa_hist_v1_upper(int b)
{
	return SA_HIST_V1_BASE_MS * pow(2.0, b / 2.0);
}

/*
 * Read a histogram argument: an int8 array without NULLs of SA_HIST_BUCKETS
 * elements (the sketch's buckets) or of SA_HIST_V1_BUCKETS (1.0's buckets,
 * in snapshots taken before the update).  Sets *nbuckets; negative counts
 * read as 0.  Raises an error for anything else.
 */
static void
sa_read_hist(ArrayType *arr, int64 *counts, int *nbuckets)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n = 0;
	int			i;
	bool		ok = false;

	if (ARR_NDIM(arr) == 1 && ARR_ELEMTYPE(arr) == INT8OID)
	{
		deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &elems, &nulls, &n);
		ok = (n == SA_HIST_BUCKETS || n == SA_HIST_V1_BUCKETS);
		for (i = 0; ok && i < n; i++)
		{
			if (nulls[i])
				ok = false;
			else
				counts[i] = Max(DatumGetInt64(elems[i]), 0);
		}
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram must be an int8 array of %d elements without nulls",
						SA_HIST_BUCKETS),
				 errhint("Pass the buckets column of scale_advisor._history() or of scale_advisor.snapshot_statements.")));
	*nbuckets = n;
}

/*
 * SQL: scale_advisor._hist_quantile(buckets int8[], q float8) is the
 * q-quantile of a histogram in milliseconds, as the store computes its own:
 * the nearest rank, read back as its bucket's time (within 2 % of every
 * time in the bucket).  NULL for an empty histogram.  A 1.0 histogram is
 * interpolated linearly inside the bucket that holds the quantile.
 */
Datum
scale_advisor_hist_quantile(PG_FUNCTION_ARGS)
{
	int64		counts[SA_HIST_BUCKETS];
	double		q = PG_GETARG_FLOAT8(1);
	double		total = 0;
	double		rank;
	double		seen = 0;
	int			n;
	int			i;

	sa_read_hist(PG_GETARG_ARRAYTYPE_P(0), counts, &n);
	if (!(q >= 0.0 && q <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantile must be between 0 and 1"),
				 errhint("Pass 0.95 for the 95th percentile.")));
	for (i = 0; i < n; i++)
		total += counts[i];
	if (total <= 0)
		PG_RETURN_NULL();
	if (n == SA_HIST_V1_BUCKETS)
	{
		rank = q * total;
		for (i = 0; i < n; i++)
		{
			double		c = counts[i];

			if (c > 0 && seen + c >= rank)
			{
				double		lo = sa_hist_v1_lower(i);
				double		hi = (i == n - 1) ? lo * 2 : sa_hist_v1_upper(i);

				PG_RETURN_FLOAT8(lo + (hi - lo) * ((rank - seen) / c));
			}
			seen += c;
		}
		PG_RETURN_FLOAT8(sa_hist_v1_lower(n - 1));
	}
	rank = Max(ceil(q * total - 1e-9), 1.0);
	for (i = 0; i < n; i++)
	{
		seen += counts[i];
		if (counts[i] > 0 && seen >= rank)
			PG_RETURN_FLOAT8(sa_sketch_bucket_ms(SA_HIST_FIRST + i));
	}
	PG_RETURN_FLOAT8(sa_sketch_bucket_ms(SA_HIST_FIRST + n - 1));
}

/*
 * SQL: scale_advisor._hist_count_above(buckets int8[], ms float8) is how
 * many executions of a histogram took longer than ms: those of the buckets
 * whose time is over ms (each within 2 % of its bucket's time).  For a 1.0
 * histogram: the buckets above ms and the share of the bucket holding ms
 * that lies above it, rounded up.
 */
Datum
scale_advisor_hist_count_above(PG_FUNCTION_ARGS)
{
	int64		counts[SA_HIST_BUCKETS];
	double		ms = PG_GETARG_FLOAT8(1);
	double		total = 0;
	int			n;
	int			i;

	sa_read_hist(PG_GETARG_ARRAYTYPE_P(0), counts, &n);
	for (i = 0; i < n; i++)
	{
		if (n == SA_HIST_V1_BUCKETS)
		{
			double		lo = sa_hist_v1_lower(i);
			double		hi = (i == n - 1) ? lo * 2 : sa_hist_v1_upper(i);

			if (lo >= ms)
				total += counts[i];
			else if (hi > ms)
				total += counts[i] * (hi - ms) / (hi - lo);
		}
		else if (sa_sketch_bucket_ms(SA_HIST_FIRST + i) > ms)
			total += counts[i];
	}
	PG_RETURN_INT64((int64) ceil(total - 1e-9));
}
