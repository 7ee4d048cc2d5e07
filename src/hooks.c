/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		Owns the hooks that see every statement: post-parse-analyze
 *		(normalized text), planner (planning time), ExecutorStart / Run /
 *		Finish / End and ProcessUtility (execution time, rows, buffers, WAL,
 *		errors), the nesting depth, and the observers other subsystems
 *		register to see each finished statement.
 *
 * Every hook calls the hook that was installed before it (or the standard
 * function), so scale_advisor works beside pg_stat_statements, auto_explain
 * and others, loaded in any order; it never changes the query id.
 *
 * Nesting.  sa_nesting_level counts the executor runs, planner calls and
 * utility statements in progress; a statement that starts at level 0 is
 * top level.  scale_advisor.track decides which levels are recorded
 * ('top', 'all' or 'none').  As in pg_stat_statements, the planner and
 * ProcessUtility hooks raise the level whether or not they record the
 * call (track_planning, track_utility off, a statement another module
 * hid the query id of), so that a function folded at plan time or a
 * statement inside a procedure is nested in every configuration; only
 * EXECUTE and PREPARE leave it, so that the prepared statement they run is
 * at the level of the statement that named it.
 *
 * Load order.  pg_stat_statements, when it tracks utility statements, sets
 * a utility statement's query id to 0 before it calls the next
 * ProcessUtility hook.  Loaded before it in shared_preload_libraries,
 * scale_advisor's hook is that next hook, so it computes the id again from
 * the statement, as the core does (sa_utility_query_id in compat.h); the
 * wrappers the core builds for the parts of a statement (CREATE TABLE's
 * indexes and sequences, context PROCESS_UTILITY_SUBCOMMAND) have no id
 * and are not recorded, as before.  No other hook depends on what the
 * modules around it do: each calls the previous hook once and keeps its
 * own level.
 *
 * Commit.  Deferred triggers (DEFERRABLE INITIALLY DEFERRED foreign keys,
 * constraint triggers) fire when the transaction commits, from
 * CommitTransaction, after the client's statement has returned through
 * every hook: nothing of ours is in progress and the level is 0.  They
 * are nested all the same, in the statement that ended the transaction.
 * When a top-level statement has run (its ExecutorRun or ProcessUtility
 * returned at level 0), the commit is armed with the statement's start
 * timestamp.  The next hook that starts a statement at level 0 decides:
 * in a client backend, with no portal active, the same statement timestamp
 * (no new client message), and the transaction ending (the armed statement
 * was COMMIT or PREPARE TRANSACTION of a block that had not failed, or no
 * transaction block is open: a multi-statement string's implicit block is
 * closed just before its commit), it is the commit's work, and the level
 * is 1 until the transaction's pre-commit, pre-prepare or abort callback.
 * Otherwise (the next statement of a multi-statement string, the next query
 * of a statement a rule turned into several, a new message) it disarms.
 * Portals the client left open are closed in the same commit, after the
 * deferred triggers: their executor calls keep level 0 (commit_qds lists
 * the statements started inside the commit, so the others are told apart).
 * SET CONSTRAINTS ... IMMEDIATE fires them inside its utility hook, so
 * they are nested without this.
 *
 * Errors.  An error must neither leave the nesting level wrong nor go
 * uncounted.  The planner, ExecutorStart, ExecutorRun and ExecutorFinish
 * hooks, which run for every statement, do this without a PG_TRY block
 * (a setjmp each): before calling down they note the statement in a frame
 * of a small static array indexed by level (query id, user, location), and
 * clear it when the call returns.  When an error unwinds past them, the
 * frames stay open; the abort callback of the (sub)transaction, which runs
 * after every LWLock was released, counts an error for each open frame at
 * or above the level the (sub)transaction started at, and sets the level
 * back.  A top-level abort with no open frame (a procedure's ROLLBACK,
 * which runs inside CALL's utility hook) leaves the level alone.
 * PostgreSQL requires code that catches an error either to rethrow it or to
 * roll back a subtransaction, so every error that unwinds past a frame
 * reaches one of these callbacks.
 *
 * A frame copies what it needs: by the time the top-level abort callback
 * runs, AtAbort_Portals has freed the failed portal's child contexts, and
 * with them the QueryDesc, the Query and the text of a statement a
 * function or procedure ran.  Only a top-level statement's text (the
 * message buffer or a prepared statement's plan source, both freed later)
 * is kept as a pointer; a nested statement's error is counted against its
 * entry, which post-parse analysis created (see sa_post_parse_analyze), and
 * is not counted if that entry was evicted in between.  ProcessUtility,
 * rarer and the one hook a procedure's COMMIT or ROLLBACK runs inside,
 * keeps a PG_TRY block: its catch notes the error and restores the level,
 * then rethrows.  Noted errors are kept in a small static array (copies of
 * the texts, no allocation, no locks) and counted in the store by the same
 * abort callbacks.
 *
 * Planning time is measured in the planner hook and kept in a per-level
 * slot until the executor of the same statement finishes at that level; it
 * is then added with the execution, so recording costs one store update per
 * statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "optimizer/planner.h"
#include "parser/analyze.h"
#include "portability/instr_time.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "compat.h"
#include "normalize.h"
#include "scale_advisor.h"
#include "store.h"

/* scale_advisor.track values */
typedef enum
{
	SA_TRACK_NONE,
	SA_TRACK_TOP,
	SA_TRACK_ALL
} SaTrackLevel;

static const struct config_enum_entry track_options[] = {
	{"none", SA_TRACK_NONE, false},
	{"top", SA_TRACK_TOP, false},
	{"all", SA_TRACK_ALL, false},
	{NULL, 0, false}
};

static int	sa_track = SA_TRACK_TOP;
static bool sa_track_utility = true;
static bool sa_track_planning = true;

int			sa_nesting_level = 0;

/* observers */
#define SA_MAX_OBSERVERS 8
static sa_statement_observer stmt_observers[SA_MAX_OBSERVERS];
static int	n_stmt_observers = 0;
static sa_executor_start_observer start_observers[SA_MAX_OBSERVERS];
static int	n_start_observers = 0;
static sa_utility_observer utility_observers[SA_MAX_OBSERVERS];
static int	n_utility_observers = 0;

/* planning time waiting for its execution, per nesting level */
#define SA_PLAN_LEVELS 32
typedef struct SaPendingPlan
{
	uint64		queryid;
	double		ms;
} SaPendingPlan;
static SaPendingPlan pending_plan[SA_PLAN_LEVELS];

/* errors noted by catch blocks, counted at (sub)transaction abort */
#define SA_MAX_PENDING_ERRORS 8
typedef struct SaPendingError
{
	SaKey		key;
	int			len;
	char	   *text;			/* buffer of sa_max_query_length + 1 bytes */
} SaPendingError;
static SaPendingError pending_errors[SA_MAX_PENDING_ERRORS];
static int	n_pending_errors = 0;
static bool error_buffers_ready = false;

/*
 * Statements in progress in the planner and executor hooks, by the level
 * they started at (see "Errors" above).  open is false once the call
 * returned normally or its error was counted.
 */
#define SA_FRAME_LEVELS 64
typedef struct SaFrame
{
	bool		open;
	Oid			userid;
	int			loc;
	int			len;
	uint64		queryid;		/* 0: an error here is not counted */
	const char *text;
	const QueryDesc *qd;		/* the executor call's statement, else NULL */
} SaFrame;
static SaFrame frames[SA_FRAME_LEVELS];
static int	frames_high = 0;	/* no frame at or above this level is open */

/*
 * The commit of the transaction (see "Commit" above): armed when a
 * top-level statement ended and the transaction commits next, applied
 * while the commit runs deferred triggers at level 1.  commit_qds holds the
 * statements the commit started at level 1 (all of them when commit_qds_full).
 */
#define SA_COMMIT_QDS 16
static bool commit_armed = false;
static bool commit_armed_commit = false;
static bool commit_applied = false;
static TimestampTz commit_armed_at;
static const QueryDesc *commit_qds[SA_COMMIT_QDS];
static int	n_commit_qds = 0;
static bool commit_qds_full = false;

/* nesting level at the start of each subtransaction, by its nest level */
#define SA_SUBXACT_LEVELS 256
static int	subxact_start_level[SA_SUBXACT_LEVELS];

/* previous hooks */
static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;
static planner_hook_type prev_planner_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void sa_post_parse_analyze(ParseState *pstate, Query *query,
								  JumbleState *jstate);
static PlannedStmt *sa_planner(Query *parse, const char *query_string,
							   int cursorOptions, ParamListInfo boundParams);
static void sa_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void sa_ExecutorRun(SA_EXECUTOR_RUN_PARAMS);
static void sa_ExecutorFinish(QueryDesc *queryDesc);
static void sa_ExecutorEnd(QueryDesc *queryDesc);
static void sa_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
							  bool readOnlyTree, ProcessUtilityContext context,
							  ParamListInfo params, QueryEnvironment *queryEnv,
							  DestReceiver *dest, QueryCompletion *qc);
