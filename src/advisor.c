/*-------------------------------------------------------------------------
 *
 * advisor.c
 *		Index advice: candidates built from what the captured statements'
 *		plans lacked, checked by planning the statements again with each
 *		candidate as a hypothetical index, and chosen across the workload.
 *
 * scale_advisor.index_advice is computed when it is read.  For every
 * captured statement of this database (plan_capture.c), the statement is
 * parsed, analyzed and planned again with the constants of the execution
 * that was kept (never executed), and the plan is walked for what it
 * lacked (plan_needs.c).  From
 * each relation's needs come btree candidates: equality columns first (most
 * distinct first), then one range column; equality columns then the ORDER
 * BY columns of a sort under a LIMIT; the same with INCLUDE columns when an
 * index-only scan becomes possible; index expressions for function-wrapped
 * columns; partial indexes when a constant condition on a low-cardinality
 * column selects a small part of the table.  Tables smaller than
 * scale_advisor.min_table_pages and candidates that a leading part of an
 * existing index already serves are skipped.  Each candidate is checked by
 * planning every statement that touches its table with the candidate
 * injected (whatif.c).  The choice is greedy over the whole workload: the
 * candidate that saves the most statement time per hour (calls times the
 * time of a call at normal load times the cost reduction, counting for each
 * statement only what it gains over the indexes already chosen), less its
 * upkeep under the table's writes (advice_model.c), is taken first.
 * Candidates on the same table within 5 % of the best that serve a
 * statement in common tie; the tie goes to the smallest unless a larger one
 * leaves at most half as much once the table has grown and for its most
 * common key (break_tie).  A partitioned table's candidates are on the
 * table itself (plan_needs.c maps its partitions' scans to it), and its advice
 * says how to build the index partition by partition.
 *
 * Statements that cannot be planned any more (a table was dropped, the
 * text was too long to keep, the role that ran it was dropped) are skipped
 * with a reason, which scale_advisor.index_advice_skipped shows.
 *
 * Planning runs code: the planner folds immutable functions and evaluates
 * stable ones for its estimates, parameter values go through their types'
 * input functions.  So each statement is parsed and planned as the role
 * that ran it, never as the reader, in a security-restricted operation
 * with the search_path it ran with, in a subtransaction that is always
 * rolled back (run_guarded), as REFRESH MATERIALIZED VIEW runs a view's
 * query as its owner.  A statement whose names no longer resolve to the
 * objects they named when it ran (its query identifier changed) is skipped.
 * Errors skip the statement, except cancel, statement_timeout, shutdown
 * and resource errors, which end the reading.  A reader that may not read
 * all statistics gets advice from its own statements only (plan_capture.c).
 *
 * No shared state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/stratnum.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/indexing.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_locale.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "index_advice.h"
#include "normalize.h"
#include "scale_advisor.h"
#include "shmem.h"
#include "store.h"

/* GUCs */
int			sa_min_table_pages = 128;
static int	advice_min_improvement_pct = 30;
static int	advice_time_limit_ms = 10000;
static int	brin_min_table_pages = 1024;

/* |pg_stats.correlation| a BRIN candidate's column needs */
#define SA_BRIN_MIN_CORRELATION 0.9
/* an append-only table's updated and deleted rows, as a share of inserts */
#define SA_APPEND_ONLY_MAX_CHANGES 0.05


PG_FUNCTION_INFO_V1(scale_advisor_index_advice_compute);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_index_advice_compute_1_1,
					scale_advisor_index_advice_compute);

/* a column or expression a statement tests, joins or sorts on */
typedef struct KeyUse
{
	Oid			relid;
	Expr	   *expr;
	char		kind;			/* SA_TERM_* */
	AttrNumber	attno;
} KeyUse;

/* the columns a statement reads from one table */
typedef struct RelAttrs
{
	Oid			relid;
	Bitmapset  *attrs;			/* offset by
								 * FirstLowInvalidHeapAttributeNumber */
} RelAttrs;

typedef struct StmtInfo
{
	SaCapturedStmt *cap;
	Query	   *query;
	ParamListInfo params;
	double		cost_before;
	double		cost_now;		/* with the candidates chosen so far */
	List	   *needs;			/* SaScanNeed * */
	List	   *relids;			/* tables it needs an index on */
	List	   *keys;			/* KeyUse * */
	List	   *attrs;			/* RelAttrs * */
	char	   *skip_reason;
	double		weight;			/* statement milliseconds per hour */
	double		calls_h;		/* calls per hour */
	double		measured_ms;	/* median (or mean) time of one call */
	double		read_share;		/* blocks read / blocks accessed */
	double		call_ms;		/* one call at normal load */
	bool		capped;			/* call_ms is the planner's figure */
	double		aged_base;		/* aged planning without a candidate, or -1 */
} StmtInfo;

typedef struct Cand
{
	SaHypoIndex *h;
	Oid			relid;
	Oid			relam;			/* btree, GIN or BRIN */
	Oid			am_opclass;		/* GIN, BRIN: the key's operator class */
	char	   *sig;
	List	   *keys;			/* SaTerm * */
	List	   *includes;		/* attnos (int) */
	Expr	   *pred;			/* varno 1, or NULL */
	char	   *why;
	char	   *need_text;		/* the terms of the need it came from */
	struct Cand *plain;			/* the same keys without INCLUDE columns */
	bool		seqscan;
	List	   *checks;			/* Check * */
	double		size_bytes;
	double		write_rate;
	double		upkeep;			/* ms per hour */
	bool		chosen;
	List	   *drops;			/* SaIndexDesc * it makes redundant */
	char	   *aged_note;		/* why it won a tie, or NULL */
	/* filled in when chosen */
	double		saved;
	List	   *served;			/* StmtInfo * */
	List	   *served_costs;	/* ServedCost *, in the same order */
	double		sum_before;
	double		sum_after;
} Cand;

/* the planner's cost of a statement without and with a chosen index */
typedef struct ServedCost
{
	double		before;
	double		after;
} ServedCost;

/* one candidate planned with one statement */
typedef struct Check
{
	StmtInfo   *s;
	double		after;
	bool		used;
} Check;

/* what the advisor keeps per table */
typedef struct RelInfo
{
	Oid			relid;
	BlockNumber pages;			/* summed over partitions */
	SaTableModel *model;		/* filled in after the candidates are made */
	bool		append_only;	/* hardly any row updated or deleted */
	List	   *cands;			/* Cand *, in the order they were made */
	List	   *droppable;		/* SaIndexDesc *: indexes advice may drop */
	bool		droppable_read;
} RelInfo;

/* candidates by the hash of their signature, to find duplicates */
typedef struct SigEntry
{
	uint32		hash;
	List	   *cands;
} SigEntry;

typedef struct AdviceState
{
	List	   *claimed;		/* indexes a chosen one makes redundant */
	List	   *stmts;
	List	   *cands;
	List	   *rels;			/* RelInfo * */
	HTAB	   *sigs;
	MemoryContext cxt;			/* lives for the whole call */
	TimestampTz deadline;
	Oid			nsp;			/* the extension's schema */
	/* the aged planning of one tie (choose, stmt_aged) */
	List	   *aged_group;		/* Cand * */
	List	   *aged_chosen;	/* SaHypoIndex * chosen on the same table */
	double		aged_factor;	/* how many times larger */
	double		aged_skew;		/* rows of the common key / average */
	double	   *aged_after;		/* one per candidate of the group */
	double		aged_base;
} AdviceState;

/* ---------------------------------------------------------------------
 * Statistics helpers
 * ---------------------------------------------------------------------
 */

/*
 * number of distinct values of a column from pg_statistic (1e9 for an
 * expression, 1e6 when there are no statistics yet)
 */
static double
column_ndistinct(Oid relid, AttrNumber attno)
{
	HeapTuple	tup;
	double		nd = -1;

	if (attno <= 0)
		return 1e9;				/* expressions: assume selective */
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						  Int16GetDatum(attno), BoolGetDatum(false));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_statistic st = (Form_pg_statistic) GETSTRUCT(tup);

		nd = st->stadistinct;
		ReleaseSysCache(tup);
		if (nd < 0)
		{
			HeapTuple	ct = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
			double		tuples = 0;

			if (HeapTupleIsValid(ct))
			{
				tuples = ((Form_pg_class) GETSTRUCT(ct))->reltuples;
				ReleaseSysCache(ct);
			}
			nd = -nd * Max(tuples, 1.0);
		}
		return nd;
	}
	if (get_atttype(relid, attno) == BOOLOID)
		return 2;
	return 1e6;					/* no statistics yet: unknown */
}

/*
 * Is the table append-only: since the statistics were reset, at most
 * SA_APPEND_ONLY_MAX_CHANGES as many rows updated or deleted as inserted?
 */
static bool
table_append_only(Oid relid)
{
	PgStat_StatTabEntry *t = pgstat_fetch_stat_tabentry(relid);

	if (t == NULL)
		return true;
	return (t->tuples_updated + t->tuples_deleted) <=
		SA_APPEND_ONLY_MAX_CHANGES * t->tuples_inserted;
}

/*
 * pg_stats.correlation of a column: how closely the physical order of the
 * rows follows the column's order (1 or -1: exactly); 0 when unknown.
 */
static double
column_correlation(Oid relid, AttrNumber attno)
{
	HeapTuple	tup;
	AttStatsSlot sslot;
	double		corr = 0;

	if (attno <= 0)
		return 0;
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						  Int16GetDatum(attno), BoolGetDatum(false));
	if (!HeapTupleIsValid(tup))
		return 0;
	if (get_attstatsslot(&sslot, tup, STATISTIC_KIND_CORRELATION, InvalidOid,
						 ATTSTATSSLOT_NUMBERS))
	{
		if (sslot.nnumbers == 1)
			corr = sslot.numbers[0];
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(tup);
	return corr;
}

/* ---------------------------------------------------------------------
 * Candidates
 * ---------------------------------------------------------------------
 */

/* the pattern operator class (text_pattern_ops...) of a type, or InvalidOid */
static Oid
pattern_opclass(Oid typid)
{
	const char *name;

	switch (typid)
	{
		case TEXTOID:
			name = "text_pattern_ops";
			break;
		case VARCHAROID:
			name = "varchar_pattern_ops";
			break;
		case BPCHAROID:
			name = "bpchar_pattern_ops";
			break;
		default:
			return InvalidOid;
	}
	return ResolveOpClass(list_make1(makeString(pstrdup(name))), typid,
						  "btree", BTREE_AM_OID);
}

/* does a LIKE term need a pattern operator class (its collation is not C)? */
static bool
needs_pattern_ops(SaTerm *t)
{
	Oid			coll;

	if (t->kind != SA_TERM_LIKE)
		return false;
	coll = exprCollation((Node *) t->expr);
	return !(OidIsValid(coll) && sa_collate_is_c(coll));
}

/* is a term with the same expression already in the list? */
static bool
term_in_list(List *terms, SaTerm *t)
{
	ListCell   *lc;

	foreach(lc, terms)
	{
		if (equal(((SaTerm *) lfirst(lc))->expr, t->expr))
			return true;
	}
	return false;
}

