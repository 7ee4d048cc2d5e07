/*-------------------------------------------------------------------------
 *
 * advice_model.c
 *		The cost model of the index advice: what one more index costs a
 *		table's writes (upkeep), how fast a table is written and grows over
 *		a recent window, which columns its updates change, how skewed a
 *		column is, and what one execution of a statement costs at normal
 *		load.  advisor.c asks; this file reads the statistics, the
 *		extension's snapshots and the statement store, and owns the
 *		constants measured by test/bench/index_upkeep.sh (the model and the
 *		measurements are in docs/index-advice.md).
 *
 * Upkeep, in microseconds per second of the table's writes, of an index of
 * entries w bytes wide whose predicate admits a share a of the rows:
 *
 *	 entries  (inserts + non-HOT updates + updates it makes non-HOT) x a
 *			  x (e0 + e1 w + v)
 *	 deletes  deletes x a x v (vacuum removes their entries)
 *	 HOT lost updates it makes non-HOT x (h + the entries they now write
 *			  in every existing index, and their vacuum)
 *
 * e0 + e1 w is the cost of inserting one entry, v of vacuuming a dead one,
 * h what an update that is not HOT costs the heap beyond its index entries
 * (a new tuple on another page, no pruning, the bloat vacuum later
 * removes).  An update is HOT only when it changes no column any index
 * holds (key, INCLUDE, expression or predicate column); the index makes
 * the share of today's HOT updates that change one of its columns non-HOT,
 * which is known from the UPDATE statements in the statement store.  All
 * constants scale with scale_advisor.index_write_cost_us, the measured cost
 * of one 16-byte entry: 0 turns the upkeep off.
 *
 * Write rates come from the extension's snapshots of the table's counters
 * over scale_advisor.advice_write_window (_index_table_activity(), run as
 * its owner for the tables whose history the reader may see: all of them
 * for a reader of all statistics, else its own), so that
 * a bulk load before the window does not count; without a snapshot, from
 * the rows changed since the last ANALYZE (a bulk load is usually followed
 * by one), and only failing that from the counters since the statistics
 * were reset.  A partitioned table's are the sums over its partitions.
 *
 * No shared state.  The statement store is read under its lock through
 * sa_store_read_all; nothing that can fail runs under it but palloc.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "access/genam.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "index_advice.h"
#include "scale_advisor.h"
#include "store.h"

/*
 * Measured on PostgreSQL 15 on the project's test machine with
 * test/bench/index_upkeep.sh (CPU microseconds, medians of 5 rounds; see
 * docs/index-advice.md).  Used in proportion to index_write_cost_us, whose
 * default is SA_ENTRY16_US.  On 18 entries and cost units are both about
 * 20 % cheaper, so their ratio, which decides, holds: one set for every
 * version (docs/performance.md).
 */
#define SA_E0_US			2.94	/* inserting one index entry */
#define SA_E1_US			0.041	/* ... per byte of entry */
#define SA_VACUUM_US		0.20	/* vacuuming one dead index entry */
#define SA_NONHOT_US		10.2	/* heap's extra for an update not HOT */
#define SA_ENTRY16_US		(SA_E0_US + 16 * SA_E1_US)

/*
 * CPU microseconds per unit of the planner's cost on cached data: the
 * largest of the statement shapes the same bench measures.
 */
#define SA_US_PER_COST		7.0

/* GUCs */
double		sa_index_write_cost_us = SA_ENTRY16_US;
int			sa_advice_write_window_s = 3600;

/* ---------------------------------------------------------------------
 * Write rates
 * ---------------------------------------------------------------------
 */

/* the leaf partitions of a partitioned table, or the table itself */
static List *
table_leaves(Oid relid)
{
	List	   *leaves = NIL;
	ListCell   *lc;

	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return list_make1_oid(relid);
	foreach(lc, find_all_inheritors(relid, AccessShareLock, NULL))
	{
		char		k = get_rel_relkind(lfirst_oid(lc));

		if (k == RELKIND_RELATION || k == RELKIND_MATVIEW)
			leaves = lappend_oid(leaves, lfirst_oid(lc));
	}
	return leaves;
}

