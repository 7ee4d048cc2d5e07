/*-------------------------------------------------------------------------
 *
 * worker.c
 *		Owns the background worker that saves the statement store and the
 *		statements captured for index advice every
 *		scale_advisor.save_interval seconds, so that a crash loses at most
 *		that much (the final save at a clean shutdown is the postmaster's,
 *		see store.c and plan_capture.c).
 *
 * The worker needs shared memory only, no database.  It sleeps on its
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
#include "scale_advisor.h"
#include "index_advice.h"
#include "store.h"

PGDLLEXPORT void scale_advisor_saver_main(Datum arg);

/*
 * Register the saver worker.
 */
void
sa_worker_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_ConsistentState;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "scale_advisor");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "scale_advisor_saver_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "scale_advisor saver");
	snprintf(w.bgw_type, BGW_MAXLEN, "scale_advisor saver");
	RegisterBackgroundWorker(&w);
}

/*
 * Worker main loop: save the store whenever save_interval has passed.
 */
void
scale_advisor_saver_main(Datum arg)
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