/* build the hypothetical index of a candidate; false if impossible */
static bool
cand_build_hypo(Cand *c)
{
	SaHypoIndex *h = (SaHypoIndex *) palloc0(sizeof(SaHypoIndex));
	ListCell   *lc;
	int			i = 0;
	bool		first_sort = true;
	bool		sort_flip = false;

	h->relid = c->relid;
	h->relam = c->relam;
	h->admit = 1.0;
	h->nkeycolumns = list_length(c->keys);
	h->ncolumns = h->nkeycolumns + list_length(c->includes);
	if (h->ncolumns > INDEX_MAX_KEYS || h->nkeycolumns == 0)
		return false;
	if (c->relam != BTREE_AM_OID &&
		(h->nkeycolumns != 1 || c->includes != NIL ||
		 !OidIsValid(c->am_opclass)))
		return false;
	foreach(lc, c->keys)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);
		Oid			typid = exprType((Node *) t->expr);
		Oid			opclass = InvalidOid;

		if (c->relam != BTREE_AM_OID)
			opclass = c->am_opclass;
		else if (needs_pattern_ops(t))
			opclass = pattern_opclass(getBaseType(typid));
		if (!OidIsValid(opclass))
			opclass = sa_default_btree_opclass(typid);
		if (!OidIsValid(opclass))
			return false;
		h->indexkeys[i] = t->attno;
		if (t->attno == 0)
			h->indexprs = lappend(h->indexprs, copyObject(t->expr));
		h->opclass[i] = opclass;
		h->opfamily[i] = get_opclass_family(opclass);
		h->opcintype[i] = get_opclass_input_type(opclass);
		h->collation[i] = exprCollation((Node *) t->expr);
		if (c->relam == BTREE_AM_OID && t->kind == SA_TERM_SORT)
		{
			/* backward scans serve the all-reversed order */
			if (first_sort)
			{
				sort_flip = t->desc;
				first_sort = false;
			}
			h->reverse_sort[i] = (t->desc != sort_flip);
			h->nulls_first[i] = h->reverse_sort[i];
		}
		i++;
	}
	foreach(lc, c->includes)
		h->indexkeys[i++] = (AttrNumber) lfirst_int(lc);
	if (c->pred)
		h->indpred = make_ands_implicit((Expr *) copyObject(c->pred));
	c->h = h;
	return true;
}

/*
 * a text naming a candidate's table, access method and keys, to find
 * duplicates
 */
static char *
cand_signature(Cand *c)
{
	StringInfoData buf;
	ListCell   *lc;
	int			i = 0;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%u:%u:", c->relid, c->relam);
	foreach(lc, c->keys)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);

		if (t->attno)
			appendStringInfo(&buf, "%d", t->attno);
		else
			appendStringInfoString(&buf, nodeToString(t->expr));
		appendStringInfo(&buf, "/%u%c,", c->h->opclass[i],
						 c->h->reverse_sort[i] ? 'd' : 'a');
		i++;
	}
	appendStringInfoString(&buf, "|");
	foreach(lc, c->includes)
		appendStringInfo(&buf, "%d,", lfirst_int(lc));
	if (c->pred)
		appendStringInfo(&buf, "|%s", nodeToString(c->pred));
	return buf.data;
}

/*
 * The expression of column j of an index, as the candidates' terms have it
 * (varno 1): a Var for a plain column, else its index expression.
 */
static Expr *
index_column_expr(Relation irel, List *exprs, int j)
{
	Form_pg_index ix = irel->rd_index;
	AttrNumber	a = ix->indkey.values[j];
	int			k;
	int			e = 0;

	if (a != 0)
	{
		Form_pg_attribute att;

		if (a < 0)
			return NULL;
		att = TupleDescAttr(RelationGetDescr(irel), j);
		return (Expr *) makeVar(1, a, att->atttypid, att->atttypmod,
								att->attcollation, 0);
	}
	for (k = 0; k < j; k++)
		if (ix->indkey.values[k] == 0)
			e++;
	return (Expr *) list_nth(exprs, e);
}

/*
 * Does an existing valid index already serve a GIN or BRIN candidate: a
 * column on the same expression whose operator family is the candidate's
 * or holds the operator the candidate is for (pg_trgm's GiST class serves
 * LIKE '%x%' as its GIN class does; a btree leading on a BRIN candidate's
 * column serves its range)?
 */
static bool
served_by_existing_other(Cand *c, List *indexes)
{
	SaTerm	   *t = (SaTerm *) linitial(c->keys);
	ListCell   *lc;
	bool		served = false;

	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		List	   *exprs = RelationGetIndexExpressions(irel);
		int			j;

		if (irel->rd_index->indisvalid &&
			RelationGetIndexPredicate(irel) == NIL)
		{
			for (j = 0; j < irel->rd_index->indnkeyatts && !served; j++)
			{
				Expr	   *e = index_column_expr(irel, exprs, j);
				Oid			fam = irel->rd_opfamily[j];

				if (irel->rd_rel->relam == BTREE_AM_OID && j > 0)
					break;
				if (e == NULL)
					continue;
				if (IsA(e, Var) && IsA(t->expr, Var))
				{
					if (((Var *) e)->varattno != ((Var *) t->expr)->varattno)
						continue;
				}
				else if (!equal(e, t->expr))
					continue;
				served = (fam == c->h->opfamily[0] ||
						  op_in_opfamily(t->opno, fam));
			}
		}
		index_close(irel, AccessShareLock);
		if (served)
			break;
	}
	return served;
}

/*
 * Does a leading part of an existing valid btree index already serve the
 * candidate?  Equality-only candidates match in any column order.  GIN and
 * BRIN candidates: served_by_existing_other.
 */
static bool
served_by_existing(Cand *c)
{
	Relation	rel = relation_open(c->relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		served = false;
	bool		eq_only = true;
	ListCell   *tc;

	if (c->relam != BTREE_AM_OID)
	{
		served = served_by_existing_other(c, indexes);
		relation_close(rel, AccessShareLock);
		return served;
	}
	foreach(tc, c->keys)
	{
		char		k = ((SaTerm *) lfirst(tc))->kind;

		if (k != SA_TERM_EQ && k != SA_TERM_JOIN && k != SA_TERM_IN)
			eq_only = false;
	}

	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ix = irel->rd_index;
		List	   *exprs;
		int			n = list_length(c->keys);
		int			i;
		bool		ok = true;

		if (!ix->indisvalid || irel->rd_rel->relam != BTREE_AM_OID ||
			ix->indnkeyatts < n ||
			(RelationGetIndexPredicate(irel) != NIL &&
			 !(c->pred && equal(make_ands_implicit((Expr *) c->pred),
								RelationGetIndexPredicate(irel)))))
		{
			index_close(irel, AccessShareLock);
			continue;
		}
		exprs = RelationGetIndexExpressions(irel);
		i = 0;
		foreach(tc, c->keys)
		{
			SaTerm	   *t = (SaTerm *) lfirst(tc);
			bool		found = false;
			int			j;
			int			lo = eq_only ? 0 : i;
			int			hi = eq_only ? n - 1 : i;

			for (j = lo; j <= hi && !found; j++)
			{
				if (irel->rd_opfamily[j] != c->h->opfamily[i])
					continue;
				if (t->attno != 0)
					found = (ix->indkey.values[j] == t->attno);
				else if (ix->indkey.values[j] == 0)
				{
					/* the index expression of column j */
					int			k;
					int			e = 0;

					for (k = 0; k < j; k++)
						if (ix->indkey.values[k] == 0)
							e++;
					found = equal(list_nth(exprs, e), t->expr);
				}
			}
			if (!found)
			{
				ok = false;
				break;
			}
			i++;
		}
		if (ok)
		{
			foreach(tc, c->includes)
			{
				int			a = lfirst_int(tc);
				bool		found = false;

				for (i = 0; i < ix->indnatts; i++)
					if (ix->indkey.values[i] == a)
						found = true;
				if (!found)
					ok = false;
			}
		}
		index_close(irel, AccessShareLock);
		if (ok)
		{
			served = true;
			break;
		}
	}
	relation_close(rel, AccessShareLock);
	return served;
}

/* a table's entry in the advice state (pages summed over partitions) */
static RelInfo *
rel_info(AdviceState *st, Oid relid)
{
	ListCell   *lc;
	RelInfo    *ri;
	Relation	rel;

	foreach(lc, st->rels)
	{
		ri = (RelInfo *) lfirst(lc);
		if (ri->relid == relid)
			return ri;
	}
	ri = (RelInfo *) palloc0(sizeof(RelInfo));
	ri->relid = relid;
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
	{
		/* the pages of its leaf partitions */
		double		pages = 0;

		foreach(lc, find_all_inheritors(relid, AccessShareLock, NULL))
		{
			char		k = get_rel_relkind(lfirst_oid(lc));

			if (k != RELKIND_RELATION && k != RELKIND_MATVIEW)
				continue;
			rel = relation_open(lfirst_oid(lc), NoLock);
			pages += RelationGetNumberOfBlocks(rel);
			relation_close(rel, NoLock);
		}
		ri->pages = (BlockNumber) Min(pages, (double) MaxBlockNumber);
	}
	else
	{
		rel = relation_open(relid, AccessShareLock);
		ri->pages = RelationGetNumberOfBlocks(rel);
		relation_close(rel, AccessShareLock);
	}
	ri->append_only = table_append_only(relid);
	st->rels = lappend(st->rels, ri);
	return ri;
}

/*
 * Make a candidate of access method relam (for GIN and BRIN, one key with
 * operator class am_opclass) from one need of one statement, unless the
 * same candidate exists already or an existing index serves it.
 */
static void
add_cand_am(AdviceState *st, StmtInfo *s, SaScanNeed *need, List *keys,
			List *includes, Expr *pred, const char *why, Oid relam,
			Oid am_opclass)
{
	Cand	   *c;
	ListCell   *lc;
	RelInfo    *ri;

	if (keys == NIL)
		return;
	c = (Cand *) palloc0(sizeof(Cand));
	c->relid = need->relid;
	c->relam = relam;
	c->am_opclass = am_opclass;
	c->keys = NIL;
	foreach(lc, keys)
	{
		SaTerm	   *t = (SaTerm *) palloc(sizeof(SaTerm));

		memcpy(t, lfirst(lc), sizeof(SaTerm));
		t->expr = copyObject(t->expr);
		t->clause = NULL;
		c->keys = lappend(c->keys, t);
	}
	c->includes = list_copy(includes);
	c->pred = pred ? copyObject(pred) : NULL;
	c->why = pstrdup(why);
	c->seqscan = (need->scan == 's');
	if (!cand_build_hypo(c))
		return;
	c->sig = cand_signature(c);
	{
		uint32		hv = hash_bytes((const unsigned char *) c->sig,
									strlen(c->sig));
		bool		found;
		SigEntry   *se = (SigEntry *) hash_search(st->sigs, &hv,
												  HASH_ENTER, &found);

		if (!found)
			se->cands = NIL;
		foreach(lc, se->cands)
		{
			if (strcmp(((Cand *) lfirst(lc))->sig, c->sig) == 0)
				return;
		}
		se->cands = lappend(se->cands, c);
	}
	if (served_by_existing(c))
		return;
	ri = rel_info(st, c->relid);
	if (c->includes != NIL)
	{
		/* the key-only variant, when it is a candidate too */
		foreach(lc, ri->cands)
		{
			Cand	   *o = (Cand *) lfirst(lc);
			ListCell   *a;
			ListCell   *b;
			bool		same = (o->includes == NIL && o->pred == NULL &&
								c->pred == NULL && o->relid == c->relid &&
								list_length(o->keys) == list_length(c->keys));

			if (!same)
				continue;
			forboth(a, o->keys, b, c->keys)
			{
				if (!equal(((SaTerm *) lfirst(a))->expr,
						   ((SaTerm *) lfirst(b))->expr))
					same = false;
			}
			if (same)
			{
				c->plain = o;
				break;
			}
		}
	}
	c->need_text = sa_terms_text(need->relid, need->terms, true);
	st->cands = lappend(st->cands, c);
	ri->cands = lappend(ri->cands, c);
}