/*
 * Rates of one table from the cumulative statistics: the rows changed
 * since its last ANALYZE over the time since (at least a minute; a bulk
 * load is usually followed by an ANALYZE, by autovacuum or by hand), else
 * since the statistics were reset.  The split between inserts, updates and deletes
 * is that of the cumulative counters.
 */
static void
rates_from_stats(Oid relid, SaTableModel *tm, const char **source)
{
	PgStat_StatTabEntry *t = pgstat_fetch_stat_tabentry(relid);
	PgStat_StatDBEntry *d = pgstat_fetch_stat_dbentry(MyDatabaseId);
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz analyzed;
	TimestampTz since = PgStartTime;
	double		all;
	double		secs;
	double		share = 1.0;

	if (t == NULL)
		return;
	all = t->tuples_inserted + t->tuples_updated + t->tuples_deleted;
	analyzed = Max(SA_TAB_LAST_ANALYZE(t), SA_TAB_LAST_AUTOANALYZE(t));
	if (analyzed > 0 && all > 0)
	{
		secs = Max((double) (now - analyzed) / USECS_PER_SEC, 60.0);
		share = Min(SA_TAB_MOD_SINCE_ANALYZE(t) / all, 1.0);
		*source = "rows changed since the last ANALYZE";
	}
	else
	{
		if (d && d->stat_reset_timestamp > since)
			since = d->stat_reset_timestamp;
		secs = Max((double) (now - since) / USECS_PER_SEC, 60.0);
		*source = "counters since the statistics were reset (no snapshot of the table yet)";
	}
	tm->ins_s += t->tuples_inserted * share / secs;
	tm->upd_s += t->tuples_updated * share / secs;
	tm->hot_s += t->tuples_hot_updated * share / secs;
	tm->del_s += t->tuples_deleted * share / secs;
	tm->window_s = Max(tm->window_s, secs);
}

/*
 * The OID of _index_table_activity(oid[], float8) in schema nsp (the
 * extension's), or InvalidOid when the installed SQL does not have it (1.0).
 */
static Oid
activity_function(Oid nsp)
{
	Oid			argtypes[2] = {OIDARRAYOID, FLOAT8OID};

	if (!OidIsValid(nsp))
		return InvalidOid;
	return LookupFuncName(list_make2(makeString(get_namespace_name(nsp)),
									 makeString("_index_table_activity")),
						  2, argtypes, true);
}

/* one leaf table's rates from the snapshots */
typedef struct LeafRate
{
	Oid			relid;			/* hash key */
	bool		found;
	double		secs;
	double		ins;
	double		upd;
	double		hot;
	double		del;
	double		rpd;
	bool		rpd_null;
} LeafRate;

/*
 * May the reader see the snapshots' history of table relid: it may read
 * all statistics, or it has the privileges of the table's owner (the
 * history of its own tables, which it could measure itself)?  The
 * snapshots are monitoring data (docs/security.md): other roles' tables
 * get the statistics' rates.
 */
static bool
may_see_history(Oid reader, bool all, Oid relid)
{
	HeapTuple	tup;
	Oid			owner;

	if (all)
		return true;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return false;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return has_privs_of_role(reader, owner);
}

/*
 * Read the rates of the tables leaves from _index_table_activity() (fn, in
 * the extension's schema nsp) into seen, in a subtransaction: when that
 * fails (its tables locked past its lock_timeout, say), the advice goes on
 * with the statistics' rates and nothing is left behind.  Cancel and the
 * like still end the reading.  Only the tables whose history the reader
 * may see are asked for; the function runs as its owner (the extension's),
 * who alone may run it and read the snapshots, in a security-restricted
 * operation.
 */
