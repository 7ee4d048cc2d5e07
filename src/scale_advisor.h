/*-------------------------------------------------------------------------
 *
 * scale_advisor.h
 *		Declarations shared by the files of scale_advisor.
 *
 * Each subsystem has one init function, called from _PG_init while the
 * library is being preloaded; it defines the subsystem's GUCs and installs
 * its hooks.  Functions callable from SQL call sa_require_loaded() first, so
 * that a server without the preloaded library gets a clear error instead of
 * touching shared memory that does not exist.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCALE_ADVISOR_H
#define SCALE_ADVISOR_H

#include "postgres.h"

/* true once _PG_init ran from shared_preload_libraries */
extern bool sa_preloaded;

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

/* subsystem init functions, one per file that has GUCs or hooks */
extern void sa_store_init(void);
extern void sa_hooks_init(void);
extern void sa_worker_init(void);

#endif							/* SCALE_ADVISOR_H */
