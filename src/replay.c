/*-------------------------------------------------------------------------
 *
 * replay.c
 *		What replaying a captured statement would run: the check behind
 *		workload_script(), which leaves out statements whose replay would
 *		run code that is not built in.
 *
 * pgbench replays the script as whoever runs it.  A statement that calls
 * a function of some role (directly, through an operator, an aggregate, a
 * view, a row-level security policy, a domain's CHECK constraint, or, for
 * writes, a trigger, a CHECK constraint, an index expression or a
 * generated column of a table it writes, of its partitions and
 * inheritance children, and of the tables foreign keys cascade into)
 * would run that role's code with the rights of the pgbench user.
 * _replay_refusal() parses, analyzes and rewrites the statement as the
 * caller, in a security-restricted operation, with the search_path a new
 * session of the caller starts with, in a subtransaction that is always
 * rolled back, and walks the result for such code.  Built in means: in
 * pg_catalog or information_schema and owned by the bootstrap superuser.
 *
 * No shared state, no locks beyond the relation locks of parse analysis,
 * released with the subtransaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "index_advice.h"
#include "scale_advisor.h"

PG_FUNCTION_INFO_V1(scale_advisor_replay_refusal);

typedef struct CodeWalk
{
	char	   *reason;			/* the first code found that is not built in */
	List	   *written;		/* OIDs of tables written */
	Oid			infoschema;
} CodeWalk;

/* is an object of this namespace and owner built in? */
static bool
builtin(CodeWalk *cw, Oid nsp, Oid owner)
{
	return (nsp == PG_CATALOG_NAMESPACE ||
			(OidIsValid(cw->infoschema) && nsp == cw->infoschema)) &&
		owner == BOOTSTRAP_SUPERUSERID;
}

/* check_functions_in_node callback: note a function that is not built in */
static bool
note_function(Oid funcid, void *context)
{
	CodeWalk   *cw = (CodeWalk *) context;
	HeapTuple	tup;
	Form_pg_proc p;

	if (cw->reason)
		return true;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return false;
	p = (Form_pg_proc) GETSTRUCT(tup);
	if (!builtin(cw, p->pronamespace, p->proowner))
		cw->reason = psprintf("calls %s, which is not built in",
							  format_procedure_qualified(funcid));
	ReleaseSysCache(tup);
	return cw->reason != NULL;
}

/* a domain with constraints runs them on every coercion */
static void
note_domain(CodeWalk *cw, Oid typid)
{
	HeapTuple	tup;
	Form_pg_type t;

	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return;
	t = (Form_pg_type) GETSTRUCT(tup);
	if (t->typtype == TYPTYPE_DOMAIN &&
		!builtin(cw, t->typnamespace, t->typowner) &&
		DomainHasConstraints(typid))
		cw->reason = psprintf("coerces to domain %s, whose constraints are not built in",
							  format_type_be_qualified(typid));
	ReleaseSysCache(tup);
}

static bool code_walker(Node *node, CodeWalk *cw);

/* walk the ordering and grouping operators of a query */
static void
note_sortgroup(CodeWalk *cw, List *clauses)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);

		if (OidIsValid(sgc->sortop))
			note_function(get_opcode(sgc->sortop), cw);
		if (OidIsValid(sgc->eqop))
			note_function(get_opcode(sgc->eqop), cw);
	}
}

static bool
code_walker(Node *node, CodeWalk *cw)
{
	if (node == NULL || cw->reason)
		return cw->reason != NULL;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		if (q->resultRelation > 0)
			cw->written = list_append_unique_oid(cw->written,
												 rt_fetch(q->resultRelation,
														  q->rtable)->relid);
		note_sortgroup(cw, q->sortClause);
		note_sortgroup(cw, q->groupClause);
		note_sortgroup(cw, q->distinctClause);
		return query_tree_walker(q, code_walker, (void *) cw, 0);
	}
	if (IsA(node, CoerceToDomain))
	{
		note_domain(cw, ((CoerceToDomain *) node)->resulttype);
		if (cw->reason)
			return true;
	}
	if (check_functions_in_node(node, note_function, (void *) cw))
		return true;
	return expression_tree_walker(node, code_walker, (void *) cw);
}

/* walk an expression stored as a node string */
static void
walk_stored(CodeWalk *cw, const char *nodestr)
{
	if (nodestr != NULL && cw->reason == NULL)
		code_walker((Node *) stringToNode(nodestr), cw);
}

