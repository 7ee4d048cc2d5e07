/*-------------------------------------------------------------------------
 *
 * whatif.c
 *		Hypothetical indexes and the planner check: plan a statement again
 *		as if some btree, GIN or BRIN indexes existed, and compare the costs.
 *
 * Owns get_relation_info_hook, installed (chained to whatever was there)
 * only while sa_whatif_plan() plans with hypothetical indexes and restored
 * in PG_FINALLY, so that no other planning pays for it.  The hook adds
 * IndexOptInfo entries for the hypothetical indexes to a relation's index
 * list, only for the query it was handed: that query's
 * copy carries a marker query identifier, and the hook looks for the marker
 * on the outermost query of the planning it is called from, so that a
 * function the planner evaluates early (and plans and runs on its own)
 * never sees a hypothetical index.  The plans made here are returned to the
 * caller, which reads their costs and drops them: they are never executed
 * nor cached (the planner is called directly, not through the plan cache).
 * The hypothetical IndexOptInfo is marked hypothetical, which keeps the
 * planner from opening it (get_actual_variable_range skips such indexes,
 * and the GIN and BRIN cost estimators then invent their statistics from
 * the index's page count, as for an index never vacuumed).
 *
 * A hypothetical index on a partitioned table is what CREATE INDEX on the
 * parent makes: one index on every leaf partition, so the hook adds it to
 * each partition the planning opens, with the columns mapped by name to the
 * partition's own column numbers.  sa_whatif_plan_scaled() also plans as if
 * one table (every partition of it) had grown by a factor: the hook
 * multiplies its pages and rows and those of its indexes, so that the
 * advisor can see how a candidate ages as the table grows or for a key with
 * many more rows than the average (advisor.c).
 *
 * No shared state: everything here is backend-local and lives only for
 * one planning.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "access/brin.h"
#include "access/brin_page.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/sysattr.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/parse_utilcmd.h"
#include "rewrite/rewriteManip.h"
#include "storage/bufpage.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "compat.h"
#include "index_advice.h"
#include "normalize.h"
#include "scale_advisor.h"
#include "shmem.h"

/* marks the copy of the query whose planning may see hypothetical indexes */
#define SA_WHATIF_MARKER UINT64CONST(0x5ca1eadf15e0c0de)

/* first of the fake OIDs: high in the OID space, far from real objects */
#define SA_FAKE_OID_BASE ((Oid) 4294900000U)

static get_relation_info_hook_type prev_get_relation_info_hook = NULL;

static bool whatif_active = false;
static List *whatif_hypos = NIL;
static Oid	whatif_scale_relid = InvalidOid;	/* grown table, or none */
static double whatif_scale = 1.0;

static void sa_get_relation_info(PlannerInfo *root, Oid relationObjectId,
								 bool inhparent, RelOptInfo *rel);

PG_FUNCTION_INFO_V1(scale_advisor_index_whatif);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_index_whatif_1_1,
					scale_advisor_index_whatif);

/*
 * Average stored width of one index column.
 */
static int32
column_width(Oid relid, AttrNumber attno, Node *expr)
{
	Oid			typid;
	int32		typmod;
	int16		typlen;
	int32		w;

	if (attno != 0)
	{
		Oid			coll;

		get_atttypetypmodcoll(relid, attno, &typid, &typmod, &coll);
		typlen = get_typlen(typid);
		if (typlen > 0)
			return typlen;
		w = get_attavgwidth(relid, attno);
		if (w > 0)
			return w;
		return get_typavgwidth(typid, typmod);
	}
	typid = exprType(expr);
	typmod = exprTypmod(expr);
	typlen = get_typlen(typid);
	if (typlen > 0)
		return typlen;
	return get_typavgwidth(typid, typmod);
}

/*
 * Estimate pages, tuples and height of a btree holding "tuples" entries of
 * the hypothetical index's columns: leaf items of an 8-byte tuple header
 * plus the aligned data and a 4-byte line pointer, leaves filled to the
 * default 90 %, inner levels with the same entries, and the meta page.
 */
static void
estimate_btree(SaHypoIndex *h, double tuples, double *pages, int *height)
{
	double		data = 0;
	double		itemsz;
	double		usable;
	double		per_leaf;
	double		leaves;
	double		total;
	double		level;
	int			h_levels = 0;
	int			i;
	ListCell   *lc = list_head(h->indexprs);

	for (i = 0; i < h->ncolumns; i++)
	{
		Node	   *expr = NULL;

		if (h->indexkeys[i] == 0)
		{
			expr = (Node *) lfirst(lc);
			lc = lnext(h->indexprs, lc);
		}
		data += column_width(h->relid, h->indexkeys[i], expr);
	}
	itemsz = MAXALIGN(sizeof(IndexTupleData) + (Size) data) + sizeof(ItemIdData);
	usable = BLCKSZ - SizeOfPageHeaderData - sizeof(BTPageOpaqueData);
	per_leaf = floor(usable * BTREE_DEFAULT_FILLFACTOR / 100.0 / itemsz);
	if (per_leaf < 2)
		per_leaf = 2;
	leaves = ceil(Max(tuples, 1.0) / per_leaf);
	total = leaves;
	level = leaves;
	/* inner pages are filled to about 70 % on average */
	while (level > 1)
	{
		level = ceil(level / Max(floor(usable * 0.7 / itemsz), 2.0));
		total += level;
		h_levels++;
	}
	*pages = total + 1;			/* the meta page */
	*height = h_levels;
}

/*
 * Average width of what an index column is computed from: the column, or
 * the columns an index expression reads (to_tsvector(body) is as long as
 * body, whatever the width of its result type).
 */
static double
source_width(Oid relid, AttrNumber attno, Node *expr)
{
	Bitmapset  *cols = NULL;
	double		w = 0;
	int			x = -1;

	if (attno != 0)
		return column_width(relid, attno, NULL);
	pull_varattnos(expr, 1, &cols);
	while ((x = bms_next_member(cols, x)) >= 0)
	{
		AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;

		if (a > 0)
			w += column_width(relid, a, NULL);
	}
	return w > 0 ? w : column_width(relid, 0, expr);
}

/* is the operator class named name? */
static bool
opclass_is(Oid opclass, const char *name)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		result = (strcmp(NameStr(((Form_pg_opclass) GETSTRUCT(tup))->opcname),
						 name) == 0);
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * Keys a GIN index column holds per row, from the width of what it indexes:
 * a trigram per character of a text (pg_trgm), about one lexeme per 7 bytes
 * of a text turned into a tsvector and per 10 bytes of a stored tsvector,
 * one key per key or scalar value of a jsonb (about 10 bytes each; one hash
 * per value, 16 bytes each, for jsonb_path_ops), one per element of an
 * array.  Rough on purpose: it sizes the index for the planner and for the
 * advice's est_size_bytes, and the planner's GIN estimate itself invents
 * its entry counts from the page count of an index it has no statistics
 * of.
 */
