/*-------------------------------------------------------------------------
 *
 * nplus1_rewrite.c
 *		The rewrite offered with an N+1 detection, built from the loop
 *		statement's own parse tree and deparsed, each text with a note (SQL
 *		comment lines) that says what the statement does and what each of
 *		its parameters is, or why no statement is offered.
 *
 * What varies.  The values that changed from one execution of the loop to
 * the next ("leaves") become arrays, one element per execution: bound
 * parameters whose value changed during the run (nplus1.c records which),
 * and, for statements sent with their constants in the text, the constants
 * that differ between this text and an earlier one of the run.
 *
 * The forms.
 *	SELECT	with one key (a "column = value" condition of the WHERE clause)
 *			and nothing that works per execution: WHERE column = ANY
 *			($n::type[]).  A LIMIT on a key proven unique (a unique index on
 *			exactly that column, same equality) is left out.  Anything else
 *			(LIMIT, OFFSET, DISTINCT, aggregates, GROUP BY, windows, set
 *			operations, several values that vary): the loop's statement run
 *			once per element, "SELECT keys.*, batch.* FROM unnest(...) AS
 *			keys(...) CROSS JOIN LATERAL (the statement) AS batch", which
 *			returns exactly what the executions returned, with their keys.
 *			And the loop joined laterally to its parent (the statement
 *			that returned the keys), when the parent's output feeds the key.
 *	UPDATE,	with one key and nothing else that varies: WHERE column = ANY;
 *	DELETE	else FROM (USING) unnest(arrays) AS v(...), each value that
 *			varied read from v; refused when no key condition keeps the
 *			rows of two executions apart, or when the statement reads the
 *			table it changes.
 *	INSERT	VALUES (one row or several): INSERT ... SELECT * FROM
 *			unnest(one array per column); DEFAULT columns are left out,
 *			RETURNING and ON CONFLICT kept.
 *
 * Parameters.  The new statement's parameters follow the loop's: its $n in
 * their order (each that varied now an array), then one array per constant
 * that varied, in text order; a left-out LIMIT parameter closes up.  The
 * JOIN takes the parent's parameters first, then the loop's.  The note
 * lists each "$n (type): what" in a fixed form (see docs/n-plus-one.md).
 *
 * Every statement offered is parsed and analyzed again before it is kept:
 * one that would not run is not offered.  The texts hold no parameter value
 * and no constant that varied (those become parameters): only the
 * statement's own text and that of its parent, which the same role ran.
 *
 * Owns: sa_np_build_rewrite() and the tree walkers it uses.  Called by
 * nplus1.c only when a run is first flagged and its shared entry has no
 * rewrite yet, inside a subtransaction the caller rolls back on error.
 *
 * Locking: none of its own.  Works in the caller's memory context on
 * backend-local copies of the texts; reads the catalogs through the
 * syscache and the relcache (AccessShareLock on the tables the statement
 * names, as the statement itself took).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_coerce.h"
#include "parser/parse_node.h"
#include "parser/parse_oper.h"
#include "parser/parse_param.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "compat.h"
#include "normalize.h"
#include "nplus1.h"
#include "scale_advisor.h"

/*
 * Parameter numbers that stand for something while a tree is deparsed;
 * the text is then rewritten token by token (np_subst).  The loop's own
 * parameters must be numbered below NP_SENT_LEAF.
 */
#define NP_SENT_LEAF	30000	/* + leaf index: a value that varied */
#define NP_SENT_ARRAY	31000	/* + n: an array of the new statement */
#define NP_SENT_PARENT	32000	/* + n: the parent's $n (the JOIN) */

#define NP_MAX_LEAVES	100		/* values that vary, at most */

/* a value that varied from one execution of the loop to the next */
typedef struct NpLeaf
{
	bool		is_param;
	int			paramid;		/* params: the loop's $n */
	int			location;		/* constants: offset in the text */
	Oid			type;			/* as the loop passed it */
	bool		unknown;		/* not recorded whether it varied */
	/* set when it is the value of a "column = value" WHERE conjunct */
	int			qual_index;		/* -1: no */
	Var		   *keyvar;
	Oid			keyop;
	/* set when it is the whole value of a target column */
	AttrNumber	target;			/* 0: no */
	const char *clause;			/* "limit" or "offset" when it is that */
	/* what it becomes */
	Oid			elemtype;
	Oid			arraytype;
	char	   *name;			/* its column in keys(...) or v(...) */
	char	   *role;			/* for the note, or NULL */
} NpLeaf;

/* everything known about the loop statement */
typedef struct NpCtx
{
	NpSlot	   *slot;
	const char *text;
	ParamListInfo params;
	int			nparams;
	Oid		   *ptypes;
	Query	   *q;				/* the statement, analyzed; never changed */
	List	   *quals;			/* its top-level WHERE conjuncts */
	int		   *uses;			/* [1..maxparam] occurrences of each $n */
	int			maxparam;
	bool		consts_known;	/* which constants vary is known */
	const char *consts_why;		/* ... and why not */
	NpLeaf		leaf[NP_MAX_LEAVES];
	int			nleaves;
	char	   *reason;			/* why no batched statement */
} NpCtx;

/* the parameters of a statement being built, and the text substitutions */
typedef struct NpParams
{
	int			n;				/* its parameters: $1 .. $n */
	Oid		   *types;
	int			nsubst;
	int		   *from;			/* a $k of the deparsed text ... */
	char	  **to;				/* ... and what replaces it */
	int			cap;
	StringInfoData legend;
} NpParams;

/* ----------------------------------------------------------------
 * Texts
 * ----------------------------------------------------------------
 */

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

/* is c part of an identifier or a parameter token? */
static inline bool
np_identchar(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '$' ||
		IS_HIGHBIT_SET(c);
}

/*
 * Does the deparsed text use name as an identifier (a bare word compared
 * without case, or a quoted one)?  Texts come from the deparser: string
 * literals are '...' with '' inside, identifiers "..." with "" inside.
 */
static bool
np_text_uses_ident(const char *sql, const char *name)
{
	const char *s = sql;
	int			nlen = strlen(name);

	while (*s)
	{
		if (*s == '\'')
		{
			for (s++; *s; s++)
				if (*s == '\'')
				{
					if (s[1] == '\'')
						s++;
					else
						break;
				}
			if (*s)
				s++;
		}
		else if (*s == '"')
		{
			StringInfoData id;

			initStringInfo(&id);
			for (s++; *s; s++)
			{
				if (*s == '"')
				{
					if (s[1] != '"')
						break;
					s++;
				}
				appendStringInfoChar(&id, *s);
			}
			if (*s)
				s++;
			if (strcmp(id.data, name) == 0)
				return true;
		}
		else if (np_identchar(*s))
		{
			const char *start = s;

			while (*s && np_identchar(*s))
				s++;
			if (s - start == nlen && pg_strncasecmp(start, name, nlen) == 0)
				return true;
		}
		else
			s++;
	}
	return false;
}

/* an alias based on base that the text does not use yet */
static char *
np_free_alias(const char *base, const char *sql1, const char *sql2)
{
	char	   *name = pstrdup(base);
	int			i = 0;

	while ((sql1 && np_text_uses_ident(sql1, name)) ||
		   (sql2 && np_text_uses_ident(sql2, name)))
		name = psprintf("%s_%d", base, ++i);
	return name;
}

/*
 * Replace every parameter token $k of the deparsed text by what the
 * substitutions say.  NULL when a $k has no substitution: the statement
 * would not be what was meant.
 */
static char *
np_subst(const char *sql, NpParams *pp)
{
	StringInfoData buf;
	const char *s = sql;

	initStringInfo(&buf);
	while (*s)
	{
		if (*s == '\'' || *s == '"')
		{
			char		q = *s;

			appendStringInfoChar(&buf, *s++);
			while (*s)
			{
				appendStringInfoChar(&buf, *s);
				if (*s == q)
				{
					if (s[1] == q)
					{
						appendStringInfoChar(&buf, q);
						s += 2;
						continue;
					}
					s++;
					break;
				}
				s++;
			}
		}
		else if (*s == '$' && isdigit((unsigned char) s[1]) &&
				 (s == sql || !np_identchar(s[-1])))
		{
			long		k = 0;
			int			i;

			s++;
			while (isdigit((unsigned char) *s))
			{
				k = k * 10 + (*s - '0');
				if (k > INT_MAX)
					return NULL;
				s++;
			}
			for (i = 0; i < pp->nsubst; i++)
				if (pp->from[i] == k)
					break;
			if (i == pp->nsubst)
				return NULL;
			appendStringInfoString(&buf, pp->to[i]);
		}
		else if (np_identchar(*s))
		{
			while (*s && np_identchar(*s))
				appendStringInfoChar(&buf, *s++);
		}
		else
			appendStringInfoChar(&buf, *s++);
	}
	return buf.data;
}

/*
 * In the deparsed INSERT text, the offsets of its "VALUES (" (the first at
 * the top level after the top-level INSERT: not one of a WITH clause), of
 * the list inside, and of the parenthesis that closes it; false when not
 * found.
 */