static void sa_xact_callback(XactEvent event, void *arg);
static void sa_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg);

/* is a statement starting at this level recorded? */
#define sa_enabled(level) \
	(!IsParallelWorker() && \
	 (sa_track == SA_TRACK_ALL || (sa_track == SA_TRACK_TOP && (level) == 0)))

/*
 * Define the hooks' GUCs and install the hooks.
 */
void
sa_hooks_init(void)
{
	DefineCustomEnumVariable("scale_advisor.track",
							 "Which statements scale_advisor records.",
							 "'top' records statements sent by clients, 'all' also those run inside functions, 'none' nothing.",
							 &sa_track,
							 SA_TRACK_TOP, track_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("scale_advisor.track_utility",
							 "Record utility statements (DDL, COPY, VACUUM, ...).",
							 NULL,
							 &sa_track_utility,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("scale_advisor.track_planning",
							 "Record planning time.",
							 NULL,
							 &sa_track_planning,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	/* make compute_query_id = auto compute query ids */
	EnableQueryId();

	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = sa_post_parse_analyze;
	prev_planner_hook = planner_hook;
	planner_hook = sa_planner;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = sa_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = sa_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = sa_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = sa_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = sa_ProcessUtility;

	RegisterXactCallback(sa_xact_callback, NULL);
	RegisterSubXactCallback(sa_subxact_callback, NULL);
}

/*
 * Add an observer of finished statements (see scale_advisor.h).
 */
void
sa_register_statement_observer(sa_statement_observer fn)
{
	if (n_stmt_observers >= SA_MAX_OBSERVERS)
		elog(ERROR, "too many scale_advisor statement observers");
	stmt_observers[n_stmt_observers++] = fn;
}

/*
 * Add an observer of executor starts (see scale_advisor.h).
 */
void
sa_register_executor_start_observer(sa_executor_start_observer fn)
{
	if (n_start_observers >= SA_MAX_OBSERVERS)
		elog(ERROR, "too many scale_advisor executor start observers");
	start_observers[n_start_observers++] = fn;
}

/*
 * Add an observer of utility statements (see scale_advisor.h).
 */
void
sa_register_utility_observer(sa_utility_observer fn)
{
	if (n_utility_observers >= SA_MAX_OBSERVERS)
		elog(ERROR, "too many scale_advisor utility observers");
	utility_observers[n_utility_observers++] = fn;
}

/*
 * Key of a statement run at a nesting level by the current user.
 */
static inline void
make_key(SaKey *key, uint64 queryid, int level)
{
	key->userid = GetUserId();
	key->dbid = MyDatabaseId;
	key->queryid = queryid;
	key->toplevel = (level == 0);
}

/*
 * Allocate the buffers error notes copy texts into, once per backend, so
 * that a catch block never allocates.
 */
static void
error_buffers_init(void)
{
	int			i;

	if (error_buffers_ready)
		return;
	for (i = 0; i < SA_MAX_PENDING_ERRORS; i++)
		pending_errors[i].text = MemoryContextAlloc(TopMemoryContext,
													sa_max_query_length + 1);
	error_buffers_ready = true;
}

/*
 * In a catch block or an abort callback: note that a tracked statement
 * ended in an error.  Does not allocate, lock or throw.
 */
static void
note_error(uint64 queryid, int level, Oid userid, const char *source,
		   int loc, int len)
{
	SaPendingError *pe;

	if (queryid == 0 || !error_buffers_ready || !sa_enabled(level) ||
		n_pending_errors >= SA_MAX_PENDING_ERRORS)
		return;
	pe = &pending_errors[n_pending_errors++];
	pe->key.userid = userid;
	pe->key.dbid = MyDatabaseId;
	pe->key.queryid = queryid;
	pe->key.toplevel = (level == 0);
	pe->len = 0;
	if (source)
	{
		const char *t = CleanQuerytext(source, &loc, &len);

		if (len > sa_max_query_length)
			len = sa_max_query_length;	/* cut at a character later */
		memcpy(pe->text, t, len);
		pe->text[len] = '\0';
		pe->len = len;
	}
}

/*
 * Open the frame of a call starting at a level.  The statement's
 * identifiers are copied: the QueryDesc or Query may be freed before the
 * abort callbacks run (AtAbort_Portals deletes a failed portal's child
 * contexts, the SPI contexts of a procedure among them).  Only the text
 * is a pointer.  queryid 0: an error is not counted.  Does not allocate
 * or throw.
 */
static inline void
frame_open(int level, uint64 queryid, const char *text, int loc, int len)
{
	SaFrame    *f;

	if (unlikely(level >= SA_FRAME_LEVELS))
		return;
	f = &frames[level];
	f->open = true;
	f->queryid = queryid;
	f->qd = NULL;
	/* only a top-level statement's text outlives its portal (see above) */
	f->text = (level == 0) ? text : NULL;

	f->loc = loc;
	f->len = len;
	f->userid = GetUserId();
	if (level >= frames_high)
		frames_high = level + 1;
}

/*
 * The frame of an executor call; tracked says whether an error in it is
 * counted.
 */
static inline void
frame_open_query(int level, const QueryDesc *qd, bool tracked)
{
	frame_open(level,
			   tracked ? (uint64) qd->plannedstmt->queryId : UINT64CONST(0),
			   qd->sourceText, qd->plannedstmt->stmt_location,
			   qd->plannedstmt->stmt_len);
	if (likely(level < SA_FRAME_LEVELS))
		frames[level].qd = qd;
}

/*
 * The frame of ExecutorRun or ExecutorFinish: the frame ExecutorStart
 * filled for the same QueryDesc at this level is opened again when nothing
 * else used the level since (ExecutorStart clears the QueryDesc of an
 * untracked statement, so a freed QueryDesc's address cannot match);
 * otherwise it is filled anew.
 */
static inline void
frame_reopen_query(int level, const QueryDesc *qd)
{
	if (likely(level < SA_FRAME_LEVELS) && frames[level].qd == qd)
	{
		frames[level].open = true;
		if (level >= frames_high)
			frames_high = level + 1;
		return;
	}
	frame_open_query(level, qd,
					 qd->totaltime != NULL &&
					 qd->plannedstmt->queryId != UINT64CONST(0) &&
					 sa_enabled(level));
}

/* the call of the frame at this level returned normally */
static inline void
frame_close(int level)
{
	if (likely(level < SA_FRAME_LEVELS))
		frames[level].open = false;
}

/*
 * (Sub)transaction abort: note an error for every open frame at or above
 * from_level and close them.  Returns the lowest level that had an open
 * frame, or -1.
 */
static int
frames_abort(int from_level)
{
	int			lowest = -1;
	int			l;

	if (from_level < 0)
		from_level = 0;
	for (l = from_level; l < frames_high; l++)
	{
		SaFrame    *f = &frames[l];

		if (!f->open)
			continue;
		f->open = false;
		if (lowest < 0)
			lowest = l;
		note_error(f->queryid, l, f->userid, f->text, f->loc, f->len);
	}
	if (from_level == 0)
		frames_high = 0;
	else if (frames_high > from_level)
		frames_high = from_level;
	return lowest;
}

/*
 * A top-level statement ended (or ran): arm the commit, in case the
 * transaction commits before the client sends anything else.  ended_commit:
 * the statement was COMMIT or PREPARE TRANSACTION of a block that had not
 * failed.  Cheap: whether it is a commit is decided by commit_enter.
 */
static inline void
commit_arm(bool ended_commit)
{
	/* while the commit's work runs (level 1) no level-0 hook looks at it */
	commit_armed = true;
	commit_armed_commit = ended_commit;
	commit_armed_at = GetCurrentStatementStartTimestamp();
}

/*
 * A statement starts at level 0 while the commit is armed.  It is the
 * commit's work (level 1 from now on) in a client backend when no portal
 * runs it, no new client message started, and the transaction is ending:
 * after COMMIT or PREPARE TRANSACTION, or outside a transaction block (the
 * next statement of a multi-statement string runs inside an implicit
 * block, which is closed only before its commit).
 */
static void
commit_enter(void)
{
	commit_armed = false;
	if (MyBackendType == B_BACKEND && ActivePortal == NULL &&
		GetCurrentStatementStartTimestamp() == commit_armed_at &&
		(commit_armed_commit || !IsTransactionBlock()))
	{
		commit_applied = true;
		n_commit_qds = 0;
		commit_qds_full = false;
		sa_nesting_level = 1;
	}
}

/* at each hook that starts a statement: does the commit's work start? */
static inline void
commit_check(void)
{
	if (unlikely(commit_armed) && sa_nesting_level == 0)
		commit_enter();
}

/* the transaction committed, prepared or aborted: the commit is over */
static void
commit_end(void)
{
	if (commit_applied)
		sa_nesting_level = 0;
	commit_applied = false;
	commit_armed = false;
	n_commit_qds = 0;
	commit_qds_full = false;
}

/* a statement started at level 1 inside the commit */
static void
commit_qd_add(const QueryDesc *qd)
{
	if (n_commit_qds < SA_COMMIT_QDS)
		commit_qds[n_commit_qds++] = qd;
	else
		commit_qds_full = true;
}

/*
 * Inside the commit, at level 1: was this statement started by the commit
 * (else it is a portal the client left open, closed by the commit)?  The
 * statement is forgotten when forget is set (its ExecutorEnd).
 */
static bool
commit_qd_started(const QueryDesc *qd, bool forget)
{
	int			i;

	for (i = 0; i < n_commit_qds; i++)
	{
		if (commit_qds[i] == qd)
		{
			if (forget)
				commit_qds[i] = commit_qds[--n_commit_qds];
			return true;
		}
	}
	return commit_qds_full;
}

/*
 * The level an executor call of a started statement runs at: the current
 * one, except for a portal the client left open that the commit closes.
 */
static inline int
query_level(const QueryDesc *qd, bool forget)
{
	int			level = sa_nesting_level;

	if (unlikely(commit_applied) && level == 1 &&
		!commit_qd_started(qd, forget))
		return 0;
	return level;
}

/*
 * Count the noted errors in the store.
 */
static void
flush_errors(void)
{
	int			i;

	for (i = 0; i < n_pending_errors; i++)
	{
		SaPendingError *pe = &pending_errors[i];

		pe->len = pg_mbcliplen(pe->text, pe->len, pe->len);
		sa_store_record_error(&pe->key, pe->len > 0 ? pe->text : NULL,
							  pe->len);
	}
	n_pending_errors = 0;
}

/*
 * Transaction end: count errors on abort, forget them otherwise.
 */
static void
sa_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		if (frames_high > 0)
		{
			int			lowest = frames_abort(0);

			if (lowest >= 0 && sa_nesting_level > lowest)
				sa_nesting_level = lowest;
		}
		if (n_pending_errors > 0)
			flush_errors();
	}
	else if (n_pending_errors > 0 &&
			 (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
			  event == XACT_EVENT_PREPARE))
		n_pending_errors = 0;

	/* deferred triggers have run, or the transaction failed: commit over */
	if (unlikely(commit_applied))
		commit_end();
	commit_armed = false;
}

/*
 * Subtransactions: remember the level each starts at; on abort (an
 * exception block caught the error) count the errors of the frames it
 * unwound and go back to that level.
 */
static void
sa_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	int			nest;

	if (event == SUBXACT_EVENT_START_SUB)
	{
		nest = GetCurrentTransactionNestLevel();
		if (nest < SA_SUBXACT_LEVELS)
			subxact_start_level[nest] = sa_nesting_level;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		nest = GetCurrentTransactionNestLevel();
		if (nest < SA_SUBXACT_LEVELS)
		{
			int			start = subxact_start_level[nest];

			(void) frames_abort(start);
			if (sa_nesting_level > start)
				sa_nesting_level = start;
		}
		if (n_pending_errors > 0)
			flush_errors();
	}
}

