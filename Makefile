# Makefile for scale_advisor (PGXS)
#
# The install script sql/scale_advisor--$(EXTVERSION).sql is assembled from
# the pieces in sql/install/ (one concern per file, concatenated in name
# order).  The update script sql/scale_advisor--A--B.sql is assembled the
# same way from sql/update/A--B/.  Install scripts of released versions
# (sql/scale_advisor--1.0.sql) are kept as they were released and installed
# as they are, so CREATE EXTENSION ... VERSION '1.0' followed by ALTER
# EXTENSION ... UPDATE can be tested.  pg_regress inputs live in test/sql,
# expected output in expected/.

EXTENSION = scale_advisor
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = scale_advisor
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

UPDATES = $(notdir $(wildcard sql/update/*--*))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql \
	$(patsubst %,sql/$(EXTENSION)--%.sql,$(UPDATES))
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = $(DATA_built)

PG_CPPFLAGS = -I$(srcdir)/src -DSA_VERSION='"$(EXTVERSION)"'

# pg_regress: every test/sql/*.sql except the ones that need a server
# without the preloaded library (nopreload_*), which the test runner runs
# against a second instance.
REGRESS = $(filter-out nopreload_%,$(basename $(notdir $(sort $(wildcard test/sql/*.sql)))))
REGRESS_OPTS = --inputdir=test --temp-config=test/regress.conf

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql)) $(EXTENSION).control
	cat $(filter %.sql,$^) > $@

sql/$(EXTENSION)--%.sql: sql/update/%/*.sql
	cat $(sort $^) > $@
