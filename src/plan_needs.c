/*-------------------------------------------------------------------------
 *
 * plan_needs.c
 *		What a plan lacked: pure plan-tree analysis that reports, per scanned
 *		relation, the columns and expressions an index could have served.
 *
 * sa_plan_needs() walks a plan (and, when there is one, its executed plan
 * state with row counts) and reports, per scanned relation, the columns and
 * expressions that a sequential scan filtered on, that an index scan still
 * had to filter on, that a join matched it on, or that a sort under a LIMIT
 * ordered it by.  The capture and the advisor (advisor.c) share it: the
 * capture on executed plans, the advisor on plans made again later.  A
 * partition's scan is reported as one of the partitioned table at the top
 * of its tree, with its columns mapped by name (need_to_parent), so that
 * advice and workload name the table the application queries.
 *
 * Used by the capture (plan_capture.c) and by the advisor (advisor.c).
 * No shared state: the only memory outside the caller's context is two
 * small per-backend caches of default operator classes and families.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_operator.h"
#include "common/hashfn.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "executor/instrument.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "index_advice.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "store.h"

/* ---------------------------------------------------------------------
 * What a plan lacked
 * ---------------------------------------------------------------------
 */

typedef struct ScanItem
{
	Plan	   *plan;
	SaScanNeed *need;
	bool		has_filter;
} ScanItem;

typedef struct WalkCtx
{
	PlannedStmt *pstmt;
	List	   *items;			/* ScanItem * */
} WalkCtx;

/* a scan of a table's rows: sequential, index or bitmap heap scan */
static bool
is_table_scan(Plan *plan)
{
	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_IndexScan:
		case T_BitmapHeapScan:
			return true;
		default:
			return false;
	}
}

/* the expression under any binary-compatible casts */
static Expr *
strip_relabel(Expr *e)
{
	while (e && IsA(e, RelabelType))
		e = ((RelabelType *) e)->arg;
	return e;
}

/* every Var is a user column of relation varno; nothing volatile */
static bool
only_vars_of_walker(Node *node, Index *varno)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		return !(v->varno == (int) *varno && v->varlevelsup == 0 &&
				 v->varattno > 0);
	}
	if (IsA(node, Param) || IsA(node, SubPlan) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, AlternativeSubPlan))
		return true;
	return expression_tree_walker(node, only_vars_of_walker, (void *) varno);
}

/* a user column of relation varno, or an expression of its columns only */
static bool
is_key_expr(Expr *e, Index varno)
{
	if (e == NULL)
		return false;
	if (IsA(e, Var))
		return ((Var *) e)->varno == (int) varno &&
			((Var *) e)->varattno > 0 && ((Var *) e)->varlevelsup == 0;
	if (!contain_var_clause((Node *) e))
		return false;
	if (only_vars_of_walker((Node *) e, &varno))
		return false;
	return !contain_mutable_functions((Node *) e);
}

/* an expression that is a value at run time: no column, nothing volatile */
static bool
is_value_expr(Expr *e)
{
	return !contain_var_clause((Node *) e) &&
		!contain_volatile_functions((Node *) e);
}

/* key expression renumbered to varno 1, with its column number */
static SaTerm *
make_term(char kind, Expr *key, Index varno)
{
	SaTerm	   *t = (SaTerm *) palloc0(sizeof(SaTerm));

	t->kind = kind;
	t->expr = (Expr *) copyObject(key);
	if (varno != 1)
		ChangeVarNodes((Node *) t->expr, varno, 1, 0);
	if (IsA(t->expr, Var))
		t->attno = ((Var *) t->expr)->varattno;
	return t;
}

/*
 * Default btree operator family of a type.  GetDefaultOpClass scans
 * pg_opclass, so the last few answers are kept (types and operator classes
 * do not change under a running backend often enough to matter; a stale
 * answer only changes which terms are recorded).
 */
#define SA_OPF_CACHE 16
static Oid	opc_cache_type[SA_OPF_CACHE];
static Oid	opc_cache_class[SA_OPF_CACHE];
static int	opc_cache_next = 0;