/* a btree candidate */
static void
add_cand(AdviceState *st, StmtInfo *s, SaScanNeed *need, List *keys,
		 List *includes, Expr *pred, const char *why)
{
	add_cand_am(st, s, need, keys, includes, pred, why, BTREE_AM_OID,
				InvalidOid);
}

/* the operator class schema.name of access method amoid, or InvalidOid */
static Oid
qualified_opclass(Oid amoid, Oid nsp, const char *name)
{
	char	   *nspname = OidIsValid(nsp) ? get_namespace_name(nsp) : NULL;

	if (nspname == NULL)
		return InvalidOid;
	return get_opclass_oid(amoid, list_make2(makeString(nspname),
											 makeString(pstrdup(name))),
						   true);
}

/* does the operator family of opclass hold every operator of ops? */
static bool
opclass_serves(Oid opclass, List *ops)
{
	Oid			fam;
	ListCell   *lc;

	if (!OidIsValid(opclass))
		return false;
	fam = get_opclass_family(opclass);
	foreach(lc, ops)
	{
		if (!op_in_opfamily(lfirst_oid(lc), fam))
			return false;
	}
	return true;
}

/*
 * The GIN operator class for the GIN or pattern-match terms on one
 * expression (their operators in ops): pg_trgm's gin_trgm_ops for pattern
 * matches when pg_trgm is installed in this database (else none);
 * jsonb_path_ops (smaller and faster) when it serves every operator used,
 * else the type's default GIN class (jsonb_ops, array_ops, tsvector_ops).
 */
static Oid
gin_opclass_for(Expr *expr, char kind, List *ops)
{
	Oid			typid = exprType((Node *) expr);
	Oid			opclass;

	if (kind == SA_TERM_TRGM)
	{
		opclass = qualified_opclass(GIN_AM_OID, sa_extension_schema("pg_trgm"),
									"gin_trgm_ops");
		return opclass_serves(opclass, ops) ? opclass : InvalidOid;
	}
	if (typid == JSONBOID)
	{
		opclass = qualified_opclass(GIN_AM_OID, PG_CATALOG_NAMESPACE,
									"jsonb_path_ops");
		if (opclass_serves(opclass, ops))
			return opclass;
	}
	opclass = GetDefaultOpClass(typid, GIN_AM_OID);
	return opclass_serves(opclass, ops) ? opclass : InvalidOid;
}

/*
 * GIN candidates: one per expression tested with operators of a GIN
 * operator class (jsonb containment and key tests, array containment and
 * overlap, full-text matches) or with pattern matches pg_trgm serves.
 */
static void
gin_cands_for_need(AdviceState *st, StmtInfo *s, SaScanNeed *need)
{
	ListCell   *lc;
	List	   *done = NIL;

	foreach(lc, need->terms)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);
		List	   *ops = NIL;
		ListCell   *oc;
		Oid			opclass;

		if (t->kind != SA_TERM_GIN && t->kind != SA_TERM_TRGM)
			continue;
		if (term_in_list(done, t))
			continue;
		done = lappend(done, t);
		foreach(oc, need->terms)
		{
			SaTerm	   *o = (SaTerm *) lfirst(oc);

			if (o->kind == t->kind && equal(o->expr, t->expr))
				ops = list_append_unique_oid(ops, o->opno);
		}
		opclass = gin_opclass_for(t->expr, t->kind, ops);
		if (!OidIsValid(opclass))
			continue;
		add_cand_am(st, s, need, list_make1(t), NIL, NULL,
					t->kind == SA_TERM_TRGM ?
					"GIN index with pg_trgm's trigrams for the pattern match" :
					"GIN index for the containment, key or full-text test",
					GIN_AM_OID, opclass);
	}
}

/*
 * BRIN candidates: a range test on a column of a large append-only table
 * whose rows lie in the column's order (|pg_stats.correlation| at least
 * SA_BRIN_MIN_CORRELATION), where a summary of each 128 pages skips most
 * of the table at a fraction of a btree's size and upkeep.
 */
static void
brin_cands_for_need(AdviceState *st, StmtInfo *s, SaScanNeed *need)
{
	RelInfo    *ri = rel_info(st, need->relid);
	ListCell   *lc;

	if (ri->pages < (BlockNumber) brin_min_table_pages || !ri->append_only)
		return;
	foreach(lc, need->terms)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);
		Oid			opclass;

		if (t->kind != SA_TERM_RANGE || t->attno <= 0)
			continue;
		opclass = GetDefaultOpClass(exprType((Node *) t->expr), BRIN_AM_OID);
		if (!opclass_serves(opclass, list_make1_oid(t->opno)))
			continue;
		if (fabs(column_correlation(need->relid, t->attno)) <
			SA_BRIN_MIN_CORRELATION)
			continue;
		add_cand_am(st, s, need, list_make1(t), NIL, NULL,
					"BRIN index: the rows lie in the order of the column (append-only table)",
					BRIN_AM_OID, opclass);
	}
}

/* the candidates one need of one statement suggests */
static void
cands_for_need(AdviceState *st, StmtInfo *s, SaScanNeed *need)
{
	List	   *eq = NIL;
	List	   *range = NIL;
	List	   *sort = NIL;
	List	   *eq_sorted = NIL;
	List	   *eq_plain = NIL;
	List	   *full = NIL;
	ListCell   *lc;
	double		nd[INDEX_MAX_KEYS * 4];
	int			neq = 0;

	if (rel_info(st, need->relid)->pages < (BlockNumber) sa_min_table_pages)
		return;
	gin_cands_for_need(st, s, need);
	brin_cands_for_need(st, s, need);

	foreach(lc, need->terms)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);

		switch (t->kind)
		{
			case SA_TERM_EQ:
			case SA_TERM_JOIN:
			case SA_TERM_IN:
				if (!term_in_list(eq, t) && neq < (int) lengthof(nd))
				{
					eq = lappend(eq, t);
					nd[neq++] = column_ndistinct(need->relid, t->attno);
				}
				break;
			case SA_TERM_RANGE:
			case SA_TERM_LIKE:
				if (!term_in_list(range, t))
					range = lappend(range, t);
				break;
			case SA_TERM_SORT:
				sort = lappend(sort, t);
				break;
		}
	}

	/* equality columns, most distinct first (IN lists after plain =) */
	{
		int			order[INDEX_MAX_KEYS * 4];
		int			i,
					j;

		for (i = 0; i < neq; i++)
			order[i] = i;
		for (i = 1; i < neq; i++)
			for (j = i; j > 0; j--)
			{
				SaTerm	   *a = list_nth(eq, order[j - 1]);
				SaTerm	   *b = list_nth(eq, order[j]);
				bool		swap;

				if ((a->kind == SA_TERM_IN) != (b->kind == SA_TERM_IN))
					swap = (a->kind == SA_TERM_IN);
				else
					swap = nd[order[j - 1]] < nd[order[j]];
				if (!swap)
					break;
				{
					int			tmp = order[j];

					order[j] = order[j - 1];
					order[j - 1] = tmp;
				}
			}
		for (i = 0; i < neq && i < INDEX_MAX_KEYS - 1; i++)
		{
			SaTerm	   *t = list_nth(eq, order[i]);

			eq_sorted = lappend(eq_sorted, t);
			if (t->kind != SA_TERM_IN)
				eq_plain = lappend(eq_plain, t);
		}
	}

	/* single equality columns */
	foreach(lc, eq_sorted)
		add_cand(st, s, need, list_make1(lfirst(lc)), NIL, NULL,
				 "equality column");
	if (list_length(eq_sorted) > 1)
	{
		add_cand(st, s, need, list_copy(eq_sorted), NIL, NULL,
				 "equality columns, most distinct first");
		full = eq_sorted;
	}
	else
		full = eq_sorted;
	/* equality columns then one range column */
	foreach(lc, range)
	{
		List	   *k = list_copy(eq_sorted);

		k = lappend(k, lfirst(lc));
		add_cand(st, s, need, k, NIL, NULL,
				 eq_sorted ? "equality columns first, then the range column" :
				 "range column");
		if (lc == list_head(range))
			full = k;
	}
	/* equality columns then the ORDER BY columns of a sort under LIMIT */
	if (sort != NIL)
	{
		List	   *k = list_copy(eq_plain);
		ListCell   *sc;

		foreach(sc, sort)
		{
			if (!term_in_list(k, lfirst(sc)))
				k = lappend(k, lfirst(sc));
		}
		if (list_length(k) <= INDEX_MAX_KEYS)
		{
			add_cand(st, s, need, k, NIL, NULL,
					 eq_plain ? "equality columns, then the ORDER BY columns of a sort under LIMIT" :
					 "ORDER BY columns of a sort under LIMIT");
			if (range == NIL)
				full = k;
		}
	}

	/*
	 * INCLUDE the other columns the scan reads, for an index-only scan.  Not
	 * for an expression index: the scan would need the expression's columns
	 * as well, and a hypothetical expression index has no statistics of its
	 * expression (they come with ANALYZE of the real index), so the planner's
	 * default guess of 0.5 % of the rows would make the index-only variant
	 * look far better than it is.
	 */
	if (full != NIL)
	{
		List	   *inc = NIL;
		int			x = -1;
		bool		ok = true;

		foreach(lc, full)
		{
			if (((SaTerm *) lfirst(lc))->attno == 0)
				ok = false;
		}

		while (ok && (x = bms_next_member(need->attrs_used, x)) >= 0)
		{
			AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;
			bool		in_key = false;

			if (a <= 0)
			{
				ok = false;		/* whole row or system column */
				break;
			}
			foreach(lc, full)
			{
				if (((SaTerm *) lfirst(lc))->attno == a)
					in_key = true;
			}
			if (!in_key)
				inc = lappend_int(inc, a);
		}
		if (ok && inc != NIL && list_length(inc) <= 3 &&
			list_length(full) + list_length(inc) <= INDEX_MAX_KEYS)
			add_cand(st, s, need, list_copy(full), inc, NULL,
					 "INCLUDE columns allow an index-only scan");
	}
	/* partial index: a constant condition on a low-cardinality column */
	foreach(lc, eq)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);
		int			i = foreach_current_index(lc);
		List	   *rest = NIL;
		ListCell   *rc;

		if (t->kind != SA_TERM_EQ || !t->const_value || t->clause == NULL ||
			nd[i] > 20 || t->attno == 0)
			continue;
		foreach(rc, full)
		{
			if (lfirst(rc) != t)
				rest = lappend(rest, lfirst(rc));
		}
		if (rest == NIL)
			continue;
		add_cand(st, s, need, rest, NIL, t->clause,
				 "partial index: the constant condition selects a small part of the table");
	}
}

