/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		Snapshots of the statement history and of table sizes: the
 *		background worker that takes them in every database at a fixed
 *		interval, and the SQL helpers snapshot() uses (_relation_size_nowait,
 *		_host_cpus).  The statistics themselves come from history.c.
 *
 * Table sizes are read with _relation_size_nowait(), which takes its locks
 * (ACCESS SHARE on the table, its TOAST table and their indexes) only when
 * they are free at once: a snapshot or a monitoring view never waits behind
 * a table owner's ACCESS EXCLUSIVE lock (a TRUNCATE, an ALTER TABLE, a
 * REINDEX); the table is skipped and snapshot() says so.
 *
 * The background worker "scale_advisor snapshot launcher" is connected to
 * no database: every scale_advisor.snapshot_interval seconds (the first
 * time when it starts) it lists the databases and starts, one after the
 * other, a short-lived worker connected to each, which calls
 * scale_advisor.snapshot() there when the extension is created in it.  So
 * every database with the extension has its history.  A worker still
 * running after one interval and at least a minute (waiting for a lock)
 * is stopped, so that one
 * database cannot hold up the others' snapshots.  It skips its turn
 * while the server is in recovery.  Both exit quietly on SIGTERM: a
 * snapshot in progress is cancelled and rolled back.
 *
 * No shared state of its own: the launcher and the per-database workers
 * are registered through worker.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <unistd.h>

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "commands/dbcommands.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "store.h"
#include "worker.h"

/* a per-database worker is stopped after this long at least (seconds) */
#define SA_SNAPSHOT_MIN_WAIT 60

/* GUCs */
static int	sa_snapshot_interval = 900;
static int	sa_snapshot_keep = 2880;
static char *sa_database = NULL;

PG_FUNCTION_INFO_V1(scale_advisor_host_cpus);
PG_FUNCTION_INFO_V1(scale_advisor_relation_size_nowait);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_host_cpus_1_1, scale_advisor_host_cpus);
SA_SQL_FUNCTION_1_1(scale_advisor_relation_size_nowait_1_1,
					scale_advisor_relation_size_nowait);

/*
 * SQL: scale_advisor._host_cpus() is the number of CPUs online on the
 * database server, or NULL when the system does not tell.
 */
Datum
scale_advisor_host_cpus(PG_FUNCTION_ARGS)
{
	long		n = -1;

#ifdef _SC_NPROCESSORS_ONLN
	n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
	if (n <= 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32((int32) n);
}

/* take an ACCESS SHARE lock on relid if it is free now; remember it */
static bool
sa_lock_nowait(Oid relid, List **locked)
{
	if (!OidIsValid(relid))
		return true;
	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return false;
	*locked = lappend_oid(*locked, relid);
	return true;
}

/* lock the indexes of an open relation without waiting */
static bool
sa_lock_indexes_nowait(Relation rel, List **locked)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		ok = true;

	foreach(lc, indexes)
	{
		if (!sa_lock_nowait(lfirst_oid(lc), locked))
		{
			ok = false;
			break;
		}
	}
	list_free(indexes);
	return ok;
}

/*
 * SQL: scale_advisor._relation_size_nowait(rel, main_only) returns
 * pg_total_relation_size(rel), or pg_relation_size(rel, 'main') when
 * main_only, or NULL when the relation is gone or when a lock it needs (on
 * the relation, its TOAST table or one of their indexes) is held in a
 * conflicting mode by another session: it never waits.
 */
Datum
scale_advisor_relation_size_nowait(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		main_only = PG_GETARG_BOOL(1);
	List	   *locked = NIL;
	Relation	rel;
	Oid			toastid = InvalidOid;
	bool		ok;
	Datum		size = (Datum) 0;
	ListCell   *lc;

	if (!sa_lock_nowait(relid, &locked))
		PG_RETURN_NULL();
	rel = try_relation_open(relid, NoLock);
	ok = (rel != NULL);
	if (ok && main_only)
	{
		relation_close(rel, NoLock);
		size = DirectFunctionCall2(pg_relation_size, ObjectIdGetDatum(relid),
								   CStringGetTextDatum("main"));
		UnlockRelationOid(relid, AccessShareLock);
		list_free(locked);
		PG_RETURN_DATUM(size);
	}
	if (ok)
	{
		toastid = rel->rd_rel->reltoastrelid;
		ok = sa_lock_indexes_nowait(rel, &locked) &&
			sa_lock_nowait(toastid, &locked);
		relation_close(rel, NoLock);
	}
	if (ok && OidIsValid(toastid))
	{
		Relation	toast = try_relation_open(toastid, NoLock);

		if (toast != NULL)
		{
			ok = sa_lock_indexes_nowait(toast, &locked);
			relation_close(toast, NoLock);
		}
	}
	if (ok)
		size = DirectFunctionCall1(pg_total_relation_size,
								   ObjectIdGetDatum(relid));
	foreach(lc, locked)
		UnlockRelationOid(lfirst_oid(lc), AccessShareLock);
	list_free(locked);
	if (!ok)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(size);
}

