/*-------------------------------------------------------------------------
 *
 * archive.c
 *		What the archiving procedures (sql/install/40_archive/) cannot
 *		do in PL/pgSQL: run VACUUM as the table's owner after a large move,
 *		hold a per-table run lock that no role can take from SQL, and crash
 *		on purpose for the tests.
 *
 * VACUUM refuses to run inside a function or procedure, so
 * _archive_vacuum() starts a dynamic background worker that connects to the
 * same database, becomes the owner of the table (in a security-restricted
 * operation, as VACUUM does for its own work), runs VACUUM (ANALYZE) on the
 * table as a top-level command, and reports through a small dynamic shared
 * memory segment whether it was done, skipped or failed (and why); the
 * caller waits for it and says what happened.  Only a superuser or a role
 * with the owner's privileges may start it.
 *
 * One run per table at a time: _archive_lock(rel) takes a session-level
 * lock with an advisory lock tag whose fourth field is 3 (SA_LOCK_FIELD4).
 * The SQL advisory lock functions only ever use 1 (bigint key) and 2 (two
 * int4 keys), so no role can take this lock from SQL, and _archive_lock()
 * refuses roles that may not maintain the table: nobody can make archiving
 * skip a table by holding its lock.  It shows in pg_locks as an advisory
 * lock (database, classid 1399537989, objid = table OID, objsubid 3).  A
 * session lock survives errors, so a lock this session still holds when a
 * run starts is left over from a cancelled run and is taken over;
 * _archive_unlock(rel) releases it (and so do the session's own
 * pg_advisory_unlock_all() and DISCARD ALL, like any session advisory
 * lock).
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
 * No shared state besides the per-call segment of _archive_vacuum() (one
 * writer, the worker; read by the caller after the worker has stopped).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_node.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "worker.h"

static bool archive_test_crash = false;
static bool crash_at_commit = false;

PG_FUNCTION_INFO_V1(scale_advisor_archive_vacuum);
PG_FUNCTION_INFO_V1(scale_advisor_archive_test_crash);
PG_FUNCTION_INFO_V1(scale_advisor_archive_lock);
PG_FUNCTION_INFO_V1(scale_advisor_archive_unlock);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_archive_vacuum_1_1,
					scale_advisor_archive_vacuum);
SA_SQL_FUNCTION_1_1(scale_advisor_archive_test_crash_1_1,
					scale_advisor_archive_test_crash);
SA_SQL_FUNCTION_1_1(scale_advisor_archive_lock_1_1,
					scale_advisor_archive_lock);
SA_SQL_FUNCTION_1_1(scale_advisor_archive_unlock_1_1,
					scale_advisor_archive_unlock);

/* high half of the archiving lock tag ("SA" + "E" in 1.0's key) */
#define SA_LOCK_FIELD2	1399537989
/* fourth field of the lock tag: never produced by the SQL functions */
#define SA_LOCK_FIELD4	3

/* what the VACUUM worker reports back */
typedef enum SaVacuumOutcome
{
	SA_VACUUM_NOT_STARTED = 0,
	SA_VACUUM_RUNNING,
	SA_VACUUM_DONE,
	SA_VACUUM_SKIPPED,
	SA_VACUUM_FAILED
} SaVacuumOutcome;

typedef struct SaVacuumResult
{
	Oid			dbid;
	Oid			relid;
	int			outcome;		/* SaVacuumOutcome */
	char		message[512];
} SaVacuumResult;


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

/* define the archiving GUCs */
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
 * The lock tag of the archiving runs on relid in this database.
 */
static void
archive_lock_tag(LOCKTAG *tag, Oid relid)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, SA_LOCK_FIELD2, relid,
						 SA_LOCK_FIELD4);
}

/*
 * _archive_lock(regclass): take the session lock of the archiving runs on
 * the table without waiting; true when this session holds it now (also
 * when it already held it: left over from a cancelled run), false when
 * another session does.
 */
Datum
scale_advisor_archive_lock(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	LOCKTAG		tag;

	sa_require_loaded();
	(void) sa_check_maintain(relid);
	archive_lock_tag(&tag, relid);
	if (sa_lock_held_by_me(&tag, ExclusiveLock))
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(LockAcquire(&tag, ExclusiveLock, true, true) !=
				   LOCKACQUIRE_NOT_AVAIL);
}

/*
 * _archive_unlock(regclass): release this session's lock of the archiving
 * runs on the table; false when it did not hold it.
 */
Datum
scale_advisor_archive_unlock(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	LOCKTAG		tag;

	sa_require_loaded();
	archive_lock_tag(&tag, relid);
	if (!sa_lock_held_by_me(&tag, ExclusiveLock))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(LockRelease(&tag, ExclusiveLock, true));
}

