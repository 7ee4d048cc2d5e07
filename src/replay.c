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
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_partitioned_table.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_range.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "index_advice.h"
#include "scale_advisor.h"

PG_FUNCTION_INFO_V1(scale_advisor_replay_refusal);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_replay_refusal_1_1,
					scale_advisor_replay_refusal);

typedef struct CodeWalk
{
	char	   *reason;			/* the first code found that is not built in */
	List	   *written;		/* OIDs of tables written */
	List	   *read;			/* OIDs of relations named (re-planning) */
	Oid			infoschema;
	Oid			trusted;		/* re-planning: the role the code runs as */
	bool		replay;			/* pgbench replays it as someone else */
} CodeWalk;

/*
 * Built-in functions that run SQL given to them as text (or read every
 * table of a schema or database): what they run is not in the statement's
 * tree, so nothing here could check it.
 */
static const char *const sql_text_runners[] = {
	"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
	"cursor_to_xml", "cursor_to_xmlschema",
	"table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
	"schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
	"database_to_xml", "database_to_xmlschema",
	"database_to_xml_and_xmlschema", "ts_stat", "ts_rewrite", NULL
};

/*
 * Volatile built-ins a replayed read may call: the others change the
 * session (set_config), write (setval, lo_*), or act with the rights of
 * whoever runs pgbench (pg_terminate_backend, lo_export, ...).
 */
static const char *const replay_volatile_ok[] = {
	"random", "random_normal", "clock_timestamp", "timeofday",
	"gen_random_uuid", NULL
};

/* is name one of list? */
static bool
name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/*
 * May code of this namespace and owner run?  Built in: in pg_catalog or
 * information_schema and owned by the bootstrap superuser.  When
 * re-planning as a role, also code whose owner has that role's
 * privileges (running it as the role gives its owner nothing).
 */
static bool
builtin(CodeWalk *cw, Oid nsp, Oid owner)
{
	if ((nsp == PG_CATALOG_NAMESPACE ||
		 (OidIsValid(cw->infoschema) && nsp == cw->infoschema)) &&
		owner == BOOTSTRAP_SUPERUSERID)
		return true;
	return OidIsValid(cw->trusted) && has_privs_of_role(owner, cw->trusted);
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
		cw->reason = psprintf(OidIsValid(cw->trusted) ?
							  "calls %s, code of a role that does not have the privileges of the role that ran the statement" :
							  "calls %s, which is not built in",
							  format_procedure_qualified(funcid));
	else if (p->pronamespace == PG_CATALOG_NAMESPACE &&
			 name_in(NameStr(p->proname), sql_text_runners))
		cw->reason = psprintf("calls %s, which runs SQL given as text",
							  format_procedure_qualified(funcid));
	else if (cw->replay && p->provolatile == PROVOLATILE_VOLATILE &&
			 !name_in(NameStr(p->proname), replay_volatile_ok))
		cw->reason = psprintf("calls %s, a volatile built-in that changes the session or acts with the rights of whoever replays it",
							  format_procedure_qualified(funcid));
	ReleaseSysCache(tup);
	return cw->reason != NULL;
}

static bool code_walker(Node *node, CodeWalk *cw);
static void walk_stored(CodeWalk *cw, const char *nodestr);

/*
 * The code a value of type typid may run.  Coerced (a coercion to it, or a
 * parameter value read by its input function): the constraints of a
 * domain, and those of the fields of a composite type.  Any value: the
 * canonical function of a range type (building a range) and its
 * subtype_diff (selectivity estimates).  Arrays: those of their element
 * type.  A domain's constraints are read from pg_constraint, not through
 * the type cache: loading them there plans them, which folds the immutable
 * functions they call.
 */
