/*-------------------------------------------------------------------------
 *
 * orm_client.c
 *		A libpq client that talks to the server the way an ORM with lazy
 *		loading does: it lists the posts, then for every post runs one
 *		prepared "SELECT ... WHERE post_id = $1" for its comments and one
 *		prepared lookup of its author.  Used by the N+1 tests.
 *
 * Usage: orm_client CONNINFO MODE [POSTS [ROUNDS]]
 *	 MODE is "autocommit" (every statement its own transaction),
 *	 "transaction" (each round inside BEGIN ... COMMIT) or "pooled" (each
 *	 round a transaction on the next of two server connections, the way a
 *	 transaction-mode pooler hands them out).
 *	 POSTS (default 50) is the LIMIT of the list, ROUNDS (default 1) how
 *	 many times the page is rendered.
 *
 * Expects tables orm_authors(id, name), orm_posts(id, author_id, title)
 * and orm_comments(id, post_id, body).  Prints one line:
 * "posts=N comment_queries=N author_queries=N".  Exits 1 on any error.
 *
 * Build: sh test/build_orm_client.sh OUTPUT
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpq-fe.h"

static PGconn *conn;			/* the connection in use */
static PGconn *conns[2];

static void
die(const char *what, PGresult *res)
{
	fprintf(stderr, "orm_client: %s: %s", what,
			res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	if (res)
		PQclear(res);
	PQfinish(conns[0]);
	if (conns[1])
		PQfinish(conns[1]);
	exit(1);
}

static void
command(const char *sql)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die(sql, res);
	PQclear(res);
}

static void
prepare(const char *name, const char *sql)
{
	PGresult   *res = PQprepare(conn, name, sql, 1, NULL);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die(name, res);
	PQclear(res);
}

/* run a prepared statement with one parameter, return its row count */
static int
run_prepared(const char *name, const char *value)
{
	const char *values[1];
	PGresult   *res;
	int			n;

	values[0] = value;
	res = PQexecPrepared(conn, name, 1, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die(name, res);
	n = PQntuples(res);
	PQclear(res);
	return n;
}

int
main(int argc, char **argv)
{
	int			in_xact;
	int			nconns = 1;
	int			posts = 50;
	int			rounds = 1;
	int			round;
	int			c;
	int			nposts = 0,
				ncomments = 0,
				nauthors = 0;
	char		limit[32];
	const char *params[1];

	if (argc < 3 ||
		(strcmp(argv[2], "autocommit") != 0 &&
		 strcmp(argv[2], "transaction") != 0 &&
		 strcmp(argv[2], "pooled") != 0))
	{
		fprintf(stderr, "usage: %s CONNINFO autocommit|transaction|pooled [POSTS [ROUNDS]]\n",
				argv[0]);
		return 2;
	}
	in_xact = strcmp(argv[2], "autocommit") != 0;
	if (strcmp(argv[2], "pooled") == 0)
		nconns = 2;
	if (argc > 3)
		posts = atoi(argv[3]);
	if (argc > 4)
		rounds = atoi(argv[4]);

	for (c = 0; c < nconns; c++)
	{
		conns[c] = conn = PQconnectdb(argv[1]);
		if (PQstatus(conn) != CONNECTION_OK)
			die("connect", NULL);
		prepare("comments_of_post",
				"SELECT id, post_id, body FROM orm_comments WHERE post_id = $1 ORDER BY id");
		prepare("author_by_id",
				"SELECT id, name FROM orm_authors WHERE id = $1");
	}

	snprintf(limit, sizeof(limit), "%d", posts);
	params[0] = limit;
	for (round = 0; round < rounds; round++)
	{
		PGresult   *list;
		int			i;

		conn = conns[round % nconns];
		if (in_xact)
			command("BEGIN");

		/* the parent: one page of posts (extended protocol, unnamed) */
		list = PQexecParams(conn,
							"SELECT id, author_id, title FROM orm_posts ORDER BY id LIMIT $1",
							1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(list) != PGRES_TUPLES_OK)
			die("list posts", list);

		/* the loop the ORM hides: comments, then the author, per post */
		for (i = 0; i < PQntuples(list); i++)
		{
			run_prepared("comments_of_post", PQgetvalue(list, i, 0));
			ncomments++;
			run_prepared("author_by_id", PQgetvalue(list, i, 1));
			nauthors++;
		}
		nposts += PQntuples(list);
		PQclear(list);

		if (in_xact)
			command("COMMIT");
	}
	printf("posts=%d comment_queries=%d author_queries=%d\n",
		   nposts, ncomments, nauthors);
	for (c = 0; c < nconns; c++)
		PQfinish(conns[c]);
	return 0;
}