static double
gin_keys_per_row(SaHypoIndex *h, int col, Node *expr)
{
	Oid			intype = h->opcintype[col];
	double		w = source_width(h->relid, h->indexkeys[col], expr);

	if (intype == JSONBOID)
		return Max(1.0, w / (opclass_is(h->opclass[col], "jsonb_path_ops") ?
							 16.0 : 10.0));
	if (intype == TSVECTOROID)
		return Max(1.0, w / (h->indexkeys[col] == 0 ? 7.0 : 10.0));
	if (intype == ANYARRAYOID)
	{
		Oid			elem;
		int16		elen = -1;

		elem = get_element_type(h->indexkeys[col] != 0 ?
								get_atttype(h->relid, h->indexkeys[col]) :
								exprType(expr));
		if (OidIsValid(elem))
			elen = get_typlen(elem);
		return Max(1.0, (w - 24.0) / (elen > 0 ? elen : 8.0));
	}
	if (intype == TEXTOID || intype == VARCHAROID)
		return Max(1.0, w);		/* trigrams */
	return 1.0;
}

/*
 * Share of distinct values of a column (pg_stats.n_distinct as a fraction
 * of the rows), 1 when unknown.
 */
static double
column_distinct_frac(Oid relid, AttrNumber attno)
{
	HeapTuple	tup;
	double		frac = 1.0;

	if (attno <= 0)
		return 1.0;
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						  Int16GetDatum(attno), BoolGetDatum(false));
	if (HeapTupleIsValid(tup))
	{
		double		nd = ((Form_pg_statistic) GETSTRUCT(tup))->stadistinct;

		ReleaseSysCache(tup);
		if (nd < 0)
			frac = -nd;
		else if (nd > 0)
		{
			HeapTuple	ct = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
			double		tuples = 0;

			if (HeapTupleIsValid(ct))
			{
				tuples = ((Form_pg_class) GETSTRUCT(ct))->reltuples;
				ReleaseSysCache(ct);
			}
			frac = tuples > 0 ? Min(nd / tuples, 1.0) : 1.0;
		}
	}
	return frac;
}

/*
 * Bytes a GIN index column takes per key of a row.  A key many rows share
 * has a long posting list, compressed to about 1.5 bytes per row; a key few
 * rows share costs its own entry tuple, about 6 bytes a row in all.  How
 * many rows share a key follows the column's (or, for an expression, its
 * columns') share of distinct values; trigrams are few and shared whatever
 * the texts, about 2.5 bytes each.
 */
static double
gin_bytes_per_key(SaHypoIndex *h, int col, Node *expr)
{
	double		frac = 0;

	if (h->opcintype[col] == TEXTOID || h->opcintype[col] == VARCHAROID)
		return 2.5;
	if (h->indexkeys[col] != 0)
		frac = column_distinct_frac(h->relid, h->indexkeys[col]);
	else
	{
		Bitmapset  *cols = NULL;
		int			x = -1;

		pull_varattnos(expr, 1, &cols);
		while ((x = bms_next_member(cols, x)) >= 0)
			frac = Max(frac, column_distinct_frac(h->relid,
												  x + FirstLowInvalidHeapAttributeNumber));
	}
	return 1.5 + 4.5 * Min(Max(frac, 0.0), 1.0);
}

/*
 * Keys one row puts into the hypothetical GIN index (every column); 1 for
 * other access methods.
 */
double
sa_hypo_keys_per_row(SaHypoIndex *h)
{
	double		keys = 0;
	ListCell   *lc = list_head(h->indexprs);
	int			i;

	if (h->relam != GIN_AM_OID)
		return 1.0;
	for (i = 0; i < h->nkeycolumns; i++)
	{
		Node	   *expr = NULL;

		if (h->indexkeys[i] == 0)
		{
			expr = (Node *) lfirst(lc);
			lc = lnext(h->indexprs, lc);
		}
		keys += gin_keys_per_row(h, i, expr);
	}
	return keys;
}

/*
 * CPU microseconds one written row costs a GIN or BRIN index like h, as
 * measured by test/bench/index_upkeep_am.sh (docs/index-advice.md): a BRIN
 * index only widens the summary of the last range now and then; a GIN
 * index inserts each key of the row (through its pending list), and one on
 * an expression computes it (to_tsvector parses the text), which costs
 * twice as much again.  -1 for a btree, whose entries the upkeep model
 * weighs by their width.
 */
#define SA_BRIN_ROW_US 0.30
#define SA_GIN_ROW_US 0.32
#define SA_GIN_KEY_US 0.63
#define SA_GIN_EXPR_FACTOR 3.0

/* the upkeep of one row written to a hypothetical index, in microseconds */
double
sa_am_row_us(SaHypoIndex *h)
{
	double		us;

	switch (h->relam)
	{
		case BRIN_AM_OID:
			return SA_BRIN_ROW_US;
		case GIN_AM_OID:
			us = SA_GIN_ROW_US + SA_GIN_KEY_US * sa_hypo_keys_per_row(h);
			if (h->indexprs != NIL)
				us *= SA_GIN_EXPR_FACTOR;
			return us;
		default:
			return -1;
	}
}

/*
 * Estimate the pages of a GIN index: the bytes each key of each row takes
 * (gin_bytes_per_key), pages 90 % full, a tenth more for the entry tree,
 * the meta and root pages.
 */
static double
estimate_gin(SaHypoIndex *h, double tuples)
{
	double		bytes = 0;
	ListCell   *lc = list_head(h->indexprs);
	int			i;

	for (i = 0; i < h->nkeycolumns; i++)
	{
		Node	   *expr = NULL;

		if (h->indexkeys[i] == 0)
		{
			expr = (Node *) lfirst(lc);
			lc = lnext(h->indexprs, lc);
		}
		bytes += gin_keys_per_row(h, i, expr) * gin_bytes_per_key(h, i, expr);
	}
	return ceil(Max(tuples, 1.0) * bytes / (BLCKSZ * 0.9) * 1.1) + 2;
}

/*
 * Estimate the pages of a BRIN index over relpages heap pages: one summary
 * tuple (the minimum and maximum of each column) per range of the default
 * 128 pages, the range map, and the meta page.
 */
static double
estimate_brin(SaHypoIndex *h, double relpages)
{
	double		ranges = ceil(Max(relpages, 1.0) / BRIN_DEFAULT_PAGES_PER_RANGE);
	double		data = 0;
	double		itemsz;
	double		per_page;
	int			i;

	for (i = 0; i < h->nkeycolumns; i++)
		data += 2 * column_width(h->relid, h->indexkeys[i], NULL);
	itemsz = MAXALIGN(sizeof(IndexTupleData) + 2 + (Size) data) +
		sizeof(ItemIdData);
	per_page = Max(floor((BLCKSZ - SizeOfPageHeaderData - 8) / itemsz), 1.0);
	return 1 + ceil(ranges / REVMAP_PAGE_MAXITEMS) + ceil(ranges / per_page);
}