static void
note_type(CodeWalk *cw, Oid typid, bool coerced, int depth)
{
	HeapTuple	tup;
	Form_pg_type t;
	Oid			base;
	Oid			elem;
	Oid			typrelid;
	char		typtype;
	bool		ok;

	if (cw->reason || depth > 16 || !OidIsValid(typid))
		return;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return;
	t = (Form_pg_type) GETSTRUCT(tup);
	ok = builtin(cw, t->typnamespace, t->typowner);
	base = t->typbasetype;
	elem = (t->typlen == -1) ? t->typelem : InvalidOid;
	typrelid = t->typrelid;
	typtype = t->typtype;
	ReleaseSysCache(tup);

	if (typtype == TYPTYPE_DOMAIN && coerced)
	{
		Relation	conrel;
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	ctup;

		conrel = table_open(ConstraintRelationId, AccessShareLock);
		ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(typid));
		scan = systable_beginscan(conrel, ConstraintTypidIndexId, true,
								  NULL, 1, &key);
		while (cw->reason == NULL &&
			   HeapTupleIsValid(ctup = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		d;

			if (!ok)
			{
				cw->reason = psprintf("coerces to domain %s, whose constraints are not built in",
									  format_type_be_qualified(typid));
				break;
			}
			d = heap_getattr(ctup, Anum_pg_constraint_conbin,
							 RelationGetDescr(conrel), &isnull);
			if (!isnull)
				walk_stored(cw, TextDatumGetCString(d));
		}
		systable_endscan(scan);
		table_close(conrel, AccessShareLock);
	}
	if (typtype == TYPTYPE_DOMAIN)
		note_type(cw, base, coerced, depth + 1);
	else if (typtype == TYPTYPE_RANGE || typtype == TYPTYPE_MULTIRANGE)
	{
		Oid			rng = typtype == TYPTYPE_RANGE ? typid :
		get_multirange_range(typid);

		tup = SearchSysCache1(RANGETYPE, ObjectIdGetDatum(rng));
		if (HeapTupleIsValid(tup))
		{
			Form_pg_range r = (Form_pg_range) GETSTRUCT(tup);
			Oid			canonical = r->rngcanonical;
			Oid			subdiff = r->rngsubdiff;
			Oid			sub = r->rngsubtype;

			ReleaseSysCache(tup);
			if (OidIsValid(canonical))
				note_function(canonical, cw);
			if (OidIsValid(subdiff))
				note_function(subdiff, cw);
			note_type(cw, sub, coerced, depth + 1);
		}
	}
	else if (typtype == TYPTYPE_COMPOSITE && coerced && OidIsValid(typrelid))
	{
		Relation	rel = relation_open(typrelid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);

		for (int i = 0; i < desc->natts && cw->reason == NULL; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				note_type(cw, TupleDescAttr(desc, i)->atttypid, true,
						  depth + 1);
		relation_close(rel, AccessShareLock);
	}
	else if (OidIsValid(elem))
		note_type(cw, elem, coerced, depth + 1);
}

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

/*
 * walk a query tree for what its replay would run; sets cw->reason to refuse
 */
static bool
code_walker(Node *node, CodeWalk *cw)
{
	if (node == NULL || cw->reason)
		return cw->reason != NULL;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

			if (rte->rtekind == RTE_RELATION)
				cw->read = list_append_unique_oid(cw->read, rte->relid);
		}
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
		note_type(cw, ((CoerceToDomain *) node)->resulttype, true, 0);
	else if (IsA(node, Var) || IsA(node, Const) || IsA(node, Param))
		note_type(cw, exprType(node), false, 0);
	if (cw->reason)
		return true;
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

/* walk a node-string column of a syscache tuple */
static void
walk_syscache_attr(CodeWalk *cw, int cacheid, Oid oid, AttrNumber attno)
{
	HeapTuple	tup = SearchSysCache1(cacheid, ObjectIdGetDatum(oid));
	bool		isnull;
	Datum		d;

	if (!HeapTupleIsValid(tup))
		return;
	d = SysCacheGetAttr(cacheid, tup, attno, &isnull);
	if (!isnull)
		walk_stored(cw, TextDatumGetCString(d));
	ReleaseSysCache(tup);
}

/*
 * The expressions stored with a relation that planning or writing it may
 * evaluate: CHECK constraints, index expressions and predicates, the
 * expressions of extended statistics, the partition key.  They are read as
 * stored: the relation cache folds the immutable functions in them when it
 * loads them, which would run them here.
 */
static void
walk_relation_exprs(CodeWalk *cw, Relation rel)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	List	   *oids;
	ListCell   *lc;

	if (constr)
		for (int c = 0; c < constr->num_check && cw->reason == NULL; c++)
			walk_stored(cw, constr->check[c].ccbin);
	oids = RelationGetIndexList(rel);
	foreach(lc, oids)
	{
		walk_syscache_attr(cw, INDEXRELID, lfirst_oid(lc),
						   Anum_pg_index_indexprs);
		walk_syscache_attr(cw, INDEXRELID, lfirst_oid(lc),
						   Anum_pg_index_indpred);
	}
	oids = RelationGetStatExtList(rel);
	foreach(lc, oids)
		walk_syscache_attr(cw, STATEXTOID, lfirst_oid(lc),
						   Anum_pg_statistic_ext_stxexprs);
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		walk_syscache_attr(cw, PARTRELID, RelationGetRelid(rel),
						   Anum_pg_partitioned_table_partexprs);
}

