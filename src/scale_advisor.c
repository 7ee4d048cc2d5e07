/*-------------------------------------------------------------------------
 *
 * scale_advisor.c
 *		Module entry point: the magic block, _PG_init calling one init per
 *		subsystem, and the SQL-callable _require_loaded() (the check itself
 *		and the shared-memory registry are in shmem.c).
 *
 * _PG_init does nothing unless the library is being preloaded through
 * shared_preload_libraries (shared memory and hooks can only be set up
 * then), nor in a server pg_upgrade started (binary-upgrade mode).  When
 * CREATE EXTENSION loads the library into a server that did not preload it,
 * the SQL functions refuse with a hint that says what to do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "compat.h"
#include "scale_advisor.h"
#include "shmem.h"

SA_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(scale_advisor_require_loaded);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_require_loaded_1_1,
					scale_advisor_require_loaded);

/*
 * Module load callback: set up every subsystem when preloaded.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	/*
	 * pg_upgrade starts both servers in binary-upgrade mode with their
	 * shared_preload_libraries: no statement tracking, shared memory or
	 * background worker then (a worker must not write into a cluster being
	 * upgraded).  The SQL functions refuse as if the library were not
	 * preloaded.
	 */
	if (IsBinaryUpgrade)
		return;

	sa_store_init();
	sa_hooks_init();
	sa_worker_init();
	sa_archive_init();
	sa_partition_init();
	sa_index_advice_init();
	sa_nplus1_init();
	sa_snapshot_init();
	sa_history_init();
	sa_messages_init();

	MarkGUCPrefixReserved("scale_advisor");

	/* the shared memory hooks; marks the library preloaded (shmem.c) */
	sa_shmem_init();
}

/*
 * SQL: scale_advisor._require_loaded() returns true or raises the error.
 * Views use it as a one-time filter, PL/pgSQL functions PERFORM it.
 */
Datum
scale_advisor_require_loaded(PG_FUNCTION_ARGS)
{
	sa_require_loaded();
	PG_RETURN_BOOL(true);
}