/* default btree operator class of a type, cached per backend */
Oid
sa_default_btree_opclass(Oid typid)
{
	int			i;
	Oid			opclass;

	for (i = 0; i < SA_OPF_CACHE; i++)
		if (opc_cache_type[i] == typid && OidIsValid(typid))
			return opc_cache_class[i];
	opclass = GetDefaultOpClass(typid, BTREE_AM_OID);
	opc_cache_type[opc_cache_next] = typid;
	opc_cache_class[opc_cache_next] = opclass;
	opc_cache_next = (opc_cache_next + 1) % SA_OPF_CACHE;
	return opclass;
}

/* default btree operator family of a type, or InvalidOid */
static Oid
default_btree_family(Oid typid)
{
	Oid			opclass = sa_default_btree_opclass(typid);

	return OidIsValid(opclass) ? get_opclass_family(opclass) : InvalidOid;
}

/*
 * Default GIN operator family of a type, cached as the btree one is.
 */
static Oid	gin_cache_type[SA_OPF_CACHE];
static Oid	gin_cache_family[SA_OPF_CACHE];
static int	gin_cache_next = 0;

/* default GIN operator family of a type, cached as the btree one is */
static Oid
default_gin_family(Oid typid)
{
	int			i;
	Oid			opclass;
	Oid			family;

	for (i = 0; i < SA_OPF_CACHE; i++)
		if (gin_cache_type[i] == typid && OidIsValid(typid))
			return gin_cache_family[i];
	opclass = GetDefaultOpClass(typid, GIN_AM_OID);
	family = OidIsValid(opclass) ? get_opclass_family(opclass) : InvalidOid;
	gin_cache_type[gin_cache_next] = typid;
	gin_cache_family[gin_cache_next] = family;
	gin_cache_next = (gin_cache_next + 1) % SA_OPF_CACHE;
	return family;
}

/*
 * A pattern match on a text that pg_trgm's operator classes serve: LIKE
 * and ILIKE, and the regular expression matches ~ and ~*.
 */
static bool
is_trgm_match(Oid opno, Expr *key)
{
	RegProcedure fn = get_opcode(opno);
	Oid			typid = exprType((Node *) key);

	if (typid != TEXTOID && typid != VARCHAROID)
		return false;
	return fn == F_TEXTLIKE || fn == F_TEXTICLIKE ||
		fn == F_TEXTREGEXEQ || fn == F_TEXTICREGEXEQ;
}

/* LIKE with a constant pattern that starts with a literal prefix */
static bool
is_like_prefix(Oid opno, Expr *value)
{
	RegProcedure fn = get_opcode(opno);
	Const	   *c;
	char	   *s;

	if (fn != F_TEXTLIKE && fn != F_BPCHARLIKE)
		return false;
	value = strip_relabel(value);
	if (!IsA(value, Const) || ((Const *) value)->constisnull)
		return false;
	c = (Const *) value;
	if (c->consttype != TEXTOID && c->consttype != BPCHAROID &&
		c->consttype != VARCHAROID)
		return false;
	s = TextDatumGetCString(c->constvalue);
	return s[0] != '\0' && s[0] != '%' && s[0] != '_' && s[0] != '\\';
}

/*
 * The term a filter or index condition clause puts on relation varno, or
 * NULL when no btree index could serve it.
 */
