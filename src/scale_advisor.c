/*-------------------------------------------------------------------------
 *
 * scale_advisor.c
 *		Module entry point: the magic block, _PG_init, and the check that
 *		every SQL-callable function makes before it does anything.
 *
 * _PG_init does nothing unless the library is being preloaded through
 * shared_preload_libraries: shared memory and hooks can only be set up
 * then.  When CREATE EXTENSION loads the library into a server that did not
 * preload it, the SQL functions refuse with a hint that says what to do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "compat.h"
#include "scale_advisor.h"

PG_MODULE_MAGIC;

bool		sa_preloaded = false;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(scale_advisor_require_loaded);

/*
 * Module load callback: set up every subsystem when preloaded.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	sa_store_init();
	sa_hooks_init();
	sa_worker_init();

	MarkGUCPrefixReserved("scale_advisor");
	sa_preloaded = true;
}

/*
 * Raise the "not preloaded" error unless the library was preloaded.
 */
void
sa_require_loaded(void)
{
	if (!sa_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("scale_advisor must be loaded via shared_preload_libraries"),
				 errhint("Add scale_advisor to shared_preload_libraries in postgresql.conf and restart the server.")));
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
