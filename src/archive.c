/*-------------------------------------------------------------------------
 *
 * archive.c
 *		The two things the archiving procedures (sql/install/40_archive.sql)
 *		cannot do in PL/pgSQL: run VACUUM after a large move, and crash on
 *		purpose for the tests.
 *
 * VACUUM refuses to run inside a function or procedure, so
 * _archive_vacuum() starts a dynamic background worker that connects to the
 * same database as the calling role and runs VACUUM (ANALYZE) on the table
 * as a top-level command, and waits for it to finish.
 *
 * scale_advisor.archive_test_crash (superuser only, off by default) makes a
 * backend kill itself with SIGKILL at the commit of the first archiving
 * batch after the setting was turned on, after the commit of any
 * postgres_fdw remote transaction (postgres_fdw commits its remote
 * transactions in a pre-commit callback; ours is registered at preload time,
 * earlier, and callbacks run newest first) and before the local commit.
 * That is the one moment at which a remote archive holds rows the source
 * still has; the TAP tests use it to check that the next run repairs it.
 *
 * No shared state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_node.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "scale_advisor.h"

static bool archive_test_crash = false;
static bool crash_at_commit = false;

PG_FUNCTION_INFO_V1(scale_advisor_archive_vacuum);
PG_FUNCTION_INFO_V1(scale_advisor_archive_test_crash);

PGDLLEXPORT void sa_archive_vacuum_main(Datum arg);

/*
 * Kill this backend at pre-commit when a batch asked for it.
 */
static void
archive_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT && crash_at_commit)
	{
		crash_at_commit = false;
		kill(MyProcPid, SIGKILL);
		for (;;)
			pg_usleep(1000000L);
	}
	if (event == XACT_EVENT_ABORT)
		crash_at_commit = false;
}

void
sa_archive_init(void)
{
	DefineCustomBoolVariable("scale_advisor.archive_test_crash",
							 "Testing only: kill the backend at the commit of the next archiving batch.",
							 "Used by the crash tests; never turn it on in production.",
							 &archive_test_crash,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);
	RegisterXactCallback(archive_xact_callback, NULL);
}

/*
 * _archive_test_crash(): called by a batch when the setting is on.
 */
Datum
scale_advisor_archive_test_crash(PG_FUNCTION_ARGS)
{
	sa_require_loaded();
	if (archive_test_crash)
	{
		crash_at_commit = true;
		archive_test_crash = false;
		SetConfigOption("scale_advisor.archive_test_crash", "off",
						PGC_SUSET, PGC_S_SESSION);
	}
	PG_RETURN_VOID();
}

/*
 * _archive_vacuum(regclass): VACUUM (ANALYZE) the table in a background
 * worker, as the current role, and wait for it.  Returns true when the
 * worker ran to its end.
 */
Datum
scale_advisor_archive_vacuum(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	Oid			ids[2];

	sa_require_loaded();

	/*
	 * The worker starts only once recovery has finished: on a standby the
	 * caller would wait for it forever.  VACUUM cannot run there anyway.
	 */
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("_archive_vacuum() cannot run on a standby server"),
				 errhint("Run it on the primary; its changes reach standbys through replication.")));

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "scale_advisor");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "sa_archive_vacuum_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "scale_advisor archive vacuum");
	snprintf(worker.bgw_type, BGW_MAXLEN, "scale_advisor archive vacuum");
	worker.bgw_main_arg = ObjectIdGetDatum(relid);
	ids[0] = MyDatabaseId;
	ids[1] = GetUserId();
	memcpy(worker.bgw_extra, ids, sizeof(ids));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a background worker to vacuum the table"),
				 errhint("Raise max_worker_processes, or run VACUUM yourself.")));
		PG_RETURN_BOOL(false);
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	PG_RETURN_BOOL(status == BGWH_STOPPED);
}

/*
 * Background worker: VACUUM (ANALYZE) one table at top level.
 */
void
sa_archive_vacuum_main(Datum arg)
{
	Oid			relid = DatumGetObjectId(arg);
	Oid			ids[2];
	char	   *relname = NULL;
	char	   *nspname = NULL;
	StringInfoData sql;
	List	   *parsed;
	RawStmt    *raw;
	ParseState *pstate;

	memcpy(ids, MyBgworkerEntry->bgw_extra, sizeof(ids));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(ids[0], ids[1], 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	relname = get_rel_name(relid);
	if (relname)
	{
		nspname = get_namespace_name(get_rel_namespace(relid));
		relname = MemoryContextStrdup(TopMemoryContext, relname);
		nspname = MemoryContextStrdup(TopMemoryContext, nspname);
	}
	CommitTransactionCommand();
	if (relname == NULL)
		proc_exit(0);

	initStringInfo(&sql);
	appendStringInfo(&sql, "VACUUM (ANALYZE) %s",
					 quote_qualified_identifier(nspname, relname));
	pgstat_report_activity(STATE_RUNNING, sql.data);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* vacuum() keeps cross-transaction state under PortalContext */
	PortalContext = AllocSetContextCreate(TopMemoryContext,
										  "scale_advisor archive vacuum",
										  ALLOCSET_DEFAULT_SIZES);
	parsed = pg_parse_query(sql.data);
	raw = linitial_node(RawStmt, parsed);
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = sql.data;
	ExecVacuum(pstate, castNode(VacuumStmt, raw->stmt), true);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