/*
 * Call scale_advisor.snapshot() if the extension exists in the database
 * this process is connected to.  Errors are logged.  Returns true when a
 * snapshot was taken.
 */
static bool
sa_snapshot_take(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool taken = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		char	   *schema = NULL;

		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT n.nspname::text FROM pg_catalog.pg_extension e"
						" JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
						" WHERE e.extname = 'scale_advisor'", true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look up extension scale_advisor");
		if (SPI_processed > 0)
			schema = SPI_getvalue(SPI_tuptable->vals[0],
								  SPI_tuptable->tupdesc, 1);
		if (schema != NULL)
		{
			StringInfoData sql;

			initStringInfo(&sql);
			appendStringInfo(&sql, "SELECT %s.snapshot()",
							 quote_identifier(schema));
			pgstat_report_activity(STATE_RUNNING, sql.data);
			if (SPI_execute(sql.data, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "snapshot query failed");
			taken = true;
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		/* a snapshot cut short by a shutdown is rolled back in silence */
		if (!ShutdownRequestPending)
			EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		taken = false;
	}
	PG_END_TRY();
	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);
	return taken;
}

/*
 * SIGTERM of a per-database worker (a shutdown or a restart of the server):
 * cancel the snapshot in progress, which sa_snapshot_take() then rolls back
 * without a word, and exit.  The default handler, die(), would log a FATAL
 * at every clean shutdown that comes while a snapshot runs.
 */
static void
sa_snapshot_db_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	ShutdownRequestPending = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * Main function of the worker started for one database (its OID in arg):
 * take a snapshot there if the extension is created in it, then exit.  It
 * runs as the bootstrap superuser, and records none of its own statements
 * (statement store, N+1 detector, plan capture): they are not the
 * application's, and would change the figures of a test or a load run at
 * any moment.
 */