/*
 * Give a finished statement to every registered observer.
 */
static void
tell_observers(uint64 queryid, int level, CmdType operation,
			   const SaExecution *ex, QueryDesc *queryDesc, const char *source,
			   int loc, int len, ParamListInfo params, bool want_sample)
{
	SaStatement st;
	int			i;

	st.queryid = queryid;
	st.userid = GetUserId();
	st.dbid = MyDatabaseId;
	st.toplevel = (level == 0);
	st.nesting_level = level;
	st.operation = operation;
	st.rows = ex->rows;
	st.exec_ms = ex->exec_ms;
	st.query_desc = queryDesc;
	st.source_text = source;
	st.stmt_location = loc;
	st.stmt_len = len;
	st.params = params;
	st.want_sample = want_sample;
	for (i = 0; i < n_stmt_observers; i++)
		stmt_observers[i] (&st);
}

/*
 * Post-parse-analyze: store the normalized text of new statements that have
 * constants, and of new nested statements without (their own text), so
 * that a nested statement has an entry to count an error in before it runs.
 */
static void
sa_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	SaKey		key;
	const char *qtext;
	int			loc;
	int			len;
	char	   *norm;

	commit_check();
	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);

	/*
	 * A top-level statement without constants is stored with its own text at
	 * ExecutorEnd (or when it fails: its text outlives the abort), so only
	 * nested ones, whose text may not, are created here without constants.
	 */
	if (!sa_store_attached() || !sa_enabled(sa_nesting_level) ||
		query->queryId == UINT64CONST(0) || query->utilityStmt != NULL ||
		jstate == NULL || pstate->p_sourcetext == NULL ||
		(sa_nesting_level == 0 && !sa_jumble_has_constants(jstate)))
		return;

	make_key(&key, query->queryId, sa_nesting_level);
	if (sa_store_has(&key))
		return;

	loc = query->stmt_location;
	len = query->stmt_len;
	qtext = CleanQuerytext(pstate->p_sourcetext, &loc, &len);
	norm = sa_normalize_query(qtext - loc, loc, &len, jstate);
	sa_store_create(&key, norm, len);
	pfree(norm);
}