static bool
np_find_values(const char *sql, int *start, int *inner, int *end)
{
	const char *s = sql;
	int			depth = 0;
	bool		insert_seen = false;

	*start = -1;
	while (*s)
	{
		if (*s == '\'' || *s == '"')
		{
			char		q = *s++;

			while (*s)
			{
				if (*s == q)
				{
					if (s[1] == q)
					{
						s += 2;
						continue;
					}
					break;
				}
				s++;
			}
			if (*s)
				s++;
			continue;
		}
		if (np_identchar(*s))
		{
			const char *w = s;

			while (*s && np_identchar(*s))
				s++;
			if (depth == 0 && *start < 0 && s - w == 6 &&
				strncmp(w, "INSERT", 6) == 0)
				insert_seen = true;
			else if (depth == 0 && *start < 0 && insert_seen &&
					 s - w == 6 && strncmp(w, "VALUES", 6) == 0 &&
					 strncmp(s, " (", 2) == 0)
			{
				*start = w - sql;
				*inner = *start + 8;
				s += 2;
				depth = 1;
			}
			continue;
		}
		if (*s == '(')
			depth++;
		else if (*s == ')' && --depth == 0 && *start >= 0)
		{
			*end = s - sql;
			return true;
		}
		s++;
	}
	return false;
}

/* a text that fits in cap bytes, or NULL */
char *
sa_np_fit(char *s, int cap)
{
	if (s != NULL && (int) strlen(s) >= cap)
		return NULL;
	return s;
}

/* ----------------------------------------------------------------
 * Trees
 * ----------------------------------------------------------------
 */

/* the tree as written of one statement; NULL unless it is a single DML */
static Query *
np_analyze(const char *text, Oid *ptypes, int nparams)
{
	return sa_parse_statement(text, &ptypes, &nparams, 0);
}

/*
 * The statement text parsed and analyzed with these parameter types, or
 * NULL when it does not analyze.  Errors are caught in a subtransaction of
 * their own.
 */
static Query *
np_try_analyze(const char *sql, Oid *types, int n)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Query	   *volatile q = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		q = np_analyze(sql, types, n);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		MemoryContextSwitchTo(cxt);
		ed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		elog(DEBUG1, "scale_advisor: statement does not analyze (%s): %s",
			 ed->message, sql);
		q = NULL;
	}
	PG_END_TRY();
	return q;
}

/*
 * Does the statement text parse and analyze, with these parameter types?
 * A statement that would not run is not offered.
 */
static bool
np_valid(const char *sql, Oid *types, int n)
{
	return np_try_analyze(sql, types, n) != NULL;
}

/* the deparsed text of a tree, on one line */
static char *
np_deparse(Query *q)
{
	return np_squeeze(pg_get_querydef(q, true));
}

/* strip implicit casts and relabelings */
static Node *
np_strip(Node *n)
{
	for (;;)
	{
		if (n == NULL)
			return NULL;
		if (IsA(n, RelabelType) &&
			((RelabelType *) n)->relabelformat != COERCE_EXPLICIT_CAST)
			n = (Node *) ((RelabelType *) n)->arg;
		else if (IsA(n, CoerceViaIO) &&
				 ((CoerceViaIO *) n)->coerceformat == COERCE_IMPLICIT_CAST)
			n = (Node *) ((CoerceViaIO *) n)->arg;
		else if (IsA(n, FuncExpr) &&
				 ((FuncExpr *) n)->funcformat == COERCE_IMPLICIT_CAST &&
				 list_length(((FuncExpr *) n)->args) >= 1)
			n = (Node *) linitial(((FuncExpr *) n)->args);
		else
			return n;
	}
}

/* a parameter of the given number and type */
static Param *
np_param(int paramid, Oid type)
{
	Param	   *p = makeNode(Param);

	p->paramkind = PARAM_EXTERN;
	p->paramid = paramid;
	p->paramtype = type;
	p->paramtypmod = -1;
	p->paramcollid = get_typcollation(type);
	p->location = -1;
	return p;
}

/* count the occurrences of each external parameter */
static bool
np_count_params_walker(Node *node, NpCtx *c)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		Param	   *p = (Param *) node;

		if (p->paramid >= 1 && p->paramid <= c->maxparam)
			c->uses[p->paramid]++;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_count_params_walker,
								 (void *) c, 0);
	return expression_tree_walker(node, np_count_params_walker, (void *) c);
}

/* the highest external parameter number in a tree */
static bool
np_max_param_walker(Node *node, int *max)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		if (((Param *) node)->paramid > *max)
			*max = ((Param *) node)->paramid;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_max_param_walker,
								 (void *) max, 0);
	return expression_tree_walker(node, np_max_param_walker, (void *) max);
}

/* add delta to the number of every external parameter (in place) */
static bool
np_shift_params_walker(Node *node, int *delta)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		((Param *) node)->paramid += *delta;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_shift_params_walker,
								 (void *) delta, 0);
	return expression_tree_walker(node, np_shift_params_walker,
								  (void *) delta);
}

/* the constants of a tree, in walk order */
static bool
np_consts_walker(Node *node, List **out)
{
	if (node == NULL)
		return false;
	if (IsA(node, Const))
	{
		*out = lappend(*out, node);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_consts_walker,
								 (void *) out, 0);
	return expression_tree_walker(node, np_consts_walker, (void *) out);
}

/* does the tree contain a leaf (a parameter or constant that varied)? */
typedef struct NpHasLeaf
{
	NpCtx	   *c;
	bool		found;
} NpHasLeaf;

static int	np_leaf_of(NpCtx *c, Node *node);

/* walker of np_has_leaf: stop at the first varying leaf */
static bool
np_has_leaf_walker(Node *node, NpHasLeaf *h)
{
	if (node == NULL)
		return false;
	if ((IsA(node, Param) || IsA(node, Const)) && np_leaf_of(h->c, node) >= 0)
	{
		h->found = true;
		return true;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_has_leaf_walker,
								 (void *) h, 0);
	return expression_tree_walker(node, np_has_leaf_walker, (void *) h);
}

/*
 * does the tree hold a leaf (parameter or constant) that varies between
 * executions?
 */
static bool
np_has_leaf(NpCtx *c, Node *node)
{
	NpHasLeaf	h = {c, false};

	np_has_leaf_walker(node, &h);
	return h.found;
}

/* does a tree (other than the target itself) read relation relid? */
typedef struct NpReads
{
	Oid			relid;
	Query	   *top;
} NpReads;

/*
 * walker of np_reads_rel: does a range table read relid (the top query's
 * target aside)?
 */
static bool
np_reads_rel_walker(Node *node, NpReads *r)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;
		int			i = 0;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

			i++;
			if (rte->rtekind == RTE_RELATION && rte->relid == r->relid &&
				!(q == r->top && i == q->resultRelation))
				return true;
		}
		return query_tree_walker(q, np_reads_rel_walker, (void *) r, 0);
	}
	return expression_tree_walker(node, np_reads_rel_walker, (void *) r);
}

/* the leaf a Param or Const is, or -1 */
static int
np_leaf_of(NpCtx *c, Node *node)
{
	int			i;

	if (node == NULL)
		return -1;
	if (IsA(node, Param))
	{
		Param	   *p = (Param *) node;

		if (p->paramkind != PARAM_EXTERN)
			return -1;
		for (i = 0; i < c->nleaves; i++)
			if (c->leaf[i].is_param && c->leaf[i].paramid == p->paramid)
				return i;
	}
	else if (IsA(node, Const))
	{
		Const	   *k = (Const *) node;

		if (k->location < 0)
			return -1;
		for (i = 0; i < c->nleaves; i++)
			if (!c->leaf[i].is_param && c->leaf[i].location == k->location)
				return i;
	}
	return -1;
}

/* the tree with every leaf replaced by its sentinel parameter */
static Node *
np_leaf_mutator(Node *node, NpCtx *c)
{
	int			i;

	if (node == NULL)
		return NULL;
	if ((IsA(node, Param) || IsA(node, Const)) &&
		(i = np_leaf_of(c, node)) >= 0)
		return (Node *) np_param(NP_SENT_LEAF + i, c->leaf[i].type);
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, np_leaf_mutator,
										   (void *) c, 0);
	return expression_tree_mutator(node, np_leaf_mutator, (void *) c);
}

/*
 * a copy of the statement with its varying leaves replaced (np_leaf_mutator)
 */
static Query *
np_mutate(NpCtx *c)
{
	return (Query *) copyObject(np_leaf_mutator((Node *) c->q, c));
}

/* ----------------------------------------------------------------
 * Catalog facts
 * ----------------------------------------------------------------
 */

/* "schema"."rel"."col" as the note names a column (schema when needed) */
static char *
np_colname(Oid relid, AttrNumber attno)
{
	char	   *rel = get_rel_name(relid);
	char	   *col = get_attname(relid, attno, true);

	if (rel == NULL || col == NULL)
		return pstrdup("a column");
	return psprintf("%s.%s", quote_identifier(rel), quote_identifier(col));
}

/*
 * The name of a unique index on exactly (attno) of relid whose equality
 * is the operator op: then "column = value" finds one row at most.  NULL
 * when there is none, or when rows of child tables are read too.
 */
