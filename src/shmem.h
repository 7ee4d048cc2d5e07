/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		The shared-memory registry and the "is the library preloaded" check
 *		(src/shmem.c): the bottom of the include graph with compat.h,
 *		sketch.h and hist.h.  The registry is written only while _PG_init
 *		runs in the postmaster, and read-only afterwards: no lock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_SHMEM_H
#define SA_SHMEM_H

#include "postgres.h"

/* true once _PG_init ran from shared_preload_libraries */
extern bool sa_preloaded;

/*
 * Raise the "must be loaded via shared_preload_libraries" error unless the
 * library was preloaded.  Functions callable from SQL call it first, so that
 * a server without the preloaded library gets a clear error instead of
 * touching shared memory that does not exist.
 */
extern void sa_require_loaded(void);

/*
 * Shared memory: a subsystem registers the size it needs, the number of
 * LWLocks of its own named tranche (0 for none), and a startup function
 * that runs in the postmaster (and in every backend on EXEC_BACKEND) to
 * ShmemInitStruct its area, holding AddinShmemInitLock.  Call it from the
 * subsystem's init function; sizes are asked for after every init ran, so
 * they may depend on the subsystem's own GUCs.
 */
typedef Size (*sa_shmem_size_fn) (void);
typedef void (*sa_shmem_startup_fn) (void);
extern void sa_shmem_register(const char *tranche, sa_shmem_size_fn size,
							  int nlwlocks, sa_shmem_startup_fn startup);

/*
 * Called by _PG_init after every subsystem's init: installs the shared
 * memory request and startup hooks and marks the library preloaded.
 */
extern void sa_shmem_init(void);

#endif							/* SA_SHMEM_H */