/* ---------------------------------------------------------------------
 * Running one statement's work in a subtransaction
 * ---------------------------------------------------------------------
 */

typedef void (*guarded_fn) (AdviceState *st, StmtInfo *s);

/*
 * Run fn for one statement as the statement's own role, in a
 * security-restricted operation, with the statement's search_path, in a
 * subtransaction that is always rolled back: whatever code the planner runs
 * for it (functions it folds or estimates with, type input functions of its
 * parameter values) runs with the rights of the role that ran the statement
 * and leaves nothing behind.  An error skips the statement, except those
 * that must end the whole reading (cancel, statement_timeout, shutdown,
 * resources), which are thrown again.
 */
static bool
run_guarded(AdviceState *st, StmtInfo *s, guarded_fn fn)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			save_userid;
	int			save_sec_context;
	bool		ok = true;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		int			save_nestlevel;

		SetUserIdAndSecContext(s->cap->userid,
							   save_sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		save_nestlevel = sa_push_replay_search_path(s->cap->search_path);
		fn(st, s);
		AtEOXact_GUC(false, save_nestlevel);
		SetUserIdAndSecContext(save_userid, save_sec_context);
		/* never released: what the statement's code did is undone */
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
		/*
		 * The message may hold the statement's values (a failed cast, a
		 * function's RAISE): only to its own role and superusers; any other
		 * reader gets the SQLSTATE.
		 */
		if (sa_may_see_values(save_userid, s->cap->userid))
			s->skip_reason = psprintf("statement can no longer be planned: %s",
									  edata->message);
		else
			s->skip_reason = psprintf("statement can no longer be planned (SQLSTATE %s)",
									  unpack_sql_state(edata->sqlerrcode));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * Why the statement's role cannot plan it again, or NULL: the role was
 * dropped, or it cannot log in any more and the reader does not have its
 * privileges (a disabled role's statements run again only for readers
 * that could act as it anyway).
 */
static char *
role_skip_reason(Oid roleid)
{
	HeapTuple	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	char	   *reason = NULL;
	Form_pg_authid role;

	if (!HeapTupleIsValid(tup))
		return psprintf("the role that ran the statement (OID %u) no longer exists",
						roleid);
	role = (Form_pg_authid) GETSTRUCT(tup);
	if (!role->rolcanlogin && !has_privs_of_role(GetUserId(), roleid))
		reason = psprintf("role \"%s\" that ran the statement cannot log in; its statements are planned again only for roles that have its privileges",
						  NameStr(role->rolname));
	ReleaseSysCache(tup);
	return reason;
}

/* take the locks the planner expects on every relation of a query */
static void lock_query_relations(Query *q);

/* lock the relations of the sublinks of an expression tree */
static bool
lock_query_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
		lock_query_relations(castNode(Query, ((SubLink *) node)->subselect));
	return expression_tree_walker(node, lock_query_walker, context);
}

/*
 * lock every relation a query reads, as the planner would, with its
 * rellockmode
 */
static void
lock_query_relations(Query *q)
{
	ListCell   *lc;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_RELATION)
			LockRelationOid(rte->relid, rte->rellockmode);
		else if (rte->rtekind == RTE_SUBQUERY)
			lock_query_relations(rte->subquery);
	}
	foreach(lc, q->cteList)
		lock_query_relations(castNode(Query,
									  lfirst_node(CommonTableExpr, lc)->ctequery));
	if (q->hasSubLinks)
		query_tree_walker(q, lock_query_walker, NULL,
						  QTW_IGNORE_RC_SUBQUERIES);
}

/*
 * Add to *cols the columns the query (and its subqueries) reads from
 * relation relid; *whole is set when it reads whole rows of it.
 */
static bool selected_cols_walker(Node *node, void *context);

typedef struct SelectedCols
{
	Oid			relid;
	Bitmapset  *cols;
	bool		found;
	bool		whole;
} SelectedCols;

/* add to sc the columns a query (and its subqueries) selects from sc->relid */
static void
query_selected_cols(Query *q, SelectedCols *sc)
{
	ListCell   *lc;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == sc->relid)
		{
			Bitmapset  *sel = sa_rte_selected_cols(q, rte);

			sc->found = true;
			if (bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber,
							  sel))
				sc->whole = true;
			sc->cols = bms_union(sc->cols, sel);
		}
		else if (rte->rtekind == RTE_SUBQUERY && rte->subquery)
			query_selected_cols(rte->subquery, sc);
	}
	foreach(lc, q->cteList)
		query_selected_cols(castNode(Query,
									 lfirst_node(CommonTableExpr, lc)->ctequery),
							sc);
	if (q->hasSubLinks)
		query_tree_walker(q, selected_cols_walker, sc,
						  QTW_IGNORE_RC_SUBQUERIES);
}

/* query_selected_cols for the sublinks of an expression tree */
static bool
selected_cols_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
		query_selected_cols(castNode(Query, ((SubLink *) node)->subselect),
							(SelectedCols *) context);
	return expression_tree_walker(node, selected_cols_walker, context);
}

/*
 * The columns a scan needs from its table, as far as the query says: a
 * scan under a node that computes its own output (an aggregate, a sort)
 * returns every column of the row (the planner's physical target list),
 * which would make every column look needed for an index-only scan.
 */
static Bitmapset *
needed_attrs(Query *q, SaScanNeed *n)
{
	SelectedCols sc;

	memset(&sc, 0, sizeof(sc));
	sc.relid = n->relid;
	query_selected_cols(q, &sc);
	if (!sc.found || sc.whole)
		return n->attrs_used;
	return bms_intersect(n->attrs_used, sc.cols);
}

/* pass 1: plan the statement as it is, find its needs and candidates */
static void
stmt_prepare(AdviceState *st, StmtInfo *s)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "scale_advisor plan",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	Oid		   *ptypes = s->cap->ptypes;
	int			nparams = s->cap->nparams;
	Query	   *q;
	PlannedStmt *p;
	List	   *needs;
	ListCell   *lc;

	q = sa_parse_statement(s->cap->text, &ptypes, &nparams, SA_PARSE_PLAN);
	if ((uint64) q->queryId != s->cap->queryid)
	{
		/*
		 * Its names resolve to other objects than when it ran (a function or
		 * operator planted earlier in the search_path, a table shadowed by a
		 * temporary one): that is not the statement that was captured.
		 */
		MemoryContextSwitchTo(old);
		MemoryContextDelete(tmp);
		s->skip_reason = pstrdup("the statement's names now resolve to other objects than when it ran (its query identifier changed)");
		return;
	}

	/*
	 * Planning folds and estimates with code the statement reaches: run none
	 * whose owner lacks the privileges of the role it would run as (a view,
	 * policy or function replaced since the statement ran keeps its query
	 * identifier).
	 */
	{
		char	   *why = sa_replan_refusal(q, s->cap->userid,
											s->cap->nparams,
											s->cap->ptypes);

		if (why)
		{
			MemoryContextSwitchTo(st->cxt);
			s->skip_reason = psprintf("planning it would run code of another role: %s",
									  why);
			MemoryContextSwitchTo(old);
			MemoryContextDelete(tmp);
			return;
		}
	}
	MemoryContextSwitchTo(st->cxt);
	s->params = sa_make_params(s->cap->nparams, s->cap->ptypes,
							   s->cap->pvalues);
	s->query = copyObject(q);
	MemoryContextSwitchTo(tmp);
	p = sa_whatif_plan(q, s->cap->text, s->params, NIL);
	if (!sa_check_plan_perms(p, false))
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(tmp);
		s->skip_reason = pstrdup("no privilege on a table the statement reads");
		s->query = NULL;
		return;
	}
	needs = sa_plan_needs(p, NULL);
	MemoryContextSwitchTo(st->cxt);
	s->cost_before = p->planTree->total_cost;
	s->cost_now = s->cost_before;
	foreach(lc, needs)
	{
		SaScanNeed *n = (SaScanNeed *) lfirst(lc);

		ListCell   *tc;

		n->attrs_used = needed_attrs(q, n);
		if (!list_member_oid(s->relids, n->relid))
			s->relids = lappend_oid(s->relids, n->relid);
		{
			RelAttrs   *ra = (RelAttrs *) palloc(sizeof(RelAttrs));

			ra->relid = n->relid;
			ra->attrs = bms_copy(n->attrs_used);
			s->attrs = lappend(s->attrs, ra);
		}
		foreach(tc, n->terms)
		{
			KeyUse	   *u = (KeyUse *) palloc(sizeof(KeyUse));

			u->relid = n->relid;
			u->expr = copyObject(((SaTerm *) lfirst(tc))->expr);
			u->kind = ((SaTerm *) lfirst(tc))->kind;
			u->attno = ((SaTerm *) lfirst(tc))->attno;
			s->keys = lappend(s->keys, u);
		}
		cands_for_need(st, s, n);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}

/*
 * A btree index can only help a statement that tests, joins or sorts on
 * its leading column: other candidates are not planned with it.
 */
static bool
stmt_can_use(StmtInfo *s, Cand *c)
{
	Expr	   *lead = ((SaTerm *) linitial(c->keys))->expr;
	ListCell   *lc;

	foreach(lc, s->keys)
	{
		KeyUse	   *u = (KeyUse *) lfirst(lc);

		if (u->relid == c->relid && equal(u->expr, lead))
			return true;
	}
	return false;
}

/* could the statement read everything it needs of c's table from c? */
static bool
covers_stmt(StmtInfo *s, Cand *c)
{
	ListCell   *lc;

	foreach(lc, s->attrs)
	{
		RelAttrs   *ra = (RelAttrs *) lfirst(lc);
		int			x = -1;

		if (ra->relid != c->relid)
			continue;
		while ((x = bms_next_member(ra->attrs, x)) >= 0)
		{
			AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;
			bool		found = false;
			ListCell   *kc;

			foreach(kc, c->keys)
			{
				if (((SaTerm *) lfirst(kc))->attno == a)
					found = true;
			}
			if (!found && !list_member_int(c->includes, a))
				return false;
		}
	}
	return true;
}