static char *
np_unique_index(Oid relid, bool inh, AttrNumber attno, Oid op)
{
	Relation	rel;
	List	   *idx;
	ListCell   *lc;
	char	   *result = NULL;
	char		relkind = get_rel_relkind(relid);

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return NULL;
	/* a unique index of an inheritance parent says nothing of its children */
	if (relkind == RELKIND_RELATION && inh && has_subclass(relid))
		return NULL;
	rel = table_open(relid, AccessShareLock);
	idx = RelationGetIndexList(rel);
	foreach(lc, idx)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tup;
		Form_pg_index ind;

		tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		if (!HeapTupleIsValid(tup))
			continue;
		ind = (Form_pg_index) GETSTRUCT(tup);
		if (ind->indisunique && ind->indimmediate && ind->indisvalid &&
			ind->indnkeyatts == 1 && ind->indkey.values[0] == attno &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		{
			bool		isnull;
			Datum		d = SysCacheGetAttr(INDEXRELID, tup,
											Anum_pg_index_indclass, &isnull);
			oidvector  *indclass = (oidvector *) DatumGetPointer(d);

			/* the statement's equality is the index's */
			if (!isnull &&
				op_in_opfamily(op, get_opclass_family(indclass->values[0])))
				result = get_rel_name(indexoid);
		}
		ReleaseSysCache(tup);
		if (result != NULL)
			break;
	}
	table_close(rel, AccessShareLock);
	return result;
}

/* the type an array of this leaf holds: the column's, when no less exact */
static Oid
np_wider_type(Oid leaftype, Oid coltype)
{
	if (OidIsValid(coltype) && leaftype != coltype &&
		can_coerce_type(1, &leaftype, &coltype, COERCION_IMPLICIT))
		return coltype;
	return leaftype;
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
 * The table column a view's column is (a plain column of a table, through
 * views on views), so that a loop over a view (an ORM model mapped to a
 * view) is matched with its parent by the table's foreign keys.  False
 * when the column is not a view's plain column of a table.
 */
static bool
np_base_column(Oid *relid, AttrNumber *attno)
{
	Oid			r = *relid;
	AttrNumber	a = *attno;
	int			depth;

	for (depth = 0; depth < 8 && get_rel_relkind(r) == RELKIND_VIEW; depth++)
	{
		Relation	view = relation_open(r, AccessShareLock);
		Query	   *vq = get_view_query(view);
		TargetEntry *tle = get_tle_by_resno(vq->targetList, a);
		Var		   *v = tle != NULL ? (Var *) tle->expr : NULL;
		RangeTblEntry *rte = NULL;

		if (v != NULL && IsA(v, Var) && v->varlevelsup == 0 &&
			v->varattno > 0 && vq->setOperations == NULL &&
			vq->groupClause == NIL && !vq->hasAggs &&
			!vq->hasWindowFuncs && vq->groupingSets == NIL)
			rte = rt_fetch(v->varno, vq->rtable);
		if (rte != NULL && rte->rtekind == RTE_RELATION)
		{
			r = rte->relid;
			a = v->varattno;
		}
		else
			r = InvalidOid;
		relation_close(view, AccessShareLock);
		if (!OidIsValid(r))
			return false;
	}
	if (r == *relid || get_rel_relkind(r) == RELKIND_VIEW)
		return false;
	*relid = r;
	*attno = a;
	return true;
}

/*
 * Does parent column (prelid, pattno) feed the loop's key column
 * (lrelid, lattno)?  Foreign keys either way, the same column, or the
 * naming convention table.id / <table>_id; for a view's column, also those
 * of the table column it is.
 */
static bool np_column_feeds_rel(Oid prelid, AttrNumber pattno, Oid lrelid,
								AttrNumber lattno);

static bool
np_column_feeds(Oid prelid, AttrNumber pattno, Oid lrelid, AttrNumber lattno)
{
	bool		pview,
				lview;

	if (np_column_feeds_rel(prelid, pattno, lrelid, lattno))
		return true;
	pview = np_base_column(&prelid, &pattno);
	lview = np_base_column(&lrelid, &lattno);
	return (pview || lview) &&
		np_column_feeds_rel(prelid, pattno, lrelid, lattno);
}

/* np_column_feeds for two columns as they are named (no view resolved) */
static bool
np_column_feeds_rel(Oid prelid, AttrNumber pattno, Oid lrelid,
					AttrNumber lattno)
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

/* ----------------------------------------------------------------
 * Parameters of the new statement
 * ----------------------------------------------------------------
 */
static void
np_params_init(NpParams *pp, int cap)
{
	pp->n = 0;
	pp->nsubst = 0;
	pp->cap = cap + 8;
	pp->types = palloc(sizeof(Oid) * pp->cap);
	pp->from = palloc(sizeof(int) * pp->cap * 2);
	pp->to = palloc(sizeof(char *) * pp->cap * 2);
	initStringInfo(&pp->legend);
}

/* replace token $from of the deparsed text by to */
static void
np_subst_add(NpParams *pp, int from, const char *to)
{
	Assert(pp->nsubst < pp->cap * 2);
	pp->from[pp->nsubst] = from;
	pp->to[pp->nsubst] = pstrdup(to);
	pp->nsubst++;
}

/* a new parameter $n of the statement; returns n */
static int
np_params_new(NpParams *pp, Oid type)
{
	Assert(pp->n < pp->cap);
	pp->types[pp->n] = type;
	return ++pp->n;
}

/*
 * The loop's scalar parameter $k (the same in every execution, or used
 * where no array can stand) becomes $n of the new statement.
 */
static void
np_params_scalar(NpParams *pp, NpCtx *c, int k, int from)
{
	int			n = np_params_new(pp, c->ptypes[k - 1]);

	np_subst_add(pp, from, psprintf("$%d", n));
	appendStringInfo(&pp->legend,
					 "\n-- $%d (%s): the loop's $%d (the same in every execution)",
					 n, format_type_be(c->ptypes[k - 1]), k);
}

/*
 * Leaf i becomes array $n of the new statement: token NP_SENT_ARRAY + i
 * is written "$n::type[]", token NP_SENT_LEAF + i becomes ref.
 */
static void
np_params_leaf(NpParams *pp, NpCtx *c, int i, const char *ref)
{
	NpLeaf	   *l = &c->leaf[i];
	int			n = np_params_new(pp, l->arraytype);

	np_subst_add(pp, NP_SENT_ARRAY + i,
				 psprintf("$%d::%s", n, format_type_be(l->arraytype)));
	if (ref != NULL)
		np_subst_add(pp, NP_SENT_LEAF + i, ref);
	if (l->is_param)
		appendStringInfo(&pp->legend,
						 "\n-- $%d (%s): the loop's $%d of each execution, in order%s",
						 n, format_type_be(l->arraytype), l->paramid,
						 l->unknown ? " (whether it varied is not followed)" : "");
	else
		appendStringInfo(&pp->legend,
						 "\n-- $%d (%s): the constant of each execution, in order",
						 n, format_type_be(l->arraytype));
	if (l->role != NULL)
		appendStringInfo(&pp->legend, " (%s)", l->role);
}

/*
 * Number the new statement's parameters the loop's way: its $k in order
 * (each leaf an array, the others as they are, skip_param left out), then
 * the constants that varied, in text order.  refs[i]: what the sentinel of
 * leaf i becomes (NULL: it does not occur).
 */
static void
np_params_number(NpParams *pp, NpCtx *c, char **refs, int skip_param)
{
	int			k,
				i;

	for (k = 1; k <= c->maxparam; k++)
	{
		if (c->uses[k] == 0 || k == skip_param)
			continue;
		for (i = 0; i < c->nleaves; i++)
			if (c->leaf[i].is_param && c->leaf[i].paramid == k)
				break;
		if (i < c->nleaves)
			np_params_leaf(pp, c, i, refs ? refs[i] : NULL);
		else
			np_params_scalar(pp, c, k, k);
	}
	for (i = 0; i < c->nleaves; i++)
		if (!c->leaf[i].is_param)
			np_params_leaf(pp, c, i, refs ? refs[i] : NULL);
}

/* "unnest($31000, $31001)": the arrays of the leaves, as sentinels */
static char *
np_unnest_args(NpCtx *c)
{
	StringInfoData buf;
	int			k,
				i;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "unnest(");
	/* the order of np_params_number */
	for (k = 1; k <= c->maxparam; k++)
		for (i = 0; i < c->nleaves; i++)
			if (c->leaf[i].is_param && c->leaf[i].paramid == k &&
				c->uses[k] > 0)
			{
				appendStringInfo(&buf, "%s$%d", first ? "" : ", ",
								 NP_SENT_ARRAY + i);
				first = false;
			}
	for (i = 0; i < c->nleaves; i++)
		if (!c->leaf[i].is_param)
		{
			appendStringInfo(&buf, "%s$%d", first ? "" : ", ",
							 NP_SENT_ARRAY + i);
			first = false;
		}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* the column names of keys(...) / v(...), in the order of np_unnest_args */
static char *
np_unnest_names(NpCtx *c)
{
	StringInfoData buf;
	int			k,
				i;
	bool		first = true;

	initStringInfo(&buf);
	for (k = 1; k <= c->maxparam; k++)
		for (i = 0; i < c->nleaves; i++)
			if (c->leaf[i].is_param && c->leaf[i].paramid == k &&
				c->uses[k] > 0)
			{
				appendStringInfo(&buf, "%s%s", first ? "" : ", ",
								 quote_identifier(c->leaf[i].name));
				first = false;
			}
	for (i = 0; i < c->nleaves; i++)
		if (!c->leaf[i].is_param)
		{
			appendStringInfo(&buf, "%s%s", first ? "" : ", ",
							 quote_identifier(c->leaf[i].name));
			first = false;
		}
	return buf.data;
}