/*
 * Planner: measure planning time of tracked statements.  The level is
 * raised either way, so that functions the planner folds are nested.
 */
static PlannedStmt *
sa_planner(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	PlannedStmt *result;
	int			level;

	commit_check();
	level = sa_nesting_level;
	if (sa_track_planning && sa_store_attached() && sa_enabled(level) &&
		parse->queryId != UINT64CONST(0) && query_string != NULL)
	{
		instr_time	start;
		instr_time	duration;

		error_buffers_init();
		INSTR_TIME_SET_CURRENT(start);
		frame_open(level, parse->queryId, query_string, parse->stmt_location,
				   parse->stmt_len);
		sa_nesting_level++;
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions,
									   boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions,
									  boundParams);
		frame_close(level);
		sa_nesting_level = level;
		INSTR_TIME_SET_CURRENT(duration);
		INSTR_TIME_SUBTRACT(duration, start);
		if (level < SA_PLAN_LEVELS)
		{
			pending_plan[level].queryid = parse->queryId;
			pending_plan[level].ms = INSTR_TIME_GET_MILLISEC(duration);
		}
	}
	else
	{
		/* no query id: an error restores the level but is not counted */
		frame_open(level, UINT64CONST(0), NULL, 0, 0);
		sa_nesting_level++;
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions,
									   boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions,
									  boundParams);
		frame_close(level);
		sa_nesting_level = level;
	}
	return result;
}

