/*-------------------------------------------------------------------------
 *
 * nplus1.h
 *		Types shared by the N+1 tracker (nplus1.c) and the rewrite builder
 *		(nplus1_rewrite.c): the per-backend run slot, the parent candidate
 *		and the rewrite the builder returns.  Internal to those two files;
 *		the types are per-backend (the shared table and its locking are
 *		nplus1.c's).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_NPLUS1_H
#define SA_NPLUS1_H

#include "nodes/params.h"
#include "nodes/nodes.h"
#include "utils/timestamp.h"

/* kinds of detection, as shown in the view */
#define NP_KIND_NONE		0	/* not flagged (yet) */
#define NP_KIND_NPLUS1		1
#define NP_KIND_IDENTICAL	2
#define NP_KIND_INSERT		3

#define NP_SLOTS			16	/* query ids tracked per backend */
#define NP_TRACK_PARAMS		8	/* parameters whose variation is tracked */
#define NP_STASH_LEN		1024	/* an earlier text of the run (for diff) */
#define NP_PARENTS			4	/* recent multi-row statements kept */
#define NP_PARENT_LEN		2048
#define NP_PARENT_PARAMS	16

/* sizes of the texts kept in a shared entry */
#define NP_QUERY_LEN		1024
#define NP_BATCHED_LEN		2048
#define NP_JOIN_LEN			3072
#define NP_NOTE_LEN			2048	/* the batched statement's note */
#define NP_JOIN_NOTE_LEN	1024	/* the JOIN's note */

/* the per-backend state of one query id's run (see nplus1.c) */
typedef struct NpSlot
{
	uint64		queryid;		/* 0: free */
	uint64		xact;			/* transaction block of the run's first
								 * execution, 0 outside */
	uint64		last_xact;		/* the same, of its last execution */
	TimestampTz first_ts;		/* start of the run's first execution */
	TimestampTz last_end;		/* end of its last execution */
	uint64		last_hash;		/* text and parameters of the last one */
	uint32		used;			/* np_tick of the last execution */
	uint32		start_tick;		/* np_tick of the run's first execution */
	uint32		calls;			/* executions in this run, 0: run over */
	uint32		changes;		/* executions with other parameters */
	uint32		identical;		/* executions with the same parameters */
	uint32		published_calls;	/* calls already added to shared */
	double		run_ms;
	double		published_ms;
	uint64		parent_queryid;
	uint64		parent_rows;	/* rows the parent's executions fed the run */
	uint64		parent_last;	/* rows of the latest of them */
	TimestampTz parent_ts;		/* start of the parent's execution */
	uint32		parent_calls0;	/* the parent's run length when this began */
	uint64		vary_mask;		/* parameters that changed in the run */
	uint32		phash[NP_TRACK_PARAMS];
	int			nparams;
	CmdType		operation;
	Oid			dbid;
	Oid			userid;
	uint8		app;			/* application context (nplus1.c) */
	uint8		kind;			/* NP_KIND_NONE until flagged here */
	bool		decided;		/* flagged, or found not to be a loop */
	bool		loose;			/* began outside a transaction block, or went
								 * on in another one */
	bool		idle_before;	/* the session was idle when it began */
	bool		open;			/* has counts to publish when it ends */
	bool		parent_loop;	/* its parent is a loop it is nested in */
	/* this backend's share of a pooled run (nplus1.c, "Pooled runs") */
	int16		pool_idx;		/* -1: not pooled, -2: no room, local */
	uint8		pool_kind;		/* the pooled run's kind, as last seen */
	uint32		pool_gen;
	uint32		pool_sent;		/* calls given to the pooled run */
	uint32		pool_sent_changes;
	uint32		pool_sent_identical;
	double		pool_sent_ms;
	TimestampTz pool_sent_end;	/* last_end when it was last given */
	uint64		pool_seen;		/* the pooled run's calls, as last seen */
	char		appname[NAMEDATALEN];	/* application_name when flagged or
										 * pooled */
	int			stash_len;		/* -1: no stash */
	char		stash[NP_STASH_LEN];
} NpSlot;

/* a recent statement that returned several rows: a parent candidate */
typedef struct NpParent
{
	uint64		queryid;
	Oid			userid;			/* role that ran it */
	uint32		used;
	int			len;			/* -1 when the text did not fit */
	int			nparams;		/* -1 when the types did not fit */
	Oid			ptypes[NP_PARENT_PARAMS];
	char		txt[NP_PARENT_LEN];
} NpParent;

/*
 * What the rewrite builder returns: palloc'd texts, or NULL.  The notes are
 * SQL comment lines: what the statement does and what each of its $n is,
 * or (batched_note without batched) why no statement is offered.
 */
typedef struct NpRewrite
{
	char	   *batched;		/* the loop as one statement over all keys */
	char	   *joined;			/* the loop joined to its parent */
	char	   *batched_note;
	char	   *joined_note;
} NpRewrite;

extern void sa_np_build_rewrite(NpSlot *slot, const char *txt, int len,
								ParamListInfo params, NpParent *parent,
								NpRewrite *out);
extern char *sa_np_fit(char *s, int cap);

#endif							/* SA_NPLUS1_H */