/* give every leaf a column name, unique among them */
static void
np_name_leaves(NpCtx *c)
{
	int			i,
				j,
				nconst = 0;

	for (i = 0; i < c->nleaves; i++)
	{
		NpLeaf	   *l = &c->leaf[i];
		char	   *base = NULL;
		int			suffix = 0;
		bool		taken;

		if (!l->is_param)
			nconst++;
		if (l->keyvar != NULL)
		{
			RangeTblEntry *rte = rt_fetch(l->keyvar->varno, c->q->rtable);

			if (rte->rtekind == RTE_RELATION)
				base = get_attname(rte->relid, l->keyvar->varattno, true);
		}
		else if (l->target > 0)
		{
			RangeTblEntry *rte = rt_fetch(c->q->resultRelation, c->q->rtable);

			base = get_attname(rte->relid, l->target, true);
		}
		if (base == NULL && l->clause != NULL)
			base = pstrdup(l->clause);
		if (base == NULL)
			base = l->is_param ? psprintf("p%d", l->paramid) :
				psprintf("c%d", nconst);
		l->name = base;
		do
		{
			taken = false;
			for (j = 0; j < i; j++)
				if (strcmp(c->leaf[j].name, l->name) == 0)
					taken = true;
			if (taken)
				l->name = psprintf("%s_%d", base, ++suffix);
		} while (taken);
	}
}

/* ----------------------------------------------------------------
 * What varied
 * ----------------------------------------------------------------
 */

/* make leaf for a parameter or constant node; -1 when there is no room */
static int
np_add_leaf(NpCtx *c, Node *node, bool unknown)
{
	NpLeaf	   *l;
	int			i = np_leaf_of(c, node);

	if (i >= 0)
		return i;
	if (c->nleaves >= NP_MAX_LEAVES)
		return -1;
	l = &c->leaf[c->nleaves];
	memset(l, 0, sizeof(NpLeaf));
	l->qual_index = -1;
	l->unknown = unknown;
	if (IsA(node, Param))
	{
		l->is_param = true;
		l->paramid = ((Param *) node)->paramid;
		l->type = c->ptypes[l->paramid - 1];
	}
	else
	{
		l->is_param = false;
		l->location = ((Const *) node)->location;
		l->type = ((Const *) node)->consttype;
	}
	return c->nleaves++;
}

/*
 * Find the values that varied: the parameters the run saw change (those
 * past the ones nplus1.c follows count as varying), or the constants that
 * differ between this text and the earlier one of the run.
 */
static bool
np_find_varying(NpCtx *c)
{
	int			k;

	for (k = 1; k <= c->maxparam; k++)
	{
		Param		p;
		bool		unknown = (k > NP_TRACK_PARAMS);

		if (c->uses[k] == 0)
			continue;
		if (!unknown &&
			(c->slot->vary_mask & (UINT64CONST(1) << (k - 1))) == 0)
			continue;
		memset(&p, 0, sizeof(p));
		p.xpr.type = T_Param;
		p.paramkind = PARAM_EXTERN;
		p.paramid = k;
		if (np_add_leaf(c, (Node *) &p, unknown) < 0)
			return false;
	}

	c->consts_known = true;
	if (c->nparams > 0)
		return true;			/* the text is the same in every execution */
	c->consts_known = false;
	c->consts_why = "its text is longer than 1 kB, so the constants that vary could not be told apart";
	if (c->slot->stash_len >= 0)
	{
		char	   *earlier = pnstrdup(c->slot->stash, c->slot->stash_len);
		Query	   *eq = np_analyze(earlier, NULL, 0);
		List	   *now = NIL,
				   *before = NIL;
		ListCell   *a,
				   *b;

		c->consts_why = "its texts differ in more than the values of their constants (a list of another length?)";
		if (eq == NULL || eq->commandType != c->q->commandType)
			return true;
		np_consts_walker((Node *) c->q, &now);
		np_consts_walker((Node *) eq, &before);
		if (list_length(now) != list_length(before))
			return true;
		forboth(a, now, b, before)
		{
			Const	   *x = (Const *) lfirst(a);
			Const	   *y = (Const *) lfirst(b);
			int16		typlen;
			bool		typbyval;

			if (x->consttype != y->consttype)
				return true;
			if (x->constisnull && y->constisnull)
				continue;
			get_typlenbyval(x->consttype, &typlen, &typbyval);
			if (x->constisnull != y->constisnull ||
				!datumIsEqual(x->constvalue, y->constvalue, typbyval, typlen))
			{
				if (x->location < 0 || np_add_leaf(c, (Node *) x, false) < 0)
				{
					c->consts_why = "too many of its constants vary";
					return true;
				}
			}
		}
		c->consts_known = true;
	}
	return true;
}

/* leaves in the order of the new statement's parameters */
static int
np_leaf_cmp(const void *a, const void *b)
{
	const NpLeaf *x = (const NpLeaf *) a;
	const NpLeaf *y = (const NpLeaf *) b;

	if (x->is_param != y->is_param)
		return x->is_param ? -1 : 1;
	if (x->is_param)
		return (x->paramid > y->paramid) - (x->paramid < y->paramid);
	return (x->location > y->location) - (x->location < y->location);
}

/* sort the leaves: parameters by number, then constants in text order */
static void
np_sort_leaves(NpCtx *c)
{
	qsort(c->leaf, c->nleaves, sizeof(NpLeaf), np_leaf_cmp);
}

/*
 * In an UPDATE sent with its values in the text, a constant that is the
 * whole new value of a column is a value of each row, as in an INSERT: two
 * texts of the run may share it while the others do not, so it is taken as
 * varying.  False when there is no room.
 */
static bool
np_update_values(NpCtx *c)
{
	ListCell   *lc;

	if (c->q->commandType != CMD_UPDATE || c->nparams > 0)
		return true;
	foreach(lc, c->q->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Node	   *e = np_strip((Node *) tle->expr);

		if (!tle->resjunk && IsA(e, Const) &&
			((Const *) e)->location >= 0 && np_add_leaf(c, e, false) < 0)
			return false;
	}
	return true;
}

/*
 * Mark the leaves that are the value of a "column = value" conjunct of the
 * top-level WHERE clause (the keys), and those that are the whole value of
 * a target column.
 */
static void
np_find_roles(NpCtx *c)
{
	ListCell   *lc;
	int			idx = -1;

	foreach(lc, c->quals)
	{
		Node	   *qual = (Node *) lfirst(lc);
		OpExpr	   *op;
		Node	   *l,
				   *r;
		Var		   *var;
		int			i;
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
		if (l && IsA(l, Var) && (i = np_leaf_of(c, r)) >= 0)
			var = (Var *) l;
		else if (r && IsA(r, Var) && (i = np_leaf_of(c, l)) >= 0)
			var = (Var *) r;
		else
			continue;
		if (var->varlevelsup != 0 || c->leaf[i].keyvar != NULL)
			continue;
		c->leaf[i].qual_index = idx;
		c->leaf[i].keyvar = var;
		c->leaf[i].keyop = op->opno;
	}

	/* the LIMIT and OFFSET of a SELECT */
	{
		int			i = np_leaf_of(c, np_strip(c->q->limitCount));

		if (i >= 0 && c->leaf[i].keyvar == NULL)
			c->leaf[i].clause = "limit";
		i = np_leaf_of(c, np_strip(c->q->limitOffset));
		if (i >= 0 && c->leaf[i].keyvar == NULL)
			c->leaf[i].clause = "offset";
	}

	if (c->q->commandType == CMD_UPDATE || c->q->commandType == CMD_INSERT)
	{
		foreach(lc, c->q->targetList)
		{
			TargetEntry *tle = (TargetEntry *) lfirst(lc);
			int			i;

			if (tle->resjunk)
				continue;
			i = np_leaf_of(c, np_strip((Node *) tle->expr));
			if (i >= 0 && c->leaf[i].target == 0)
				c->leaf[i].target = tle->resno;
		}
	}
}

/* all the values that vary, in parameter order; false when too many */
static bool
np_find_leaves(NpCtx *c)
{
	if (!np_find_varying(c) || !np_update_values(c))
		return false;
	np_sort_leaves(c);
	return true;
}

/* the array type of every leaf, and what the note says it is; false: none */
static bool
np_type_leaves(NpCtx *c)
{
	int			i;

	for (i = 0; i < c->nleaves; i++)
	{
		NpLeaf	   *l = &c->leaf[i];
		Oid			coltype = InvalidOid;

		if (l->keyvar != NULL)
		{
			RangeTblEntry *rte = rt_fetch(l->keyvar->varno, c->q->rtable);

			coltype = l->keyvar->vartype;
			if (rte->rtekind == RTE_RELATION)
				l->role = psprintf("the key, %s",
								   np_colname(rte->relid, l->keyvar->varattno));
			else
				l->role = pstrdup("the key");
		}
		else if (l->target > 0)
		{
			RangeTblEntry *rte = rt_fetch(c->q->resultRelation, c->q->rtable);

			coltype = get_atttype(rte->relid, l->target);
			l->role = psprintf("column %s",
							   quote_identifier(get_attname(rte->relid,
															l->target,
															false)));
		}
		else if (l->clause != NULL)
			l->role = psprintf("the %s", l->clause[0] == 'l' ? "LIMIT" : "OFFSET");
		l->elemtype = np_wider_type(l->type, coltype);
		l->arraytype = get_array_type(l->elemtype);
		if (!OidIsValid(l->arraytype))
		{
			c->reason = psprintf("there is no array type for type %s",
								 format_type_be(l->elemtype));
			return false;
		}
	}
	return true;
}