static void
snapshot_rates(HTAB *seen, List *leaves, Oid nsp, Oid fn)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Datum	   *elems = palloc(sizeof(Datum) * list_length(leaves));
	int			n = 0;
	ListCell   *lc;
	ArrayType  *arr;
	Datum		args[2];
	Oid			argtypes[2] = {OIDARRAYOID, FLOAT8OID};
	StringInfoData q;
	LeafRate   *volatile rates = NULL;
	volatile uint64 nrates = 0;
	uint64		i;
	Oid			reader = GetUserId();
	bool		all = sa_may_read_all_stats(reader);
	Oid			fnowner;
	Oid			save_userid;
	int			save_sec_context;
	HeapTuple	proctup;

	foreach(lc, leaves)
	{
		if (may_see_history(reader, all, lfirst_oid(lc)))
			elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	}
	if (n == 0)
		return;
	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(proctup))
		return;
	fnowner = ((Form_pg_proc) GETSTRUCT(proctup))->proowner;
	ReleaseSysCache(proctup);
	arr = construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
	args[0] = PointerGetDatum(arr);
	args[1] = Float8GetDatum((double) sa_advice_write_window_s);
	initStringInfo(&q);
	appendStringInfo(&q, "SELECT relid, seconds, ins_per_s, upd_per_s, hot_per_s, del_per_s, rows_per_day FROM %s.%s($1, $2)",
					 quote_identifier(get_namespace_name(nsp)),
					 quote_identifier("_index_table_activity"));

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		SetUserIdAndSecContext(fnowner, save_sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args(q.data, 2, argtypes, args, NULL, true, 0) !=
			SPI_OK_SELECT)
			elog(ERROR, "could not read the write rates of the snapshots");
		rates = (LeafRate *) MemoryContextAllocZero(oldcxt,
													sizeof(LeafRate) *
													Max(SPI_processed, 1));
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			LeafRate   *r = &rates[i];

			r->relid = DatumGetObjectId(SPI_getbinval(tup, td, 1, &isnull));
			r->secs = DatumGetFloat8(SPI_getbinval(tup, td, 2, &isnull));
			r->ins = DatumGetFloat8(SPI_getbinval(tup, td, 3, &isnull));
			r->upd = DatumGetFloat8(SPI_getbinval(tup, td, 4, &isnull));
			r->hot = DatumGetFloat8(SPI_getbinval(tup, td, 5, &isnull));
			r->del = DatumGetFloat8(SPI_getbinval(tup, td, 6, &isnull));
			r->rpd = DatumGetFloat8(SPI_getbinval(tup, td, 7, &r->rpd_null));
		}
		nrates = SPI_processed;
		SPI_finish();
		SetUserIdAndSecContext(save_userid, save_sec_context);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		SetUserIdAndSecContext(save_userid, save_sec_context);
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (sa_error_ends_reading(edata->sqlerrcode))
			ReThrowError(edata);
		FreeErrorData(edata);
		nrates = 0;
	}
	PG_END_TRY();
	for (i = 0; i < nrates; i++)
	{
		LeafRate   *r = hash_search(seen, &rates[i].relid, HASH_ENTER, NULL);

		memcpy(r, &rates[i], sizeof(LeafRate));
		r->found = true;
	}
}

/*
 * Fill in the write rates and growth of the tables of models (SaTableModel
 * *, relid set) from the snapshots, then from the statistics for the
 * tables (or partitions) the snapshots do not cover.
 */
