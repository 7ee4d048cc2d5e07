/* placeholder: the real hooks land in the next commit; observer registry only */
#include "postgres.h"
#include "scale_advisor.h"

#define SA_MAX_OBSERVERS 8
int			sa_nesting_level = 0;
static sa_statement_observer stmt_observers[SA_MAX_OBSERVERS];
static int	n_stmt_observers = 0;
static sa_executor_start_observer start_observers[SA_MAX_OBSERVERS];
static int	n_start_observers = 0;

void
sa_register_statement_observer(sa_statement_observer fn)
{
	if (n_stmt_observers >= SA_MAX_OBSERVERS)
		elog(ERROR, "too many statement observers");
	stmt_observers[n_stmt_observers++] = fn;
}

void
sa_register_executor_start_observer(sa_executor_start_observer fn)
{
	if (n_start_observers >= SA_MAX_OBSERVERS)
		elog(ERROR, "too many executor start observers");
	start_observers[n_start_observers++] = fn;
}

void
sa_hooks_init(void)
{
}