/* ----------------------------------------------------------------
 * The forms
 * ----------------------------------------------------------------
 */

/*
 * column = ANY ($n::type[]) in place of the key conjunct of leaf i
 * (SELECT, UPDATE, DELETE with one value that varies).  drop_limit: leave
 * out the LIMIT (a unique key); limit_param: its parameter, if one.
 */
static char *
np_build_any(NpCtx *c, int i, bool drop_limit, int limit_param,
			 StringInfo note)
{
	NpLeaf	   *l = &c->leaf[i];
	Query	   *q2 = np_mutate(c);
	List	   *quals;
	OpExpr	   *op;
	Node	   *colside;
	HeapTuple	tup;
	Form_pg_operator opform;
	List	   *opname;
	ParseState *pstate;
	Expr	   *saop;
	NpParams	pp;
	char	   *sql;

	quals = list_copy(make_ands_implicit((Expr *) q2->jointree->quals));
	op = (OpExpr *) list_nth(quals, l->qual_index);
	colside = np_strip(linitial(op->args));
	if (colside == NULL || !IsA(colside, Var))
		colside = np_strip(lsecond(op->args));
	if (colside == NULL || !IsA(colside, Var))
		return NULL;

	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(l->keyop));
	if (!HeapTupleIsValid(tup))
		return NULL;
	opform = (Form_pg_operator) GETSTRUCT(tup);
	opname = list_make2(makeString(get_namespace_name(opform->oprnamespace)),
						makeString(pstrdup(NameStr(opform->oprname))));
	ReleaseSysCache(tup);
	pstate = make_parsestate(NULL);
	saop = make_scalar_array_op(pstate, opname, true, colside,
								(Node *) np_param(NP_SENT_ARRAY + i,
												  l->arraytype), -1);
	free_parsestate(pstate);
	list_nth_cell(quals, l->qual_index)->ptr_value = saop;
	q2->jointree->quals = (Node *) make_ands_explicit(quals);
	if (drop_limit)
		q2->limitCount = NULL;	/* limitOption is read only with a count */

	np_params_init(&pp, c->maxparam + c->nleaves);
	np_params_number(&pp, c, NULL, limit_param);
	sql = np_subst(np_deparse(q2), &pp);
	if (sql == NULL || !np_valid(sql, pp.types, pp.n))
		return NULL;
	appendStringInfoString(note, pp.legend.data);
	return sql;
}

/*
 * A LIMIT that can be left out of the ANY form: the statement reads one
 * table by a key proven unique, so each key finds one row at most, and the
 * LIMIT lets at least one through (a constant, or a parameter that stayed
 * the same and was 1 or more: the note does not show its value).  Returns
 * the unique index's name, and the LIMIT's parameter in *param.
 */
static char *
np_droppable_limit(NpCtx *c, NpLeaf *l, int *param)
{
	Query	   *q = c->q;
	Node	   *lim = np_strip(q->limitCount);
	RangeTblRef *rtr;
	RangeTblEntry *rte;

	*param = 0;
	if (lim == NULL || q->limitOffset != NULL ||
		q->limitOption != LIMIT_OPTION_COUNT || q->hasAggs ||
		q->groupClause != NIL || q->groupingSets != NIL ||
		q->havingQual != NULL || q->hasWindowFuncs ||
		q->distinctClause != NIL || q->setOperations != NULL ||
		q->hasTargetSRFs)
		return NULL;
	if (list_length(q->jointree->fromlist) != 1 ||
		!IsA(linitial(q->jointree->fromlist), RangeTblRef))
		return NULL;
	rtr = (RangeTblRef *) linitial(q->jointree->fromlist);
	if (rtr->rtindex != l->keyvar->varno)
		return NULL;
	rte = rt_fetch(rtr->rtindex, q->rtable);
	if (rte->rtekind != RTE_RELATION)
		return NULL;

	if (IsA(lim, Const))
	{
		Const	   *k = (Const *) lim;

		int64		v;

		if (!k->constisnull)
		{
			if (k->consttype == INT8OID)
				v = DatumGetInt64(k->constvalue);
			else if (k->consttype == INT4OID)
				v = DatumGetInt32(k->constvalue);
			else if (k->consttype == INT2OID)
				v = DatumGetInt16(k->constvalue);
			else
				return NULL;
			if (v < 1)
				return NULL;
		}
	}
	else if (IsA(lim, Param) && ((Param *) lim)->paramkind == PARAM_EXTERN)
	{
		Param	   *p = (Param *) lim;
		ParamExternData *prm;
		int64		v;

		if (np_leaf_of(c, lim) >= 0 || c->uses[p->paramid] != 1 ||
			c->params == NULL || p->paramid > c->params->numParams)
			return NULL;
		prm = &c->params->params[p->paramid - 1];
		if (!prm->isnull)
		{
			if (prm->ptype == INT8OID)
				v = DatumGetInt64(prm->value);
			else if (prm->ptype == INT4OID)
				v = DatumGetInt32(prm->value);
			else if (prm->ptype == INT2OID)
				v = DatumGetInt16(prm->value);
			else
				return NULL;
			if (v < 1)
				return NULL;
		}
		*param = p->paramid;
	}
	else
		return NULL;
	return np_unique_index(rte->relid, rte->inh, l->keyvar->varattno,
						   l->keyop);
}

/* is the SELECT a plain filter (nothing that works per execution)? */
static bool
np_select_is_plain(Query *q)
{
	return q->setOperations == NULL && !q->hasAggs &&
		q->groupClause == NIL && q->groupingSets == NIL &&
		q->havingQual == NULL && !q->hasWindowFuncs &&
		q->distinctClause == NIL && q->limitCount == NULL &&
		q->limitOffset == NULL;
}

/* what applies per execution in the loop's SELECT, for the note */
static char *
np_per_key_features(Query *q)
{
	StringInfoData buf;

	initStringInfo(&buf);
#define NP_FEATURE(cond, name) \
	if (cond) appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", name)
	NP_FEATURE(q->limitCount != NULL, "LIMIT");
	NP_FEATURE(q->limitOffset != NULL, "OFFSET");
	NP_FEATURE(q->distinctClause != NIL, q->hasDistinctOn ? "DISTINCT ON" : "DISTINCT");
	NP_FEATURE(q->hasAggs, "aggregates");
	NP_FEATURE(q->groupClause != NIL || q->groupingSets != NIL, "GROUP BY");
	NP_FEATURE(q->havingQual != NULL, "HAVING");
	NP_FEATURE(q->hasWindowFuncs, "window functions");
	NP_FEATURE(q->setOperations != NULL, "UNION/INTERSECT/EXCEPT");
	NP_FEATURE(q->sortClause != NIL, "ORDER BY");
	NP_FEATURE(q->rowMarks != NIL, "FOR UPDATE/SHARE");
#undef NP_FEATURE
	return buf.data;
}

/*
 * The loop's SELECT run once per element of the arrays of what varied:
 * exact for any statement, and each row says which key it belongs to.
 */
static char *
np_build_lateral(NpCtx *c, StringInfo note)
{
	Query	   *q2 = np_mutate(c);
	char	   *loopsql = np_deparse(q2);
	char	   *keys = np_free_alias("keys", loopsql, NULL);
	char	   *batch = np_free_alias("batch", loopsql, NULL);
	char	  **refs = palloc0(sizeof(char *) * c->nleaves);
	NpParams	pp;
	char	   *sql;
	int			i;

	for (i = 0; i < c->nleaves; i++)
		refs[i] = psprintf("%s.%s", quote_identifier(keys),
						   quote_identifier(c->leaf[i].name));
	np_params_init(&pp, c->maxparam + c->nleaves);
	np_params_number(&pp, c, refs, 0);
	sql = psprintf("SELECT %s.*, %s.* FROM %s AS %s(%s) CROSS JOIN LATERAL (%s) AS %s",
				   quote_identifier(keys), quote_identifier(batch),
				   np_unnest_args(c), quote_identifier(keys),
				   np_unnest_names(c), loopsql, quote_identifier(batch));
	sql = np_subst(sql, &pp);
	if (sql == NULL || !np_valid(sql, pp.types, pp.n))
		return NULL;
	appendStringInfoString(note, pp.legend.data);
	return sql;
}

/*
 * The JOIN that replaces the loop: the parent query as a derived table,
 * joined laterally to the loop statement whose key is now the parent's
 * column.  NULL when the parent's output does not feed the key.
 */