static SaTerm *
clause_term(Expr *clause, Index varno)
{
	Expr	   *key = NULL;
	Expr	   *value = NULL;
	Oid			opno = InvalidOid;
	bool		is_array = false;
	char		kind = 0;
	SaTerm	   *t;

	clause = strip_relabel(clause);
	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;
		Expr	   *l = strip_relabel(linitial(op->args));
		Expr	   *r = strip_relabel(lsecond(op->args));

		if (is_key_expr(l, varno) && is_value_expr(r))
		{
			key = l;
			value = r;
			opno = op->opno;
		}
		else if (is_key_expr(r, varno) && is_value_expr(l))
		{
			key = r;
			value = l;
			opno = get_commutator(op->opno);
		}
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) clause;
		Expr	   *l = strip_relabel(linitial(sa->args));
		Expr	   *r = lsecond(sa->args);

		if (sa->useOr && is_key_expr(l, varno) && is_value_expr(r))
		{
			key = l;
			value = r;
			opno = sa->opno;
			is_array = true;
		}
	}
	else if (IsA(clause, Var) && exprType((Node *) clause) == BOOLOID &&
			 is_key_expr(clause, varno))
	{
		t = make_term(SA_TERM_EQ, clause, varno);
		t->const_value = true;
		t->opno = BooleanEqualOperator;
		t->clause = (Expr *) copyObject(clause);
		if (varno != 1)
			ChangeVarNodes((Node *) t->clause, varno, 1, 0);
		return t;
	}
	else if (is_notclause(clause) &&
			 IsA(get_notclausearg(clause), Var) &&
			 exprType((Node *) get_notclausearg(clause)) == BOOLOID &&
			 is_key_expr(get_notclausearg(clause), varno))
	{
		t = make_term(SA_TERM_EQ, get_notclausearg(clause), varno);
		t->const_value = true;
		t->opno = BooleanEqualOperator;
		t->clause = (Expr *) copyObject(clause);
		if (varno != 1)
			ChangeVarNodes((Node *) t->clause, varno, 1, 0);
		return t;
	}

	if (key == NULL || !OidIsValid(opno))
		return NULL;
	{
		Oid			family = default_btree_family(exprType((Node *) key));

		if (OidIsValid(family))
		{
			int			strategy = get_op_opfamily_strategy(opno, family);

			if (strategy == BTEqualStrategyNumber)
				kind = is_array ? SA_TERM_IN : SA_TERM_EQ;
			else if (!is_array && strategy != 0)
				kind = SA_TERM_RANGE;
		}
	}
	if (kind == 0 && !is_array && is_like_prefix(opno, value))
		kind = SA_TERM_LIKE;
	if (kind == 0 && !is_array)
	{
		Oid			family = default_gin_family(exprType((Node *) key));

		if (OidIsValid(family) && op_in_opfamily(opno, family))
			kind = SA_TERM_GIN;
		else if (is_trgm_match(opno, key))
			kind = SA_TERM_TRGM;
	}
	if (kind == 0)
		return NULL;
	t = make_term(kind, key, varno);
	t->opno = opno;
	t->const_value = IsA(strip_relabel(value), Const);
	if (t->const_value)
	{
		t->clause = (Expr *) copyObject(clause);
		if (varno != 1)
			ChangeVarNodes((Node *) t->clause, varno, 1, 0);
	}
	return t;
}

/* add a term to a scan's need unless an equal one is there */
static void
add_term(SaScanNeed *need, SaTerm *t)
{
	ListCell   *lc;

	if (t == NULL)
		return;
	foreach(lc, need->terms)
	{
		SaTerm	   *o = (SaTerm *) lfirst(lc);

		if (o->kind == t->kind && equal(o->expr, t->expr))
			return;
	}
	need->terms = lappend(need->terms, t);
}

/* the item of a scan node, or NULL */
static ScanItem *
find_item(WalkCtx *ctx, Plan *plan)
{
	ListCell   *lc;

	foreach(lc, ctx->items)
	{
		ScanItem   *it = (ScanItem *) lfirst(lc);

		if (it->plan == plan)
			return it;
	}
	return NULL;
}

/*
 * Follow an expression of a node's target list or clause down through the
 * OUTER_VAR / INNER_VAR references to the table scan that computes it.
 */
static Expr *
resolve_expr(Plan *plan, Expr *e, Plan **scan)
{
	int			depth = 0;

	while (plan != NULL && e != NULL && depth++ < 64)
	{
		Var		   *v;
		Plan	   *child;
		TargetEntry *tle;

		e = strip_relabel(e);
		if (is_table_scan(plan))
		{
			*scan = plan;
			return e;
		}
		if (!IsA(e, Var))
			return NULL;
		v = (Var *) e;
		if (v->varno == OUTER_VAR && IsA(plan, Append) &&
			((Append *) plan)->appendplans != NIL)
			child = linitial(((Append *) plan)->appendplans);	/* partitions */
		else if (v->varno == OUTER_VAR && IsA(plan, MergeAppend) &&
				 ((MergeAppend *) plan)->mergeplans != NIL)
			child = linitial(((MergeAppend *) plan)->mergeplans);
		else if (v->varno == OUTER_VAR)
			child = outerPlan(plan);
		else if (v->varno == INNER_VAR)
			child = innerPlan(plan);
		else
			return NULL;
		if (child == NULL)
			return NULL;
		tle = get_tle_by_resno(child->targetlist, v->varattno);
		if (tle == NULL)
			return NULL;
		/* a scan's target list is in terms of its own relation */
		if (is_table_scan(child))
		{
			*scan = child;
			return strip_relabel(tle->expr);
		}
		plan = child;
		e = tle->expr;
	}
	return NULL;
}