/*
 * ExecutorStart: let observers ask for instrumentation, then make sure the
 * statement's total time, buffers and WAL are measured.
 */
static void
sa_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	uint64		queryid = queryDesc->plannedstmt->queryId;
	int			level;
	bool		tracked;
	int			i;

	commit_check();
	level = sa_nesting_level;
	if (unlikely(commit_applied) && level == 1)
		commit_qd_add(queryDesc);
	tracked = (queryid != UINT64CONST(0) && sa_store_attached() &&
			   sa_enabled(level));
	if (tracked)
	{
		error_buffers_init();
		for (i = 0; i < n_start_observers; i++)
			start_observers[i] (queryDesc, eflags, queryid);
	}

	/*
	 * The level does not change in ExecutorStart; the frame counts errors,
	 * and ExecutorRun and ExecutorFinish open it again.
	 */
	if (tracked)
		frame_open_query(level, queryDesc, true);
	else if (level < SA_FRAME_LEVELS)
		frames[level].qd = NULL;
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
	if (tracked)
		frame_close(level);

	if (tracked && queryDesc->totaltime == NULL)
	{
		MemoryContext old;

		old = MemoryContextSwitchTo(queryDesc->estate->es_query_cxt);
		queryDesc->totaltime = InstrAlloc(1, INSTRUMENT_ALL, false);
		MemoryContextSwitchTo(old);
	}
}