static char *
np_build_join(NpCtx *c, int li, NpParent *parent, StringInfo note)
{
	NpLeaf	   *l = &c->leaf[li];
	Query	   *pq,
			   *q2;
	RangeTblEntry *lrte;
	ListCell   *lc;
	TargetEntry *feed = NULL;
	char	   *psql,
			   *lsql,
			   *palias,
			   *balias,
			   *sql;
	StringInfoData buf;
	NpParams	pp;
	int			delta,
				pmax = 0,
				k;

	if (parent == NULL || parent->len < 0 || parent->nparams < 0)
		return NULL;
	pq = np_analyze(parent->txt, parent->ptypes, parent->nparams);
	if (pq == NULL || pq->commandType != CMD_SELECT)
		return NULL;

	lrte = rt_fetch(l->keyvar->varno, c->q->rtable);
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
							l->keyvar->varattno))
		{
			feed = tle;
			break;
		}
	}
	if (feed == NULL)
		return NULL;
	/* the output names must be unique to be referenced */
	foreach(lc, pq->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (tle != feed && !tle->resjunk && tle->resname != NULL &&
			strcmp(tle->resname, feed->resname) == 0)
			return NULL;
	}
	foreach(lc, c->q->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		ListCell   *lc2;

		if (tle->resjunk)
			continue;
		if (tle->resname == NULL)
			return NULL;
		for_each_cell(lc2, c->q->targetList, lnext(c->q->targetList, lc))
		{
			TargetEntry *t2 = (TargetEntry *) lfirst(lc2);

			if (!t2->resjunk && t2->resname != NULL &&
				strcmp(t2->resname, tle->resname) == 0)
				return NULL;
		}
	}

	/* the parent's parameters, numbered apart, come first */
	np_max_param_walker((Node *) pq, &pmax);
	if (pmax > parent->nparams)
		return NULL;
	delta = NP_SENT_PARENT;
	np_shift_params_walker((Node *) pq, &delta);
	psql = np_deparse(pq);
	q2 = np_mutate(c);
	lsql = np_deparse(q2);
	palias = np_free_alias("parent", psql, lsql);
	balias = np_free_alias("batch", psql, lsql);

	np_params_init(&pp, parent->nparams + c->maxparam);
	for (k = 1; k <= parent->nparams; k++)
	{
		int			n = np_params_new(&pp, parent->ptypes[k - 1]);

		np_subst_add(&pp, NP_SENT_PARENT + k, psprintf("$%d", n));
		appendStringInfo(&pp.legend, "\n-- $%d (%s): the parent's $%d", n,
						 format_type_be(parent->ptypes[k - 1]), k);
	}
	for (k = 1; k <= c->maxparam; k++)
		if (c->uses[k] > 0 && !(l->is_param && l->paramid == k))
			np_params_scalar(&pp, c, k, k);
	np_subst_add(&pp, NP_SENT_LEAF + li,
				 psprintf("%s.%s", quote_identifier(palias),
						  quote_identifier(feed->resname)));

	/*
	 * The select list: the parent's columns, then the loop's, renamed after
	 * the loop's table where a name is taken already.
	 */
	initStringInfo(&buf);
	appendStringInfo(&buf, "SELECT %s.*", quote_identifier(palias));
	foreach(lc, c->q->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		ListCell   *lc2;
		bool		taken = false;

		if (tle->resjunk)
			continue;
		foreach(lc2, pq->targetList)
		{
			TargetEntry *ptle = (TargetEntry *) lfirst(lc2);

			if (!ptle->resjunk && ptle->resname != NULL &&
				strcmp(ptle->resname, tle->resname) == 0)
				taken = true;
		}
		appendStringInfo(&buf, ", %s.%s", quote_identifier(balias),
						 quote_identifier(tle->resname));
		if (taken)
			appendStringInfo(&buf, " AS %s",
							 quote_identifier(psprintf("%s_%s",
													   get_rel_name(lrte->relid),
													   tle->resname)));
	}
	appendStringInfo(&buf, " FROM (%s) AS %s LEFT JOIN LATERAL (%s) AS %s ON true",
					 psql, quote_identifier(palias), lsql,
					 quote_identifier(balias));
	sql = np_subst(buf.data, &pp);
	if (sql == NULL || !np_valid(sql, pp.types, pp.n))
		return NULL;
	appendStringInfoString(note,
						   "-- or, instead of looping over the rows of the parent query, join to it"
						   " (one row per row of the parent and row of the loop; parents the loop found nothing for keep NULLs):");
	appendStringInfoString(note, pp.legend.data);
	return sql;
}

/* SELECT loops: the batched statement and the JOIN */
static void
np_build_select(NpCtx *c, NpParent *parent, NpRewrite *out,
				StringInfo note, StringInfo jnote)
{
	Query	   *q = c->q;
	NpLeaf	   *l = c->nleaves == 1 ? &c->leaf[0] : NULL;
	bool		one_key = (l != NULL && l->keyvar != NULL &&
						   (!l->is_param || c->uses[l->paramid] == 1));
	char	   *uniq = NULL;
	int			limit_param = 0;

	if (q->hasModifyingCTE)
	{
		c->reason = pstrdup("it changes data in a WITH clause");
		return;
	}
	if (one_key && !np_select_is_plain(q))
		uniq = np_droppable_limit(c, l, &limit_param);
	if (one_key && (np_select_is_plain(q) || uniq != NULL))
	{
		appendStringInfoString(note,
							   "-- one statement for all the keys of the loop (pass them as one array, each key once):");
		if (uniq != NULL)
			appendStringInfo(note,
							 "\n-- its LIMIT is left out: %s is unique (index %s), so each key finds one row at most",
							 np_colname(rt_fetch(l->keyvar->varno, q->rtable)->relid,
										l->keyvar->varattno),
							 quote_identifier(uniq));
		else if (q->sortClause != NIL)
			appendStringInfoString(note,
								   "\n-- the rows of all the keys come in the loop's ORDER BY, so the rows of each key keep their order");
		if (q->rowMarks != NIL)
			appendStringInfoString(note,
								   "\n-- it locks the rows the loop locked, all in one statement");
		out->batched = np_build_any(c, 0, uniq != NULL, limit_param, note);
		if (out->batched == NULL)
			resetStringInfo(note);	/* the per-key form below will do */
	}
	if (out->batched == NULL)
	{
		char	   *feat = np_per_key_features(q);

		appendStringInfoString(note,
							   "-- one statement for all the executions of the loop: it runs the loop's statement once per element of the arrays");
		if (feat[0] != '\0')
			appendStringInfo(note, " (its %s apply to each, as in the loop)",
							 feat);
		appendStringInfoString(note,
							   "; each row: what varied (the keys), then the loop's columns:");
		out->batched = np_build_lateral(c, note);
	}
	if (out->batched == NULL)
	{
		resetStringInfo(note);
		c->reason = pstrdup("the rewritten statement did not pass the parser");
	}

	if (l != NULL && l->keyvar != NULL)
		out->joined = np_build_join(c, 0, parent, jnote);
}

/*
 * The arrays' FROM item for UPDATE and DELETE: an RTE made by analyzing
 * "SELECT FROM unnest($1::t1[], ...) AS alias(names)", its parameters
 * renumbered as the sentinels of the leaves' arrays.
 */
