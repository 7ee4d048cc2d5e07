/*-------------------------------------------------------------------------
 *
 * nplus1.h
 *		Types shared by the N+1 tracker (nplus1.c) and the rewrite builder
 *		(nplus1_rewrite.c): the per-backend run slot, the parent candidate
 *		and the rewrite the builder returns.  Internal to those two files.
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

/* the parameter id used for the loop variable while deparsing the JOIN */
#define NP_SENTINEL_PARAM	32767

/* the per-backend state of one query id's run (see nplus1.c) */
typedef struct NpSlot
{
	uint64		queryid;		/* 0: free */
	uint64		xact;			/* transaction block number, 0 outside */
	TimestampTz last_ts;		/* start of the last execution */
	uint64		last_hash;		/* text and parameters of the last one */
	uint32		used;			/* LRU tick: np_tick of the last execution */
	uint32		start_tick;		/* np_tick of the run's first execution */
	uint32		calls;			/* executions in this run */
	uint32		changes;		/* executions with other parameters */
	uint32		identical;		/* executions with the same parameters */
	uint32		published_calls;	/* calls already added to shared */
	double		run_ms;
	double		published_ms;
	uint64		parent_queryid;
	uint64		parent_rows;
	uint64		vary_mask;		/* parameters that changed in the run */
	uint32		phash[NP_TRACK_PARAMS];
	int			nparams;
	CmdType		operation;
	Oid			dbid;
	Oid			userid;
	uint8		kind;			/* NP_KIND_NONE until flagged */
	bool		decided;		/* flagged, or found not to be a loop */
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
	char		text[NP_PARENT_LEN];
} NpParent;

/* what the rewrite builder returns: palloc'd texts, or NULL */
typedef struct NpRewrite
{
	char	   *batched;		/* the loop as one statement over all keys */
	char	   *joined;			/* the loop joined to its parent */
} NpRewrite;

extern void sa_np_build_rewrite(NpSlot *slot, const char *txt, int len,
								ParamListInfo params, NpParent *parent,
								NpRewrite *out);
extern char *sa_np_fit(char *s, int cap);

#endif							/* SA_NPLUS1_H */