/* pass 2: plan the statement with each candidate on a table it needs */
static void
stmt_check(AdviceState *st, StmtInfo *s)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "scale_advisor what-if",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = CurrentMemoryContext;
	List	   *done = NIL;
	List	   *mine = NIL;
	ListCell   *lc;

	/* the locks of pass 1 went with its subtransaction */
	lock_query_relations(s->query);

	/* the candidates on the tables the statement needs an index on */
	foreach(lc, s->relids)
		mine = list_concat(mine, rel_info(st, lfirst_oid(lc))->cands);

	foreach(lc, mine)
	{
		Cand	   *c = (Cand *) lfirst(lc);
		PlannedStmt *p;
		Check	   *k;

		CHECK_FOR_INTERRUPTS();
		if (!stmt_can_use(s, c))
			continue;
		if (c->plain && !covers_stmt(s, c))
		{
			/*
			 * No index-only scan for this statement: the INCLUDE columns
			 * change nothing, the key-only variant's check stands.
			 */
			ListCell   *dc;
			Check	   *pk = NULL;

			foreach(dc, done)
			{
				if (linitial((List *) lfirst(dc)) == c->plain)
					pk = (Check *) lsecond((List *) lfirst(dc));
			}
			if (pk)
			{
				k = (Check *) palloc(sizeof(Check));
				*k = *pk;
				done = lappend(done, list_make2(c, k));
				continue;
			}
		}
		MemoryContextSwitchTo(tmp);
		p = sa_whatif_plan(s->query, s->cap->text, s->params,
						   list_make1(c->h));
		MemoryContextSwitchTo(old);
		k = (Check *) palloc(sizeof(Check));
		k->s = s;
		k->used = sa_plan_uses_index(p, c->h->fake_oid);
		k->after = k->used ? p->planTree->total_cost : s->cost_before;
		done = lappend(done, list_make2(c, k));
		MemoryContextReset(tmp);
	}
	MemoryContextDelete(tmp);
	/* only now, when every planning succeeded */
	foreach(lc, done)
	{
		List	   *pair = (List *) lfirst(lc);
		Cand	   *c = (Cand *) linitial(pair);

		c->checks = lappend(c->checks, lsecond(pair));
	}
}

/* has the advice used up its time (scale_advisor.advice_time_limit_ms)? */
static bool
past_deadline(AdviceState *st)
{
	return GetCurrentTimestamp() > st->deadline;
}

/* statements taking the most time first, so the time cap drops the least */
static int
cmp_weight_desc(const ListCell *a, const ListCell *b)
{
	StmtInfo   *x = (StmtInfo *) lfirst(a);
	StmtInfo   *y = (StmtInfo *) lfirst(b);

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return 0;
}

/*
 * Does a candidate's check count for its statement: the index is used and
 * cuts the statement's cost, beyond what the indexes chosen so far already
 * cut, by at least min_frac of its original cost?
 */
static bool
counts_for(Check *k, double min_frac)
{
	StmtInfo   *s = k->s;

	return k->used && s->cost_before > 0 && k->after < s->cost_now &&
		(s->cost_now - k->after) / s->cost_before >= min_frac;
}

/* what choosing c would save now, in statement ms per hour */
static double
cand_saving(Cand *c, double min_frac)
{
	double		saved = 0;
	ListCell   *lc;

	foreach(lc, c->checks)
	{
		Check	   *k = (Check *) lfirst(lc);
		StmtInfo   *s = k->s;

		if (!counts_for(k, min_frac))
			continue;
		saved += s->weight * (s->cost_now - k->after) / s->cost_before;
	}
	return saved;
}

/*
 * The indexes of a table that advice may tell to drop when a new index
 * serves every scan they serve: valid plain btree indexes that enforce no
 * uniqueness and back no constraint, are not the table's clustering or
 * replica identity index.  Read once per table.
 */
static List *
droppable_indexes(AdviceState *st, Oid relid)
{
	RelInfo    *ri = rel_info(st, relid);
	ListCell   *lc;

	if (ri->droppable_read)
		return ri->droppable;
	ri->droppable_read = true;
	foreach(lc, sa_table_index_descs(relid))
	{
		SaIndexDesc *d = (SaIndexDesc *) lfirst(lc);

		if (d->usable && d->h.relam == BTREE_AM_OID && !d->unique &&
			!d->constraint && !d->clustered && !d->replident)
			ri->droppable = lappend(ri->droppable, d);
	}
	return ri->droppable;
}

/*
 * The existing indexes a btree candidate makes redundant: their key columns
 * lead its own (with the same operator families, collations and order),
 * their INCLUDE columns are among its columns, and their predicate is its
 * own, so every scan they serve it serves too (sa_hypo_covered_by).
 */
static List *
cand_drops(AdviceState *st, Cand *c)
{
	List	   *drops = NIL;
	ListCell   *lc;

	if (c->relam != BTREE_AM_OID)
		return NIL;
	foreach(lc, droppable_indexes(st, c->relid))
	{
		SaIndexDesc *d = (SaIndexDesc *) lfirst(lc);

		if (sa_hypo_covered_by(&d->h, c->h) && !sa_hypo_same(&d->h, c->h))
			drops = lappend(drops, d);
	}
	return drops;
}

/*
 * Upkeep saved by dropping the indexes c makes redundant (those no index
 * chosen earlier made redundant already), in milliseconds per hour.
 */
static double
cand_drop_relief(AdviceState *st, Cand *c)
{
	double		relief = 0;
	ListCell   *lc;

	foreach(lc, c->drops)
	{
		SaIndexDesc *d = (SaIndexDesc *) lfirst(lc);

		if (!list_member_oid(st->claimed, d->oid))
			relief += sa_index_upkeep(rel_info(st, c->relid)->model, &d->h,
									  NULL);
	}
	return relief;
}

/*
 * Would c duplicate the chosen index o: the key columns of one a leading
 * part of the other's?  The duplicate_indexes view would report such a
 * pair, so only the first chosen is advised.
 */
static bool
overlaps(Cand *c, Cand *o)
{
	ListCell   *x;
	ListCell   *y;

	if (o->relid != c->relid)
		return false;
	forboth(x, c->keys, y, o->keys)
	{
		if (!equal(((SaTerm *) lfirst(x))->expr,
				   ((SaTerm *) lfirst(y))->expr))
			return false;
	}
	return true;
}

static RelInfo *rel_info(AdviceState *st, Oid relid);

/* the check of c for statement s, or NULL */
static Check *
check_of(Cand *c, StmtInfo *s)
{
	ListCell   *lc;

	foreach(lc, c->checks)
	{
		if (((Check *) lfirst(lc))->s == s)
			return (Check *) lfirst(lc);
	}
	return NULL;
}

/*
 * How many times larger to plan statement s's table as, to see how an index
 * ages: the table's growth (sa_model_growth).
 */
static double
aged_factor(AdviceState *st, Oid relid)
{
	return sa_model_growth(rel_info(st, relid)->model);
}

/* what common_key_mutator replaces */
typedef struct CommonKey
{
	Bitmapset  *varnos;			/* range table entries of the table */
	AttrNumber	attno;
	Datum		value;			/* its most common value */
	Oid			typid;
	ParamListInfo params;		/* a copy, whose values may be replaced */
	bool		replaced;
} CommonKey;

/* is opno the equality of the default btree family of typid? */
static bool
is_btree_equality(Oid opno, Oid typid)
{
	Oid			opclass = sa_default_btree_opclass(typid);

	return OidIsValid(opclass) &&
		get_op_opfamily_strategy(opno, get_opclass_family(opclass)) ==
		BTEqualStrategyNumber;
}

/* col = value: the value becomes the column's most common value */
static Node *
common_key_mutator(Node *node, CommonKey *ck)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, OpExpr) && list_length(((OpExpr *) node)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) node;
		Node	   *l = linitial(op->args);
		Node	   *r = lsecond(op->args);
		int			side;

		for (side = 0; side < 2; side++)
		{
			Node	   *k = side == 0 ? l : r;
			Node	   *v = side == 0 ? r : l;
			Var		   *var;

			if (!IsA(k, Var))
				continue;
			var = (Var *) k;
			if (var->varlevelsup != 0 || var->varattno != ck->attno ||
				!bms_is_member(var->varno, ck->varnos) ||
				var->vartype != ck->typid ||
				!is_btree_equality(op->opno, ck->typid))
				continue;
			if (IsA(v, Const) && ((Const *) v)->consttype == ck->typid)
			{
				Const	   *c = (Const *) copyObject(v);
				int16		typlen;
				bool		typbyval;

				get_typlenbyval(ck->typid, &typlen, &typbyval);
				c->constvalue = datumCopy(ck->value, typbyval, typlen);
				c->constisnull = false;
				op = (OpExpr *) copyObject(op);
				if (side == 0)
					lsecond(op->args) = c;
				else
					linitial(op->args) = c;
				ck->replaced = true;
				return (Node *) op;
			}
			if (IsA(v, Param) && ((Param *) v)->paramkind == PARAM_EXTERN &&
				((Param *) v)->paramtype == ck->typid && ck->params &&
				((Param *) v)->paramid > 0 &&
				((Param *) v)->paramid <= ck->params->numParams)
			{
				ParamExternData *p = &ck->params->params[((Param *) v)->paramid - 1];
				int16		typlen;
				bool		typbyval;

				get_typlenbyval(ck->typid, &typlen, &typbyval);
				p->value = datumCopy(ck->value, typbyval, typlen);
				p->isnull = false;
				ck->replaced = true;
				return node;
			}
		}
	}
	return expression_tree_mutator(node, common_key_mutator, (void *) ck);
}

/*
 * Statement s as if it asked for the most common value of each column of
 * table relid it tests for equality with a constant or a parameter, when
 * that value has more rows than the average (skew): a key with many more
 * rows than the average is where an index that reads every row of a key
 * ages first.  *params gets the parameters (a copy when one changed);
 * *skew the largest skew of the columns replaced (1: none).
 */
static Query *
with_common_keys(StmtInfo *s, Oid relid, ParamListInfo *params,
				 double *skew)
{
	Query	   *q = copyObject(s->query);
	CommonKey	ck;
	ListCell   *lc;

	*params = s->params;
	*skew = 1.0;
	memset(&ck, 0, sizeof(ck));
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == relid)
			ck.varnos = bms_add_member(ck.varnos, foreach_current_index(lc) + 1);
	}
	if (ck.varnos == NULL || q->jointree == NULL)
		return q;
	if (s->params)
	{
		Size		sz = (offsetof(ParamListInfoData, params) +
						  s->params->numParams * sizeof(ParamExternData));

		ck.params = (ParamListInfo) palloc(sz);
		memcpy(ck.params, s->params, sz);
	}
	foreach(lc, s->keys)
	{
		KeyUse	   *u = (KeyUse *) lfirst(lc);
		double		sk;

		if (u->relid != relid || u->attno <= 0 || u->kind != SA_TERM_EQ)
			continue;
		sk = sa_column_top_value(relid, u->attno, &ck.value, &ck.typid);
		if (sk <= 1.0 || !OidIsValid(ck.typid))
			continue;
		ck.attno = u->attno;
		ck.replaced = false;
		q->jointree->quals = common_key_mutator(q->jointree->quals, &ck);
		if (ck.replaced)
			*skew = Max(*skew, sk);
	}
	if (ck.params)
		*params = ck.params;
	return q;
}

/*
 * Guarded (run_guarded): plan statement s with each candidate of the tie
 * (and those chosen before on its table) and without, its table grown by
 * st->aged_factor and its keys at their most common values.
 */