static void
model_rates(List *models, Oid nsp)
{
	Oid			fn = activity_function(nsp);
	List	   *leaves = NIL;
	ListCell   *lc;
	HTAB	   *seen = NULL;
	HASHCTL		ctl;

	foreach(lc, models)
	{
		SaTableModel *tm = (SaTableModel *) lfirst(lc);

		tm->leaves = table_leaves(tm->relid);
		leaves = list_concat(leaves, list_copy(tm->leaves));
	}
	if (leaves == NIL)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(LeafRate);
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("scale_advisor table rates", list_length(leaves) * 2,
					   &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (OidIsValid(fn))
		snapshot_rates(seen, leaves, nsp, fn);
	foreach(lc, models)
	{
		SaTableModel *tm = (SaTableModel *) lfirst(lc);
		ListCell   *l2;
		bool		all_snap = true;
		bool		any_snap = false;
		const char *fallback = NULL;
		double		rpd = 0;
		bool		rpd_known = false;

		foreach(l2, tm->leaves)
		{
			Oid			leaf = lfirst_oid(l2);
			LeafRate   *r = hash_search(seen, &leaf, HASH_FIND, NULL);
			Relation	rel = relation_open(leaf, AccessShareLock);

			tm->rows += Max(rel->rd_rel->reltuples, 0);
			tm->pages += RelationGetNumberOfBlocks(rel);
			relation_close(rel, AccessShareLock);
			if (r != NULL && r->found)
			{
				tm->ins_s += r->ins;
				tm->upd_s += r->upd;
				tm->hot_s += r->hot;
				tm->del_s += r->del;
				tm->window_s = Max(tm->window_s, r->secs);
				any_snap = true;
				if (!r->rpd_null)
				{
					rpd += r->rpd;
					rpd_known = true;
				}
			}
			else
			{
				all_snap = false;
				rates_from_stats(leaf, tm, &fallback);
			}
		}
		tm->rows_per_day = rpd_known ? rpd : -1;
		if (all_snap && any_snap)
			tm->rate_source = psprintf("the snapshots of the last %.0f minutes",
									   tm->window_s / 60.0);
		else if (fallback && any_snap)
			tm->rate_source = psprintf("the snapshots, and for partitions they lack, %s",
									   fallback);
		else
			tm->rate_source = fallback ? pstrdup(fallback) : pstrdup("no statistics");
		tm->hot_s = Min(tm->hot_s, tm->upd_s);
	}
	hash_destroy(seen);
}

/* ---------------------------------------------------------------------
 * The columns updates change
 * ---------------------------------------------------------------------
 */

typedef struct UpdText
{
	char	   *text;
	double		weight;			/* rows it updated (or calls) */
} UpdText;

typedef struct UpdCollect
{
	List	   *texts;
	SaReader	reader;
} UpdCollect;

/* is the text an UPDATE (its first word, after blanks and comments)? */
static bool
starts_with_update(const char *s, int len)
{
	int			i = 0;

	while (i < len)
	{
		if (isspace((unsigned char) s[i]))
			i++;
		else if (i + 1 < len && s[i] == '-' && s[i + 1] == '-')
		{
			while (i < len && s[i] != '\n')
				i++;
		}
		else if (i + 1 < len && s[i] == '/' && s[i + 1] == '*')
		{
			i += 2;
			while (i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'))
				i++;
			i += 2;
		}
		else
			break;
	}
	return i + 6 <= len && pg_strncasecmp(s + i, "update", 6) == 0 &&
		(i + 6 == len || !isalnum((unsigned char) s[i + 6]));
}

/* store visitor: copy the UPDATE statements of this database */
static void
collect_update(const SaEntrySnapshot *snap, void *arg)
{
	UpdCollect *uc = (UpdCollect *) arg;
	UpdText    *u;

	if (snap->key.dbid != MyDatabaseId || snap->c.calls <= 0 ||
		!sa_reader_sees(&uc->reader, snap->key.userid) ||
		snap->query_len <= 0 || snap->query_len >= sa_max_query_length ||
		!starts_with_update(snap->query, snap->query_len))
		return;
	u = (UpdText *) palloc(sizeof(UpdText));
	u->text = pnstrdup(snap->query, snap->query_len);
	u->weight = snap->c.rows > 0 ? (double) snap->c.rows : (double) snap->c.calls;
	uc->texts = lappend(uc->texts, u);
}

/*
 * The target and SET columns of an UPDATE text, by the parser alone (no
 * name is looked up, no code runs): in a subtransaction, since a text cut
 * short or of another syntax fails to parse.
 */
static bool
parse_update(const char *text, RangeVar **target, List **cols)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	*target = NULL;
	*cols = NIL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		List	   *raw = raw_parser(text, RAW_PARSE_DEFAULT);

		if (list_length(raw) == 1 &&
			IsA(((RawStmt *) linitial(raw))->stmt, UpdateStmt))
		{
			UpdateStmt *u = (UpdateStmt *) ((RawStmt *) linitial(raw))->stmt;
			ListCell   *lc;

			*target = u->relation;
			foreach(lc, u->targetList)
			{
				ResTarget  *rt = (ResTarget *) lfirst(lc);

				if (rt->name)
					*cols = lappend(*cols, pstrdup(rt->name));
			}
			ok = true;
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (sa_error_ends_reading(edata->sqlerrcode))
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return ok;
}

/* does the name an UPDATE gave its target designate relid? */
static bool
names_relation(RangeVar *rv, Oid relid)
{
	if (rv->relname == NULL || strcmp(rv->relname, get_rel_name(relid)) != 0)
		return false;
	if (rv->schemaname)
		return strcmp(rv->schemaname,
					  get_namespace_name(get_rel_namespace(relid))) == 0;
	/* unqualified: it ran with a search_path that is not kept */
	return true;
}

/*
 * Which columns the captured UPDATE statements of the models' tables set,
 * each statement weighted by the rows it updated.  Statements of other
 * roles only when the reader may read all statistics.
 */
static void
model_updates(List *models, bool all_users)
{
	UpdCollect	uc;
	ListCell   *lc;

	if (!sa_store_attached())
		return;
	memset(&uc, 0, sizeof(uc));
	uc.reader = sa_reader(all_users);
	sa_store_read_all(collect_update, &uc);
	foreach(lc, uc.texts)
	{
		UpdText    *u = (UpdText *) lfirst(lc);
		RangeVar   *rv;
		List	   *cols;
		ListCell   *mc;

		CHECK_FOR_INTERRUPTS();
		if (!parse_update(u->text, &rv, &cols) || rv == NULL)
			continue;
		foreach(mc, models)
		{
			SaTableModel *tm = (SaTableModel *) lfirst(mc);
			bool		match = names_relation(rv, tm->relid);
			ListCell   *l2;
			SaUpdateCols *uc2;

			foreach(l2, tm->leaves)
			{
				if (!match && lfirst_oid(l2) != tm->relid)
					match = names_relation(rv, lfirst_oid(l2));
			}
			if (!match)
				continue;
			uc2 = (SaUpdateCols *) palloc0(sizeof(SaUpdateCols));
			uc2->weight = u->weight;
			foreach(l2, cols)
			{
				AttrNumber	a = get_attnum(tm->relid, (char *) lfirst(l2));

				if (a > 0)
					uc2->cols = bms_add_member(uc2->cols, a);
			}
			tm->updates = lappend(tm->updates, uc2);
			tm->upd_weight += u->weight;
		}
	}
}

/* the entry cost of each existing index of the table, summed */
static void
model_indexes(SaTableModel *tm)
{
	Relation	rel = relation_open(tm->relid, AccessShareLock);
	List	   *ixs = RelationGetIndexList(rel);
	ListCell   *lc;

	foreach(lc, ixs)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		double		w = 0;
		int			i;

		for (i = 0; i < irel->rd_index->indnatts; i++)
		{
			AttrNumber	a = irel->rd_index->indkey.values[i];
			int32		aw = a > 0 ? get_attavgwidth(tm->relid, a) : 0;

			if (a > 0 && aw <= 0)
			{
				int16		len = get_typlen(get_atttype(tm->relid, a));

				aw = len > 0 ? len : 32;
			}
			w += a > 0 ? aw : 8;
		}
		tm->nindexes++;
		tm->index_entry_us += SA_E0_US + SA_E1_US * w;
		index_close(irel, AccessShareLock);
	}
	relation_close(rel, AccessShareLock);
}

/*
 * The model of each table in models (SaTableModel *, relid set): write
 * rates, growth, existing indexes, the columns its updates set.  nsp is
 * the extension's schema, where _index_table_activity() is.
 */
void
sa_model_tables(List *models, bool all_users, Oid nsp)
{
	ListCell   *lc;

	if (models == NIL)
		return;
	model_rates(models, nsp);
	foreach(lc, models)
		model_indexes((SaTableModel *) lfirst(lc));
	model_updates(models, all_users);
}

/* ---------------------------------------------------------------------
 * Upkeep
 * ---------------------------------------------------------------------
 */

/* the columns of the table the index holds, as a set of attnos */
static Bitmapset *
index_columns(SaHypoIndex *h)
{
	Bitmapset  *cols = NULL;
	Bitmapset  *vars = NULL;
	int			i;
	int			x = -1;

	for (i = 0; i < h->ncolumns; i++)
		if (h->indexkeys[i] > 0)
			cols = bms_add_member(cols, h->indexkeys[i]);
	pull_varattnos((Node *) h->indexprs, 1, &vars);
	pull_varattnos((Node *) h->indpred, 1, &vars);
	while ((x = bms_next_member(vars, x)) >= 0)
	{
		AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;

		if (a > 0)
			cols = bms_add_member(cols, a);
	}
	return cols;
}

/*
 * What keeping index h up costs under the table's writes, in milliseconds
 * per hour; why (if not NULL) gets the figures, for the advice's reason.
 */
double
sa_index_upkeep(SaTableModel *tm, SaHypoIndex *h, StringInfo why)
{
	double		scale = sa_index_write_cost_us / SA_ENTRY16_US;
	double		w = sa_hypo_entry_bytes(h);
	double		admit = (h->indpred != NIL && h->admit > 0) ? h->admit : 1.0;
	double		entry = SA_E0_US + SA_E1_US * w;
	double		touch = 0;
	double		lost;
	double		nonhot;
	double		us;
	Bitmapset  *cols = index_columns(h);
	ListCell   *lc;

	if (tm == NULL || scale <= 0)
		return 0;
	if (OidIsValid(h->relam) && h->relam != BTREE_AM_OID)
	{
		/* GIN, BRIN: as measured for their access method */
		entry = Max(sa_am_row_us(h), 0);
		/* a BRIN index is summarizing: from 16 on, it keeps updates HOT */
		if (h->relam == BRIN_AM_OID && SA_SUMMARIZING_KEEPS_HOT)
			cols = NULL;
	}
	foreach(lc, tm->updates)
	{
		SaUpdateCols *u = (SaUpdateCols *) lfirst(lc);

		if (bms_overlap(u->cols, cols))
			touch += u->weight;
	}
	if (tm->upd_weight > 0)
		touch /= tm->upd_weight;
	lost = tm->hot_s * touch;
	nonhot = Max(tm->upd_s - tm->hot_s, 0);
	us = (tm->ins_s + nonhot + lost) * admit * (entry + SA_VACUUM_US)
		+ tm->del_s * admit * SA_VACUUM_US
		+ lost * (SA_NONHOT_US + tm->index_entry_us +
				  tm->nindexes * SA_VACUUM_US);
	us *= scale;
	if (why)
	{
		appendStringInfo(why, "upkeep about %.0f ms per hour: %.1f inserts, %.1f updates (%.1f HOT), %.1f deletes per second from %s",
						 us * 3.6, tm->ins_s, tm->upd_s, tm->hot_s, tm->del_s,
						 tm->rate_source);
		if (admit < 1.0)
			appendStringInfo(why, "; the predicate admits %.1f %% of the rows",
							 100.0 * admit);
		if (lost > 0)
			appendStringInfo(why, "; it would make %.1f HOT updates per second non-HOT (%.0f %% of the captured updates change its columns), each writing an entry in all %d indexes",
							 lost, 100.0 * touch, tm->nindexes + 1);
		else if (tm->hot_s > 0 && tm->upd_weight <= 0)
			appendStringInfoString(why, "; which columns the updates change is not known (no UPDATE in the statement store): HOT updates are assumed to stay HOT");
		if (h->relam == GIN_AM_OID)
			appendStringInfo(why, "; a GIN index, about %.0f keys per row",
							 sa_hypo_keys_per_row(h));
		else if (h->relam == BRIN_AM_OID)
			appendStringInfoString(why, "; a BRIN index");
		else
			appendStringInfo(why, "; entries of %.0f bytes", w);
	}
	return us * 3600.0 / 1000.0;
}

/* rows written per second: inserts, updates and deletes */
double
sa_model_write_rate(SaTableModel *tm)
{
	return tm ? tm->ins_s + tm->upd_s + tm->del_s : 0;
}

/* ---------------------------------------------------------------------
 * Growth, skew, time at normal load
 * ---------------------------------------------------------------------
 */

/*
 * How many times larger the table is assumed to grow: its rows in 90 days
 * at the growth the snapshots measured (the capacity model's horizon),
 * and at least twice today's (capacity()'s default load factor), since a
 * table whose growth is not measured yet is assumed to grow.
 */
double
sa_model_growth(SaTableModel *tm)
{
	double		g = 2.0;

	if (tm && tm->rows_per_day > 0 && tm->rows > 0)
		g = Max(g, (tm->rows + 90.0 * tm->rows_per_day) / tm->rows);
	return Min(g, 1000.0);
}

/*
 * The most common value of a key column and how many times the average rows
 * per value it has (1, and no value, when the column has no statistics, no
 * common value, or at most 20 distinct values: such a column is a status or
 * a kind, whose values mean different things, not a key like a user whose
 * values are alike).  The value is copied into the current memory context.
 */
double
sa_column_top_value(Oid relid, AttrNumber attno, Datum *value, Oid *typid)
{
	HeapTuple	tup;
	AttStatsSlot sslot;
	double		skew = 1.0;
	bool		inh = get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE;

	*value = (Datum) 0;
	*typid = InvalidOid;
	if (attno <= 0)
		return 1.0;
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						  Int16GetDatum(attno), BoolGetDatum(inh));
	if (!HeapTupleIsValid(tup))
		return 1.0;
	if (get_attstatsslot(&sslot, tup, STATISTIC_KIND_MCV, InvalidOid,
						 ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS) &&
		sslot.nnumbers > 0 && sslot.nvalues > 0)
	{
		Form_pg_statistic st = (Form_pg_statistic) GETSTRUCT(tup);
		double		nd = st->stadistinct;
		double		top = sslot.numbers[0];

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
		if (nd > 20)
			skew = Max(top * nd, 1.0);
		if (skew > 1.0)
		{
			int16		typlen;
			bool		typbyval;

			get_typlenbyval(sslot.valuetype, &typlen, &typbyval);
			*value = datumCopy(sslot.values[0], typbyval, typlen);
			*typid = sslot.valuetype;
		}
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(tup);
	return Min(skew, 1000.0);
}

/*
 * Milliseconds of one execution at normal load: the statement's measured
 * time (its median, when the store has it), but no more than the planner's
 * cost at the CPU time per cost unit measured here, unless the statement
 * reads a tenth of its blocks or more from outside shared buffers (then its
 * time is I/O, which the planner's cached-data figure does not model, and
 * the measurement stands).  A machine saturated while the statement was
 * measured inflates its time; the planner's cost does not change with load.
 */
double
sa_stmt_normal_ms(double measured_ms, double cost, double read_share,
				  bool *capped)
{
	double		model = cost * SA_US_PER_COST / 1000.0;

	*capped = false;
	if (cost <= 0 || read_share >= 0.1 || measured_ms <= model)
		return measured_ms;
	*capped = true;
	return model;
}

/*
 * GUCs of the model.
 */
void
sa_advice_model_init(void)
{
	DefineCustomRealVariable("scale_advisor.index_write_cost_us",
							 "Cost, in microseconds, of writing one 16-byte index entry; the index advice's upkeep model scales with it (0 turns the upkeep off).",
							 NULL, &sa_index_write_cost_us, SA_ENTRY16_US, 0.0, 1e6,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scale_advisor.advice_write_window",
							"Window over which the index advice measures a table's write rate from the snapshots.",
							NULL, &sa_advice_write_window_s, 3600, 300, 30 * 86400,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);
}
