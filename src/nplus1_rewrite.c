/*-------------------------------------------------------------------------
 *
 * nplus1_rewrite.c
 *		The rewrite offered with an N+1 detection: the loop statement as one
 *		statement over all the keys the loop used (`batched`), and the loop
 *		joined to the statement that produced its keys (`joined`), built
 *		from the statements' own parse trees and deparsed.
 *
 * Owns: sa_np_build_rewrite() and the tree walkers it uses.  Called by
 * nplus1.c only when a run is first flagged and its shared entry has no
 * rewrite yet, inside a subtransaction the caller rolls back on error.
 *
 * Locking: none.  Works in the caller's memory context on backend-local
 * copies of the texts; reads the catalogs through the syscache.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_node.h"
#include "parser/parse_param.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "port/pg_bitutils.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "nplus1.h"
#include "scale_advisor.h"
/* collapse white space outside quotes into single blanks */
static char *
np_squeeze(const char *s)
{
	StringInfoData buf;
	char		quote = 0;
	bool		space = false;

	initStringInfo(&buf);
	for (; *s; s++)
	{
		char		c = *s;

		if (quote)
		{
			appendStringInfoChar(&buf, c);
			if (c == quote)
				quote = 0;
			continue;
		}
		if (c == '\'' || c == '"')
		{
			if (space && buf.len > 0)
				appendStringInfoChar(&buf, ' ');
			space = false;
			quote = c;
			appendStringInfoChar(&buf, c);
			continue;
		}
		if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
		{
			space = true;
			continue;
		}
		if (space && buf.len > 0 && c != ')' &&
			buf.data[buf.len - 1] != '(')
			appendStringInfoChar(&buf, ' ');
		space = false;
		appendStringInfoChar(&buf, c);
	}
	return buf.data;
}

/* parse and analyze one statement; NULL unless it is a single DML */
static Query *
np_analyze(const char *text, Oid *ptypes, int nparams)
{
	List	   *raw;
	RawStmt    *rs;
	ParseState *pstate;
	Query	   *q;

	raw = raw_parser(text, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		return NULL;
	rs = linitial_node(RawStmt, raw);
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = text;
	if (nparams > 0)
		setup_parse_fixed_parameters(pstate, ptypes, nparams);
	q = transformTopLevelStmt(pstate, rs);
	free_parsestate(pstate);
	if (q->commandType != CMD_SELECT && q->commandType != CMD_UPDATE &&
		q->commandType != CMD_DELETE && q->commandType != CMD_INSERT)
		return NULL;
	if (q->utilityStmt != NULL)
		return NULL;
	return q;
}

/* strip implicit casts and relabelings */
static Node *
np_strip(Node *n)
{
	for (;;)
	{
		if (n == NULL)
			return NULL;
		if (IsA(n, RelabelType))
			n = (Node *) ((RelabelType *) n)->arg;
		else if (IsA(n, CoerceViaIO) &&
				 ((CoerceViaIO *) n)->coerceformat == COERCE_IMPLICIT_CAST)
			n = (Node *) ((CoerceViaIO *) n)->arg;
		else if (IsA(n, FuncExpr) &&
				 ((FuncExpr *) n)->funcformat == COERCE_IMPLICIT_CAST &&
				 list_length(((FuncExpr *) n)->args) == 1)
			n = (Node *) linitial(((FuncExpr *) n)->args);
		else
			return n;
	}
}

typedef struct NpParamCount
{
	int			paramid;
	int			count;
	int			maxid;
} NpParamCount;

static bool
np_count_params_walker(Node *node, NpParamCount *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		Param	   *p = (Param *) node;

		if (p->paramid == ctx->paramid)
			ctx->count++;
		if (p->paramid > ctx->maxid)
			ctx->maxid = p->paramid;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_count_params_walker,
								 (void *) ctx, 0);
	return expression_tree_walker(node, np_count_params_walker, (void *) ctx);
}

/* is there a constant whose location is in (from, to]? */
typedef struct NpConstScan
{
	int			from;
	int			to;
	bool		found;
} NpConstScan;

static bool
np_const_scan_walker(Node *node, NpConstScan *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Const))
	{
		int			loc = ((Const *) node)->location;

		if (loc > ctx->from && loc <= ctx->to)
			ctx->found = true;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_const_scan_walker,
								 (void *) ctx, 0);
	return expression_tree_walker(node, np_const_scan_walker, (void *) ctx);
}

