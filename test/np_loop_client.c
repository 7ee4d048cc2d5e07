/*-------------------------------------------------------------------------
 *
 * np_loop_client.c
 *		A libpq client that runs statements the way ORM drivers send them,
 *		for the N+1 rewrite tests: with their values in the text (simple
 *		protocol, as psycopg2 does), or as bound parameters of an unnamed
 *		statement (extended protocol, as node-postgres and ruby-pg do), or
 *		of a named prepared statement (ActiveRecord's prepared statements).
 *		It prints every row it gets back, so that a test can compare what
 *		a loop returned with what the suggested statement returns.
 *
 * Usage: np_loop_client CONNINFO < SCRIPT
 *
 * SCRIPT has one command per line, fields separated by tabs; in a field,
 * \t \n \\ stand for a tab, a newline and a backslash, and \N alone for
 * NULL:
 *	q TAG SQL				simple protocol (PQexec)
 *	p TAG SQL [VALUE ...]	extended protocol, unnamed statement, parameter
 *							types left to the server (PQexecParams)
 *	P TAG NAME SQL [VALUE ...]	the same through a named prepared statement,
 *							prepared on first use (PQprepare, PQexecPrepared)
 *	e TAG SQL				simple protocol, an error expected: prints
 *							"TAG\tERROR\tSQLSTATE" (or fails if none)
 *	c1, c2					run what follows on the first or the second
 *							connection (opened on first use)
 *
 * Prints one line per row returned: "TAG\tVALUE\t...", values escaped as
 * above (NULL as \N).  Exits 1 on any unexpected error.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpq-fe.h"

#define MAX_FIELDS 1100
#define MAX_PREPARED 64

static PGconn *conns[2];
static int	cur = 0;
static const char *conninfo;
static char *prepared[2][MAX_PREPARED];
static int	nprepared[2];

/* fail with what the server said */
static void
die(const char *what, PGresult *res)
{
	fprintf(stderr, "np_loop_client: %s: %s", what,
			res ? PQresultErrorMessage(res) : PQerrorMessage(conns[cur]));
	exit(1);
}

/* the current connection, opened on first use */
static PGconn *
conn(void)
{
	if (conns[cur] == NULL)
	{
		conns[cur] = PQconnectdb(conninfo);
		if (PQstatus(conns[cur]) != CONNECTION_OK)
			die("connect", NULL);
	}
	return conns[cur];
}

/* decode the escapes of one field in place; NULL for \N */
static char *
unescape(char *s)
{
	char	   *r = s,
			   *w = s;

	if (strcmp(s, "\\N") == 0)
		return NULL;
	while (*r)
	{
		if (*r == '\\' && r[1])
		{
			r++;
			*w++ = (*r == 't') ? '\t' : (*r == 'n') ? '\n' : *r;
			r++;
		}
		else
			*w++ = *r++;
	}
	*w = '\0';
	return s;
}

/* print a value with tabs, newlines and backslashes escaped */
static void
print_escaped(const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\\')
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
}

/* print the rows of a result, or fail if it is an error */
static void
print_result(const char *tag, const char *what, PGresult *res)
{
	int			r,
				f;

	if (PQresultStatus(res) == PGRES_COMMAND_OK)
	{
		PQclear(res);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die(what, res);
	for (r = 0; r < PQntuples(res); r++)
	{
		fputs(tag, stdout);
		for (f = 0; f < PQnfields(res); f++)
		{
			putchar('\t');
			if (PQgetisnull(res, r, f))
				fputs("\\N", stdout);
			else
				print_escaped(PQgetvalue(res, r, f));
		}
		putchar('\n');
	}
	PQclear(res);
}

/* has the current connection prepared this statement name? */
static int
is_prepared(const char *name)
{
	int			i;

	for (i = 0; i < nprepared[cur]; i++)
		if (strcmp(prepared[cur][i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static char line[1 << 20];
	char	   *fields[MAX_FIELDS];

	if (argc != 2)
	{
		fprintf(stderr, "usage: np_loop_client CONNINFO < SCRIPT\n");
		return 2;
	}
	conninfo = argv[1];
	while (fgets(line, sizeof(line), stdin) != NULL)
	{
		int			n = 0;
		char	   *s = line,
				   *tab;
		size_t		len = strlen(line);

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		for (;;)
		{
			if (n == MAX_FIELDS)
			{
				fprintf(stderr, "np_loop_client: too many fields\n");
				return 1;
			}
			tab = strchr(s, '\t');
			if (tab)
				*tab = '\0';
			fields[n++] = s;
			if (!tab)
				break;
			s = tab + 1;
		}
		for (int i = 1; i < n; i++)
			fields[i] = unescape(fields[i]);

		if (strcmp(fields[0], "c1") == 0 || strcmp(fields[0], "c2") == 0)
			cur = fields[0][1] - '1';
		else if (strcmp(fields[0], "q") == 0 && n == 3)
			print_result(fields[1], fields[2], PQexec(conn(), fields[2]));
		else if (strcmp(fields[0], "p") == 0 && n >= 3)
			print_result(fields[1], fields[2],
						 PQexecParams(conn(), fields[2], n - 3, NULL,
									  (const char *const *) fields + 3,
									  NULL, NULL, 0));
		else if (strcmp(fields[0], "P") == 0 && n >= 4)
		{
			if (!is_prepared(fields[2]))
			{
				PGresult   *res = PQprepare(conn(), fields[2], fields[3], 0,
											NULL);

				if (PQresultStatus(res) != PGRES_COMMAND_OK)
					die(fields[3], res);
				PQclear(res);
				if (nprepared[cur] < MAX_PREPARED)
					prepared[cur][nprepared[cur]++] = strdup(fields[2]);
			}
			print_result(fields[1], fields[3],
						 PQexecPrepared(conn(), fields[2], n - 4,
										(const char *const *) fields + 4,
										NULL, NULL, 0));
		}
		else if (strcmp(fields[0], "e") == 0 && n == 3)
		{
			PGresult   *res = PQexec(conn(), fields[2]);

			if (PQresultStatus(res) != PGRES_FATAL_ERROR)
			{
				fprintf(stderr, "np_loop_client: no error from %s\n",
						fields[2]);
				return 1;
			}
			printf("%s\tERROR\t%s\n", fields[1],
				   PQresultErrorField(res, PG_DIAG_SQLSTATE));
			PQclear(res);
		}
		else
		{
			fprintf(stderr, "np_loop_client: bad command: %s\n", fields[0]);
			return 1;
		}
	}
	fflush(stdout);
	if (conns[0])
		PQfinish(conns[0]);
	if (conns[1])
		PQfinish(conns[1]);
	return 0;
}