/*
 * The code that writing a table runs beyond the statement itself:
 * triggers, CHECK constraints, generated columns, index expressions and
 * predicates; the tables that foreign keys cascade into are written too.
 */
static void
check_written(CodeWalk *cw)
{
	/* cw->written grows while it is walked */
	for (int i = 0; i < list_length(cw->written) && cw->reason == NULL; i++)
	{
		Oid			relid = list_nth_oid(cw->written, i);
		Relation	rel = relation_open(relid, AccessShareLock);
		TupleConstr *constr = RelationGetDescr(rel)->constr;

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
			for (int d = 0; d < constr->num_defval; d++)
				walk_stored(cw, constr->defval[d].adbin);
		if (cw->reason == NULL)
			walk_relation_exprs(cw, rel);
		relation_close(rel, AccessShareLock);
	}
}

/*
 * The expressions stored with the relations a statement names, and with
 * their partitions and inheritance children, which planning it may fold.
 */
static void
check_read(CodeWalk *cw)
{
	/* cw->read grows while it is walked */
	for (int i = 0; i < list_length(cw->read) && cw->reason == NULL; i++)
	{
		Oid			relid = list_nth_oid(cw->read, i);
		Relation	rel = relation_open(relid, AccessShareLock);

		if (rel->rd_rel->relhassubclass)
		{
			ListCell   *cc;

			foreach(cc, find_all_inheritors(relid, AccessShareLock, NULL))
				cw->read = list_append_unique_oid(cw->read, lfirst_oid(cc));
		}
		walk_relation_exprs(cw, rel);
		relation_close(rel, AccessShareLock);
	}
}

/*
 * Why planning the analyzed and rewritten query q as role would run code
 * whose owner does not have role's privileges (a function it calls, one in
 * a view or a row-level security policy, in a domain's constraints or a
 * range type's functions, in the input of its parameters' types, in the
 * stored expressions of a table it names), or a built-in that runs SQL given
 * as text; NULL when it would not.  Such code may have been replaced since
 * the statement ran (its query identifier does not change).
 */
char *
sa_replan_refusal(Query *q, Oid role, int nparams, Oid *ptypes)
{
	CodeWalk	cw;

	memset(&cw, 0, sizeof(cw));
	cw.infoschema = get_namespace_oid("information_schema", true);
	cw.trusted = role;
	/* the parameter values go through their types' input functions */
	for (int i = 0; i < nparams && cw.reason == NULL; i++)
		note_type(&cw, ptypes[i], true, 0);
	if (cw.reason == NULL)
		code_walker((Node *) q, &cw);
	if (cw.reason == NULL)
		check_read(&cw);
	return cw.reason;
}

/*
 * True when the statement names relations and all of them are system
 * catalogs or views of pg_catalog or information_schema, and writes none.
 */
static bool
reads_only_catalogs(CodeWalk *cw)
{
	ListCell   *lc;

	if (cw->read == NIL || cw->written != NIL)
		return false;
	foreach(lc, cw->read)
	{
		Oid			nsp = get_rel_namespace(lfirst_oid(lc));

		if (!IsCatalogNamespace(nsp) && !IsToastNamespace(nsp) &&
			nsp != cw->infoschema)
			return false;
	}
	return true;
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
	cw.replay = true;
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
	if (reads_only_catalogs(&cw))
		return pstrdup("it reads only system catalogs (a client tool's query, such as psql's describe commands), not the application's tables");
	check_written(&cw);
	if (cw.reason == NULL)
		check_read(&cw);
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
		save_nestlevel = sa_push_replay_search_path(path);
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