static void
stmt_aged(AdviceState *st, StmtInfo *s)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "scale_advisor aged planning",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = CurrentMemoryContext;
	Oid			relid = ((Cand *) linitial(st->aged_group))->relid;
	ListCell   *lc;
	PlannedStmt *p;
	Query	   *q;
	ParamListInfo params;
	int			i = 0;

	lock_query_relations(s->query);
	q = with_common_keys(s, relid, &params, &st->aged_skew);
	MemoryContextSwitchTo(tmp);
	p = sa_whatif_plan_scaled(q, s->cap->text, params,
							  list_copy(st->aged_chosen), relid,
							  st->aged_factor);
	st->aged_base = p->planTree->total_cost;
	MemoryContextSwitchTo(old);
	MemoryContextReset(tmp);
	foreach(lc, st->aged_group)
	{
		Cand	   *c = (Cand *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(tmp);
		p = sa_whatif_plan_scaled(q, s->cap->text, params,
								  lappend(list_copy(st->aged_chosen), c->h),
								  relid, st->aged_factor);
		st->aged_after[i++] = p->planTree->total_cost;
		MemoryContextSwitchTo(old);
		MemoryContextReset(tmp);
	}
	MemoryContextDelete(tmp);
}

/* heaviest statements first */
static int
cmp_stmt_weight_desc(const ListCell *a, const ListCell *b)
{
	StmtInfo   *x = (StmtInfo *) lfirst(a);
	StmtInfo   *y = (StmtInfo *) lfirst(b);

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return 0;
}

/* do a and b have the same key columns (and differ in INCLUDE only)? */
static bool
same_keys(Cand *a, Cand *b)
{
	ListCell   *x;
	ListCell   *y;

	if (list_length(a->keys) != list_length(b->keys) ||
		!equal(a->pred, b->pred))
		return false;
	forboth(x, a->keys, y, b->keys)
	{
		if (!equal(((SaTerm *) lfirst(x))->expr,
				   ((SaTerm *) lfirst(y))->expr))
			return false;
	}
	return true;
}

/* the position of c in group */
static int
group_index(List *group, Cand *c)
{
	ListCell   *lc;

	foreach(lc, group)
	{
		if (lfirst(lc) == c)
			return foreach_current_index(lc);
	}
	return 0;
}

/* smallest index first */
static int
cmp_cand_size(const ListCell *a, const ListCell *b)
{
	Cand	   *x = (Cand *) lfirst(a);
	Cand	   *y = (Cand *) lfirst(b);

	if (x->size_bytes != y->size_bytes)
		return x->size_bytes < y->size_bytes ? -1 : 1;
	return 0;
}

#define SA_AGED_STATEMENTS	4	/* heaviest statements planned aged */
#define SA_AGED_BETTER		0.5 /* a larger index must leave this share */

/*
 * Break a tie: the candidates of group (the best first) save about the
 * same today, which says little when what they leave is small next to what
 * they remove (a 98.5 % cut "ties" a 99.8 % one, though one leaves seven
 * times the other's cost).  So each is weighed by what it leaves of the
 * heaviest statements the best serves (calls times time per cost unit
 * times cost), today and planned as if the table had grown (aged_factor)
 * and for the most common key of the columns tested for equality
 * (with_common_keys).  Walking the candidates from the smallest up, a
 * larger one wins when it leaves at most half of what the current winner
 * leaves at that size: an index that reads every row of a key and sorts
 * them leaves more as the table grows, one that reads only the LIMIT's
 * rows in order does not.  A candidate that only adds INCLUDE columns to
 * the winner's keys does not win this way (an index-only scan that halves
 * a one-row lookup does not pay for a wider index): only by saving more
 * than 5 % beyond it.
 * Returns the winner.
 */
static Cand *
break_tie(AdviceState *st, Cand *best, List *group, double min_frac,
		  List *chosen)
{
	List	   *stmts = NIL;
	ListCell   *lc;
	ListCell   *gc;
	int			n = list_length(group);
	double	   *aged = (double *) palloc0(sizeof(double) * n);
	double	   *today = (double *) palloc0(sizeof(double) * n);
	int			planned = 0;
	Cand	   *win;
	int			w;
	int			i;
	double		factor = 0;
	double		skew = 1.0;
	List	   *bysize;

	foreach(lc, best->checks)
	{
		Check	   *k = (Check *) lfirst(lc);

		if (counts_for(k, min_frac))
			stmts = lappend(stmts, k->s);
	}
	list_sort(stmts, cmp_stmt_weight_desc);
	st->aged_group = group;
	st->aged_chosen = NIL;
	foreach(lc, chosen)
	{
		Cand	   *o = (Cand *) lfirst(lc);

		if (o->relid == best->relid)
			st->aged_chosen = lappend(st->aged_chosen, o->h);
	}
	st->aged_after = (double *) palloc(sizeof(double) * n);
	foreach(lc, stmts)
	{
		StmtInfo   *s = (StmtInfo *) lfirst(lc);
		char	   *save_skip = s->skip_reason;
		double		per_cost = s->calls_h * s->call_ms / s->cost_before;

		if (planned >= SA_AGED_STATEMENTS || past_deadline(st))
			break;
		st->aged_factor = aged_factor(st, best->relid);
		st->aged_skew = 1.0;
		factor = Max(factor, st->aged_factor);
		if (!run_guarded(st, s, stmt_aged))
		{
			/* a failed aged planning skips nothing: only this weighing */
			s->skip_reason = save_skip;
			continue;
		}
		skew = Max(skew, st->aged_skew);
		planned++;
		i = 0;
		foreach(gc, group)
		{
			Cand	   *c = (Cand *) lfirst(gc);
			Check	   *k = check_of(c, s);
			bool		counts = (k && counts_for(k, min_frac));

			aged[i] += per_cost * (counts ? st->aged_after[i] : st->aged_base);
			today[i] += per_cost * (counts ? k->after : s->cost_now);
			i++;
		}
	}
	bysize = list_copy(group);
	list_sort(bysize, cmp_cand_size);
	win = (Cand *) linitial(bysize);
	if (planned == 0)
		return win;				/* nothing to weigh with: the smallest */
	w = group_index(group, win);
	foreach(gc, bysize)
	{
		Cand	   *c = (Cand *) lfirst(gc);
		int			j = group_index(group, c);

		if (c == win || same_keys(c, win))
			continue;
		if (aged[j] <= aged[w] * SA_AGED_BETTER)
		{
			win = c;
			w = j;
		}
	}
	{
		StringInfoData note;

		initStringInfo(&note);
		appendStringInfoString(&note, "chosen over ");
		i = 0;
		foreach(gc, group)
		{
			Cand	   *c = (Cand *) lfirst(gc);
			int			j = group_index(group, c);

			if (c != win)
				appendStringInfo(&note, "%s(%s)%s leaving %.1f ms per hour, %.1f as the table grows",
								 i++ > 0 ? ", " : "",
								 sa_terms_text(c->relid, c->keys, false),
								 c->includes ? " with INCLUDE columns" : "",
								 today[j], aged[j]);
		}
		appendStringInfo(&note, ", against %.1f and %.1f for this one, of the statements it serves, planned with the table %.1f times as large (its growth)",
						 today[w], aged[w], factor);
		if (skew > 1.0)
			appendStringInfo(&note, " and with the most common key, which has %.0f times the average rows",
							 skew);
		win->aged_note = note.data;
	}
	return win;
}

/*
 * Greedy choice over the whole workload.  A candidate's value is the
 * statement time it saves per hour less its upkeep (advice_model.c).  A
 * candidate's saving can only shrink as others are chosen (statements'
 * current costs only go down), so a candidate that saves nothing now is
 * dropped for good.  Candidates on the same table that serve the same
 * statements and save within 5 % of the best are a tie, which break_tie
 * settles by what each leaves as the table grows.
 */
static void
choose(AdviceState *st)
{
	double		min_frac = advice_min_improvement_pct / 100.0;
	List	   *live = NIL;
	List	   *chosen = NIL;
	ListCell   *lc;

	foreach(lc, st->cands)
	{
		Cand	   *c = (Cand *) lfirst(lc);

		if (c->checks == NIL)
			continue;
		c->size_bytes = sa_hypo_size_bytes(c->h);
		c->drops = cand_drops(st, c);
		c->upkeep = sa_index_upkeep(rel_info(st, c->relid)->model, c->h, NULL);
		c->write_rate = sa_model_write_rate(rel_info(st, c->relid)->model);
		live = lappend(live, c);
	}

	while (live != NIL)
	{
		Cand	   *best = NULL;
		double		best_net = 0;
		List	   *next = NIL;
		List	   *group;

		CHECK_FOR_INTERRUPTS();
		foreach(lc, live)
		{
			Cand	   *c = (Cand *) lfirst(lc);
			double		net;

			net = cand_saving(c, min_frac) - c->upkeep +
				cand_drop_relief(st, c);
			if (net <= 0)
				continue;		/* and never again */
			next = lappend(next, c);
			if (best == NULL || net > best_net)
			{
				best = c;
				best_net = net;
			}
		}
		list_free(live);
		live = NIL;
		if (best == NULL)
			break;
		/* the tie: same table, a statement in common, within 5 % */
		group = list_make1(best);
		foreach(lc, next)
		{
			Cand	   *c = (Cand *) lfirst(lc);
			ListCell   *kc;
			bool		shared = false;

			if (c == best || c->relid != best->relid ||
				cand_saving(c, min_frac) - c->upkeep < best_net * 0.95)
				continue;
			foreach(kc, c->checks)
			{
				Check	   *k = (Check *) lfirst(kc);
				Check	   *bk;

				if (!counts_for(k, min_frac))
					continue;
				bk = check_of(best, k->s);
				if (bk && counts_for(bk, min_frac))
					shared = true;
			}
			if (shared)
				group = lappend(group, c);
		}
		if (list_length(group) > 1)
			best = break_tie(st, best, group, min_frac, chosen);
		best->chosen = true;
		best->saved = cand_saving(best, min_frac);
		{
			List	   *mine = NIL;

			/* an index made redundant is dropped for the first chosen */
			foreach(lc, best->drops)
			{
				SaIndexDesc *d = (SaIndexDesc *) lfirst(lc);

				if (!list_member_oid(st->claimed, d->oid))
				{
					st->claimed = lappend_oid(st->claimed, d->oid);
					mine = lappend(mine, d);
				}
			}
			best->drops = mine;
		}
		foreach(lc, best->checks)
		{
			Check	   *k = (Check *) lfirst(lc);
			StmtInfo   *s = k->s;

			if (!counts_for(k, min_frac))
				continue;
			best->served = lappend(best->served, s);
			{
				ServedCost *sc = (ServedCost *) palloc(sizeof(ServedCost));

				sc->before = s->cost_now;
				sc->after = k->after;
				best->served_costs = lappend(best->served_costs, sc);
			}
			best->sum_before += s->cost_now;
			best->sum_after += k->after;
			s->cost_now = k->after;
		}
		chosen = lappend(chosen, best);
		foreach(lc, next)
		{
			Cand	   *c = (Cand *) lfirst(lc);

			if (c != best && !overlaps(c, best))
				live = lappend(live, c);
		}
		list_free(next);
	}
	/* the chosen ones, in the order they were chosen */
	st->cands = chosen;
}

