/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every difference between the PostgreSQL versions scale_advisor
 *		builds against (15, 16, 17 and 18) lives here, so that no other file
 *		needs a PG_VERSION_NUM test.
 *
 * Tested: 15 (Debian 12's packages) and 18 (built from Debian's source
 * package).  16 and 17 are compile-checked against their headers
 * (test/lib/compile-check.sh), not run.  19 is not supported yet
 * (docs/versions.md lists what does not compile).  14 and older are
 * refused: 14 has no shmem_request_hook, no pg_get_querydef and no
 * pg_prng, and nothing could test the code that would stand in for them.
 *
 * No locking of its own: every helper here is a thin wrapper over a core
 * call and takes whatever locks that call takes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_COMPAT_H
#define SA_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "scale_advisor needs PostgreSQL 15 or later"
#endif

#include "access/stratnum.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "storage/lock.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/pg_locale.h"

/*
 * The module's magic block.  PostgreSQL 18 lets it carry the module's name
 * and version (shown by pg_get_loaded_modules()); SA_VERSION comes from the
 * control file through the Makefile.
 */
#ifndef SA_VERSION
#error "SA_VERSION is not defined: build with the extension's Makefile"
#endif
#ifdef PG_MODULE_MAGIC_EXT
#define SA_MODULE_MAGIC \
	PG_MODULE_MAGIC_EXT(.name = "scale_advisor", .version = SA_VERSION)
#else
#define SA_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* Query jumbling moved from utils/ to nodes/ in PostgreSQL 16. */
#if PG_VERSION_NUM >= 160000
#include "nodes/queryjumble.h"
#else
#include "utils/queryjumble.h"
#endif

/* A random integer in [0, n), and a random double in [0, 1). */
#define sa_random_range(n) \
	((uint32) pg_prng_uint64_range(&pg_global_prng_state, 0, (uint64) (n) - 1))
#define sa_random_double() pg_prng_double(&pg_global_prng_state)

/*
 * Materialized set-returning functions: InitMaterializedSRF in 16 and
 * later; 15.0 had only its first name, SetSingleFuncCall (later 15 minor
 * releases have both).
 */
#if PG_VERSION_NUM >= 160000
#define sa_init_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#else
#define sa_init_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#endif

/*
 * ExecutorRun_hook: PostgreSQL 18 dropped the execute_once argument.  A
 * hook is declared with SA_EXECUTOR_RUN_PARAMS and passes
 * SA_EXECUTOR_RUN_ARGS on.
 */
#if PG_VERSION_NUM >= 180000
#define SA_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define SA_EXECUTOR_RUN_ARGS queryDesc, direction, count
#else
#define SA_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count, \
	bool execute_once
#define SA_EXECUTOR_RUN_ARGS queryDesc, direction, count, execute_once
#endif

/*
 * Does the current user have the privileges the executor would check for
 * running this plan?  ExecCheckRTPerms over the range table until 15;
 * PostgreSQL 16 moved the permissions into RTEPermissionInfo nodes
 * (PlannedStmt.permInfos) and renamed the check ExecCheckPermissions.
 * With ereport true a missing privilege raises the executor's error.
 */
static inline bool
sa_check_plan_perms(PlannedStmt *plan, bool ereport_on_violation)
{
#if PG_VERSION_NUM >= 160000
	return ExecCheckPermissions(plan->rtable, plan->permInfos,
								ereport_on_violation);
#else
	return ExecCheckRTPerms(plan->rtable, ereport_on_violation);
#endif
}

/*
 * The columns a query reads from one of its range table's relations
 * (offset by FirstLowInvalidHeapAttributeNumber): the range table entry's
 * selectedCols until 15; PostgreSQL 16 moved them into its
 * RTEPermissionInfo.
 */
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h"
#define sa_rte_selected_cols(q, rte) \
	((rte)->perminfoindex != 0 ? \
	 getRTEPermissionInfo((q)->rteperminfos, (rte))->selectedCols : NULL)
#else
#define sa_rte_selected_cols(q, rte) ((void) (q), (rte)->selectedCols)
#endif

/*
 * Does an update that changes only columns of summarizing indexes (BRIN)
 * stay HOT?  From PostgreSQL 16 on it does.
 */
#if PG_VERSION_NUM >= 160000
#define SA_SUMMARIZING_KEEPS_HOT true
#else
#define SA_SUMMARIZING_KEEPS_HOT false
#endif

/*
 * May role SET ROLE to owner?  PostgreSQL 16 lets a grant give a role's
 * privileges without that right (WITH SET FALSE); before 16 having the
 * privileges of a role (an INHERIT member) always came with it.
 */
#if PG_VERSION_NUM >= 160000
#define sa_member_can_set_role(role, owner) member_can_set_role((role), (owner))
#else
#define sa_member_can_set_role(role, owner) ((void) (role), (void) (owner), true)
#endif

/*
 * Does this backend hold the lock in exactly this mode?  PostgreSQL 17
 * added the orstronger argument to LockHeldByMe.
 */