void
sa_snapshot_db_main(Datum arg)
{
	pqsignal(SIGTERM, sa_snapshot_db_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(arg),
											  InvalidOid, 0);
	/* the snapshot's own statements are not the application's */
	SetConfigOption("scale_advisor.track", "none", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("scale_advisor.n_plus_one", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("scale_advisor.plan_sample_rate", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("scale_advisor.plan_capture_ms", "-1", PGC_SUSET, PGC_S_OVERRIDE);
	if (!ShutdownRequestPending && !RecoveryInProgress() &&
		sa_snapshot_take())
		ereport(DEBUG1,
				(errmsg("scale_advisor took a snapshot of database \"%s\"",
						get_database_name(MyDatabaseId))));
	proc_exit(0);
}

/*
 * The databases a snapshot may be taken in: those that accept connections,
 * are not templates and are not half dropped.  Runs in a transaction of
 * the launcher, which is connected to no database (pg_database is shared).
 */
static List *
sa_snapshot_databases(MemoryContext cxt)
{
	List	   *dbs = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;

		/* datconnlimit -2: a DROP DATABASE was interrupted */
		if (!db->datallowconn || db->datistemplate || db->datconnlimit == -2)
			continue;
		old = MemoryContextSwitchTo(cxt);
		dbs = lappend_oid(dbs, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dbs;
}

/*
 * Wait for the worker of database dbid to end.  A worker still running
 * after scale_advisor.snapshot_interval, and at least SA_SNAPSHOT_MIN_WAIT
 * seconds, is stopped with a LOG line (its snapshot is rolled back), so
 * that the other databases still get theirs each turn: one that waits to
 * connect to a database a prepared transaction locked, or behind a lock its
 * snapshot needs.  The floor keeps a slow snapshot under a short interval
 * (a test, valgrind) from being cut every turn.
 */
static void
sa_snapshot_wait(BackgroundWorkerHandle *handle, Oid dbid)
{
	TimestampTz start = GetCurrentTimestamp();
	bool		stopped = false;
	pid_t		pid;

	for (;;)
	{
		BgwHandleStatus st = GetBackgroundWorkerPid(handle, &pid);
		int			limit_s = Max(sa_snapshot_interval, SA_SNAPSHOT_MIN_WAIT);

		if (st == BGWH_STOPPED || st == BGWH_POSTMASTER_DIED)
			break;
		if (!stopped && !ShutdownRequestPending &&
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   limit_s * 1000))
		{
			ereport(LOG,
					(errmsg("scale_advisor stopped the snapshot worker of database %u after %d s: it had not finished",
							dbid, limit_s),
					 errdetail("It may be waiting for a lock on the database, as a prepared transaction can hold one, or on a table."),
					 errhint("See pg_locks and pg_prepared_xacts; the next turn tries again.")));
			TerminateBackgroundWorker(handle);
			stopped = true;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * One turn of the launcher: a snapshot of every database, one after the
 * other, each by a worker of its own (a process connects to one database
 * only).  Gives up the turn when asked to shut down.
 */
static void
sa_snapshot_turn(void)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "scale_advisor snapshot turn",
											  ALLOCSET_DEFAULT_SIZES);
	List	   *dbs = sa_snapshot_databases(cxt);
	ListCell   *lc;

	foreach(lc, dbs)
	{
		BackgroundWorkerHandle *handle;
		pid_t		pid;
		char		detail[64];

		if (ShutdownRequestPending || RecoveryInProgress())
			break;
		snprintf(detail, sizeof(detail), "of database %u", lfirst_oid(lc));
		if (!sa_worker_start(SA_WORKER_SNAPSHOT_DB,
							 ObjectIdGetDatum(lfirst_oid(lc)), detail,
							 &handle))
		{
			ereport(LOG,
					(errmsg("scale_advisor could not start a snapshot worker: no free background worker slot"),
					 errhint("Raise max_worker_processes; the next turn tries again.")));
			break;
		}
		if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
			sa_snapshot_wait(handle, lfirst_oid(lc));
		pfree(handle);
	}
	MemoryContextDelete(cxt);
}

/*
 * SIGTERM of the launcher: finish the turn's current snapshot and exit
 * without an error (the default handler, die(), logs a FATAL at every
 * clean shutdown).
 */
static void
sa_snapshot_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	ShutdownRequestPending = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * Main function of the snapshot launcher: every
 * scale_advisor.snapshot_interval seconds, from its start on, a snapshot
 * of every database where the extension is created.
 */
void
sa_snapshot_launcher_main(Datum arg)
{
	TimestampTz last = 0;
	bool		said = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, sa_snapshot_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	while (!ShutdownRequestPending)
	{
		long		timeout = -1;
		int			flags = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			said = false;
		}
		if (!said)
		{
			if (sa_snapshot_interval > 0)
				ereport(LOG,
						(errmsg("scale_advisor takes a history snapshot of every database with the extension every %d s",
								sa_snapshot_interval)));
			else
				ereport(LOG,
						(errmsg("scale_advisor takes no history snapshots (scale_advisor.snapshot_interval = 0)"),
						 errhint("Call scale_advisor.snapshot() from cron in each database, or set scale_advisor.snapshot_interval.")));
			said = true;
		}

		now = GetCurrentTimestamp();
		if (sa_snapshot_interval > 0)
		{
			TimestampTz due = TimestampTzPlusMilliseconds(last,
														  (int64) sa_snapshot_interval * 1000);

			if (last == 0 || now >= due)
			{
				if (!RecoveryInProgress())
					sa_snapshot_turn();
				last = GetCurrentTimestamp();
				continue;
			}
			timeout = (long) ((due - now) / 1000) + 1;
			flags |= WL_TIMEOUT;
		}

		(void) WaitLatch(MyLatch, flags, timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}

/*
 * Define the snapshot GUCs (worker.c registers the launcher).
 */
void
sa_snapshot_init(void)
{
	DefineCustomIntVariable("scale_advisor.snapshot_interval",
							"Seconds between two snapshots taken by the background worker (0 disables it).",
							NULL,
							&sa_snapshot_interval,
							900, 0, 7 * 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.snapshot_keep",
							"Number of snapshots kept; older ones are deleted when a snapshot is taken.",
							NULL,
							&sa_snapshot_keep,
							2880, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("scale_advisor.database",
							   "No longer used: snapshots are taken in every database that has the extension.",
							   NULL,
							   &sa_database,
							   "postgres",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
}