/*
 * ExecutorRun: track nesting, note errors.
 */
static void
sa_ExecutorRun(SA_EXECUTOR_RUN_PARAMS)
{
	int			saved = sa_nesting_level;
	int			level = query_level(queryDesc, false);

	frame_reopen_query(level, queryDesc);
	sa_nesting_level = level + 1;
	if (prev_ExecutorRun)
		prev_ExecutorRun(SA_EXECUTOR_RUN_ARGS);
	else
		standard_ExecutorRun(SA_EXECUTOR_RUN_ARGS);
	frame_close(level);
	sa_nesting_level = saved;

	/* a top-level statement ran: deferred triggers may follow */
	if (level == 0)
		commit_arm(false);
}

/*
 * ExecutorFinish: track nesting, note errors (AFTER triggers run here).
 */
static void
sa_ExecutorFinish(QueryDesc *queryDesc)
{
	int			saved = sa_nesting_level;
	int			level = query_level(queryDesc, false);

	frame_reopen_query(level, queryDesc);
	sa_nesting_level = level + 1;
	if (prev_ExecutorFinish)
		prev_ExecutorFinish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);
	frame_close(level);
	sa_nesting_level = saved;
}

/*
 * ExecutorEnd: record the finished execution and tell the observers.
 */
static void
sa_ExecutorEnd(QueryDesc *queryDesc)
{
	uint64		queryid = queryDesc->plannedstmt->queryId;
	int			level = query_level(queryDesc, true);

	if (queryid != UINT64CONST(0) && queryDesc->totaltime &&
		sa_store_attached() && sa_enabled(level))
	{
		SaKey		key;
		SaExecution ex;
		bool		want_sample;

		InstrEndLoop(queryDesc->totaltime);

		ex.exec_ms = queryDesc->totaltime->total * 1000.0;
		ex.rows = queryDesc->estate->es_processed;
		ex.bufusage = &queryDesc->totaltime->bufusage;
		ex.walusage = &queryDesc->totaltime->walusage;
		ex.planned = false;
		ex.plan_ms = 0.0;
		if (level < SA_PLAN_LEVELS && pending_plan[level].queryid == queryid)
		{
			ex.planned = true;
			ex.plan_ms = pending_plan[level].ms;
			pending_plan[level].queryid = 0;
		}

		ex.history = sa_track_history;

		make_key(&key, queryid, level);
		want_sample = sa_store_record(&key, queryDesc->sourceText,
									  queryDesc->plannedstmt->stmt_location,
									  queryDesc->plannedstmt->stmt_len, &ex);

		if (n_stmt_observers > 0)
			tell_observers(queryid, level, queryDesc->operation, &ex, queryDesc,
						   queryDesc->sourceText,
						   queryDesc->plannedstmt->stmt_location,
						   queryDesc->plannedstmt->stmt_len, queryDesc->params,
						   want_sample);
	}

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * Rows a utility statement reports in its completion tag.
 */
static uint64
utility_rows(QueryCompletion *qc)
{
	if (qc == NULL)
		return 0;
	switch (qc->commandTag)
	{
		case CMDTAG_COPY:
		case CMDTAG_FETCH:
		case CMDTAG_SELECT:
		case CMDTAG_REFRESH_MATERIALIZED_VIEW:
			return qc->nprocessed;
		default:
			return 0;
	}
}

/*
 * Is this COMMIT or PREPARE TRANSACTION of a block that has not failed?
 */
static bool
ends_in_commit(Node *parsetree)
{
	TransactionStmtKind kind;

	if (!IsA(parsetree, TransactionStmt))
		return false;
	kind = ((TransactionStmt *) parsetree)->kind;
	return ((kind == TRANS_STMT_COMMIT || kind == TRANS_STMT_PREPARE) &&
			!IsAbortedTransactionBlockState());
}

/*
 * Call the next ProcessUtility hook, one level down when raise is set; an
 * error restores the level and, when queryid is set, is noted against the
 * statement.
 */
static void
call_utility(PlannedStmt *pstmt, const char *queryString,
			 bool readOnlyTree, ProcessUtilityContext context,
			 ParamListInfo params, QueryEnvironment *queryEnv,
			 DestReceiver *dest, QueryCompletion *qc,
			 int level, bool raise, uint64 queryid)
{
	int			loc = pstmt->stmt_location;
	int			len = pstmt->stmt_len;

	if (!raise)
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
		return;
	}

	sa_nesting_level = level + 1;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_CATCH();
	{
		sa_nesting_level = level;
		if (queryid != UINT64CONST(0))
			note_error(queryid, level, GetUserId(), queryString, loc, len);
		PG_RE_THROW();
	}
	PG_END_TRY();
	sa_nesting_level = level;
}

