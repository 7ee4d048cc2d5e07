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

/* subsystem init functions, one per file that has GUCs or hooks */
extern void sa_store_init(void);
extern void sa_hooks_init(void);
extern void sa_worker_init(void);

#endif							/* SCALE_ADVISOR_H */
