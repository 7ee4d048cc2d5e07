/*-------------------------------------------------------------------------
 *
 * partition.c
 *		C support for the partitioning helpers (sql/install/50_partition/).
 *
 * The helpers themselves are PL/pgSQL.  This file owns what they cannot do
 * in SQL: the GUC that sets the size from which partition_advice reports a
 * table, and a test of whether the calling procedure may commit (a
 * procedure CALLed at top level outside a transaction block may; one CALLed
 * inside BEGIN ... COMMIT or from a function may not).  It owns no shared
 * state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "scale_advisor.h"
#include "shmem.h"

/*
 * scale_advisor.partition_advice_min_size, in MB: the 1.0 name of the
 * threshold partition_min_bytes, -1 when not set (read in SQL by
 * _threshold_alias())
 */
static int	sa_partition_advice_min_size = -1;

PG_FUNCTION_INFO_V1(scale_advisor_nonatomic);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_nonatomic_1_1, scale_advisor_nonatomic);

/*
 * Define the GUCs of the partitioning helpers.
 */
void
sa_partition_init(void)
{
	DefineCustomIntVariable("scale_advisor.partition_advice_min_size",
							"Old name of the threshold partition_min_bytes (-1: not set).",
							"scale_advisor.set_threshold('partition_min_bytes', ...) takes precedence.",
							&sa_partition_advice_min_size,
							-1,
							-1,
							INT_MAX / 2,
							PGC_USERSET,
							GUC_UNIT_MB,
							NULL, NULL, NULL);
}

/*
 * SQL: scale_advisor._nonatomic() is true when the PL/pgSQL procedure that
 * evaluates it may run COMMIT.  PL/pgSQL keeps its SPI connection open while
 * it evaluates expressions, so the current SPI connection is the caller's,
 * and it is non-atomic exactly when the procedure was called in a context
 * that allows transaction control.
 */
Datum
scale_advisor_nonatomic(PG_FUNCTION_ARGS)
{
	sa_require_loaded();
	PG_RETURN_BOOL(SPI_inside_nonatomic_context());
}
