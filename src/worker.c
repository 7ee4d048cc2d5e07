/* placeholder replaced in the next commit */
#include "postgres.h"
#include "scale_advisor.h"
void sa_worker_init(void) {}