/*
 * ProcessUtility: time utility statements.  EXECUTE, PREPARE and
 * DEALLOCATE are left to the executor hooks, which see the prepared
 * statement itself.  Every other utility statement raises the level,
 * recorded or not (see "Nesting" above), and a top-level one may arm the
 * commit (see "Commit").
 */
static void
sa_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree, ProcessUtilityContext context,
				  ParamListInfo params, QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	uint64		queryid = pstmt->queryId;
	int			level;
	bool		raise;
	bool		tracked;
	bool		ended_commit;
	bool		dropping;
	SaDropInfo	drop;

	commit_check();
	/* SET application_name and the like: N+1 contexts check it by name */
	for (int i = 0; i < n_utility_observers; i++)
		utility_observers[i] ();
	dropping = sa_drop_extension_prepare(parsetree, &drop);
	level = sa_nesting_level;
	raise = !IsA(parsetree, ExecuteStmt) && !IsA(parsetree, PrepareStmt);
	tracked = (sa_track_utility && raise && !IsA(parsetree, DeallocateStmt) &&
			   sa_store_attached() && sa_enabled(level));

	/* an outer module may have hidden the id (see "Load order" above) */
	if (tracked && queryid == UINT64CONST(0))
	{
		if (context != PROCESS_UTILITY_SUBCOMMAND && IsQueryIdEnabled())
			queryid = sa_utility_query_id(pstmt, queryString);
		tracked = (queryid != UINT64CONST(0));
	}

	/* pstmt may be freed by COMMIT or ROLLBACK: look at it before */
	ended_commit = (level == 0 && ends_in_commit(parsetree));

	if (tracked)
	{
		instr_time	start;
		instr_time	duration;
		BufferUsage buf_start = pgBufferUsage;
		WalUsage	wal_start = pgWalUsage;
		BufferUsage bufusage;
		WalUsage	walusage;
		SaExecution ex;
		SaKey		key;
		int			loc = pstmt->stmt_location;
		int			len = pstmt->stmt_len;

		error_buffers_init();
		INSTR_TIME_SET_CURRENT(start);
		call_utility(pstmt, queryString, readOnlyTree, context, params,
					 queryEnv, dest, qc, level, true, queryid);

		INSTR_TIME_SET_CURRENT(duration);
		INSTR_TIME_SUBTRACT(duration, start);
		memset(&bufusage, 0, sizeof(bufusage));
		BufferUsageAccumDiff(&bufusage, &pgBufferUsage, &buf_start);
		memset(&walusage, 0, sizeof(walusage));
		WalUsageAccumDiff(&walusage, &pgWalUsage, &wal_start);

		ex.exec_ms = INSTR_TIME_GET_MILLISEC(duration);
		ex.rows = utility_rows(qc);
		ex.bufusage = &bufusage;
		ex.walusage = &walusage;
		ex.planned = false;
		ex.plan_ms = 0.0;

		ex.history = false;

		make_key(&key, queryid, level);
		(void) sa_store_record(&key, queryString, loc, len, &ex);

		if (n_stmt_observers > 0)
			tell_observers(queryid, level, CMD_UTILITY, &ex, NULL, queryString,
						   loc, len, params, false);
	}
	else
		call_utility(pstmt, queryString, readOnlyTree, context, params,
					 queryEnv, dest, qc, level, raise, UINT64CONST(0));

	/* DROP EXTENSION scale_advisor: its schema too, when empty */
	if (dropping)
		sa_drop_extension_finish(&drop);

	/* a top-level statement ended: deferred triggers may follow */
	if (level == 0)
		commit_arm(ended_commit);
}