/*
 * Pages (and, for a btree, tree height) of the hypothetical index, for a
 * table of relpages pages of which it holds "tuples" rows.
 */
static void
estimate_index(SaHypoIndex *h, double tuples, double relpages,
			   double *pages, int *height)
{
	*height = -1;
	switch (h->relam)
	{
		case GIN_AM_OID:
			*pages = estimate_gin(h, tuples);
			break;
		case BRIN_AM_OID:
			*pages = estimate_brin(h, relpages);
			break;
		default:
			estimate_btree(h, tuples, pages, height);
			break;
	}
}

/*
 * The access methods hypothetical indexes can have.
 */
bool
sa_hypo_am_supported(Oid amoid)
{
	return amoid == BTREE_AM_OID || amoid == GIN_AM_OID ||
		amoid == BRIN_AM_OID;
}

/*
 * Target list of the index columns, in the form the planner builds for a
 * real index: Vars of the relation, or the index expressions.
 */
static List *
index_tlist(SaHypoIndex *h, Index varno, List *indexprs)
{
	List	   *tlist = NIL;
	ListCell   *lc = list_head(indexprs);
	int			i;

	for (i = 0; i < h->ncolumns; i++)
	{
		Expr	   *e;

		if (h->indexkeys[i] != 0)
		{
			Oid			typid;
			int32		typmod;
			Oid			coll;

			get_atttypetypmodcoll(h->relid, h->indexkeys[i],
								  &typid, &typmod, &coll);
			e = (Expr *) makeVar(varno, h->indexkeys[i], typid, typmod,
								 coll, 0);
		}
		else
		{
			e = (Expr *) lfirst(lc);
			lc = lnext(indexprs, lc);
		}
		tlist = lappend(tlist, makeTargetEntry(e, i + 1, NULL, false));
	}
	return tlist;
}

/*
 * Build the planner's description of one hypothetical index on rel, as
 * get_relation_info would for a real index of its access method.
 */
static IndexOptInfo *
hypo_index_info(PlannerInfo *root, RelOptInfo *rel, SaHypoIndex *h)
{
	IndexOptInfo *info = makeNode(IndexOptInfo);
	Oid			amoid = OidIsValid(h->relam) ? h->relam : BTREE_AM_OID;
	IndexAmRoutine *am = GetIndexAmRoutineByAmId(amoid, false);
	int			nc = h->ncolumns;
	int			nk = h->nkeycolumns;
	double		pages;
	int			height;
	int			i;

	info->indexoid = h->fake_oid;
	info->reltablespace = rel->reltablespace;
	info->rel = rel;
	info->ncolumns = nc;
	info->nkeycolumns = nk;
	info->indexkeys = (int *) palloc(sizeof(int) * nc);
	info->indexcollations = (Oid *) palloc(sizeof(Oid) * nk);
	info->opfamily = (Oid *) palloc(sizeof(Oid) * nk);
	info->opcintype = (Oid *) palloc(sizeof(Oid) * nk);
	info->canreturn = (bool *) palloc(sizeof(bool) * nc);
	info->opclassoptions = (bytea **) palloc0(sizeof(bytea *) * nc);
	for (i = 0; i < nc; i++)
	{
		info->indexkeys[i] = h->indexkeys[i];
		/* btree returns every column; GIN and BRIN none */
		info->canreturn[i] = (amoid == BTREE_AM_OID);
	}
	for (i = 0; i < nk; i++)
	{
		info->indexcollations[i] = h->collation[i];
		info->opfamily[i] = h->opfamily[i];
		info->opcintype[i] = h->opcintype[i];
	}
	if (am->amcanorder)
	{
		info->sortopfamily = info->opfamily;
		info->reverse_sort = (bool *) palloc(sizeof(bool) * nk);
		info->nulls_first = (bool *) palloc(sizeof(bool) * nk);
		for (i = 0; i < nk; i++)
		{
			info->reverse_sort[i] = h->reverse_sort[i];
			info->nulls_first[i] = h->nulls_first[i];
		}
	}
	else
	{
		info->sortopfamily = NULL;
		info->reverse_sort = NULL;
		info->nulls_first = NULL;
	}
	info->relam = amoid;

	info->indexprs = copyObject(h->indexprs);
	info->indpred = copyObject(h->indpred);
	if (rel->relid != 1)
	{
		if (info->indexprs)
			ChangeVarNodes((Node *) info->indexprs, 1, rel->relid, 0);
		if (info->indpred)
			ChangeVarNodes((Node *) info->indpred, 1, rel->relid, 0);
	}
	info->indextlist = index_tlist(h, rel->relid, info->indexprs);
	info->indrestrictinfo = NIL;
	info->predOK = false;
	info->unique = false;
	info->immediate = true;
	info->hypothetical = true;

	info->amcanorderbyop = am->amcanorderbyop;
	info->amoptionalkey = am->amoptionalkey;
	info->amsearcharray = am->amsearcharray;
	info->amsearchnulls = am->amsearchnulls;
	info->amcanparallel = am->amcanparallel;
	info->amhasgettuple = (am->amgettuple != NULL);
	info->amhasgetbitmap = (am->amgetbitmap != NULL);
	info->amcanmarkpos = (am->ammarkpos != NULL && am->amrestrpos != NULL);
	info->amcostestimate = am->amcostestimate;

	/* size: every row, or the rows the predicate selects */
	info->tuples = rel->tuples;
	if (info->indpred != NIL)
	{
		Selectivity sel;
		RelOptInfo *saved = root->simple_rel_array[rel->relid];

		/*
		 * The relation is not in simple_rel_array yet while its info is being
		 * gathered; the selectivity functions look it up there.
		 */
		root->simple_rel_array[rel->relid] = rel;
		sel = clauselist_selectivity(root, info->indpred, rel->relid,
									 JOIN_INNER, NULL);
		root->simple_rel_array[rel->relid] = saved;
		info->tuples = clamp_row_est(rel->tuples * sel);
	}
	estimate_index(h, info->tuples, rel->pages, &pages, &height);
	info->pages = (BlockNumber) pages;
	info->tree_height = height;
	/* the size as it is today, not in a planning of a grown table */
	if (whatif_scale == 1.0)
	{
		h->est_pages = pages;
		h->est_tuples = info->tuples;
		h->admit = rel->tuples > 0 ? Min(info->tuples / rel->tuples, 1.0) : 1.0;
	}
	return info;
}

/*
 * Is relid the table ancestor, or a partition under it (at any depth)?
 */
static bool
is_or_under(Oid relid, Oid ancestor)
{
	if (relid == ancestor)
		return true;
	if (!get_rel_relispartition(relid))
		return false;
	return list_member_oid(get_partition_ancestors(relid), ancestor);
}

