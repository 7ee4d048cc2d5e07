/*-------------------------------------------------------------------------
 *
 * scale_advisor.c
 *		Module entry point: the magic block, _PG_init, and the check that
 *		every SQL-callable function makes before it does anything.
 *
 * _PG_init does nothing unless the library is being preloaded through
 * shared_preload_libraries (shared memory and hooks can only be set up
 * then), nor in a server pg_upgrade started (binary-upgrade mode).  When CREATE EXTENSION loads the library into a server that did not
 * preload it, the SQL functions refuse with a hint that says what to do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "compat.h"
#include "scale_advisor.h"

SA_MODULE_MAGIC;

bool		sa_preloaded = false;

/* shared memory users registered by the subsystems */
#define SA_MAX_SHMEM_USERS 16
typedef struct SaShmemUser
{
	const char *tranche;
	sa_shmem_size_fn size;
	int			nlwlocks;
	sa_shmem_startup_fn startup;
} SaShmemUser;

static SaShmemUser shmem_users[SA_MAX_SHMEM_USERS];
static int	n_shmem_users = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);
static void sa_shmem_request(void);
static void sa_shmem_startup(void);

PG_FUNCTION_INFO_V1(scale_advisor_require_loaded);

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
	sa_messages_init();

	MarkGUCPrefixReserved("scale_advisor");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = sa_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = sa_shmem_startup;

	sa_preloaded = true;
}

/*
 * Remember a subsystem's shared memory needs (see scale_advisor.h).
 */
void
sa_shmem_register(const char *tranche, sa_shmem_size_fn size, int nlwlocks,
				  sa_shmem_startup_fn startup)
{
	if (n_shmem_users >= SA_MAX_SHMEM_USERS)
		elog(ERROR, "too many scale_advisor shared memory users");
	shmem_users[n_shmem_users].tranche = tranche;
	shmem_users[n_shmem_users].size = size;
	shmem_users[n_shmem_users].nlwlocks = nlwlocks;
	shmem_users[n_shmem_users].startup = startup;
	n_shmem_users++;
}

/*
 * Ask for the shared memory and LWLocks of every registered subsystem.
 */
static void
sa_shmem_request(void)
{
	int			i;

	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	for (i = 0; i < n_shmem_users; i++)
	{
		RequestAddinShmemSpace(shmem_users[i].size());
		if (shmem_users[i].nlwlocks > 0)
			RequestNamedLWLockTranche(shmem_users[i].tranche,
									  shmem_users[i].nlwlocks);
	}
}

/*
 * Let every registered subsystem attach to (or create) its shared area.
 */
static void
sa_shmem_startup(void)
{
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	for (i = 0; i < n_shmem_users; i++)
		shmem_users[i].startup();
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