/* join clauses: each side that comes from a table scan gets a term */
static void
join_terms(WalkCtx *ctx, Plan *join, List *clauses)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		OpExpr	   *op = (OpExpr *) lfirst(lc);
		int			side;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		if (!op_mergejoinable(op->opno, exprType(linitial(op->args))))
			continue;
		for (side = 0; side < 2; side++)
		{
			Plan	   *scan = NULL;
			Expr	   *e = resolve_expr(join, list_nth(op->args, side), &scan);
			ScanItem   *it;

			if (e == NULL || scan == NULL)
				continue;
			it = find_item(ctx, scan);
			if (it && is_key_expr(e, ((Scan *) scan)->scanrelid))
				add_term(it->need, make_term(SA_TERM_JOIN, e,
											 ((Scan *) scan)->scanrelid));
		}
	}
}

/* a sort under a LIMIT: its keys, when they all come from one table scan */
static void
limit_sort_terms(WalkCtx *ctx, Plan *limit)
{
	Plan	   *p = outerPlan(limit);
	Sort	   *sort;
	Plan	   *scan = NULL;
	List	   *keys = NIL;
	int			i;
	ScanItem   *it;
	ListCell   *lc;

	while (p && (IsA(p, Gather) || IsA(p, GatherMerge) ||
				 (IsA(p, Result) && p->qual == NIL)))
		p = outerPlan(p);
	if (p == NULL || !(IsA(p, Sort) || IsA(p, IncrementalSort)))
		return;
	sort = (Sort *) p;
	for (i = 0; i < sort->numCols; i++)
	{
		TargetEntry *tle = get_tle_by_resno(p->targetlist, sort->sortColIdx[i]);
		Plan	   *s = NULL;
		Expr	   *e;
		SaTerm	   *t;
		bool		desc;

		if (tle == NULL)
			return;
		e = resolve_expr(p, tle->expr, &s);
		if (e == NULL || (scan != NULL && s != scan))
			return;
		scan = s;
		if (!is_key_expr(e, ((Scan *) scan)->scanrelid))
			return;
		if (!sa_ordering_op_is_desc(sort->sortOperators[i], &desc))
			return;
		t = make_term(SA_TERM_SORT, e, ((Scan *) scan)->scanrelid);
		t->desc = desc;
		t->nulls_first = sort->nullsFirst[i];
		t->opno = sort->sortOperators[i];
		keys = lappend(keys, t);
	}
	it = scan ? find_item(ctx, scan) : NULL;
	if (it == NULL)
		return;
	foreach(lc, keys)
		add_term(it->need, lfirst(lc));
	it->need->under_limit_sort = true;
}

static void walk_plan(WalkCtx *ctx, Plan *plan, PlanState *ps);

/* walk each plan of a list (no plan state) */
static void
walk_list(WalkCtx *ctx, List *plans)
{
	ListCell   *lc;

	foreach(lc, plans)
		walk_plan(ctx, (Plan *) lfirst(lc), NULL);
}

/* walk the plans of the subplans of a plan state, with their states */
static void
walk_subplan_states(WalkCtx *ctx, List *states)
{
	ListCell   *lc;

	foreach(lc, states)
	{
		SubPlanState *sps = (SubPlanState *) lfirst(lc);

		if (sps->planstate)
			walk_plan(ctx, sps->planstate->plan, sps->planstate);
	}
}

