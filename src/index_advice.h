/*-------------------------------------------------------------------------
 *
 * index_advice.h
 *		Declarations shared by the index advice files: plan_needs.c (what a
 *		finished plan says about the access paths it lacked),
 *		plan_capture.c (the capture of sampled executions), whatif.c
 *		(hypothetical indexes and the planner check), advisor.c (candidates
 *		and the choice), advice_model.c and advice_outcome.c.  Of these only
 *		plan_capture.c has shared state (its header comment says how it is
 *		locked).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_INDEX_ADVICE_H
#define SA_INDEX_ADVICE_H

#include "postgres.h"

#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "nodes/plannodes.h"
#include "nodes/execnodes.h"
#include "lib/stringinfo.h"

/* How a column (or expression) of a scanned relation is used. */
#define SA_TERM_EQ		'e'		/* col = value */
#define SA_TERM_IN		'i'		/* col = ANY (array), IN (...) */
#define SA_TERM_RANGE	'r'		/* col < > <= >= value, BETWEEN */
#define SA_TERM_LIKE	'l'		/* col LIKE 'prefix%' */
#define SA_TERM_JOIN	'j'		/* col = other relation's column */
#define SA_TERM_SORT	's'		/* ORDER BY col under a LIMIT */
#define SA_TERM_GIN		'g'		/* col @> value, col ? key, col && array,
								 * tsvector @@ tsquery: an operator of the
								 * type's default GIN operator class */
#define SA_TERM_TRGM	't'		/* col LIKE '%x%', ILIKE, ~, ~*: no btree
								 * serves it, pg_trgm's GIN class may */

/*
 * One use of a column or expression of one scanned relation.  "expr" is the
 * column or expression with its Vars renumbered to varno 1 (the form index
 * expressions have in the catalog); attno is its column number when it is a
 * plain column, else 0.
 */
typedef struct SaTerm
{
	char		kind;			/* SA_TERM_* */
	AttrNumber	attno;
	Expr	   *expr;
	bool		desc;			/* for sort terms: DESC */
	bool		nulls_first;	/* for sort terms */
	bool		const_value;	/* compared with a Const (not a Param) */
	Oid			opno;			/* the operator, for display */
	Expr	   *clause;			/* the whole clause (varno 1), for partials */
} SaTerm;

/*
 * What one scan node of a finished plan lacked: a sequential scan and the
 * columns it filtered on, an index scan that still filtered rows, the
 * columns a join matched it on, or the order a sort under a LIMIT wanted.
 */
typedef struct SaScanNeed
{
	Oid			relid;
	char		scan;			/* 's' seq scan, 'i' index/bitmap scan */
	bool		under_limit_sort;	/* a sort under a LIMIT wanted an order */
	List	   *terms;			/* SaTerm * */
	Bitmapset  *attrs_used;		/* columns the scan returns or tests, offset
								 * by FirstLowInvalidHeapAttributeNumber */
	double		rows_scanned;	/* per execution */
	double		rows_removed;	/* per execution, by the filter */
	bool		actual;			/* rows from instrumentation, not estimates */
} SaScanNeed;

/* plan_needs.c */
extern List *sa_plan_needs(PlannedStmt *pstmt, PlanState *planstate);
extern bool sa_stmt_may_need(PlannedStmt *pstmt);
extern char *sa_terms_text(Oid relid, List *terms, bool with_ops);
extern Oid	sa_default_btree_opclass(Oid typid);

/* plan_capture.c */
extern void sa_plans_init(void);
extern bool sa_plans_save(void);

/* Captured statements, copied out of shared memory for the advisor. */
typedef struct SaCapturedStmt
{
	uint64		queryid;
	Oid			userid;
	char	   *text;
	char	   *search_path;	/* as the statement ran, or NULL */
	int			nparams;
	Oid		   *ptypes;
	char	  **pvalues;		/* NULL entries are NULL values */
	bool		truncated;		/* text or parameters did not fit */
	double		est_calls;		/* executions, estimated from the sample */
	double		mean_ms;
	double		hours;			/* how long it has been observed */
} SaCapturedStmt;

extern List *sa_captured_statements(bool all_users);

/* whatif.c */
typedef struct SaHypoIndex
{
	Oid			relid;
	Oid			relam;			/* btree, GIN or BRIN (pg_am) */
	int			ncolumns;		/* key + included */
	int			nkeycolumns;
	AttrNumber	indexkeys[INDEX_MAX_KEYS];	/* 0 for expressions */
	List	   *indexprs;		/* varno 1 */
	List	   *indpred;		/* implicit AND, varno 1 */
	Oid			opclass[INDEX_MAX_KEYS];
	Oid			opfamily[INDEX_MAX_KEYS];
	Oid			opcintype[INDEX_MAX_KEYS];
	Oid			collation[INDEX_MAX_KEYS];
	bool		reverse_sort[INDEX_MAX_KEYS];
	bool		nulls_first[INDEX_MAX_KEYS];
	Oid			fake_oid;		/* set by whatif.c */
	double		est_pages;		/* filled in by the last planning */
	double		est_tuples;
	double		admit;			/* share of the rows the predicate admits */
} SaHypoIndex;