/*
 * The hypothetical index of a partitioned table as it would be on one of
 * its partitions: the same definition with the partition's own column
 * numbers (a partition may number its columns differently, after a dropped
 * column or when it was attached).  Both are usually locked by the planning
 * already; the locks are kept to the end of the transaction.
 */
SaHypoIndex *
sa_hypo_for_partition(SaHypoIndex *h, Oid child)
{
	SaHypoIndex *c = (SaHypoIndex *) palloc(sizeof(SaHypoIndex));
	Relation	prel = relation_open(h->relid, AccessShareLock);
	Relation	crel = relation_open(child, AccessShareLock);
	AttrMap    *map = sa_build_attrmap_by_name(RelationGetDescr(crel),
											   RelationGetDescr(prel));
	bool		whole_row;
	int			i;

	memcpy(c, h, sizeof(SaHypoIndex));
	c->relid = child;
	for (i = 0; i < h->ncolumns; i++)
		if (h->indexkeys[i] > 0)
			c->indexkeys[i] = map->attnums[h->indexkeys[i] - 1];
	c->indexprs = (List *) map_variable_attnos((Node *) copyObject(h->indexprs),
											   1, 0, map, InvalidOid,
											   &whole_row);
	c->indpred = (List *) map_variable_attnos((Node *) copyObject(h->indpred),
											  1, 0, map, InvalidOid,
											  &whole_row);
	c->est_pages = 0;
	c->est_tuples = 0;
	relation_close(crel, NoLock);
	relation_close(prel, NoLock);
	return c;
}

/*
 * Make rel (and its indexes) look factor times as large to the planner.
 */
static void
scale_rel(RelOptInfo *rel, double factor)
{
	ListCell   *lc;

	rel->pages = (BlockNumber) Min((double) rel->pages * factor,
								   (double) MaxBlockNumber);
	rel->tuples *= factor;
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *ix = (IndexOptInfo *) lfirst(lc);

		ix->pages = (BlockNumber) Min((double) ix->pages * factor,
									  (double) MaxBlockNumber);
		ix->tuples *= factor;
	}
}

/*
 * get_relation_info_hook: add the hypothetical indexes of this relation,
 * when the planning is one of ours.
 */
static void
sa_get_relation_info(PlannerInfo *root, Oid relationObjectId,
					 bool inhparent, RelOptInfo *rel)
{
	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);

	if (whatif_active && !inhparent)
	{
		PlannerInfo *top = root;
		ListCell   *lc;

		while (top->parent_root)
			top = top->parent_root;
		if (top->parse == NULL || top->parse->queryId != SA_WHATIF_MARKER)
			return;
		if (whatif_scale != 1.0 && OidIsValid(whatif_scale_relid) &&
			is_or_under(relationObjectId, whatif_scale_relid))
			scale_rel(rel, whatif_scale);
		foreach(lc, whatif_hypos)
		{
			SaHypoIndex *h = (SaHypoIndex *) lfirst(lc);

			if (h->relid == relationObjectId)
				rel->indexlist = lappend(rel->indexlist,
										 hypo_index_info(root, rel, h));
			else if (get_rel_relkind(h->relid) == RELKIND_PARTITIONED_TABLE &&
					 is_or_under(relationObjectId, h->relid))
			{
				SaHypoIndex *c = sa_hypo_for_partition(h, relationObjectId);

				rel->indexlist = lappend(rel->indexlist,
										 hypo_index_info(root, rel, c));
				if (whatif_scale == 1.0)
					h->admit = c->admit;
			}
		}
	}
}

/*
 * Plan a copy of query, with the hypothetical indexes in hypos (may be NIL)
 * visible to the planner, and table scale_relid (InvalidOid: none) and its
 * partitions looking scale times as large.  The plan is for reading costs
 * only.
 */
static PlannedStmt *
whatif_plan(Query *query, const char *text, ParamListInfo params,
			List *hypos, Oid scale_relid, double scale)
{
	Query	   *q = copyObject(query);
	PlannedStmt *result;
	bool		save_active = whatif_active;
	List	   *save_hypos = whatif_hypos;
	Oid			save_scale_relid = whatif_scale_relid;
	double		save_scale = whatif_scale;
	get_relation_info_hook_type save_hook;
	get_relation_info_hook_type save_prev;
	ListCell   *lc;
	Oid			next = SA_FAKE_OID_BASE;

	foreach(lc, hypos)
		((SaHypoIndex *) lfirst(lc))->fake_oid = next++;

	q->queryId = SA_WHATIF_MARKER;

	/*
	 * The relation-info hook is installed only for this planning, so that no
	 * other planning pays for it.
	 */
	save_hook = get_relation_info_hook;
	save_prev = prev_get_relation_info_hook;
	PG_TRY();
	{
		whatif_active = (hypos != NIL || (OidIsValid(scale_relid) &&
										  scale != 1.0));
		whatif_hypos = hypos;
		whatif_scale_relid = scale_relid;
		whatif_scale = OidIsValid(scale_relid) ? scale : 1.0;
		if (whatif_active && save_hook != sa_get_relation_info)
		{
			prev_get_relation_info_hook = save_hook;
			get_relation_info_hook = sa_get_relation_info;
		}
		result = standard_planner(q, text, 0, params);
	}
	PG_FINALLY();
	{
		get_relation_info_hook = save_hook;
		prev_get_relation_info_hook = save_prev;
		whatif_active = save_active;
		whatif_hypos = save_hypos;
		whatif_scale_relid = save_scale_relid;
		whatif_scale = save_scale;
	}
	PG_END_TRY();
	result->queryId = query->queryId;
	return result;
}

/*
 * Plan a copy of query with the hypothetical indexes in hypos (may be NIL).
 */
PlannedStmt *
sa_whatif_plan(Query *query, const char *text, ParamListInfo params,
			   List *hypos)
{
	return whatif_plan(query, text, params, hypos, InvalidOid, 1.0);
}

/*
 * The same, as if table relid (and every partition of it) were scale times
 * as large as it is.
 */
PlannedStmt *
sa_whatif_plan_scaled(Query *query, const char *text, ParamListInfo params,
					  List *hypos, Oid relid, double scale)
{
	return whatif_plan(query, text, params, hypos, relid, scale);
}

/*
 * Does the plan (or one of its subplans) scan the given index?
 */