/* collect the table scans first; joins and limits are handled after */
static void
walk_plan(WalkCtx *ctx, Plan *plan, PlanState *ps)
{
	if (plan == NULL)
		return;
	check_stack_depth();
	if (ps && ps->plan != plan)
		ps = NULL;
	if (ps && ps->instrument)
		InstrEndLoop(ps->instrument);

	if (is_table_scan(plan))
	{
		Scan	   *scan = (Scan *) plan;
		RangeTblEntry *rte = rt_fetch(scan->scanrelid, ctx->pstmt->rtable);

		if (rte->rtekind == RTE_RELATION && rte->relid >= FirstNormalObjectId)
		{
			ScanItem   *it = (ScanItem *) palloc0(sizeof(ScanItem));
			SaScanNeed *need = (SaScanNeed *) palloc0(sizeof(SaScanNeed));
			List	   *conds = NIL;
			ListCell   *lc;

			it->plan = plan;
			it->need = need;
			need->relid = rte->relid;
			need->scan = IsA(plan, SeqScan) ? 's' : 'i';
			it->has_filter = (plan->qual != NIL);
			if (IsA(plan, IndexScan))
				conds = ((IndexScan *) plan)->indexqualorig;
			else if (IsA(plan, BitmapHeapScan))
				conds = ((BitmapHeapScan *) plan)->bitmapqualorig;
			foreach(lc, list_concat_copy(conds, plan->qual))
				add_term(need, clause_term((Expr *) lfirst(lc),
										   scan->scanrelid));
			pull_varattnos((Node *) plan->targetlist, scan->scanrelid,
						   &need->attrs_used);
			pull_varattnos((Node *) plan->qual, scan->scanrelid,
						   &need->attrs_used);
			pull_varattnos((Node *) conds, scan->scanrelid,
						   &need->attrs_used);
			if (ps && ps->instrument && ps->instrument->nloops > 0)
			{
				Instrumentation *in = ps->instrument;

				need->actual = true;
				need->rows_removed = in->nfiltered1 / in->nloops;
				need->rows_scanned = (in->ntuples + in->nfiltered1) / in->nloops;
			}
			else
			{
				need->rows_scanned = plan->plan_rows;
				need->rows_removed = 0;
			}
			ctx->items = lappend(ctx->items, it);
		}
	}

	switch (nodeTag(plan))
	{
		case T_Append:
			walk_list(ctx, ((Append *) plan)->appendplans);
			break;
		case T_MergeAppend:
			walk_list(ctx, ((MergeAppend *) plan)->mergeplans);
			break;
		case T_SubqueryScan:
			walk_plan(ctx, ((SubqueryScan *) plan)->subplan,
					  ps ? ((SubqueryScanState *) ps)->subplan : NULL);
			break;
		default:
			break;
	}
	walk_plan(ctx, plan->lefttree, ps ? outerPlanState(ps) : NULL);
	walk_plan(ctx, plan->righttree, ps ? innerPlanState(ps) : NULL);
	if (ps)
	{
		walk_subplan_states(ctx, ps->initPlan);
		walk_subplan_states(ctx, ps->subPlan);
	}
}

/* second pass: join clauses and sorts under limits */
static void
walk_joins(WalkCtx *ctx, Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	check_stack_depth();
	switch (nodeTag(plan))
	{
		case T_HashJoin:
			join_terms(ctx, plan, ((HashJoin *) plan)->hashclauses);
			join_terms(ctx, plan, ((Join *) plan)->joinqual);
			break;
		case T_MergeJoin:
			join_terms(ctx, plan, ((MergeJoin *) plan)->mergeclauses);
			join_terms(ctx, plan, ((Join *) plan)->joinqual);
			break;
		case T_NestLoop:
			join_terms(ctx, plan, ((Join *) plan)->joinqual);
			break;
		case T_Limit:
			limit_sort_terms(ctx, plan);
			break;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				walk_joins(ctx, lfirst(lc));
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				walk_joins(ctx, lfirst(lc));
			break;
		case T_SubqueryScan:
			walk_joins(ctx, ((SubqueryScan *) plan)->subplan);
			break;
		default:
			break;
	}
	walk_joins(ctx, plan->lefttree);
	walk_joins(ctx, plan->righttree);
}

/*
 * Could the plan lack an index at all: a sequential scan, an index or
 * bitmap scan that filters, or a sort under a LIMIT?  A cheap walk that
 * allocates nothing, so that sampled executions of plans that lack nothing
 * (a primary key lookup) cost almost nothing more.
 */