static RangeTblEntry *
np_unnest_rte(NpCtx *c, const char *alias)
{
	StringInfoData sql;
	Oid		   *types = palloc(sizeof(Oid) * (c->nleaves + 1));
	int		   *order = palloc(sizeof(int) * (c->nleaves + 1));
	int			n = 0,
				k,
				i;
	Query	   *hq;
	RangeTblEntry *rte;
	ListCell   *lc;

	for (k = 1; k <= c->maxparam; k++)
		for (i = 0; i < c->nleaves; i++)
			if (c->leaf[i].is_param && c->leaf[i].paramid == k &&
				c->uses[k] > 0)
				order[n++] = i;
	for (i = 0; i < c->nleaves; i++)
		if (!c->leaf[i].is_param)
			order[n++] = i;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT FROM unnest(");
	for (i = 0; i < n; i++)
	{
		types[i] = c->leaf[order[i]].arraytype;
		appendStringInfo(&sql, "%s$%d::%s", i ? ", " : "", i + 1,
						 format_type_be(types[i]));
	}
	appendStringInfo(&sql, ") AS %s(%s)", quote_identifier(alias),
					 np_unnest_names(c));
	hq = np_analyze(sql.data, types, n);
	if (hq == NULL || list_length(hq->rtable) != 1)
		return NULL;
	rte = (RangeTblEntry *) linitial(hq->rtable);
	if (rte->rtekind != RTE_FUNCTION)
		return NULL;
	foreach(lc, rte->functions)
	{
		RangeTblFunction *f = (RangeTblFunction *) lfirst(lc);
		FuncExpr   *fe = (FuncExpr *) f->funcexpr;
		Node	   *arg;

		if (!IsA(fe, FuncExpr) || list_length(fe->args) != 1)
			return NULL;
		arg = linitial(fe->args);
		if (!IsA(arg, Param))
			return NULL;
		i = ((Param *) arg)->paramid;
		((Param *) arg)->paramid = NP_SENT_ARRAY + order[i - 1];
	}
	return rte;
}


/* UPDATE and DELETE loops: the one statement, or NULL and c->reason */
static char *
np_build_modify(NpCtx *c, StringInfo note)
{
	Query	   *q = c->q;
	RangeTblEntry *target = rt_fetch(q->resultRelation, q->rtable);
	bool		upd = (q->commandType == CMD_UPDATE);
	const char *verb = upd ? "UPDATE" : "DELETE";
	NpReads		r;
	Query	   *q2;
	RangeTblEntry *rte;
	RangeTblRef *rtr;
	char	   *alias,
			   *sql;
	char	  **refs;
	NpParams	pp;
	int			keys = 0,
				i;

	/* a key must be a column of the table changed */
	for (i = 0; i < c->nleaves; i++)
	{
		if (c->leaf[i].keyvar != NULL &&
			c->leaf[i].keyvar->varno != q->resultRelation)
		{
			c->leaf[i].keyvar = NULL;
			c->leaf[i].qual_index = -1;
			c->leaf[i].role = NULL;
		}
		if (c->leaf[i].keyvar != NULL)
			keys++;
	}
	if (keys == 0)
	{
		c->reason = psprintf("no \"column = value\" condition of its WHERE clause takes a value that varied, so the rows of two executions may overlap and one %s would not do the same",
							 verb);
		return NULL;
	}
	r.relid = target->relid;
	r.top = q;
	if (np_reads_rel_walker((Node *) q, &r))
	{
		c->reason = psprintf("it reads the table it changes: each execution sees what the ones before it changed, one %s would not",
							 verb);
		return NULL;
	}
	if (q->hasModifyingCTE)
	{
		c->reason = pstrdup("it changes data in a WITH clause");
		return NULL;
	}

	appendStringInfo(note,
					 "-- one %s for all the rows of the loop (arrays of the same length, one element per execution; each key once):",
					 verb);
	if (q->returningList != NIL)
		appendStringInfoString(note,
							   "\n-- RETURNING gives the rows of all the executions together");

	if (c->nleaves == 1 &&
		(!c->leaf[0].is_param || c->uses[c->leaf[0].paramid] == 1))
		return np_build_any(c, 0, false, 0, note);

	/* FROM (USING) unnest(arrays) AS v(...), each leaf read from v */
	q2 = np_mutate(c);
	alias = np_free_alias("v", np_deparse(q2), NULL);
	rte = np_unnest_rte(c, alias);
	if (rte == NULL)
		return NULL;
	q2->rtable = lappend(list_copy(q2->rtable), rte);
	rtr = makeNode(RangeTblRef);
	rtr->rtindex = list_length(q2->rtable);
	q2->jointree->fromlist = lappend(list_copy(q2->jointree->fromlist), rtr);
	refs = palloc0(sizeof(char *) * c->nleaves);
	for (i = 0; i < c->nleaves; i++)
		refs[i] = psprintf("%s.%s", quote_identifier(alias),
						   quote_identifier(c->leaf[i].name));
	np_params_init(&pp, c->maxparam + c->nleaves);
	np_params_number(&pp, c, refs, 0);
	sql = np_subst(np_deparse(q2), &pp);
	if (sql == NULL || !np_valid(sql, pp.types, pp.n))
		return NULL;
	appendStringInfoString(note, pp.legend.data);
	return sql;
}

/*
 * A loop of multi-row INSERT ... VALUES: one array per column, the values
 * of every row of every execution in order.  Each column must be a plain
 * value (a parameter or a constant) in every row, or DEFAULT in every row.
 */
static char *
np_build_insert_rows(NpCtx *c, RangeTblEntry *vrte, StringInfo note)
{
	Query	   *q = c->q;
	RangeTblEntry *target = rt_fetch(q->resultRelation, q->rtable);
	int			ncols = list_length((List *) linitial(vrte->values_lists));
	bool	   *isdefault = palloc0(sizeof(bool) * ncols);
	StringInfoData *sources = palloc(sizeof(StringInfoData) * ncols);
	int		   *vuses = palloc0(sizeof(int) * (c->maxparam + 1));
	NpCtx		vc;
	Query	   *q2;
	List	   *tl = NIL;
	ListCell   *lc,
			   *lc2;
	NpParams	pp;
	StringInfoData args;
	char	   *sql;
	int			vstart,
				vinner,
				vend,
				j,
				k;

	if (q->hasModifyingCTE)
	{
		c->reason = pstrdup("it changes data in a WITH clause");
		return NULL;
	}
	for (j = 0; j < ncols; j++)
		initStringInfo(&sources[j]);
	for (j = 0; j < ncols; j++)
	{
		int			defaults = 0,
					values = 0;
		bool		consts = false;

		foreach(lc, vrte->values_lists)
		{
			Node	   *e = np_strip((Node *) list_nth((List *) lfirst(lc), j));

			if (IsA(e, SetToDefault))
				defaults++;
			else if (IsA(e, Param) &&
					 ((Param *) e)->paramkind == PARAM_EXTERN)
			{
				values++;
				appendStringInfo(&sources[j], "%s$%d",
								 sources[j].len ? ", " : "",
								 ((Param *) e)->paramid);
			}
			else if (IsA(e, Const))
			{
				values++;
				consts = true;
			}
			else
			{
				c->reason = psprintf("value %d of its rows is an expression: one array per column cannot stand for it",
									 j + 1);
				return NULL;
			}
		}
		if (defaults > 0 && values > 0)
		{
			c->reason = psprintf("value %d of its rows is DEFAULT in some rows and not in others",
								 j + 1);
			return NULL;
		}
		isdefault[j] = (defaults > 0);
		if (consts)
		{
			resetStringInfo(&sources[j]);
			appendStringInfoString(&sources[j],
								   "the values of its rows (constants)");
		}
		else
		{
			char	   *s = psprintf("the loop's %s", sources[j].data);

			resetStringInfo(&sources[j]);
			appendStringInfoString(&sources[j], s);
		}
	}

	/* parameters are used in the VALUES lists only */
	memset(&vc, 0, sizeof(vc));
	vc.maxparam = c->maxparam;
	vc.uses = vuses;
	np_count_params_walker((Node *) vrte->values_lists, &vc);
	for (k = 1; k <= c->maxparam; k++)
		if (vuses[k] != c->uses[k])
		{
			c->reason = psprintf("its $%d is used outside its VALUES lists",
								 k);
			return NULL;
		}

	/* INSERT INTO t (the columns that are not DEFAULT) VALUES (one row) */
	q2 = copyObject(q);
	foreach(lc, q2->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_VALUES)
			rte->values_lists = list_make1(linitial(rte->values_lists));
	}
	np_params_init(&pp, ncols);
	initStringInfo(&args);
	foreach(lc, q2->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Var		   *v = (Var *) np_strip((Node *) tle->expr);
		List	   *first;
		Oid			elem,
					arr;
		int			n;

		if (tle->resjunk)
			continue;
		if (!IsA(v, Var) || v->varattno < 1 || v->varattno > ncols)
			return NULL;
		j = v->varattno - 1;
		if (isdefault[j])
			continue;
		tl = lappend(tl, tle);
		first = (List *) linitial(vrte->values_lists);
		elem = np_wider_type(exprType(list_nth(first, j)),
							 get_atttype(target->relid, tle->resno));
		arr = get_array_type(elem);
		if (!OidIsValid(arr))
		{
			c->reason = psprintf("there is no array type for type %s",
								 format_type_be(elem));
			return NULL;
		}
		n = np_params_new(&pp, arr);
		appendStringInfo(&args, "%s$%d::%s", n > 1 ? ", " : "", n,
						 format_type_be(arr));
		appendStringInfo(&pp.legend,
						 "\n-- $%d (%s): column %s: %s of each execution, in order",
						 n, format_type_be(arr),
						 quote_identifier(get_attname(target->relid,
													  tle->resno, false)),
						 sources[j].data);
	}
	if (tl == NIL)
	{
		c->reason = pstrdup("every column takes its default");
		return NULL;
	}
	/* the junk entries stay */
	foreach(lc2, q2->targetList)
	{
		if (((TargetEntry *) lfirst(lc2))->resjunk)
			tl = lappend(tl, lfirst(lc2));
	}
	q2->targetList = tl;
	sql = np_deparse(q2);
	if (!np_find_values(sql, &vstart, &vinner, &vend))
		return NULL;
	sql = psprintf("%.*sSELECT * FROM unnest(%s)%s", vstart, sql, args.data,
				   sql + vend + 1);
	if (!np_valid(sql, pp.types, pp.n))
		return NULL;
	appendStringInfoString(note,
						   "-- one INSERT for all the rows of the loop (one array per column, the rows of every execution in order), or COPY:");
	if (q->onConflict != NULL && q->onConflict->action == ONCONFLICT_UPDATE)
		appendStringInfoString(note,
							   "\n-- the rows must not conflict with each other: ON CONFLICT DO UPDATE cannot change a row twice in one statement");
	if (q->returningList != NIL)
		appendStringInfoString(note,
							   "\n-- RETURNING gives one row per row inserted");
	appendStringInfoString(note, pp.legend.data);
	return sql;
}

/* does a tree hold a constant outside the whole values of the columns? */
static bool
np_has_inner_const_walker(Node *node, void *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Const))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, np_has_inner_const_walker,
								 ctx, 0);
	return expression_tree_walker(node, np_has_inner_const_walker, ctx);
}