static bool
plan_uses_index(Plan *plan, Oid indexoid)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			if (((IndexScan *) plan)->indexid == indexoid)
				return true;
			break;
		case T_IndexOnlyScan:
			if (((IndexOnlyScan *) plan)->indexid == indexoid)
				return true;
			break;
		case T_BitmapIndexScan:
			if (((BitmapIndexScan *) plan)->indexid == indexoid)
				return true;
			break;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
			{
				if (plan_uses_index(lfirst(lc), indexoid))
					return true;
			}
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
			{
				if (plan_uses_index(lfirst(lc), indexoid))
					return true;
			}
			break;
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
			{
				if (plan_uses_index(lfirst(lc), indexoid))
					return true;
			}
			break;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
			{
				if (plan_uses_index(lfirst(lc), indexoid))
					return true;
			}
			break;
		case T_SubqueryScan:
			if (plan_uses_index(((SubqueryScan *) plan)->subplan, indexoid))
				return true;
			break;
		case T_CustomScan:
			foreach(lc, ((CustomScan *) plan)->custom_plans)
			{
				if (plan_uses_index(lfirst(lc), indexoid))
					return true;
			}
			break;
		default:
			break;
	}
	return plan_uses_index(plan->lefttree, indexoid) ||
		plan_uses_index(plan->righttree, indexoid);
}

/* does any plan of the statement use the index? */
bool
sa_plan_uses_index(PlannedStmt *pstmt, Oid indexoid)
{
	ListCell   *lc;

	if (plan_uses_index(pstmt->planTree, indexoid))
		return true;
	foreach(lc, pstmt->subplans)
	{
		if (plan_uses_index((Plan *) lfirst(lc), indexoid))
			return true;
	}
	return false;
}

/*
 * Estimated size in bytes of the hypothetical index over the whole table
 * (or the part its predicate selects), from the last planning that saw it,
 * or from the table's statistics when no planning did.
 */
double
sa_hypo_size_bytes(SaHypoIndex *h)
{
	if (get_rel_relkind(h->relid) == RELKIND_PARTITIONED_TABLE)
	{
		/* one index on every leaf partition */
		List	   *leaves = find_all_inheritors(h->relid, AccessShareLock,
												 NULL);
		ListCell   *lc;
		double		total = 0;
		double		admit = h->admit > 0 ? h->admit : 1.0;

		foreach(lc, leaves)
		{
			Oid			leaf = lfirst_oid(lc);
			char		kind = get_rel_relkind(leaf);
			SaHypoIndex *c;
			Relation	rel;
			double		tuples;
			double		pages;
			int			height;

			if (kind != RELKIND_RELATION && kind != RELKIND_MATVIEW)
				continue;
			rel = relation_open(leaf, NoLock);
			tuples = Max(rel->rd_rel->reltuples, 0) * admit;
			relation_close(rel, NoLock);
			c = sa_hypo_for_partition(h, leaf);
			estimate_btree(c, tuples, &pages, &height);
			total += pages;
		}
		return total * BLCKSZ;
	}
	if (h->est_pages <= 0)
	{
		Relation	rel = relation_open(h->relid, AccessShareLock);
		double		tuples = rel->rd_rel->reltuples;
		double		relpages = RelationGetNumberOfBlocks(rel);
		double		pages;
		int			height;

		if (tuples < 0)
			tuples = 0;
		relation_close(rel, AccessShareLock);
		estimate_index(h, tuples, relpages, &pages, &height);
		h->est_pages = pages;
	}
	return h->est_pages * BLCKSZ;
}

/*
 * An existing index described as a hypothetical index, from its pg_index
 * row, with its expressions and predicate as stored: never through the
 * relation cache, which folds them (running the immutable functions they
 * call with constant arguments, as whoever reads them first).  NULL when
 * the index is gone.  Takes no lock on the index or its table.
 */
SaIndexDesc *
sa_index_desc(Oid indexoid)
{
	HeapTuple	tup;
	HeapTuple	ctup;
	Form_pg_index ix;
	SaIndexDesc *d;
	Datum		datum;
	bool		isnull;
	oidvector  *indclass;
	oidvector  *indcoll;
	int2vector *indoption;
	int			i;

	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(ctup))
	{
		ReleaseSysCache(tup);
		return NULL;
	}
	ix = (Form_pg_index) GETSTRUCT(tup);
	d = (SaIndexDesc *) palloc0(sizeof(SaIndexDesc));
	d->oid = indexoid;
	d->h.relid = ix->indrelid;
	d->h.relam = ((Form_pg_class) GETSTRUCT(ctup))->relam;
	d->h.admit = 1.0;
	ReleaseSysCache(ctup);
	d->h.ncolumns = Min(ix->indnatts, INDEX_MAX_KEYS);
	d->h.nkeycolumns = Min(ix->indnkeyatts, d->h.ncolumns);
	d->usable = ix->indisvalid && ix->indisready && ix->indislive;
	d->unique = ix->indisunique || ix->indisprimary || ix->indisexclusion;
	d->clustered = ix->indisclustered;
	d->replident = ix->indisreplident;
	d->constraint = OidIsValid(get_index_constraint(indexoid));
	datum = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indclass, &isnull);
	indclass = (oidvector *) DatumGetPointer(datum);
	datum = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indcollation,
							&isnull);
	indcoll = (oidvector *) DatumGetPointer(datum);
	datum = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indoption,
							&isnull);
	indoption = (int2vector *) DatumGetPointer(datum);
	for (i = 0; i < d->h.ncolumns; i++)
		d->h.indexkeys[i] = ix->indkey.values[i];
	for (i = 0; i < d->h.nkeycolumns; i++)
	{
		d->h.opclass[i] = indclass->values[i];
		d->h.opfamily[i] = get_opclass_family(indclass->values[i]);
		d->h.opcintype[i] = get_opclass_input_type(indclass->values[i]);
		d->h.collation[i] = indcoll->values[i];
		d->h.reverse_sort[i] = (indoption->values[i] & INDOPTION_DESC) != 0;
		d->h.nulls_first[i] =
			(indoption->values[i] & INDOPTION_NULLS_FIRST) != 0;
	}
	datum = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indexprs, &isnull);
	if (!isnull)
		d->h.indexprs = (List *) stringToNode(TextDatumGetCString(datum));
	datum = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indpred, &isnull);
	if (!isnull)
	{
		Expr	   *pred = (Expr *) stringToNode(TextDatumGetCString(datum));

		d->h.indpred = make_ands_implicit(canonicalize_qual(pred, false));
	}
	ReleaseSysCache(tup);
	return d;
}

/*
 * Every index of a table (SaIndexDesc *), read from pg_index without
 * locking the table.
 */
List *
sa_table_index_descs(Oid relid)
{
	Relation	rel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *oids = NIL;
	List	   *result = NIL;
	ListCell   *lc;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		oids = lappend_oid(oids, ((Form_pg_index) GETSTRUCT(tup))->indexrelid);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	foreach(lc, oids)
	{
		SaIndexDesc *d = sa_index_desc(lfirst_oid(lc));

		if (d)
			result = lappend(result, d);
	}
	return result;
}

/* the expression of key or included column i of h (varno 1), or NULL */
static Node *
hypo_column_expr(SaHypoIndex *h, int i)
{
	ListCell   *lc = list_head(h->indexprs);
	int			k;

	if (h->indexkeys[i] != 0)
		return NULL;
	for (k = 0; k < i && lc != NULL; k++)
		if (h->indexkeys[k] == 0)
			lc = lnext(h->indexprs, lc);
	return lc ? (Node *) lfirst(lc) : NULL;
}