/* calls and time of the captured statements, from the statement store */
typedef struct StoreMatch
{
	uint64		queryid;		/* hash key, with userid */
	Oid			userid;
	double		calls;
	double		total_ms;
	double		blks_hit;
	double		blks_read;
	TimestampTz first_seen;
	double		sketch_calls;	/* calls of the entry whose sketch is kept */
	SaSketch	sketch;
} StoreMatch;

typedef struct StoreMatchKey
{
	uint64		queryid;
	Oid			userid;
} StoreMatchKey;

/*
 * store visitor: add an entry of this database to the (query id, user) table
 */
static void
store_visit(const SaEntrySnapshot *snap, void *arg)
{
	HTAB	   *h = (HTAB *) arg;
	StoreMatchKey k;
	StoreMatch *m;

	if (snap->key.dbid != MyDatabaseId)
		return;
	memset(&k, 0, sizeof(k));
	k.queryid = snap->key.queryid;
	k.userid = snap->key.userid;
	m = (StoreMatch *) hash_search(h, &k, HASH_FIND, NULL);
	if (m == NULL)
		return;
	m->calls += snap->c.calls;
	m->total_ms += snap->c.total_exec;
	m->blks_hit += snap->c.shared_blks_hit;
	m->blks_read += snap->c.shared_blks_read;
	if (m->first_seen == 0 || snap->c.first_seen < m->first_seen)
		m->first_seen = snap->c.first_seen;
	if (snap->c.calls > m->sketch_calls)
	{
		m->sketch_calls = snap->c.calls;
		m->sketch = snap->sketch;
	}
}

/*
 * Replace the sampled estimates of calls and time by the statement store's
 * counts where the store knows the statement: its median time (the mean
 * when the sketch is empty), and the share of its blocks read from outside
 * shared buffers.
 */
static void
use_store_counts(List *stmts)
{
	HASHCTL		ctl;
	HTAB	   *h;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();

	foreach(lc, stmts)
	{
		StmtInfo   *s = (StmtInfo *) lfirst(lc);

		s->measured_ms = s->cap->mean_ms;
		s->read_share = 0;
	}
	if (stmts == NIL || !sa_store_attached())
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(StoreMatchKey);
	ctl.entrysize = sizeof(StoreMatch);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("scale_advisor store match", list_length(stmts) * 2,
					&ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	foreach(lc, stmts)
	{
		StmtInfo   *s = (StmtInfo *) lfirst(lc);
		StoreMatchKey k;
		bool		found;
		StoreMatch *m;

		memset(&k, 0, sizeof(k));
		k.queryid = s->cap->queryid;
		k.userid = s->cap->userid;
		m = (StoreMatch *) hash_search(h, &k, HASH_ENTER, &found);
		if (!found)
			memset(((char *) m) + sizeof(StoreMatchKey), 0,
				   sizeof(StoreMatch) - sizeof(StoreMatchKey));
	}
	sa_store_read_all(store_visit, h);
	foreach(lc, stmts)
	{
		StmtInfo   *s = (StmtInfo *) lfirst(lc);
		StoreMatchKey k;
		StoreMatch *m;
		double		q = 0.5;
		double		median;

		memset(&k, 0, sizeof(k));
		k.queryid = s->cap->queryid;
		k.userid = s->cap->userid;
		m = (StoreMatch *) hash_search(h, &k, HASH_FIND, NULL);
		if (m == NULL || m->calls <= 0)
			continue;
		s->cap->est_calls = m->calls;
		s->cap->mean_ms = m->total_ms / m->calls;
		s->measured_ms = s->cap->mean_ms;
		if (sa_sketch_quantiles(&m->sketch, &q, 1, &median) && median > 0)
			s->measured_ms = Min(median, s->measured_ms);
		if (m->blks_hit + m->blks_read > 0)
			s->read_share = m->blks_read / (m->blks_hit + m->blks_read);
		if (m->first_seen > 0)
			s->cap->hours = Max((double) (now - m->first_seen) / USECS_PER_SEC / 3600.0,
								1.0 / 60.0);
	}
	hash_destroy(h);
}

/*
 * The model of every table that has candidates (advice_model.c): read as
 * the reader, outside any statement's guarded planning.
 */
static void
model_tables(AdviceState *st)
{
	List	   *models = NIL;
	ListCell   *lc;

	foreach(lc, st->rels)
	{
		RelInfo    *ri = (RelInfo *) lfirst(lc);

		ri->model = (SaTableModel *) palloc0(sizeof(SaTableModel));
		ri->model->relid = ri->relid;
		if (ri->cands != NIL)
			models = lappend(models, ri->model);
	}
	sa_model_tables(models, true, st->nsp);
}

/*
 * Time of one call at normal load, and so the statement's weight, once its
 * planner cost is known (advice_model.c).
 */
static void
stmt_weight(StmtInfo *s)
{
	s->calls_h = s->cap->est_calls / s->cap->hours;
	s->call_ms = Max(sa_stmt_normal_ms(s->measured_ms, s->cost_before,
									   s->read_share, &s->capped), 0.001);
	s->weight = s->calls_h * s->call_ms;
}

/*
 * the whole advice for this database: candidates, the what-if checks, the
 * choice
 */
static AdviceState *
compute_advice(Oid nsp)
{
	AdviceState *st = (AdviceState *) palloc0(sizeof(AdviceState));
	List	   *caps;
	ListCell   *lc;

	st->cxt = CurrentMemoryContext;
	st->nsp = nsp;
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(SigEntry);
		ctl.hcxt = CurrentMemoryContext;
		st->sigs = hash_create("scale_advisor candidates", 256, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	st->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   advice_time_limit_ms);
	caps = sa_captured_statements(true);
	foreach(lc, caps)
	{
		StmtInfo   *s = (StmtInfo *) palloc0(sizeof(StmtInfo));

		s->cap = (SaCapturedStmt *) lfirst(lc);
		st->stmts = lappend(st->stmts, s);
	}
	use_store_counts(st->stmts);
	/* measured time first: the order in which the time cap drops them */
	foreach(lc, st->stmts)
	{
		StmtInfo   *s = (StmtInfo *) lfirst(lc);

		s->weight = s->cap->est_calls / s->cap->hours *
			Max(s->measured_ms, 0.001);
	}
	list_sort(st->stmts, cmp_weight_desc);

	foreach(lc, st->stmts)
	{
		StmtInfo   *s = (StmtInfo *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (s->cap->truncated)
		{
			s->skip_reason = pstrdup("statement text or parameter values could not be kept (longer than 2 kB, or parameters of a PL/pgSQL function)");
			continue;
		}
		if (past_deadline(st))
		{
			s->skip_reason = psprintf("time limit of %d ms reached (scale_advisor.advice_time_limit_ms)",
									  advice_time_limit_ms);
			continue;
		}
		s->skip_reason = role_skip_reason(s->cap->userid);
		if (s->skip_reason)
			continue;
		run_guarded(st, s, stmt_prepare);
		if (s->skip_reason == NULL && s->query != NULL)
			stmt_weight(s);
	}
	foreach(lc, st->stmts)
	{
		StmtInfo   *s = (StmtInfo *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (s->skip_reason || s->query == NULL || s->relids == NIL)
			continue;
		if (past_deadline(st))
		{
			s->skip_reason = psprintf("time limit of %d ms reached (scale_advisor.advice_time_limit_ms)",
									  advice_time_limit_ms);
			continue;
		}
		run_guarded(st, s, stmt_check);
	}
	model_tables(st);
	choose(st);
	return st;
}

/* the operator class's name, schema-qualified unless in pg_catalog */
static char *
opclass_name(Oid opclass)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass));
	Form_pg_opclass form;
	char	   *name;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator class %u", opclass);
	form = (Form_pg_opclass) GETSTRUCT(tup);
	if (form->opcnamespace == PG_CATALOG_NAMESPACE)
		name = pstrdup(quote_identifier(NameStr(form->opcname)));
	else
		name = quote_qualified_identifier(get_namespace_name(form->opcnamespace),
										  NameStr(form->opcname));
	ReleaseSysCache(tup);
	return name;
}

/* the default operator class of a type for an access method */
static Oid
default_opclass(Oid typid, Oid amoid)
{
	if (amoid == BTREE_AM_OID)
		return sa_default_btree_opclass(typid);
	return GetDefaultOpClass(typid, amoid);
}

/*
 * the SQL of an index key: the quoted column, or the deparsed expression in
 * parentheses
 */
static char *
term_sql(Oid relid, SaTerm *t, List **dpcontext)
{
	if (t->attno != 0)
		return pstrdup(quote_identifier(get_attname(relid, t->attno, false)));
	if (*dpcontext == NIL)
		*dpcontext = deparse_context_for(get_rel_name(relid), relid);
	return psprintf("(%s)", deparse_expression((Node *) t->expr, *dpcontext,
											   false, false));
}

/* schema.name of an index, quoted where needed */
static char *
index_qualified_name(Oid indexoid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
									  get_rel_name(indexoid));
}

/* columns of _index_advice(false): in the 1.0 view, and in 1.1 */
#define SA_ADVICE_COLS_1_0	14
#define SA_ADVICE_COLS		17

/*
 * A name for an index of the candidate's columns on table relid, as CREATE
 * INDEX would choose it (table_columns_idx, made unique in the schema).
 */
static char *
index_name(Oid relid, Cand *c)
{
	StringInfoData cols;
	ListCell   *lc;

	initStringInfo(&cols);
	foreach(lc, c->keys)
	{
		SaTerm	   *t = (SaTerm *) lfirst(lc);

		if (cols.len > 0)
			appendStringInfoChar(&cols, '_');
		appendStringInfoString(&cols, t->attno > 0 ?
							   get_attname(c->relid, t->attno, false) : "expr");
	}
	return ChooseRelationName(get_rel_name(relid), cols.data, "idx",
							  get_rel_namespace(relid), false);
}

/*
 * The statements that add the candidate to the partitioned tree under
 * relid, attached to index parent_idx (NULL at the top).
 */
static void
partition_tree_sql(StringInfo sql, Cand *c, const char *def, Oid relid,
				   const char *parent_idx)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	const char *rel = quote_qualified_identifier(nsp, get_rel_name(relid));
	char	   *name = index_name(relid, c);
	const char *qname = quote_qualified_identifier(nsp, name);
	char		kind = get_rel_relkind(relid);
	ListCell   *lc;

	if (kind == RELKIND_PARTITIONED_TABLE)
		appendStringInfo(sql, "%sCREATE INDEX %s ON ONLY %s %s",
						 sql->len > 0 ? ";\n" : "", quote_identifier(name),
						 rel, def);
	else if (kind == RELKIND_RELATION || kind == RELKIND_MATVIEW)
		appendStringInfo(sql, "%sCREATE INDEX CONCURRENTLY %s ON %s %s",
						 sql->len > 0 ? ";\n" : "", quote_identifier(name),
						 rel, def);
	else
		return;					/* a foreign table: no index */
	if (parent_idx)
		appendStringInfo(sql, ";\nALTER INDEX %s ATTACH PARTITION %s",
						 parent_idx, qname);
	if (kind == RELKIND_PARTITIONED_TABLE)
		foreach(lc, find_inheritance_children(relid, AccessShareLock))
			partition_tree_sql(sql, c, def, lfirst_oid(lc), qname);
}

