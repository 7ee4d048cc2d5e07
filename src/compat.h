/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every difference between the PostgreSQL versions scale_advisor
 *		builds against (14 to 17) lives here, so that no other file needs
 *		a PG_VERSION_NUM test.
 *
 * PostgreSQL 13 has no core query identifier (compute_query_id arrived in
 * 14), and the post-parse-analyze hook gets no jumble state there, so the
 * statement store cannot key its entries the way it does on 14 and later:
 * building for 13 stops here with a clear message.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_COMPAT_H
#define SA_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 140000
#error "scale_advisor needs PostgreSQL 14 or later (core query identifiers)"
#endif

/*
 * PostgreSQL 15 moved shared memory requests into shmem_request_hook; on 14
 * they are made directly from _PG_init.
 */
#if PG_VERSION_NUM >= 150000
#define SA_HAVE_SHMEM_REQUEST_HOOK 1
#endif

/* Query jumbling moved from utils/ to nodes/ in PostgreSQL 16. */
#if PG_VERSION_NUM >= 160000
#include "nodes/queryjumble.h"
#else
#include "utils/queryjumble.h"
#endif

/* A random integer in [0, n): PostgreSQL 15 brought pg_prng. */
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#define sa_random_range(n) \
	((uint32) pg_prng_uint64_range(&pg_global_prng_state, 0, (uint64) (n) - 1))
#else
#define sa_random_range(n) ((uint32) (random() % (n)))
#endif

/*
 * Materialized set-returning functions: InitMaterializedSRF in 16 and
 * later, SetSingleFuncCall in 15, written out on 14.
 */
#include "funcapi.h"
#if PG_VERSION_NUM >= 160000
#define sa_init_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#elif PG_VERSION_NUM >= 150000
#define sa_init_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#else
#include "miscadmin.h"
#include "utils/tuplestore.h"
static inline void
sa_init_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(old);
}
#endif

/* PostgreSQL 15 renamed the call that reserves a GUC prefix. */
#include "utils/guc.h"

#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * N+1 rewrites analyze a statement again with fixed parameter types and
 * deparse the modified tree with pg_get_querydef, which PostgreSQL 15
 * exported (and where parse_fixed_parameters became
 * setup_parse_fixed_parameters).  On 14 no rewrite is built.
 */
#if PG_VERSION_NUM >= 150000
#define SA_HAVE_QUERYDEF 1
#endif

/*
 * The query id the core gives a utility statement, computed again from the
 * statement: pg_stat_statements, when it tracks utility statements, sets
 * pstmt->queryId to 0 before it calls the next ProcessUtility hook, so a
 * hook loaded before it (called after it) sees no id.  A Query built the
 * way parse analysis builds one for a utility statement jumbles to the same
 * id: on 14 and 15 a hash of the statement's text, from 16 on a jumble of
 * the statement's tree.  JumbleQuery lost its text argument in 17.
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
#if PG_VERSION_NUM >= 170000
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

#endif							/* SA_COMPAT_H */