/* do column i of a and column j of b index the same column or expression? */
static bool
hypo_same_column(SaHypoIndex *a, int i, SaHypoIndex *b, int j)
{
	Node	   *ea;
	Node	   *eb;

	if (a->indexkeys[i] != 0 || b->indexkeys[j] != 0)
		return a->indexkeys[i] == b->indexkeys[j];
	ea = hypo_column_expr(a, i);
	eb = hypo_column_expr(b, j);
	return ea != NULL && eb != NULL && equal(ea, eb);
}

/* the same predicate (both none, or equal conditions)? */
static bool
hypo_same_pred(SaHypoIndex *a, SaHypoIndex *b)
{
	return equal(a->indpred, b->indpred);
}

/*
 * Are a and b the same index: same table, access method, key columns with
 * the same operator classes, collations and orderings, same included
 * columns (in any order) and predicate?
 */
bool
sa_hypo_same(SaHypoIndex *a, SaHypoIndex *b)
{
	int			i;
	int			j;

	if (a->relid != b->relid || a->relam != b->relam ||
		a->nkeycolumns != b->nkeycolumns || a->ncolumns != b->ncolumns ||
		!hypo_same_pred(a, b))
		return false;
	for (i = 0; i < a->nkeycolumns; i++)
	{
		if (!hypo_same_column(a, i, b, i) ||
			a->opclass[i] != b->opclass[i] ||
			a->collation[i] != b->collation[i] ||
			a->reverse_sort[i] != b->reverse_sort[i] ||
			a->nulls_first[i] != b->nulls_first[i])
			return false;
	}
	for (i = a->nkeycolumns; i < a->ncolumns; i++)
	{
		bool		found = false;

		for (j = b->nkeycolumns; j < b->ncolumns && !found; j++)
			found = hypo_same_column(a, i, b, j);
		if (!found)
			return false;
	}
	return true;
}

/*
 * Would the btree index n serve every scan the btree index e serves: e's
 * key columns are the leading key columns of n, with the same operator
 * families and collations and the same orderings (or all of them
 * reversed: a backward scan), e's included columns are columns of n, and
 * both have the same predicate?
 */
bool
sa_hypo_covered_by(SaHypoIndex *e, SaHypoIndex *n)
{
	int			i;
	int			j;
	bool		flipped = false;

	if (e->relid != n->relid || e->relam != BTREE_AM_OID ||
		n->relam != BTREE_AM_OID || e->nkeycolumns > n->nkeycolumns ||
		e->nkeycolumns == 0 || !hypo_same_pred(e, n))
		return false;
	for (i = 0; i < e->nkeycolumns; i++)
	{
		bool		rev = (e->reverse_sort[i] != n->reverse_sort[i]);

		if (!hypo_same_column(e, i, n, i) ||
			e->opfamily[i] != n->opfamily[i] ||
			e->collation[i] != n->collation[i])
			return false;
		if (i == 0)
			flipped = rev;
		if (rev != flipped ||
			(e->nulls_first[i] != n->nulls_first[i]) != flipped)
			return false;
	}
	for (i = e->nkeycolumns; i < e->ncolumns; i++)
	{
		bool		found = false;

		for (j = 0; j < n->ncolumns && !found; j++)
			found = hypo_same_column(e, i, n, j);
		if (!found)
			return false;
	}
	return true;
}

/*
 * A hypothetical index as text, for scale_advisor.index_advice_predictions
 * (sa_hypo_deserialize reads it back): its column numbers, orderings,
 * access method, operator classes and collations, expressions and
 * predicate, as the node text the catalogs use.
 */
char *
sa_hypo_serialize(SaHypoIndex *h)
{
	List	   *ints = list_make2_int(h->nkeycolumns, h->ncolumns);
	List	   *oids = list_make1_oid(h->relam);
	int			i;

	for (i = 0; i < h->ncolumns; i++)
		ints = lappend_int(ints, h->indexkeys[i]);
	for (i = 0; i < h->nkeycolumns; i++)
	{
		ints = lappend_int(ints, h->reverse_sort[i]);
		ints = lappend_int(ints, h->nulls_first[i]);
		oids = lappend_oid(oids, h->opclass[i]);
		oids = lappend_oid(oids, h->collation[i]);
	}
	return nodeToString(list_make4(ints, oids, h->indexprs, h->indpred));
}

/*
 * Read back what sa_hypo_serialize wrote, for a table relid; NULL when it
 * is not such a text.  Only the extension's own table holds these texts.
 */
SaHypoIndex *
sa_hypo_deserialize(Oid relid, const char *def)
{
	List	   *l = (List *) stringToNode(def);
	List	   *ints;
	List	   *oids;
	SaHypoIndex *h;
	int			i;

	if (l == NULL || !IsA(l, List) || list_length(l) != 4)
		return NULL;
	ints = (List *) linitial(l);
	oids = (List *) lsecond(l);
	if (ints == NIL || oids == NIL || !IsA(ints, IntList) ||
		!IsA(oids, OidList) || list_length(ints) < 2)
		return NULL;
	h = (SaHypoIndex *) palloc0(sizeof(SaHypoIndex));
	h->relid = relid;
	h->admit = 1.0;
	h->nkeycolumns = linitial_int(ints);
	h->ncolumns = lsecond_int(ints);
	if (h->nkeycolumns < 1 || h->ncolumns < h->nkeycolumns ||
		h->ncolumns > INDEX_MAX_KEYS ||
		list_length(ints) != 2 + h->ncolumns + 2 * h->nkeycolumns ||
		list_length(oids) != 1 + 2 * h->nkeycolumns)
		return NULL;
	h->relam = linitial_oid(oids);
	for (i = 0; i < h->ncolumns; i++)
		h->indexkeys[i] = list_nth_int(ints, 2 + i);
	for (i = 0; i < h->nkeycolumns; i++)
	{
		h->reverse_sort[i] = list_nth_int(ints, 2 + h->ncolumns + 2 * i);
		h->nulls_first[i] = list_nth_int(ints, 3 + h->ncolumns + 2 * i);
		h->opclass[i] = list_nth_oid(oids, 1 + 2 * i);
		h->collation[i] = list_nth_oid(oids, 2 + 2 * i);
		h->opfamily[i] = get_opclass_family(h->opclass[i]);
	}
	h->indexprs = (List *) lthird(l);
	h->indpred = (List *) lfourth(l);
	return h;
}

/*
 * Bytes of data in one entry of the hypothetical index (its key and
 * included columns' average widths), for the upkeep model.
 */
