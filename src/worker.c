/*-------------------------------------------------------------------------
 *
 * worker.c
 *		Every background worker of scale_advisor is registered here (the
 *		table sa_workers: name, type, entry point, start and restart), and
 *		this file owns the saver: the worker that saves the statement store,
 *		the examples of the history and the statements captured for index
 *		advice every scale_advisor.save_interval seconds, so that a crash
 *		loses at most that much (the final save at a clean shutdown is the
 *		postmaster's, see store.c, history.c and plan_capture.c).
 *
 * The other workers' main functions live with their work: the snapshot
 * launcher and the per-database snapshot workers in snapshot.c, the
 * VACUUM after archiving in archive.c.  No shared state.
 *
 * The saver needs shared memory only, no database.  It sleeps on its
 * latch, reloads the configuration on SIGHUP, exits on SIGTERM, and is
 * restarted by the postmaster 10 seconds after it dies.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "index_advice.h"
#include "scale_advisor.h"
#include "store.h"
#include "worker.h"

/* what the postmaster needs to start one kind of worker */
typedef struct SaWorkerDef
{
	const char *name;			/* bgw_name (before any detail) */
	const char *type;			/* bgw_type */
	const char *function;		/* bgw_function_name */
	int			flags;
	BgWorkerStartTime start_time;
	int			restart_time;
} SaWorkerDef;

#define SA_SHMEM_DB (BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION)

/* indexed by SaWorkerKind */
static const SaWorkerDef sa_workers[] = {
	[SA_WORKER_SAVER] = {"scale_advisor saver", "scale_advisor saver",
		"sa_saver_main", BGWORKER_SHMEM_ACCESS,
	BgWorkerStart_ConsistentState, 10},
	[SA_WORKER_SNAPSHOT_LAUNCHER] = {"scale_advisor snapshot launcher",
		"scale_advisor snapshot", "sa_snapshot_launcher_main", SA_SHMEM_DB,
	BgWorkerStart_RecoveryFinished, 600},
	[SA_WORKER_SNAPSHOT_DB] = {"scale_advisor snapshot",
		"scale_advisor snapshot", "sa_snapshot_db_main", SA_SHMEM_DB,
	BgWorkerStart_RecoveryFinished, BGW_NEVER_RESTART},
	[SA_WORKER_ARCHIVE_VACUUM] = {"scale_advisor archive vacuum",
		"scale_advisor archive vacuum", "sa_archive_vacuum_main", SA_SHMEM_DB,
	BgWorkerStart_RecoveryFinished, BGW_NEVER_RESTART},
};

/*
 * Fill w for a worker of the given kind; detail (or NULL) follows the name.
 */
static void
sa_worker_fill(BackgroundWorker *w, SaWorkerKind kind, const char *detail)
{
	const SaWorkerDef *def = &sa_workers[kind];

	memset(w, 0, sizeof(*w));
	w->bgw_flags = def->flags;
	w->bgw_start_time = def->start_time;
	w->bgw_restart_time = def->restart_time;
	snprintf(w->bgw_library_name, BGW_MAXLEN, "scale_advisor");
	snprintf(w->bgw_function_name, BGW_MAXLEN, "%s", def->function);
	if (detail)
		snprintf(w->bgw_name, BGW_MAXLEN, "%s %s", def->name, detail);
	else
		snprintf(w->bgw_name, BGW_MAXLEN, "%s", def->name);
	snprintf(w->bgw_type, BGW_MAXLEN, "%s", def->type);
}

/*
 * Register the workers the postmaster starts: the saver and the snapshot
 * launcher.
 */
void
sa_worker_init(void)
{
	BackgroundWorker w;

	sa_worker_fill(&w, SA_WORKER_SAVER, NULL);
	RegisterBackgroundWorker(&w);
	sa_worker_fill(&w, SA_WORKER_SNAPSHOT_LAUNCHER, NULL);
	RegisterBackgroundWorker(&w);
}

/*
 * Start a worker of a kind started on demand (see worker.h).
 */
bool
sa_worker_start(SaWorkerKind kind, Datum arg, const char *detail,
				BackgroundWorkerHandle **handle)
{
	BackgroundWorker w;

	sa_worker_fill(&w, kind, detail);
	w.bgw_main_arg = arg;
	w.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&w, handle);
}

/*
 * Worker main loop: save the store whenever save_interval has passed.
 */
void
sa_saver_main(Datum arg)
{
	TimestampTz last = GetCurrentTimestamp();

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	while (!ShutdownRequestPending)
	{
		long		timeout_ms = 60 * 1000L;
		TimestampTz now;

		if (sa_save_interval > 0)
			timeout_ms = Min(timeout_ms, sa_save_interval * 1000L);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		if (ShutdownRequestPending)
			break;
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		now = GetCurrentTimestamp();
		if (sa_save_interval > 0 && sa_save_enabled &&
			TimestampDifferenceExceeds(last, now, sa_save_interval * 1000))
		{
			(void) sa_store_save();
			/* the examples of the readiness history go with it */
			sa_hist_save();
			(void) sa_plans_save();
			last = now;
		}
	}
	proc_exit(0);
}