/* INSERT loops: INSERT ... SELECT * FROM unnest(one array per column) */
static char *
np_build_insert(NpCtx *c, StringInfo note)
{
	Query	   *q = c->q;
	RangeTblEntry *vrte = NULL;
	ListCell   *lc;
	Query	   *q2;
	List	   *tl = NIL;
	char	   *sql,
			   *alias,
			   *inner,
			   *repl;
	char	  **refs;
	StringInfoData star;
	NpParams	pp;
	int			vstart,
				vinner,
				vend,
				k,
				i;
	bool		first = true;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY)
		{
			c->reason = pstrdup("its rows come from a query (INSERT ... SELECT): make that query cover all the keys instead (WHERE key = ANY($1))");
			return NULL;
		}
		if (rte->rtekind == RTE_VALUES)
			vrte = rte;
	}
	if (vrte != NULL)
		return np_build_insert_rows(c, vrte, note);
	if (q->hasModifyingCTE)
	{
		c->reason = pstrdup("it changes data in a WITH clause");
		return NULL;
	}

	/* the whole value of a column is a value of each row: an array */
	foreach(lc, q->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Node	   *e = np_strip((Node *) tle->expr);

		if (tle->resjunk)
			continue;
		if ((IsA(e, Param) && ((Param *) e)->paramkind == PARAM_EXTERN) ||
			(IsA(e, Const) && ((Const *) e)->location >= 0))
		{
			if (np_add_leaf(c, e, false) < 0)
			{
				c->reason = pstrdup("too many of its values vary");
				return NULL;
			}
		}
		else if (!c->consts_known && !IsA(e, SetToDefault) &&
				 np_has_inner_const_walker(e, NULL))
		{
			c->reason = pstrdup(c->consts_why);
			return NULL;
		}
	}
	if (c->nleaves == 0)
	{
		c->reason = pstrdup("none of its values varies");
		return NULL;
	}
	if (np_has_leaf(c, (Node *) q->onConflict))
	{
		c->reason = pstrdup("a value that varies is used in its ON CONFLICT clause: write EXCLUDED.column there instead");
		return NULL;
	}
	if (np_has_leaf(c, (Node *) q->returningList))
	{
		c->reason = pstrdup("a value that varies is used in its RETURNING list");
		return NULL;
	}
	np_sort_leaves(c);
	np_find_roles(c);
	if (!np_type_leaves(c))
		return NULL;
	np_name_leaves(c);

	/* the columns that are not DEFAULT, with the leaves as sentinels */
	q2 = np_mutate(c);
	foreach(lc, q2->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk && IsA(np_strip((Node *) tle->expr), SetToDefault))
			continue;
		tl = lappend(tl, tle);
	}
	if (tl == NIL)
	{
		c->reason = pstrdup("every column takes its default");
		return NULL;
	}
	q2->targetList = tl;
	sql = np_deparse(q2);
	if (!np_find_values(sql, &vstart, &vinner, &vend))
		return NULL;
	inner = pnstrdup(sql + vinner, vend - vinner);

	/* SELECT * when the values are the arrays, each once, in order */
	initStringInfo(&star);
	for (k = 1; k <= c->maxparam; k++)
		for (i = 0; i < c->nleaves; i++)
			if (c->leaf[i].is_param && c->leaf[i].paramid == k &&
				c->uses[k] > 0)
			{
				appendStringInfo(&star, "%s$%d", first ? "" : ", ",
								 NP_SENT_LEAF + i);
				first = false;
			}
	for (i = 0; i < c->nleaves; i++)
		if (!c->leaf[i].is_param)
		{
			appendStringInfo(&star, "%s$%d", first ? "" : ", ",
							 NP_SENT_LEAF + i);
			first = false;
		}
	alias = np_free_alias("v", sql, NULL);
	refs = palloc0(sizeof(char *) * c->nleaves);
	for (i = 0; i < c->nleaves; i++)
		refs[i] = psprintf("%s.%s", quote_identifier(alias),
						   quote_identifier(c->leaf[i].name));
	if (strcmp(star.data, inner) == 0)
		repl = psprintf("SELECT * FROM %s", np_unnest_args(c));
	else
		repl = psprintf("SELECT %s FROM %s AS %s(%s)", inner,
						np_unnest_args(c), quote_identifier(alias),
						np_unnest_names(c));
	sql = psprintf("%.*s%s%s", vstart, sql, repl, sql + vend + 1);
	np_params_init(&pp, c->maxparam + c->nleaves);
	np_params_number(&pp, c, refs, 0);
	sql = np_subst(sql, &pp);
	if (sql == NULL || !np_valid(sql, pp.types, pp.n))
		return NULL;
	appendStringInfoString(note,
						   "-- one INSERT for all the rows of the loop (one array per column, one element per execution, in order), or COPY:");
	if (q->onConflict != NULL && q->onConflict->action == ONCONFLICT_UPDATE)
		appendStringInfoString(note,
							   "\n-- the rows must not conflict with each other: ON CONFLICT DO UPDATE cannot change a row twice in one statement");
	if (q->returningList != NIL)
		appendStringInfoString(note,
							   "\n-- RETURNING gives one row per row inserted");
	appendStringInfoString(note, pp.legend.data);
	return sql;
}

/* the note when no statement is offered: why, and what to do instead */
static char *
np_refusal(NpCtx *c, CmdType cmd)
{
	const char *what;

	switch (cmd)
	{
		case CMD_INSERT:
			what = "insert the rows with one multi-row INSERT ... VALUES (...), (...) or with COPY instead of one INSERT per row";
			break;
		case CMD_UPDATE:
		case CMD_DELETE:
			what = "change the rows with one statement that names them by key (WHERE key = ANY($1), or FROM unnest($1, $2) AS v(key, value) WHERE t.key = v.key), or keep the loop";
			break;
		default:
			what = "load the rows of all the keys at once (the ORM's eager loading, or WHERE key = ANY($1)), or keep the loop";
			break;
	}
	return psprintf("-- no single statement replaces this loop safely: %s\n-- %s",
					c->reason ? c->reason : "the rewritten statement did not pass the parser",
					what);
}

/*
 * Build the rewrite of the loop statement text (and the JOIN with its
 * parent), each with its note.  May throw; the caller catches.
 */
void
sa_np_build_rewrite(NpSlot *slot, const char *txt, int len,
					ParamListInfo params, NpParent *parent, NpRewrite *out)
{
	NpCtx		c;
	StringInfoData note,
				jnote;
	CmdType		cmd;
	int			i = 0;

	memset(&c, 0, sizeof(c));
	initStringInfo(&note);
	initStringInfo(&jnote);
	c.slot = slot;
	c.text = pnstrdup(txt, len);
	c.params = params;

	/*
	 * A statement inside a PL/pgSQL function refers to its variables: its
	 * parameters come through a hook, or are copied with the function's other
	 * variables (some without a type), or its text does not analyze on its
	 * own.
	 */
	if (params != NULL && params->numParams > 0)
	{
		c.nparams = params->numParams;
		c.ptypes = palloc(sizeof(Oid) * c.nparams);
		for (i = 0; i < c.nparams; i++)
			c.ptypes[i] = params->params[i].ptype;
		for (i = 0; i < c.nparams; i++)
			if (!OidIsValid(c.ptypes[i]))
				break;
	}
	if ((params != NULL && params->numParams > 0 &&
		 (params->paramFetch != NULL || i < c.nparams)) ||
		(c.q = np_try_analyze(c.text, c.ptypes, c.nparams)) == NULL)
	{
		out->batched_note = pstrdup("-- no single statement replaces this loop safely: its values are variables of the function or procedure it runs in\n-- have the function run one statement for all the keys (WHERE key = ANY(array))");
		return;
	}
	cmd = c.q->commandType;
	np_max_param_walker((Node *) c.q, &c.maxparam);
	if (c.maxparam > c.nparams)
		return;
	c.uses = palloc0(sizeof(int) * (c.maxparam + 1));
	np_count_params_walker((Node *) c.q, &c);
	if (c.q->jointree != NULL && c.q->jointree->quals != NULL)
		c.quals = make_ands_implicit((Expr *) c.q->jointree->quals);

	if (c.maxparam >= NP_SENT_LEAF)
		c.reason = pstrdup("it has too many parameters");
	else if (!np_find_leaves(&c))
		c.reason = pstrdup("too many of its values vary");
	else if (cmd == CMD_INSERT)
		out->batched = np_build_insert(&c, &note);
	else if (!c.consts_known)
		c.reason = pstrdup(c.consts_why);
	else if (c.nleaves == 0)
		c.reason = pstrdup("its executions differ only outside its values (in comments or spacing): it is the same statement again, run it once and reuse the result");
	else
	{
		np_find_roles(&c);
		if (np_type_leaves(&c))
		{
			np_name_leaves(&c);
			if (cmd == CMD_SELECT)
				np_build_select(&c, parent, out, &note, &jnote);
			else
				out->batched = np_build_modify(&c, &note);
		}
	}

	if (out->batched != NULL &&
		((int) strlen(out->batched) >= NP_BATCHED_LEN ||
		 note.len >= NP_NOTE_LEN))
	{
		out->batched = NULL;
		c.reason = pstrdup("the statement and its note would be too long to keep");
	}
	if (out->batched == NULL)
		out->batched_note = sa_np_fit(np_refusal(&c, cmd), NP_NOTE_LEN);
	else
		out->batched_note = note.data;
	if (out->joined != NULL &&
		((int) strlen(out->joined) >= NP_JOIN_LEN ||
		 jnote.len >= NP_JOIN_NOTE_LEN))
		out->joined = NULL;
	out->joined_note = out->joined != NULL ? jnote.data : NULL;
}