double
sa_hypo_entry_bytes(SaHypoIndex *h)
{
	double		data = 0;
	int			i;
	ListCell   *lc = list_head(h->indexprs);

	for (i = 0; i < h->ncolumns; i++)
	{
		Node	   *expr = NULL;

		if (h->indexkeys[i] == 0 && lc != NULL)
		{
			expr = (Node *) lfirst(lc);
			lc = lnext(h->indexprs, lc);
		}
		data += column_width(h->relid, h->indexkeys[i], expr);
	}
	return data;
}

/*
 * Bound parameters from their text form, marked constant so that the
 * planner folds them in as it does for a custom plan.
 */
ParamListInfo
sa_make_params(int nparams, Oid *ptypes, char **pvalues)
{
	ParamListInfo params;
	int			i;

	if (nparams <= 0)
		return NULL;
	params = makeParamList(nparams);
	for (i = 0; i < nparams; i++)
	{
		ParamExternData *p = &params->params[i];
		Oid			typinput;
		Oid			typioparam;

		p->ptype = ptypes[i];
		p->pflags = PARAM_FLAG_CONST;
		if (pvalues[i] == NULL || !OidIsValid(ptypes[i]))
		{
			p->isnull = true;
			p->value = (Datum) 0;
			continue;
		}
		getTypeInputInfo(ptypes[i], &typinput, &typioparam);
		p->value = OidInputFunctionCall(typinput, pvalues[i], typioparam, -1);
		p->isnull = false;
	}
	return params;
}



/*
 * Turn "CREATE INDEX ... ON tbl USING btree (cols) INCLUDE (...) WHERE ..."
 * into a hypothetical index.  Raises a clear error for anything else.
 */
static SaHypoIndex *
hypo_from_sql(const char *sql)
{
	ErrorContextCallback errcb;
	List	   *raw;
	RawStmt    *rs;
	IndexStmt  *stmt;
	SaHypoIndex *h;
	Oid			relid;
	Relation	rel;
	ListCell   *lc;
	int			i = 0;
	const char *amname = "btree";
	Oid			amoid = BTREE_AM_OID;

	errcb.callback = sa_parse_error_position;
	errcb.arg = (void *) sql;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1 ||
		!IsA(((RawStmt *) linitial(raw))->stmt, IndexStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("index definition must be one CREATE INDEX statement"),
				 errhint("Pass a statement such as CREATE INDEX ON tbl (col).")));
	rs = (RawStmt *) linitial(raw);
	stmt = (IndexStmt *) rs->stmt;
	if (stmt->accessMethod)
	{
		amname = stmt->accessMethod;
		amoid = get_index_am_oid(amname, true);
	}
	if (!sa_hypo_am_supported(amoid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("access method \"%s\" is not supported for hypothetical indexes",
						amname),
				 errhint("Use btree (the default), gin or brin.")));
	if (amoid != BTREE_AM_OID && stmt->indexIncludingParams != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("access method \"%s\" does not support included columns",
						amname),
				 errhint("Remove the INCLUDE clause.")));
	relid = RangeVarGetRelid(stmt->relation, AccessShareLock, false);
	rel = table_open(relid, NoLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_MATVIEW &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		table_close(rel, NoLock);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table or materialized view",
						stmt->relation->relname),
				 errhint("Hypothetical indexes can only be made on tables (partitioned or not) and materialized views.")));
	}
	table_close(rel, NoLock);
	stmt = transformIndexStmt(relid, stmt, sql);
	error_context_stack = errcb.previous;

	h = (SaHypoIndex *) palloc0(sizeof(SaHypoIndex));
	h->relid = relid;
	h->relam = amoid;
	h->admit = 1.0;
	h->nkeycolumns = list_length(stmt->indexParams);
	h->ncolumns = h->nkeycolumns + list_length(stmt->indexIncludingParams);
	if (h->ncolumns > INDEX_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_TOO_MANY_COLUMNS),
				 errmsg("cannot use more than %d columns in an index",
						INDEX_MAX_KEYS)));
	foreach(lc, list_concat_copy(stmt->indexParams,
								 stmt->indexIncludingParams))
	{
		IndexElem  *el = (IndexElem *) lfirst(lc);
		Oid			typid;
		Oid			coll;

		if (el->name)
		{
			AttrNumber	attno = get_attnum(relid, el->name);
			int32		typmod;

			if (attno == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist", el->name),
						 errhint("Name a column of table \"%s\".",
								 get_rel_name(relid))));
			if (attno < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("index creation on system columns is not supported")));
			get_atttypetypmodcoll(relid, attno, &typid, &typmod, &coll);
			h->indexkeys[i] = attno;
		}
		else
		{
			Node	   *expr;

			if (i >= h->nkeycolumns)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("expressions are not supported in included columns")));
			expr = eval_const_expressions(NULL, el->expr);
			fix_opfuncids(expr);
			if (contain_mutable_functions(expr))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						 errmsg("functions in index expression must be marked IMMUTABLE")));
			typid = exprType(expr);
			coll = exprCollation(expr);
			h->indexkeys[i] = 0;
			h->indexprs = lappend(h->indexprs, expr);
		}
		if (i < h->nkeycolumns)
		{
			Oid			opclass;

			if (el->collation)
				coll = get_collation_oid(el->collation, false);
			if (amoid != BTREE_AM_OID &&
				(el->ordering != SORTBY_DEFAULT ||
				 el->nulls_ordering != SORTBY_NULLS_DEFAULT))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("access method \"%s\" does not support ASC/DESC options",
								amname),
						 errhint("Remove ASC, DESC and NULLS FIRST/LAST.")));
			opclass = ResolveOpClass(el->opclass, typid, amname, amoid);
			h->opclass[i] = opclass;
			h->opfamily[i] = get_opclass_family(opclass);
			h->opcintype[i] = get_opclass_input_type(opclass);
			h->collation[i] = coll;
			h->reverse_sort[i] = (el->ordering == SORTBY_DESC);
			if (el->nulls_ordering == SORTBY_NULLS_DEFAULT)
				h->nulls_first[i] = h->reverse_sort[i];
			else
				h->nulls_first[i] = (el->nulls_ordering == SORTBY_NULLS_FIRST);
		}
		i++;
	}
	if (stmt->whereClause)
	{
		Node	   *pred = eval_const_expressions(NULL, stmt->whereClause);

		pred = (Node *) canonicalize_qual((Expr *) pred, false);
		fix_opfuncids(pred);
		if (contain_mutable_functions(pred))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("functions in index predicate must be marked IMMUTABLE")));
		h->indpred = make_ands_implicit((Expr *) pred);
	}
	return h;
}

/*
 * Must an error raised while planning one statement end the whole reading
 * instead of skipping the statement?  Cancel and statement_timeout,
 * shutdown and other operator intervention, lack of resources, system
 * errors and corruption.
 */
