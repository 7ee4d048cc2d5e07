/*-------------------------------------------------------------------------
 *
 * worker.h
 *		Every background worker of scale_advisor, registered in one place
 *		(src/worker.c).  No shared state: the table of workers is constant.
 *
 * Each worker has a kind, a name and type (what pg_stat_activity shows),
 * and an entry point named sa_<what>_main in the file that owns its work.
 * The saver and the snapshot launcher are started by the postmaster
 * (registered by sa_worker_init while the library is preloaded); the
 * others are started on demand by sa_worker_start.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_WORKER_H
#define SA_WORKER_H

#include "postgres.h"

#include "postmaster/bgworker.h"

typedef enum SaWorkerKind
{
	SA_WORKER_SAVER,			/* worker.c: saves the store every
								 * save_interval */
	SA_WORKER_SNAPSHOT_LAUNCHER,	/* snapshot.c: starts the per-database
									 * snapshots */
	SA_WORKER_SNAPSHOT_DB,		/* snapshot.c: one database's snapshot */
	SA_WORKER_ARCHIVE_VACUUM	/* archive.c: VACUUM (ANALYZE) as the owner */
} SaWorkerKind;

/* the entry points, looked up by name by the postmaster */
extern PGDLLEXPORT void sa_saver_main(Datum arg);
extern PGDLLEXPORT void sa_snapshot_launcher_main(Datum arg);
extern PGDLLEXPORT void sa_snapshot_db_main(Datum arg);
extern PGDLLEXPORT void sa_archive_vacuum_main(Datum arg);

/*
 * Start a worker of a kind started on demand, passing it arg and
 * notifying this backend of its start and end; detail (or NULL) is
 * appended to its name.  False when no worker slot is free.
 */
extern bool sa_worker_start(SaWorkerKind kind, Datum arg, const char *detail,
							BackgroundWorkerHandle **handle);

#endif							/* SA_WORKER_H */