static bool
plan_may_need(Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	switch (nodeTag(plan))
	{
		case T_SeqScan:
			return true;
		case T_IndexScan:
		case T_BitmapHeapScan:
			if (plan->qual != NIL)
				return true;
			break;
		case T_Limit:
			return true;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
			{
				if (plan_may_need(lfirst(lc)))
					return true;
			}
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
			{
				if (plan_may_need(lfirst(lc)))
					return true;
			}
			break;
		case T_SubqueryScan:
			if (plan_may_need(((SubqueryScan *) plan)->subplan))
				return true;
			break;
		default:
			break;
	}
	return plan_may_need(plan->lefttree) || plan_may_need(plan->righttree);
}

/*
 * Could any plan of the statement lack an index (plan_may_need of its tree
 * and of its subplans)?  The capture asks before it walks a plan.
 */
bool
sa_stmt_may_need(PlannedStmt *pstmt)
{
	ListCell   *lc;

	if (plan_may_need(pstmt->planTree))
		return true;
	foreach(lc, pstmt->subplans)
	{
		if (plan_may_need((Plan *) lfirst(lc)))
			return true;
	}
	return false;
}

/*
 * A scan of a partition: its need becomes that of the partitioned table at
 * the top of the partition tree, with the terms' column numbers mapped to
 * the table's by name, so that the advice names the table (an index on it
 * is built on every partition).  Nothing changes when the table cannot be
 * locked at once (the statement does not wait behind DDL on it here).
 */
static void
need_to_parent(SaScanNeed *need)
{
	List	   *ancestors;
	Oid			top;
	Relation	prel;
	Relation	crel;
	AttrMap    *map;
	ListCell   *lc;
	Bitmapset  *attrs = NULL;
	int			x = -1;

	if (!get_rel_relispartition(need->relid))
		return;
	ancestors = get_partition_ancestors(need->relid);
	if (ancestors == NIL)
		return;
	top = llast_oid(ancestors);
	if (!ConditionalLockRelationOid(top, AccessShareLock))
		return;
	prel = relation_open(top, NoLock);
	crel = relation_open(need->relid, NoLock);
	map = sa_build_attrmap_by_name(RelationGetDescr(prel),
								   RelationGetDescr(crel));
	foreach(lc, need->terms)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);
		bool		whole_row;

		t->expr = (Expr *) map_variable_attnos((Node *) t->expr, 1, 0, map,
											   InvalidOid, &whole_row);
		if (t->clause)
			t->clause = (Expr *) map_variable_attnos((Node *) t->clause, 1, 0,
													 map, InvalidOid,
													 &whole_row);
		t->attno = IsA(t->expr, Var) ? ((Var *) t->expr)->varattno : 0;
	}
	while ((x = bms_next_member(need->attrs_used, x)) >= 0)
	{
		AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;

		if (a > 0 && a <= map->maplen)
			a = map->attnums[a - 1];
		attrs = bms_add_member(attrs, a - FirstLowInvalidHeapAttributeNumber);
	}
	need->attrs_used = attrs;
	need->relid = top;
	relation_close(crel, NoLock);
	relation_close(prel, NoLock);
}

/* add what another partition's scan needed to a partitioned table's need */
static void
merge_need(SaScanNeed *into, SaScanNeed *from)
{
	ListCell   *lc;
	List	   *ordered = NIL;
	int			pass;

	foreach(lc, from->terms)
		add_term(into, (SaTerm *) lfirst(lc));
	if (from->scan == 's')
		into->scan = 's';
	into->under_limit_sort |= from->under_limit_sort;
	into->attrs_used = bms_union(into->attrs_used, from->attrs_used);
	into->rows_scanned += from->rows_scanned;
	into->rows_removed += from->rows_removed;
	into->actual &= from->actual;
	/* equality terms first, then ranges, then sort keys */
	for (pass = 0; pass < 3; pass++)
	{
		foreach(lc, into->terms)
		{
			char		k = ((SaTerm *) lfirst(lc))->kind;
			int			p = ((k == SA_TERM_SORT) ? 2 :
							 (k == SA_TERM_EQ || k == SA_TERM_IN ||
							  k == SA_TERM_JOIN) ? 0 : 1);

			if (p == pass)
				ordered = lappend(ordered, lfirst(lc));
		}
	}
	into->terms = ordered;
}