/*
 * The code that writing a table runs beyond the statement itself:
 * triggers, CHECK constraints, generated columns, index expressions and
 * predicates; the tables that foreign keys cascade into are written too.
 */
static void
check_written(CodeWalk *cw)
{
	ListCell   *lc;

	/* cw->written grows while it is walked */
	for (int i = 0; i < list_length(cw->written) && cw->reason == NULL; i++)
	{
		Oid			relid = list_nth_oid(cw->written, i);
		Relation	rel = relation_open(relid, AccessShareLock);
		TupleConstr *constr = RelationGetDescr(rel)->constr;
		List	   *indexes;

		/* rows may land in partitions or inheritance children */
		if (rel->rd_rel->relhassubclass)
		{
			ListCell   *cc;

			foreach(cc, find_all_inheritors(relid, AccessShareLock, NULL))
				cw->written = list_append_unique_oid(cw->written,
													 lfirst_oid(cc));
		}

		if (rel->trigdesc)
		{
			for (int t = 0; t < rel->trigdesc->numtriggers; t++)
			{
				Trigger    *trig = &rel->trigdesc->triggers[t];

				if (!trig->tgisinternal)
				{
					cw->reason = psprintf("writes table %s, which has trigger %s",
										  RelationGetRelationName(rel),
										  quote_identifier(trig->tgname));
					break;
				}
				note_function(trig->tgfoid, cw);
				if (OidIsValid(trig->tgconstrrelid))
					cw->written = list_append_unique_oid(cw->written,
														 trig->tgconstrrelid);
			}
		}
		if (constr && cw->reason == NULL)
		{
			for (int c = 0; c < constr->num_check; c++)
				walk_stored(cw, constr->check[c].ccbin);
			for (int d = 0; d < constr->num_defval; d++)
				walk_stored(cw, constr->defval[d].adbin);
		}
		indexes = RelationGetIndexList(rel);
		foreach(lc, indexes)
		{
			Relation	irel;

			if (cw->reason)
				break;
			irel = index_open(lfirst_oid(lc), AccessShareLock);
			code_walker((Node *) RelationGetIndexExpressions(irel), cw);
			code_walker((Node *) RelationGetIndexPredicate(irel), cw);
			index_close(irel, AccessShareLock);
		}
		relation_close(rel, AccessShareLock);
	}
}

/* analyze the statement and find what it would run; NULL when built in */
static char *
refusal(const char *text)
{
	CodeWalk	cw;
	List	   *raw;
	List	   *queries;
	ListCell   *lc;

	memset(&cw, 0, sizeof(cw));
	cw.infoschema = get_namespace_oid("information_schema", true);
	raw = raw_parser(text, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		return pstrdup("the text does not hold exactly one statement");
	queries = pg_analyze_and_rewrite_fixedparams(linitial(raw), text,
												 NULL, 0, NULL);
	foreach(lc, queries)
	{
		Query	   *q = lfirst_node(Query, lc);

		if (q->commandType == CMD_UTILITY)
			return pstrdup("it is a utility statement");
		code_walker((Node *) q, &cw);
		if (cw.reason)
			return cw.reason;
	}
	check_written(&cw);
	return cw.reason;
}

/*
 * SQL: scale_advisor._replay_refusal(statement text) returns why replaying
 * the statement would run code that is not built in, or NULL.
 */
Datum
scale_advisor_replay_refusal(PG_FUNCTION_ARGS)
{
	char	   *stmt_text = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			save_userid;
	int			save_sec_context;
	char	   *reason = NULL;
	char	   *result;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		int			save_nestlevel;
		const char *path = GetConfigOptionResetString("search_path");

		SetUserIdAndSecContext(save_userid,
							   save_sec_context |
							   SECURITY_RESTRICTED_OPERATION);
		/* names resolve as in the new session pgbench opens */
		save_nestlevel = sa_push_search_path(path);
		reason = refusal(stmt_text);
		AtEOXact_GUC(false, save_nestlevel);
		SetUserIdAndSecContext(save_userid, save_sec_context);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(save_userid, save_sec_context);
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (sa_error_ends_reading(edata->sqlerrcode))
			ReThrowError(edata);
		reason = psprintf("it cannot be analyzed in a new session: %s",
						  edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	if (reason == NULL)
		PG_RETURN_NULL();
	result = reason;
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