/* add delta to the number of every parameter numbered above "above" */
typedef struct NpRenumber
{
	int			above;
	int			delta;
} NpRenumber;

static bool
np_renumber_walker(Node *node, NpRenumber *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		if (((Param *) node)->paramid > ctx->above)
			((Param *) node)->paramid += ctx->delta;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_renumber_walker,
								 (void *) ctx, 0);
	return expression_tree_walker(node, np_renumber_walker, (void *) ctx);
}

/* what the loop statement looks up by, once found */
typedef struct NpLoopKey
{
	int			qual_index;		/* in the WHERE conjunction list */
	OpExpr	   *op;
	Var		   *var;			/* the column side */
	Node	   *colside;		/* the column side, as written */
	Node	   *keyside;		/* the parameter or constant side */
	bool		var_on_left;
	Oid			keytype;		/* type of keyside */
	int			paramid;		/* 0 for a constant */
} NpLoopKey;

/*
 * Find the "column = key" conjunct of the WHERE clause the loop iterates
 * over: for bound parameters the first one whose parameter varied during
 * the run; for constants the one at (or just before) the first byte where
 * two texts of the run differ; failing both, the first one.
 */
static bool
np_find_loop_key(List *quals, uint64 vary_mask, int diffpos,
				 NpLoopKey *out)
{
	ListCell   *lc;
	int			idx = -1;
	bool		found = false;
	int			best_loc = -1;

	foreach(lc, quals)
	{
		Node	   *qual = (Node *) lfirst(lc);
		OpExpr	   *op;
		Node	   *l,
				   *r;
		Node	   *key;
		Var		   *var;
		bool		var_left;
		char	   *opname;

		idx++;
		if (!IsA(qual, OpExpr))
			continue;
		op = (OpExpr *) qual;
		if (list_length(op->args) != 2)
			continue;
		opname = get_opname(op->opno);
		if (opname == NULL || strcmp(opname, "=") != 0)
			continue;
		l = np_strip(linitial(op->args));
		r = np_strip(lsecond(op->args));
		if (l && IsA(l, Var) && r && (IsA(r, Param) || IsA(r, Const)))
		{
			var = (Var *) l;
			key = r;
			var_left = true;
		}
		else if (r && IsA(r, Var) && l && (IsA(l, Param) || IsA(l, Const)))
		{
			var = (Var *) r;
			key = l;
			var_left = false;
		}
		else
			continue;
		if (var->varlevelsup != 0)
			continue;

		if (vary_mask != 0)
		{
			Param	   *p = (Param *) key;

			/* the first parameter that varied */
			if (found || !IsA(key, Param) || p->paramkind != PARAM_EXTERN ||
				p->paramid < 1 || p->paramid > 64 ||
				(vary_mask & (UINT64CONST(1) << (p->paramid - 1))) == 0)
				continue;
		}
		else if (diffpos >= 0)
		{
			Const	   *c = (Const *) key;

			/* the last constant that starts before the difference */
			if (!IsA(key, Const) || c->constisnull || c->location < 0 ||
				c->location > diffpos || c->location <= best_loc)
				continue;
			best_loc = c->location;
		}
		else
		{
			if (found)
				continue;
			if (IsA(key, Param) && ((Param *) key)->paramkind != PARAM_EXTERN)
				continue;
			if (IsA(key, Const) && ((Const *) key)->constisnull)
				continue;
		}
		found = true;
		out->qual_index = idx;
		out->op = op;
		out->var = var;
		out->colside = var_left ? linitial(op->args) : lsecond(op->args);
		out->keyside = var_left ? lsecond(op->args) : linitial(op->args);
		out->var_on_left = var_left;
		out->keytype = exprType(out->keyside);
		out->paramid = IsA(key, Param) ? ((Param *) key)->paramid : 0;
	}
	return found;
}

/* a text that fits in cap bytes, or NULL */
char *
sa_np_fit(char *s, int cap)
{
	if (s != NULL && (int) strlen(s) >= cap)
		return NULL;
	return s;
}

static char *
np_qualified_relname(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		return NULL;
	return quote_qualified_identifier(nsp, rel);
}

/* "posts" -> "post", "categories" -> "category": enough for key names */
static char *
np_singular(const char *name)
{
	int			n = strlen(name);
	char	   *s = pstrdup(name);

	if (n > 3 && strcmp(name + n - 3, "ies") == 0)
	{
		s[n - 3] = 'y';
		s[n - 2] = '\0';
	}
	else if (n > 1 && name[n - 1] == 's')
		s[n - 1] = '\0';
	return s;
}