/*
 * The needs of every table scan of the plan that an index could improve: a
 * sequential scan with any term, or an index or bitmap scan that filtered
 * rows or fed a sort under a LIMIT.  planstate may be NULL (no row counts).
 */
List *
sa_plan_needs(PlannedStmt *pstmt, PlanState *planstate)
{
	WalkCtx		ctx;
	List	   *result = NIL;
	ListCell   *lc;

	ctx.pstmt = pstmt;
	ctx.items = NIL;
	walk_plan(&ctx, pstmt->planTree, planstate);
	if (planstate == NULL)
		walk_list(&ctx, pstmt->subplans);
	if (ctx.items == NIL)
		return NIL;
	walk_joins(&ctx, pstmt->planTree);
	foreach(lc, pstmt->subplans)
		walk_joins(&ctx, (Plan *) lfirst(lc));

	foreach(lc, ctx.items)
	{
		ScanItem   *it = (ScanItem *) lfirst(lc);

		if (it->need->terms == NIL)
			continue;
		if (it->need->scan == 's' || it->has_filter ||
			it->need->under_limit_sort)
		{
			SaScanNeed *same = NULL;
			ListCell   *rc;

			/* a partition's need is its partitioned table's */
			need_to_parent(it->need);
			foreach(rc, result)
			{
				if (((SaScanNeed *) lfirst(rc))->relid == it->need->relid)
					same = (SaScanNeed *) lfirst(rc);
			}
			if (same != NULL)
			{
				merge_need(same, it->need);
				continue;
			}
		}
		if (it->need->scan == 's' || it->has_filter ||
			it->need->under_limit_sort)
		{
			/* equality terms first, then ranges, then sort keys */
			List	   *ordered = NIL;
			int			pass;
			ListCell   *tc;

			for (pass = 0; pass < 3; pass++)
				foreach(tc, it->need->terms)
			{
				char		k = ((SaTerm *) lfirst(tc))->kind;
				int			p = ((k == SA_TERM_SORT) ? 2 :
								 (k == SA_TERM_EQ || k == SA_TERM_IN ||
								  k == SA_TERM_JOIN) ? 0 : 1);

				if (p == pass)
					ordered = lappend(ordered, lfirst(tc));
			}
			it->need->terms = ordered;
			result = lappend(result, it->need);
		}
	}
	return result;
}

/*
 * "col =, ts >, lower(email) =" : the terms of a need, for people.
 */
char *
sa_terms_text(Oid relid, List *terms, bool with_ops)
{
	StringInfoData buf;
	ListCell   *lc;
	List	   *dpcontext = NIL;

	initStringInfo(&buf);
	foreach(lc, terms)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);

		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		if (t->attno != 0)
		{
			char	   *name = get_attname(relid, t->attno, true);

			appendStringInfoString(&buf, name ? quote_identifier(name) : "?");
		}
		else
		{
			if (dpcontext == NIL)
				dpcontext = deparse_context_for(get_rel_name(relid), relid);
			appendStringInfoString(&buf,
								   deparse_expression((Node *) t->expr,
													  dpcontext, false, false));
		}
		if (!with_ops)
			continue;
		switch (t->kind)
		{
			case SA_TERM_EQ:
				appendStringInfoString(&buf, " =");
				break;
			case SA_TERM_IN:
				appendStringInfoString(&buf, " IN");
				break;
			case SA_TERM_RANGE:
				appendStringInfo(&buf, " %s", get_opname(t->opno));
				break;
			case SA_TERM_LIKE:
				appendStringInfoString(&buf, " LIKE prefix");
				break;
			case SA_TERM_JOIN:
				appendStringInfoString(&buf, " = (join)");
				break;
			case SA_TERM_SORT:
				appendStringInfoString(&buf, t->desc ? " ORDER BY DESC" : " ORDER BY");
				break;
			case SA_TERM_GIN:
			case SA_TERM_TRGM:
				appendStringInfo(&buf, " %s", get_opname(t->opno));
				break;
		}
	}
	return buf.data;
}