/*
 * How to build an index on a partitioned table that takes writes: CREATE
 * INDEX ... ON ONLY the table (an invalid index, at once), CREATE INDEX
 * CONCURRENTLY on each partition, ATTACH each to it (the parent's becomes
 * valid when every partition has one); one statement a line.
 */
static void
partitioned_index_sql(StringInfo sql, Cand *c, const char *def)
{
	partition_tree_sql(sql, c, def, c->relid, NULL);
}

/*
 * SQL: scale_advisor._index_advice() — the rows of the index_advice view.
 */
Datum
scale_advisor_index_advice_compute(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		want_skipped = PG_GETARG_BOOL(0);
	AdviceState *st;
	ListCell   *lc;
	List	   *preds = NIL;

	sa_require_loaded();
	sa_init_srf(fcinfo);
	/* the function's schema is the extension's */
	st = compute_advice(get_func_namespace(fcinfo->flinfo->fn_oid));

	if (want_skipped)
	{
		foreach(lc, st->stmts)
		{
			StmtInfo   *s = (StmtInfo *) lfirst(lc);
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			if (s->skip_reason == NULL)
				continue;
			values[0] = Int64GetDatum((int64) s->cap->queryid);
			values[1] = ObjectIdGetDatum(s->cap->userid);
			values[2] = CStringGetTextDatum(s->skip_reason);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
		return (Datum) 0;
	}

	/*
	 * The 1.0 view asks for the first 14 columns; 1.1 adds the access method
	 * and the indexes the new one makes redundant.
	 */
	if (rsinfo->setDesc->natts != SA_ADVICE_COLS_1_0 &&
		rsinfo->setDesc->natts != SA_ADVICE_COLS)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("_index_advice() returns %d or %d columns, not %d",
						SA_ADVICE_COLS_1_0, SA_ADVICE_COLS,
						rsinfo->setDesc->natts),
				 errhint("Read the view scale_advisor.index_advice.")));

	foreach(lc, st->cands)
	{
		Cand	   *c = (Cand *) lfirst(lc);
		Datum		values[SA_ADVICE_COLS];
		bool		nulls[SA_ADVICE_COLS];
		List	   *dpcontext = NIL;
		StringInfoData sql;
		StringInfoData reason;
		Datum	   *cols;
		Datum	   *qids;
		Datum	   *incs;
		ListCell   *tc;
		int			i;
		double		calls = 0;
		char	   *nsp;
		int			nk = list_length(c->keys);
		int			ns = list_length(c->served);

		if (!c->chosen)
			continue;
		memset(nulls, 0, sizeof(nulls));
		nsp = get_namespace_name(get_rel_namespace(c->relid));
		initStringInfo(&sql);
		appendStringInfo(&sql, "%s(",
						 c->relam == GIN_AM_OID ? "USING gin " :
						 c->relam == BRIN_AM_OID ? "USING brin " : "");
		cols = (Datum *) palloc(sizeof(Datum) * nk);
		i = 0;
		foreach(tc, c->keys)
		{
			SaTerm	   *t = (SaTerm *) lfirst(tc);
			char	   *col = term_sql(c->relid, t, &dpcontext);
			StringInfoData one;

			initStringInfo(&one);
			appendStringInfoString(&one, col);
			if (c->h->opclass[i] != default_opclass(exprType((Node *) t->expr),
													c->relam))
				appendStringInfo(&one, " %s", opclass_name(c->h->opclass[i]));
			if (c->h->reverse_sort[i])
				appendStringInfoString(&one, " DESC");
			appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", one.data);
			cols[i] = CStringGetTextDatum(one.data);
			i++;
		}
		appendStringInfoChar(&sql, ')');
		incs = (Datum *) palloc(sizeof(Datum) * Max(list_length(c->includes), 1));
		if (c->includes)
		{
			appendStringInfoString(&sql, " INCLUDE (");
			i = 0;
			foreach(tc, c->includes)
			{
				const char *n = quote_identifier(get_attname(c->relid, lfirst_int(tc), false));

				appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", n);
				incs[i++] = CStringGetTextDatum(n);
			}
			appendStringInfoChar(&sql, ')');
		}
		if (c->pred)
		{
			if (dpcontext == NIL)
				dpcontext = deparse_context_for(get_rel_name(c->relid), c->relid);
			appendStringInfo(&sql, " WHERE %s",
							 deparse_expression((Node *) c->pred, dpcontext,
												false, false));
		}
		/* the statements that build it, from its definition */
		{
			char	   *def = sql.data;

			initStringInfo(&sql);
			if (get_rel_relkind(c->relid) == RELKIND_PARTITIONED_TABLE)
				partitioned_index_sql(&sql, c, def);
			else
				appendStringInfo(&sql, "CREATE INDEX CONCURRENTLY ON %s %s",
								 quote_qualified_identifier(nsp, get_rel_name(c->relid)),
								 def);
		}
		qids = (Datum *) palloc(sizeof(Datum) * Max(ns, 1));
		i = 0;
		{
			char	   *def = sa_hypo_serialize(c->h);
			ListCell   *cc;

			forboth(tc, c->served, cc, c->served_costs)
			{
				StmtInfo   *s = (StmtInfo *) lfirst(tc);
				ServedCost *sc = (ServedCost *) lfirst(cc);
				SaPrediction *p = (SaPrediction *) palloc(sizeof(SaPrediction));

				qids[i++] = Int64GetDatum((int64) s->cap->queryid);
				calls += s->cap->est_calls;
				p->relid = c->relid;
				p->index_sql = sql.data;
				p->index_def = def;
				p->queryid = s->cap->queryid;
				p->userid = s->cap->userid;
				p->cost_before = sc->before;
				p->cost_after = sc->after;
				preds = lappend(preds, p);
			}
		}

		initStringInfo(&reason);
		appendStringInfo(&reason, "%s on %s using %s; %s; %d statement%s, planner cost %.1f -> %.1f",
						 c->seqscan ? "sequential scan" : "index scan still filtering",
						 get_rel_name(c->relid), c->need_text, c->why,
						 ns, ns == 1 ? "" : "s", c->sum_before, c->sum_after);
		if (c->drops != NIL)
		{
			appendStringInfoString(&reason, "; it serves every scan of ");
			i = 0;
			foreach(tc, c->drops)
			{
				SaIndexDesc *d = (SaIndexDesc *) lfirst(tc);

				appendStringInfo(&reason, "%s%s", i++ > 0 ? ", " : "",
								 index_qualified_name(d->oid));
			}
			appendStringInfo(&reason, ", which can be dropped once it is built (drop_sql)");
		}
		if (c->aged_note)
			appendStringInfo(&reason, "; %s", c->aged_note);
		{
			int			ncapped = 0;
			double		measured = 0;
			double		valued = 0;

			foreach(tc, c->served)
			{
				StmtInfo   *s = (StmtInfo *) lfirst(tc);

				if (s->capped)
				{
					ncapped++;
					measured += s->measured_ms;
					valued += s->call_ms;
				}
			}
			if (ncapped > 0)
				appendStringInfo(&reason, "; %d statement%s valued at %.2f ms a call, the planner's cost at normal load, not the %.2f ms measured (a busy server inflates measured times)",
								 ncapped, ncapped == 1 ? "" : "s",
								 valued / ncapped, measured / ncapped);
		}
		{
			RelInfo    *ri = rel_info(st, c->relid);

			if (ri->model && sa_index_write_cost_us > 0)
			{
				appendStringInfoString(&reason, "; ");
				(void) sa_index_upkeep(ri->model, c->h, &reason);
			}
		}
		values[0] = ObjectIdGetDatum(c->relid);
		values[1] = PointerGetDatum(construct_array(cols, nk, TEXTOID, -1,
													false, TYPALIGN_INT));
		values[2] = CStringGetTextDatum(sql.data);
		values[3] = PointerGetDatum(construct_array(qids, ns, INT8OID, 8,
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[4] = Int64GetDatum((int64) round(calls));
		values[5] = Float8GetDatum(round(c->sum_before * 100) / 100);
		values[6] = Float8GetDatum(round(c->sum_after * 100) / 100);
		values[7] = Float8GetDatum(c->sum_before > 0 ?
								   round(1000.0 * (c->sum_before - c->sum_after) /
										 c->sum_before) / 10.0 : 0);
		values[8] = Int64GetDatum((int64) c->size_bytes);
		values[9] = Float8GetDatum(round(c->write_rate * 1000) / 1000);
		values[10] = Float8GetDatum(round(c->saved * 10) / 10);
		values[11] = CStringGetTextDatum(reason.data);
		values[12] = PointerGetDatum(construct_array(incs, list_length(c->includes),
													 TEXTOID, -1, false,
													 TYPALIGN_INT));
		if (c->pred)
			values[13] = CStringGetTextDatum(deparse_expression((Node *) c->pred,
																dpcontext, false, false));
		else
			nulls[13] = true;
		if (rsinfo->setDesc->natts == SA_ADVICE_COLS)
		{
			int			nd = list_length(c->drops);
			Datum	   *dropped = (Datum *) palloc(sizeof(Datum) * Max(nd, 1));
			StringInfoData drop;

			values[14] = CStringGetTextDatum(get_am_name(c->relam));
			initStringInfo(&drop);
			i = 0;
			foreach(tc, c->drops)
			{
				SaIndexDesc *d = (SaIndexDesc *) lfirst(tc);

				dropped[i] = ObjectIdGetDatum(d->oid);
				appendStringInfo(&drop, "%sDROP INDEX CONCURRENTLY %s;",
								 i > 0 ? " " : "",
								 index_qualified_name(d->oid));
				i++;
			}
			values[15] = PointerGetDatum(construct_array(dropped, nd,
														 REGCLASSOID, 4, true,
														 TYPALIGN_INT));
			if (nd > 0)
				values[16] = CStringGetTextDatum(drop.data);
			else
				nulls[16] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	/* for the before/after check (advice_outcome.c) */
	sa_record_predictions(preds);
	return (Datum) 0;
}

/*
 * Init of the whole index advice subsystem: capture, what-if, advisor.
 */
void
sa_index_advice_init(void)
{
	sa_plans_init();
	sa_advisor_init();
}

/* define the index advice GUCs (called from sa_index_advice_init) */
void
sa_advisor_init(void)
{
	DefineCustomIntVariable("scale_advisor.min_table_pages",
							"Tables smaller than this many pages get no index advice.",
							NULL, &sa_min_table_pages, 128, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.advice_min_improvement_pct",
							"A candidate index must cut a statement's planner cost by this percentage to count for it.",
							NULL, &advice_min_improvement_pct, 30, 1, 100,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.advice_time_limit_ms",
							"Time budget for computing index advice; statements left over are skipped.",
							NULL, &advice_time_limit_ms, 10000, 10, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.brin_min_table_pages",
							"Tables smaller than this many pages get no BRIN index advice.",
							NULL, &brin_min_table_pages, 1024, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	sa_advice_model_init();
}