/*
 * Does parent column (prelid, pattno) feed the loop's key column
 * (lrelid, lattno)?  Foreign keys either way, the same column, or the
 * naming convention table.id / <table>_id.
 */
static bool
np_column_feeds(Oid prelid, AttrNumber pattno, Oid lrelid, AttrNumber lattno)
{
	Relation	rel;
	List	   *fks;
	ListCell   *lc;
	char	   *pname,
			   *lname,
			   *s;
	bool		result = false;

	if (prelid == lrelid && pattno == lattno)
		return true;

	/* foreign keys, in both directions */
	rel = table_open(lrelid, AccessShareLock);
	fks = RelationGetFKeyList(rel);
	foreach(lc, fks)
	{
		ForeignKeyCacheInfo *fk = (ForeignKeyCacheInfo *) lfirst(lc);

		if (fk->nkeys == 1 && fk->confrelid == prelid &&
			fk->conkey[0] == lattno && fk->confkey[0] == pattno)
			result = true;
	}
	table_close(rel, AccessShareLock);
	if (result)
		return true;
	rel = table_open(prelid, AccessShareLock);
	fks = RelationGetFKeyList(rel);
	foreach(lc, fks)
	{
		ForeignKeyCacheInfo *fk = (ForeignKeyCacheInfo *) lfirst(lc);

		if (fk->nkeys == 1 && fk->confrelid == lrelid &&
			fk->conkey[0] == pattno && fk->confkey[0] == lattno)
			result = true;
	}
	table_close(rel, AccessShareLock);
	if (result)
		return true;

	/* naming conventions */
	pname = get_attname(prelid, pattno, true);
	lname = get_attname(lrelid, lattno, true);
	if (pname == NULL || lname == NULL)
		return false;
	if (strcmp(pname, "id") == 0)
	{
		s = psprintf("%s_id", np_singular(get_rel_name(prelid)));
		if (strcmp(lname, s) == 0)
			return true;
	}
	if (strcmp(lname, "id") == 0)
	{
		s = psprintf("%s_id", np_singular(get_rel_name(lrelid)));
		if (strcmp(pname, s) == 0)
			return true;
	}
	return false;
}

/*
 * The JOIN that replaces the loop: the parent query as a derived table,
 * joined laterally to the loop statement whose key is now the parent's
 * column.  NULL when the parent's output does not feed the key.
 */