bool
sa_error_ends_reading(int sqlerrcode)
{
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_TO_CATEGORY(ERRCODE_OPERATOR_INTERVENTION):
		case ERRCODE_TO_CATEGORY(ERRCODE_INSUFFICIENT_RESOURCES):
		case ERRCODE_TO_CATEGORY(ERRCODE_SYSTEM_ERROR):
			return true;
		default:
			break;
	}
	return sqlerrcode == ERRCODE_DATA_CORRUPTED ||
		sqlerrcode == ERRCODE_INDEX_CORRUPTED;
}

/*
 * Resolve names as the statement's own session did: set search_path for
 * the parse analysis, in a GUC nest level that sa_pop_search_path (or the
 * abort of the enclosing (sub)transaction) undoes.
 */
int
sa_push_search_path(const char *path)
{
	int			level = NewGUCNestLevel();

	if (path != NULL)
		(void) set_config_option("search_path", path, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	return level;
}

/*
 * Like sa_push_search_path, for a statement captured in another session and
 * analysed again here: this session's temporary schema (the reader's) must
 * not shadow the names the statement used, so pg_temp is taken out of the
 * path wherever it stood and put last, where it is searched only for names
 * that exist nowhere else.  NULL means the current path, treated the same.
 */
int
sa_push_replay_search_path(const char *path)
{
	char	   *raw = pstrdup(path != NULL ? path :
							  GetConfigOption("search_path", false, false));
	List	   *elems;
	ListCell   *lc;
	StringInfoData buf;

	initStringInfo(&buf);
	if (SplitIdentifierString(raw, ',', &elems))
	{
		foreach(lc, elems)
		{
			const char *e = (const char *) lfirst(lc);

			if (pg_strcasecmp(e, "pg_temp") == 0 ||
				strncmp(e, "pg_temp_", 8) == 0)
				continue;
			appendStringInfo(&buf, "%s, ", quote_identifier(e));
		}
	}

	/*
	 * an unparsable path: resolve in pg_catalog only, as a failed lookup
	 * would
	 */
	appendStringInfoString(&buf, "pg_temp");
	return sa_push_search_path(buf.data);
}

/* undo sa_push_search_path (level is what it returned) */
void
sa_pop_search_path(int level)
{
	AtEOXact_GUC(true, level);
}

/*
 * The size of a hypothetical index tells the number of rows of its table
 * and the widths of the columns it holds: refuse an index on a table the
 * caller may not SELECT from (or, lacking that, on columns it may not
 * read), as pg_stats hides those columns' statistics.
 */
static void
check_can_read_index(SaHypoIndex *h)
{
	Oid			me = GetUserId();
	Bitmapset  *cols = NULL;
	bool		ok = true;
	int			i;
	int			x = -1;

	if (pg_class_aclcheck(h->relid, me, ACL_SELECT) == ACLCHECK_OK)
		return;
	for (i = 0; i < h->ncolumns; i++)
		if (h->indexkeys[i] != 0)
			cols = bms_add_member(cols, h->indexkeys[i] -
								  FirstLowInvalidHeapAttributeNumber);
	pull_varattnos((Node *) h->indexprs, 1, &cols);
	pull_varattnos((Node *) h->indpred, 1, &cols);
	while ((x = bms_next_member(cols, x)) >= 0)
	{
		AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;

		if (a <= 0 ||
			pg_attribute_aclcheck(h->relid, a, me, ACL_SELECT) != ACLCHECK_OK)
		{
			ok = false;
			break;
		}
	}
	if (!ok || cols == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s",
						get_rel_name(h->relid)),
				 errhint("index_whatif() needs SELECT on the table (or on every column the index holds): run it as a role that can read the table.")));
}

/*
 * SQL: scale_advisor.index_whatif(statement text, index_sql text,
 *		params text[] DEFAULT NULL)
 * Plans the statement without and with the hypothetical index, and returns
 * cost_before, cost_after, improvement_pct, index_used, est_size_bytes.
 * The statement is planned, never executed, as the caller; the caller
 * needs the privileges that EXPLAIN of the statement would need, and SELECT
 * on the index's table (check_can_read_index).
 */
Datum
scale_advisor_index_whatif(PG_FUNCTION_ARGS)
{
	char	   *stmt_text;
	char	   *index_sql;
	SaHypoIndex *h;
	Query	   *q;
	Oid		   *ptypes = NULL;
	int			nparams = 0;
	char	  **pvalues = NULL;
	ParamListInfo params = NULL;
	PlannedStmt *before;
	PlannedStmt *after;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	double		cb;
	double		ca;
	int			guclevel = -1;

	sa_require_loaded();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("statement and index definition must not be NULL"),
				 errhint("Pass the statement text and a CREATE INDEX statement.")));
	stmt_text = text_to_cstring(PG_GETARG_TEXT_PP(0));
	index_sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* names resolve in the caller's search_path (the default argument) */
	if (!PG_ARGISNULL(3))
		guclevel = sa_push_search_path(text_to_cstring(PG_GETARG_TEXT_PP(3)));
	h = hypo_from_sql(index_sql);
	check_can_read_index(h);
	if (!PG_ARGISNULL(2))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(2);
		Datum	   *elems;
		bool	   *enulls;
		int			n;
		int			i;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &enulls, &n);
		pvalues = (char **) palloc0(sizeof(char *) * Max(n, 1));
		for (i = 0; i < n; i++)
			pvalues[i] = enulls[i] ? NULL : TextDatumGetCString(elems[i]);
		ptypes = (Oid *) palloc0(sizeof(Oid) * Max(n, 1));
		nparams = n;
		q = sa_parse_statement(stmt_text, &ptypes, &nparams,
							   SA_PARSE_PLAN | SA_PARSE_INFER_TYPES);
		if (nparams != n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("statement has %d parameters but %d values were given",
							nparams, n),
					 errhint("Pass one value for each $n in the statement.")));
		params = sa_make_params(nparams, ptypes, pvalues);
	}
	else
		q = sa_parse_statement(stmt_text, &ptypes, &nparams,
							   SA_PARSE_PLAN | SA_PARSE_INFER_TYPES);
	if (nparams > 0 && params == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("statement has %d parameters but no values were given",
						nparams),
				 errhint("Pass the values as a text array in the third argument.")));

	if (guclevel >= 0)
		sa_pop_search_path(guclevel);
	before = sa_whatif_plan(q, stmt_text, params, NIL);
	/* the same privilege check EXPLAIN would make */
	sa_check_plan_perms(before, true);
	after = sa_whatif_plan(q, stmt_text, params, list_make1(h));

	cb = before->planTree->total_cost;
	ca = after->planTree->total_cost;
	values[0] = Float8GetDatum(cb);
	values[1] = Float8GetDatum(ca);
	values[2] = Float8GetDatum(cb > 0 ? round(1000.0 * (cb - ca) / cb) / 10.0 : 0);
	values[3] = BoolGetDatum(sa_plan_uses_index(after, h->fake_oid));
	values[4] = Int64GetDatum((int64) sa_hypo_size_bytes(h));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