#if PG_VERSION_NUM >= 170000
#define sa_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode), false)
#else
#define sa_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode))
#endif

/*
 * Does the collation sort bytewise (C or POSIX)?  lc_collate_is_c was
 * removed in PostgreSQL 18; the locale object says it instead.
 */
static inline bool
sa_collate_is_c(Oid collation)
{
#if PG_VERSION_NUM >= 180000
	return pg_newlocale_from_collation(collation)->collate_is_c;
#else
	return lc_collate_is_c(collation);
#endif
}

/*
 * Is opno a btree ordering operator, and does it sort descending?
 * PostgreSQL 18 reports the comparison type (COMPARE_GT) where older
 * versions reported the btree strategy number.
 */
static inline bool
sa_ordering_op_is_desc(Oid opno, bool *desc)
{
	Oid			opfamily;
	Oid			opcintype;
#if PG_VERSION_NUM >= 180000
	CompareType cmptype;

	if (!get_ordering_op_properties(opno, &opfamily, &opcintype, &cmptype))
		return false;
	*desc = (cmptype == COMPARE_GT);
#else
	int16		strategy;

	if (!get_ordering_op_properties(opno, &opfamily, &opcintype, &strategy))
		return false;
	*desc = (strategy == BTGreaterStrategyNumber);
#endif
	return true;
}

/*
 * The constant locations the query jumbler records.  PostgreSQL 18 also
 * records each PARAM_EXTERN parameter ($n in the source text, to be kept as
 * it is unless a list was squashed) and squashes a list of constants (IN
 * (1, 2, 3), ARRAY[...]) into one location whose length it gives: such a
 * list becomes one $n followed by a comment that says more values followed,
 * and lists of any length share one query id.  When a list was squashed, highest_extern_param_id is 0 and every
 * $n of the source is renumbered too, as pg_stat_statements does.
 */
#if PG_VERSION_NUM >= 180000
#define sa_jumble_loc_is_param(js, i)	((js)->clocations[(i)].extern_param)
#define sa_jumble_loc_squashed(js, i)	((js)->clocations[(i)].squashed)
#define sa_jumble_has_squashed(js)		((js)->has_squashed_lists)
#else
#define sa_jumble_loc_is_param(js, i)	((void) (js), (void) (i), false)
#define sa_jumble_loc_squashed(js, i)	((void) (js), (void) (i), false)
#define sa_jumble_has_squashed(js)		((void) (js), false)
#endif

/*
 * The query id the core gives a utility statement, computed again from the
 * statement: pg_stat_statements, when it tracks utility statements, sets
 * pstmt->queryId to 0 before it calls the next ProcessUtility hook, so a
 * hook loaded before it (called after it) sees no id.  A Query built the
 * way parse analysis builds one for a utility statement jumbles to the same
 * id: on 14 and 15 a hash of the statement's text, from 16 on a jumble of
 * the statement's tree.  JumbleQuery lost its text argument in 16.
 */
#include "nodes/plannodes.h"
static inline uint64
sa_utility_query_id(PlannedStmt *pstmt, const char *query_string)
{
	Query	   *query = makeNode(Query);
	JumbleState *jstate;
	uint64		queryid;

	query->commandType = CMD_UTILITY;
	query->querySource = QSRC_ORIGINAL;
	query->canSetTag = true;
	query->utilityStmt = pstmt->utilityStmt;
	query->stmt_location = pstmt->stmt_location;
	query->stmt_len = pstmt->stmt_len;
#if PG_VERSION_NUM >= 160000
	jstate = JumbleQuery(query);
#else
	jstate = JumbleQuery(query, query_string);
#endif
	queryid = query->queryId;
	if (jstate != NULL)
	{
		pfree(jstate->jumble);
		pfree(jstate->clocations);
		pfree(jstate);
	}
	pfree(query);
	return queryid;
}

/*
 * build_attrmap_by_name gained a missing_ok argument in 16.
 */
#include "access/attmap.h"
#if PG_VERSION_NUM >= 160000
#define sa_build_attrmap_by_name(in, out) build_attrmap_by_name((in), (out), false)
#else
#define sa_build_attrmap_by_name(in, out) build_attrmap_by_name((in), (out))
#endif

/*
 * The fields of a table's statistics entry for the rows changed since the
 * last ANALYZE and its times were renamed in 16.
 */
#include "pgstat.h"
#if PG_VERSION_NUM >= 160000
#define SA_TAB_MOD_SINCE_ANALYZE(t)	((t)->mod_since_analyze)
#define SA_TAB_LAST_ANALYZE(t)		((t)->last_analyze_time)
#define SA_TAB_LAST_AUTOANALYZE(t)	((t)->last_autoanalyze_time)
#else
#define SA_TAB_MOD_SINCE_ANALYZE(t)	((t)->changes_since_analyze)
#define SA_TAB_LAST_ANALYZE(t)		((t)->analyze_timestamp)
#define SA_TAB_LAST_AUTOANALYZE(t)	((t)->autovac_analyze_timestamp)
#endif

#endif							/* SA_COMPAT_H */