static char *
np_build_join(Query *loop, NpLoopKey *k, NpParent *parent, int loop_maxparam)
{
	Query	   *pq;
	RangeTblEntry *lrte;
	ListCell   *lc;
	TargetEntry *feed = NULL;
	char	   *psql,
			   *lsql,
			   *ref,
			   *pos;
	StringInfoData buf;
	Param	   *sentinel;
	OpExpr	   *op;
	NpRenumber	rn;
	List	   *quals;

	if (parent == NULL || parent->len < 0 || parent->nparams < 0)
		return NULL;
	if (loop->commandType != CMD_SELECT)
		return NULL;
	pq = np_analyze(parent->text, parent->ptypes, parent->nparams);
	if (pq == NULL || pq->commandType != CMD_SELECT)
		return NULL;

	lrte = rt_fetch(k->var->varno, loop->rtable);
	if (lrte->rtekind != RTE_RELATION)
		return NULL;

	foreach(lc, pq->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Var		   *v;
		RangeTblEntry *prte;

		if (tle->resjunk || tle->resname == NULL)
			continue;
		v = (Var *) np_strip((Node *) tle->expr);
		if (!IsA(v, Var) || v->varlevelsup != 0)
			continue;
		prte = rt_fetch(v->varno, pq->rtable);
		if (prte->rtekind != RTE_RELATION)
			continue;
		if (np_column_feeds(prte->relid, v->varattno, lrte->relid,
							k->var->varattno))
		{
			feed = tle;
			break;
		}
	}
	if (feed == NULL)
		return NULL;
	/* the output name must be unique to be referenced */
	foreach(lc, pq->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (tle != feed && !tle->resjunk && tle->resname != NULL &&
			strcmp(tle->resname, feed->resname) == 0)
			return NULL;
	}

	/*
	 * The loop's own parameters, but for its key, keep their order; the
	 * parent's come after them.
	 */
	if (k->paramid > 0)
	{
		rn.above = k->paramid;
		rn.delta = -1;
		np_renumber_walker((Node *) loop, &rn);
		loop_maxparam--;
	}
	rn.above = 0;
	rn.delta = loop_maxparam;
	if (loop_maxparam > 0)
		np_renumber_walker((Node *) pq, &rn);
	psql = np_squeeze(pg_get_querydef(pq, true));

	/* the loop with its key replaced by a marker parameter */
	sentinel = makeNode(Param);
	sentinel->paramkind = PARAM_EXTERN;
	sentinel->paramid = NP_SENTINEL_PARAM;
	sentinel->paramtype = k->keytype;
	sentinel->paramtypmod = -1;
	sentinel->paramcollid = exprCollation(k->keyside);
	sentinel->location = -1;
	op = (OpExpr *) copyObject(k->op);
	if (k->var_on_left)
		lsecond(op->args) = sentinel;
	else
		linitial(op->args) = sentinel;
	quals = list_copy(make_ands_implicit((Expr *) loop->jointree->quals));
	list_nth_cell(quals, k->qual_index)->ptr_value = op;
	loop->jointree->quals = (Node *) make_ands_explicit(quals);
	lsql = np_squeeze(pg_get_querydef(loop, true));
	ref = psprintf("parent.%s", quote_identifier(feed->resname));
	pos = strstr(lsql, "$" CppAsString2(NP_SENTINEL_PARAM));
	if (pos == NULL)
		return NULL;
	/*
	 * The select list: the parent's columns, then the loop's, renamed
	 * after the loop's table where a name is taken already.
	 */
	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT parent.*");
	foreach(lc, loop->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		ListCell   *lc2;
		bool		taken = false;

		if (tle->resjunk || tle->resname == NULL)
			continue;
		foreach(lc2, pq->targetList)
		{
			TargetEntry *ptle = (TargetEntry *) lfirst(lc2);

			if (!ptle->resjunk && ptle->resname != NULL &&
				strcmp(ptle->resname, tle->resname) == 0)
				taken = true;
		}
		appendStringInfo(&buf, ", batch.%s", quote_identifier(tle->resname));
		if (taken)
			appendStringInfo(&buf, " AS %s",
							 quote_identifier(psprintf("%s_%s",
													   get_rel_name(lrte->relid),
													   tle->resname)));
	}
	appendStringInfo(&buf, " FROM (%s) AS parent LEFT JOIN LATERAL (", psql);
	appendBinaryStringInfo(&buf, lsql, pos - lsql);
	appendStringInfoString(&buf, ref);
	appendStringInfoString(&buf,
						   pos + strlen("$" CppAsString2(NP_SENTINEL_PARAM)));
	appendStringInfoString(&buf, ") AS batch ON true");
	return buf.data;
}

/*
 * INSERT ... VALUES (one row) into INSERT ... SELECT FROM unnest(arrays).
 */
static char *
np_build_insert(Query *q)
{
	RangeTblEntry *rte;
	ListCell   *lc;
	StringInfoData cols,
				arrays;
	char	   *relname;
	int			n = 0;

	if (q->resultRelation <= 0 || q->onConflict != NULL ||
		q->returningList != NIL || q->jointree->fromlist != NIL)
		return NULL;
	rte = rt_fetch(q->resultRelation, q->rtable);
	relname = np_qualified_relname(rte->relid);
	if (relname == NULL)
		return NULL;
	initStringInfo(&cols);
	initStringInfo(&arrays);
	foreach(lc, q->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Oid			typ,
					arr;

		if (tle->resjunk)
			continue;
		typ = exprType((Node *) tle->expr);
		arr = get_array_type(typ);
		if (!OidIsValid(arr))
			return NULL;
		n++;
		appendStringInfo(&cols, "%s%s", n > 1 ? ", " : "",
						 quote_identifier(tle->resname));
		appendStringInfo(&arrays, "%s$%d::%s", n > 1 ? ", " : "", n,
						 format_type_be(arr));
	}
	if (n == 0)
		return NULL;
	return psprintf("INSERT INTO %s (%s) SELECT * FROM unnest(%s)",
					relname, cols.data, arrays.data);
}

/*
 * Build the rewrite of the loop statement text (and the JOIN with its
 * parent).  May throw; the caller catches.
 */