/* an existing index, described as a hypothetical one (sa_index_desc) */
typedef struct SaIndexDesc
{
	Oid			oid;
	SaHypoIndex h;
	bool		usable;			/* valid, ready and live */
	bool		unique;			/* unique, primary key or exclusion */
	bool		constraint;		/* backs a constraint */
	bool		clustered;
	bool		replident;		/* the table's replica identity */
} SaIndexDesc;

extern SaIndexDesc *sa_index_desc(Oid indexoid);
extern List *sa_table_index_descs(Oid relid);
extern bool sa_hypo_same(SaHypoIndex *a, SaHypoIndex *b);
extern bool sa_hypo_covered_by(SaHypoIndex *e, SaHypoIndex *n);
extern char *sa_hypo_serialize(SaHypoIndex *h);
extern SaHypoIndex *sa_hypo_deserialize(Oid relid, const char *def);
extern PlannedStmt *sa_whatif_plan(Query *query, const char *text,
								   ParamListInfo params, List *hypos);
extern PlannedStmt *sa_whatif_plan_scaled(Query *query, const char *text,
										  ParamListInfo params, List *hypos,
										  Oid relid, double scale);
extern bool sa_plan_uses_index(PlannedStmt *pstmt, Oid indexoid);
extern double sa_hypo_size_bytes(SaHypoIndex *hypo);
extern bool sa_hypo_am_supported(Oid amoid);
extern double sa_hypo_keys_per_row(SaHypoIndex *hypo);
extern double sa_am_row_us(SaHypoIndex *hypo);
extern double sa_hypo_entry_bytes(SaHypoIndex *hypo);
extern SaHypoIndex *sa_hypo_for_partition(SaHypoIndex *h, Oid child);
extern ParamListInfo sa_make_params(int nparams, Oid *ptypes, char **pvalues);
extern int	sa_push_search_path(const char *path);
extern int	sa_push_replay_search_path(const char *path);
extern void sa_pop_search_path(int level);
extern bool sa_error_ends_reading(int sqlerrcode);

/* replay.c */
extern char *sa_replan_refusal(Query *q, Oid role, int nparams,
							   Oid *ptypes);

/* advice_model.c: what writes an index costs, rates, growth, load */
typedef struct SaUpdateCols
{
	Bitmapset  *cols;			/* attnos an UPDATE statement sets */
	double		weight;			/* rows it updated */
} SaUpdateCols;

typedef struct SaTableModel
{
	Oid			relid;			/* table, or partitioned table */
	List	   *leaves;			/* its leaf partitions, or itself */
	double		rows;			/* live rows (reltuples), summed */
	double		pages;
	double		ins_s;			/* rows inserted per second */
	double		upd_s;			/* updated, of them HOT: */
	double		hot_s;
	double		del_s;
	double		window_s;		/* the time the rates cover */
	char	   *rate_source;
	double		rows_per_day;	/* growth, -1 when not measured */
	List	   *updates;		/* SaUpdateCols * */
	double		upd_weight;		/* their weights summed */
	int			nindexes;		/* existing indexes */
	double		index_entry_us; /* one entry in each of them, summed */
} SaTableModel;

extern double sa_index_write_cost_us;
extern void sa_model_tables(List *models, bool all_users, Oid nsp);
extern double sa_index_upkeep(SaTableModel *tm, SaHypoIndex *h,
							  StringInfo why);
extern double sa_model_write_rate(SaTableModel *tm);
extern double sa_model_growth(SaTableModel *tm);
extern double sa_column_top_value(Oid relid, AttrNumber attno, Datum *value,
								  Oid *typid);
extern double sa_stmt_normal_ms(double measured_ms, double cost,
								double read_share, bool *capped);
extern void sa_advice_model_init(void);

/* advisor.c */
extern void sa_advisor_init(void);
extern int	sa_min_table_pages;

/* advice_outcome.c: what one piece of advice predicts for one statement */
typedef struct SaPrediction
{
	Oid			relid;
	char	   *index_sql;
	char	   *index_def;		/* sa_hypo_serialize of the index */
	uint64		queryid;
	Oid			userid;
	double		cost_before;	/* planner costs without and with it */
	double		cost_after;
} SaPrediction;

extern void sa_record_predictions(List *preds);

#endif							/* SA_INDEX_ADVICE_H */
