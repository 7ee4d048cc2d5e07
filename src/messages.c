/*-------------------------------------------------------------------------
 *
 * messages.c
 *		Owns how scale_advisor's own errors read: without the CONTEXT lines
 *		of its internal functions.
 *
 * The procedures and functions of the extension check their input in
 * PL/pgSQL helpers and raise an error with a message and a hint written
 * for the caller.  PostgreSQL adds a CONTEXT line for every PL/pgSQL frame
 * and every SQL statement between the RAISE and the client: a caller of
 * CALL scale_advisor.archive(...) would read a dozen lines of internal
 * function signatures with 13 to 15 argument types and multi-line internal
 * statements.  An emit_log_hook removes them: when the innermost context
 * line is a PL/pgSQL function of the extension's schema and the error has
 * a hint (the errors written for the caller have one; an internal bug's
 * does not, and keeps its whole context), every line up to the outermost
 * frame of the extension is dropped; what the caller's own code added
 * around the call (a DO block, a function of its own) stays.  The hook
 * only sees messages that go to the server log (log_min_messages), which
 * errors do by default; the log then gets the same shorter context.
 *
 * No shared state, no locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/elog.h"
#include "utils/memutils.h"

#include "compat.h"
#include "scale_advisor.h"

#define SA_FRAME "PL/pgSQL function scale_advisor."

static emit_log_hook_type prev_emit_log_hook = NULL;

/* true when the line of context starting at p is a frame of ours */
static bool
our_frame(const char *p)
{
	return strncmp(p, SA_FRAME, strlen(SA_FRAME)) == 0;
}

/*
 * emit_log_hook: drop the context lines of the extension's own frames of
 * an error written for the caller.  Must not throw: the shorter context is
 * a copy in ErrorContext, allocated without raising an error (none at all
 * when memory is short).
 */
static void
sa_emit_log_hook(ErrorData *edata)
{
	if (edata->elevel >= ERROR && edata->context != NULL &&
		edata->hint != NULL && our_frame(edata->context))
	{
		char	   *p = edata->context;
		char	   *rest = NULL;

		/* the end of the line of our outermost frame */
		while (p != NULL)
		{
			if (our_frame(p))
				rest = strchr(p, '\n');
			p = strstr(p, "\n" SA_FRAME);
			if (p != NULL)
				p++;
		}

		/*
		 * A copy, in the memory of the error, so that whoever frees the
		 * context frees a chunk of its own; the original goes with that
		 * memory when the error is done.
		 */
		if (rest == NULL || rest[1] == '\0')
			edata->context = NULL;
		else
		{
			Size		len = strlen(rest + 1);
			char	   *copy = MemoryContextAllocExtended(ErrorContext, len + 1,
														  MCXT_ALLOC_NO_OOM);

			/* (out of memory: no context rather than a second error) */
			if (copy != NULL)
				memcpy(copy, rest + 1, len + 1);
			edata->context = copy;
		}
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Install the hook (preloaded library only).
 */
void
sa_messages_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = sa_emit_log_hook;
}