void
sa_np_build_rewrite(NpSlot *slot, const char *txt, int len,
					ParamListInfo params, NpParent *parent, NpRewrite *out)
{
	char	   *text = pnstrdup(txt, len);
	Oid		   *ptypes = NULL;
	int			nparams = 0;
	Query	   *q;
	List	   *quals;
	NpLoopKey	k;
	int			diffpos = -1;
	int			lastdiff = -1;
	int			i;
	NpParamCount cnt;
	ScalarArrayOpExpr *sa;
	Param	   *p;
	Oid			arraytype;
	Node	   *saved;

	if (params != NULL && params->numParams > 0)
	{
		if (params->paramFetch != NULL)
			return;
		nparams = params->numParams;
		ptypes = palloc(sizeof(Oid) * nparams);
		for (i = 0; i < nparams; i++)
		{
			ptypes[i] = params->params[i].ptype;
			if (!OidIsValid(ptypes[i]))
				return;
		}
	}
	q = np_analyze(text, ptypes, nparams);
	if (q == NULL)
		return;

	if (q->commandType == CMD_INSERT)
	{
		out->batched = np_build_insert(q);
		return;
	}
	if (slot->kind != NP_KIND_NPLUS1 || q->jointree == NULL ||
		q->jointree->quals == NULL)
		return;

	/*
	 * Constants: the first and the last byte where an earlier text of the
	 * run differs from this one.
	 */
	if (slot->stash_len >= 0 && nparams == 0)
	{
		for (i = 0; i < len && i < slot->stash_len; i++)
			if (txt[i] != slot->stash[i])
				break;
		if (i < len || i < slot->stash_len)
		{
			diffpos = i;
			for (i = 0; i < len && i < slot->stash_len; i++)
				if (txt[len - 1 - i] != slot->stash[slot->stash_len - 1 - i])
					break;
			lastdiff = Max(len - 1 - i, diffpos);
		}
	}
	quals = make_ands_implicit((Expr *) q->jointree->quals);
	memset(&k, 0, sizeof(k));
	if (!np_find_loop_key(quals, nparams > 0 ? slot->vary_mask : 0,
						  diffpos, &k))
		return;

	/*
	 * Only the key may vary: another parameter or constant that changes
	 * from one execution to the next cannot be folded into one statement
	 * by turning the key into an array.
	 */
	if (k.paramid > 0 && slot->vary_mask != 0 &&
		(k.paramid > 64 ||
		 slot->vary_mask != (UINT64CONST(1) << (k.paramid - 1))))
		return;
	if (k.paramid == 0 && diffpos >= 0)
	{
		NpConstScan cs;

		cs.from = exprLocation(np_strip(k.keyside));
		cs.to = lastdiff;
		cs.found = false;
		np_const_scan_walker((Node *) q, &cs);
		if (cs.found)
			return;
	}

	/* a parameter used elsewhere too cannot simply become an array */
	cnt.paramid = k.paramid;
	cnt.count = 0;
	cnt.maxid = 0;
	np_count_params_walker((Node *) q, &cnt);
	if (k.paramid > 0 && cnt.count != 1)
		return;

	arraytype = get_array_type(k.keytype);
	if (!OidIsValid(arraytype))
		return;

	/* column = ANY ($n::type[]) */
	sa = makeNode(ScalarArrayOpExpr);
	sa->opno = k.var_on_left ? k.op->opno : get_commutator(k.op->opno);
	if (!OidIsValid(sa->opno))
		return;
	sa->opfuncid = get_opcode(sa->opno);
	sa->useOr = true;
	sa->inputcollid = k.op->inputcollid;
	p = makeNode(Param);
	p->paramkind = PARAM_EXTERN;
	p->paramid = k.paramid > 0 ? k.paramid : cnt.maxid + 1;
	p->paramtype = arraytype;
	p->paramtypmod = -1;
	p->paramcollid = exprCollation(k.keyside);
	p->location = -1;
	sa->args = list_make2(k.colside,
						  makeRelabelType((Expr *) p, arraytype, -1,
										  p->paramcollid,
										  COERCE_EXPLICIT_CAST));
	sa->location = -1;

	saved = q->jointree->quals;
	{
		List	   *nq = list_copy(quals);

		list_nth_cell(nq, k.qual_index)->ptr_value = sa;
		q->jointree->quals = (Node *) make_ands_explicit(nq);
	}
	out->batched = np_squeeze(pg_get_querydef(q, true));
	q->jointree->quals = saved;

	out->joined = np_build_join(q, &k, parent, cnt.maxid);
}