/*
 * _archive_vacuum(regclass): VACUUM (ANALYZE) the table in a background
 * worker, as the table's owner, and wait for it.  Returns true when the
 * VACUUM was done; otherwise a WARNING says why not (skipped, failed, no
 * worker) and it returns false.
 */
Datum
scale_advisor_archive_vacuum(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	dsm_segment *seg;
	SaVacuumResult *res;
	char	   *relname;
	bool		done = false;

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

	/* the worker runs as the owner: only the owner's equals may ask */
	(void) sa_check_maintain(relid);
	relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										 get_rel_name(relid));

	seg = dsm_create(sizeof(SaVacuumResult), 0);
	res = (SaVacuumResult *) dsm_segment_address(seg);
	memset(res, 0, sizeof(SaVacuumResult));
	res->dbid = MyDatabaseId;
	res->relid = relid;
	res->outcome = SA_VACUUM_NOT_STARTED;

	if (!sa_worker_start(SA_WORKER_ARCHIVE_VACUUM,
						 UInt32GetDatum(dsm_segment_handle(seg)), NULL,
						 &handle))
	{
		dsm_detach(seg);
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("VACUUM (ANALYZE) %s not done: could not start a background worker",
						relname),
				 errhint("Raise max_worker_processes, or run VACUUM yourself.")));
		PG_RETURN_BOOL(false);
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);

	switch ((SaVacuumOutcome) res->outcome)
	{
		case SA_VACUUM_DONE:
			done = true;
			break;
		case SA_VACUUM_SKIPPED:
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("VACUUM (ANALYZE) %s skipped: %s", relname,
							res->message)));
			break;
		case SA_VACUUM_FAILED:
			ereport(WARNING,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("VACUUM (ANALYZE) %s failed: %s", relname,
							res->message),
					 errhint("Run VACUUM (ANALYZE) on the table as its owner, or let autovacuum do it.")));
			break;
		default:
			ereport(WARNING,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("VACUUM (ANALYZE) %s: the background worker ended without finishing",
							relname),
					 errhint("See the server log; run VACUUM (ANALYZE) on the table as its owner, or let autovacuum do it.")));
			break;
	}
	dsm_detach(seg);
	PG_RETURN_BOOL(done);
}

/*
 * Background worker: VACUUM (ANALYZE) one table at top level, as its owner,
 * and report the outcome in the caller's segment.
 */
void
sa_archive_vacuum_main(Datum arg)
{
	dsm_segment *seg;
	SaVacuumResult *res;
	Oid			relid;
	char	   *relname = NULL;
	char	   *nspname = NULL;
	StringInfoData sql;
	List	   *parsed;
	RawStmt    *raw;
	ParseState *pstate;
	HeapTuple	tup;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* the caller keeps the segment until this worker has stopped */
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the caller gave up waiting */
	res = (SaVacuumResult *) dsm_segment_address(seg);
	relid = res->relid;
	res->outcome = SA_VACUUM_RUNNING;

	/*
	 * Connect without a user (as the bootstrap superuser, like autovacuum):
	 * the owner may be a role that cannot log in.  The work itself is done as
	 * the owner below.
	 */
	BackgroundWorkerInitializeConnectionByOid(res->dbid, InvalidOid, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		relname = MemoryContextStrdup(TopMemoryContext,
									  NameStr(form->relname));
		nspname = get_namespace_name(form->relnamespace);
		if (nspname)
			nspname = MemoryContextStrdup(TopMemoryContext, nspname);
		ReleaseSysCache(tup);
	}
	CommitTransactionCommand();
	if (relname == NULL || nspname == NULL)
	{
		strlcpy(res->message, "the table no longer exists",
				sizeof(res->message));
		res->outcome = SA_VACUUM_SKIPPED;
		proc_exit(0);
	}

	initStringInfo(&sql);
	appendStringInfo(&sql, "VACUUM (ANALYZE) %s",
					 quote_qualified_identifier(nspname, relname));
	pgstat_report_activity(STATE_RUNNING, sql.data);

	/*
	 * VACUUM and ANALYZE switch to the table's owner in a security-restricted
	 * operation themselves, in each transaction they start (vacuum_rel,
	 * do_analyze_rel).  This worker must not enter one around them: a
	 * transaction may not start inside a security context (an assertion of
	 * StartTransaction, which the assertion-enabled test build hit), and
	 * VACUUM starts its own.
	 */
	PG_TRY();
	{
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
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		strlcpy(res->message, edata->message ? edata->message : "error",
				sizeof(res->message));
		res->outcome = SA_VACUUM_FAILED;
		PG_RE_THROW();
	}
	PG_END_TRY();
	res->outcome = SA_VACUUM_DONE;
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
