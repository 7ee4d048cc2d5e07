/*-------------------------------------------------------------------------
 *
 * scale_advisor.h
 *		Declarations shared by the files of scale_advisor.
 *
 * Each subsystem has one init function, called from _PG_init while the
 * library is being preloaded; it defines the subsystem's GUCs and installs
 * its hooks.  Functions callable from SQL call sa_require_loaded() (shmem.h)
 * first, so that a server without the preloaded library gets a clear error
 * instead of touching shared memory that does not exist.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCALE_ADVISOR_H
#define SCALE_ADVISOR_H

#include "postgres.h"

#include "executor/execdesc.h"
#include "nodes/nodes.h"
#include "nodes/params.h"

/*
 * Maintenance work on a table runs as its owner (src/run_as.c): may role do
 * it on a table owned by owner, and the same check for the current user on
 * a relation, raising an error with a hint (returns the owner).
 */
extern bool sa_may_maintain(Oid role, Oid owner);
extern Oid	sa_check_maintain(Oid relid);

/*
 * What the executor and utility hooks (src/hooks.c) know about one finished
 * statement.  Observers registered with sa_register_statement_observer()
 * get it for every statement the hooks track (scale_advisor.track decides
 * whether nested statements are tracked), after the store counted it, at
 * ExecutorEnd before the plan
 * state is freed, or after a utility statement ran.  Observers must be
 * cheap: they run on every statement.  They must not throw errors.
 */
typedef struct SaStatement
{
	uint64		queryid;		/* core query identifier, never 0 here */
	Oid			userid;
	Oid			dbid;
	bool		toplevel;		/* nesting_level == 0 */
	int			nesting_level;
	CmdType		operation;		/* CMD_SELECT ... CMD_UTILITY */
	uint64		rows;			/* rows returned or processed */
	double		exec_ms;		/* execution time */
	QueryDesc  *query_desc;		/* NULL for utility statements */
	const char *source_text;	/* the whole source string */
	int			stmt_location;	/* this statement's part of it, or -1 */
	int			stmt_len;		/* 0 means "to the end" */
	ParamListInfo params;		/* bound parameters, or NULL */
	bool		want_sample;	/* the history wants an example of it */
} SaStatement;

typedef void (*sa_statement_observer) (const SaStatement *stmt);

/*
 * Called in ExecutorStart before the executor starts, for statements that
 * will be tracked; may set query_desc->instrument_options (for example
 * INSTRUMENT_ROWS) to have the plan instrumented.  queryid is the
 * statement's query identifier.
 */
typedef void (*sa_executor_start_observer) (QueryDesc *query_desc,
											int eflags, uint64 queryid);

/*
 * Called in ProcessUtility before a utility statement runs (SET
 * application_name and the like), at every nesting level.
 */
typedef void (*sa_utility_observer) (void);

extern void sa_register_statement_observer(sa_statement_observer fn);
extern void sa_register_executor_start_observer(sa_executor_start_observer fn);
extern void sa_register_utility_observer(sa_utility_observer fn);

/*
 * One C entry point per SQL API version, as pg_stat_statements has: the
 * SQL definitions of version 1.1 name the symbols ending in _1_1; the
 * symbols the 1.0 definitions name stay exported and keep working, so a
 * database still at 1.0 (before ALTER EXTENSION ... UPDATE) runs with this
 * library.  A function whose behaviour is the same in both versions gets
 * its _1_1 symbol from SA_SQL_FUNCTION_1_1(name_1_1, impl), which defines
 * name_1_1 as a call of impl.  A later version whose SQL signature or
 * behaviour changes adds name_1_2 beside them.
 */
#define SA_SQL_FUNCTION_1_1(name, impl) \
	PG_FUNCTION_INFO_V1(name); \
	Datum name(PG_FUNCTION_ARGS) { return impl(fcinfo); } \
	extern int	no_such_variable

/* current nesting depth of statement execution, 0 at top level */
extern int	sa_nesting_level;

/* subsystem init functions, one per file that has GUCs or hooks */
extern void sa_store_init(void);
extern void sa_hooks_init(void);
extern void sa_worker_init(void);
extern void sa_archive_init(void);
extern void sa_partition_init(void);
extern void sa_index_advice_init(void); /* advisor.c */
extern void sa_nplus1_init(void);
extern void sa_snapshot_init(void); /* src/snapshot.c */
extern void sa_history_init(void);	/* src/history.c */
extern void sa_messages_init(void); /* src/messages.c */

/*
 * src/privs.c: the one place of the rule "which roles' statements may the
 * reader see".  sa_reader() takes the current user and whether it may read
 * all statistics (superuser or pg_read_all_stats); want_all = false narrows
 * it to the reader's own statements.  sa_reader_sees() is the test applied
 * to each row: every statement-level view and function uses it.  Parameter
 * values are shown to the role that ran the statement and to superusers
 * (sa_may_see_values).
 */
typedef struct SaReader
{
	Oid			me;				/* the current user */
	bool		all;			/* sees every role's statements */
} SaReader;

extern SaReader sa_reader(bool want_all);
extern bool sa_may_read_all_stats(Oid roleid);
extern bool sa_may_see_values(Oid reader, Oid owner);
extern void sa_require_stats_reader(const char *what);

/* may the reader see a statement (text, query id, figures) owner ran? */
static inline bool
sa_reader_sees(const SaReader *reader, Oid owner)
{
	return reader->all || owner == reader->me;
}

/*
 * src/lifecycle.c: the extension's schema goes with DROP EXTENSION; where
 * an extension is installed
 */
typedef struct SaDropInfo
{
	Oid			extoid;
	Oid			nspoid;
	Oid			owner;
} SaDropInfo;
extern bool sa_drop_extension_prepare(Node *parsetree, SaDropInfo *info);
extern void sa_drop_extension_finish(const SaDropInfo *info);

/* the schema of an installed extension, or InvalidOid */
extern Oid	sa_extension_schema(const char *name);

/* src/history.c: saving the examples */
extern void sa_hist_save(void);

/*
 * Executions of a statement whose example the history asks for: the first
 * SA_SAMPLE_TRIES of an entry after it is created or loaded at server start,
 * then one in SA_SAMPLE_EVERY (a power of two), so that the examples are
 * renewed over time and a restart does not leave statements without one.
 */
#define SA_SAMPLE_TRIES 4
#define SA_SAMPLE_EVERY 1024

#endif							/* SCALE_ADVISOR_H */
