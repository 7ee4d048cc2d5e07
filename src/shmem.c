/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		The shared-memory registry of the subsystems, and the check that
 *		every SQL-callable function makes before it touches shared memory.
 *
 * Each subsystem that owns shared state calls sa_shmem_register() from its
 * init function (while _PG_init runs in the postmaster); the request hook
 * then asks for the space and LWLock tranches of every registered
 * subsystem, and the startup hook lets each one ShmemInitStruct its area.
 * This file calls no other file of scale_advisor: it is a leaf every
 * subsystem may use.
 *
 * Locking: the registry is written only by the postmaster during
 * _PG_init and read-only afterwards; the startup functions run holding
 * AddinShmemInitLock, which the caller of shmem_startup_hook takes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "compat.h"
#include "shmem.h"

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

static void sa_shmem_request(void);
static void sa_shmem_startup(void);

/*
 * Remember a subsystem's shared memory needs (see shmem.h).
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
 * Install the shared memory hooks and mark the library preloaded.
 */
void
sa_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = sa_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = sa_shmem_startup;

	sa_preloaded = true;
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
