# Makefile for scale_advisor (PGXS)
#
# The install script sql/scale_advisor--$(EXTVERSION).sql is assembled from
# the pieces in sql/install/, one object (or one small family: a function
# and its overloads, a table with its indexes, grants and comments) per
# file, grouped by concern in numbered folders (sql/install/40_archive/
# 170_archive.sql) and concatenated in byte order of their paths, as
# pg_partman does; a piece that stands alone sits directly in sql/install/.
# Update scripts sql/scale_advisor--A--B.sql are kept in the repository
# as they are installed.  Install scripts of released versions
# (sql/scale_advisor--1.0.sql) are kept as they were released and installed
# as they are, so CREATE EXTENSION ... VERSION '1.0' followed by ALTER
# EXTENSION ... UPDATE can be tested.  pg_regress inputs live in test/sql,
# expected output in expected/.

EXTENSION = scale_advisor

# the source tree: "." in a plain build, $(VPATH) when building in another
# folder (make -C build -f ../Makefile VPATH=.., as Debian's pg_buildext
# does); PGXS's $(srcdir) is not set yet at this point
sa_src := $(if $(VPATH),$(VPATH),.)
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(sa_src)/$(EXTENSION).control)

MODULE_big = scale_advisor
OBJS = $(patsubst $(sa_src)/%.c,%.o,$(sort $(wildcard $(sa_src)/src/*.c)))

DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(patsubst $(sa_src)/%,%,$(wildcard $(sa_src)/sql/$(EXTENSION)--*.sql)))
EXTRA_CLEAN = $(DATA_built)

PG_CPPFLAGS = -I$(srcdir)/src -DSA_VERSION='"$(EXTVERSION)"'

# make installcheck (run it as an unprivileged user, after make install;
# it needs no running server: every suite starts its own temporary server
# from the installation that pg_config names, with the library preloaded
# through test/regress.conf, so the settings of any other server do not
# matter):
# - pg_regress: every test/sql/*.sql except nopreload_*, which need a server
#   without the library and run against a second temporary instance;
# - isolation: test/specs/*.spec;
# - TAP: test/t/*.pl (needs the server built with TAP tests, as Debian's
#   packages are, and IPC::Run); a file that creates an extension the
#   installation does not have (hypopg, pg_cron) is left out and named
#   (test/lib/tap-select.sh).
# make installcheck stops at the first suite that fails; the targets
# installcheck-nopreload, installcheck-preload (the two pg_regress runs),
# installcheck-regress (both), installcheck-isolation and installcheck-tap
# run one suite each, and the lists can be narrowed on the command line
# (make installcheck-tap PROVE_TESTS=test/t/001_preload.pl).
# test/run-all.sh runs these targets (as root, as the postgres user, on 15
# and 18) and the heavier suites besides.  Under PGXS "make check" only
# prints that it is not supported: use make installcheck.
# The temporary servers' databases are UTF8 with the C locale whatever the
# caller's environment (the expected output has multibyte texts cut at
# character boundaries; under LANG=C a server would make SQL_ASCII ones).
ENCODING = UTF8
NO_LOCALE = 1
TESTS_ALL = $(basename $(notdir $(sort $(wildcard test/sql/*.sql))))
REGRESS = $(filter-out nopreload_%,$(TESTS_ALL))
REGRESS_OPTS = --inputdir=test --temp-instance=./tmp_check_regress \
	--temp-config=test/regress.conf
NOPRELOAD = $(filter nopreload_%,$(TESTS_ALL))
ISOLATION = $(basename $(notdir $(sort $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --outputdir=. --temp-instance=./tmp_check_iso \
	--temp-config=test/regress.conf
TAP_TESTS = 1
TAP_ALL = $(sort $(wildcard test/t/*.pl))
# (worked out once, when first used: the installation's datadir is known
# only after the include of PGXS below)
PROVE_TESTS = $(eval PROVE_TESTS := $(shell sh $(srcdir)/test/lib/tap-select.sh \
	'$(datadir)/extension' $(TAP_ALL)))$(PROVE_TESTS)
EXTRA_CLEAN += tmp_check_regress tmp_check_nopreload tmp_check_iso output_iso

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# make indent / make indent-diff: format src/ the PostgreSQL way (indent.mk)
include $(srcdir)/indent.mk

# test/t/SaFuzz.pm (after the include: Makefile.global sets the flags)
PG_PROVE_FLAGS += -I $(srcdir)/test/t

# (make's sort is byte order whatever the locale; test/suites/85-release.sh
# rebuilds the script the same way with LC_ALL=C sort)
SA_INSTALL_PIECES = $(sort $(wildcard $(sa_src)/sql/install/*.sql $(sa_src)/sql/install/*/*.sql))
sql/$(EXTENSION)--$(EXTVERSION).sql: $(SA_INSTALL_PIECES) $(sa_src)/$(EXTENSION).control
	@mkdir -p $(@D)
	cat $(filter %.sql,$^) > $@

# a VPATH build writes its object files to src/ of the build folder (an
# order-only rule would not do: make finds the source's src/ through VPATH)
ifneq ($(sa_src),.)
$(shell mkdir -p src)
endif

# the TAP tests find the ORM client script and the monitoring files here
SA_CHECKS = installcheck installcheck-tap
$(SA_CHECKS): export SA_BUILD = $(abspath $(srcdir))
$(SA_CHECKS): export SA_ROOT = $(abspath $(srcdir))

# The TAP files' clusters are made by initdb with the caller's locale, and
# under one whose character set is not UTF-8 (LANG unset, LANG=C) their
# databases would be SQL_ASCII, which some files cannot use (multibyte
# texts, encoding conversions).  Then the TAP files get the LC_CTYPE of a
# UTF-8 locale the system has (C.UTF-8 first); a UTF-8 caller keeps its own.
sa_env_ctype := $(LC_CTYPE)
sa_utf8_ctype = $(if $(filter UTF-8,$(shell locale charmap 2>/dev/null)),$(sa_env_ctype),$(firstword \
	$(shell locale -a 2>/dev/null | grep -ix 'c\.utf-\?8') \
	$(shell locale -a 2>/dev/null | grep -i 'utf-\?8$$') $(sa_env_ctype)))
$(SA_CHECKS): export LC_CTYPE = $(sa_utf8_ctype)

# the pg_regress tests that need a server without the library preloaded
installcheck: installcheck-nopreload
.PHONY: installcheck-nopreload installcheck-preload installcheck-regress \
	installcheck-isolation installcheck-tap
installcheck-nopreload: submake
	$(pg_regress_installcheck) --inputdir=test \
		--temp-instance=./tmp_check_nopreload $(NOPRELOAD)

installcheck-preload: submake
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-regress: installcheck-nopreload installcheck-preload

installcheck-isolation: submake
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

installcheck-tap: submake
	$(prove_installcheck)

# make dist: the zip PGXN takes, scale_advisor-<version>.zip with one top
# folder holding META.json, made with git archive from the last commit plus
# the install script built from sql/install/ (META.json's provides names it)
DISTVERSION = $(shell sed -n 's/^   "version": *"\([^"]*\)".*/\1/p' $(sa_src)/META.json)
DISTNAME = $(EXTENSION)-$(DISTVERSION)
EXTRA_CLEAN += $(DISTNAME).zip
.PHONY: dist
dist: sql/$(EXTENSION)--$(EXTVERSION).sql
	rm -f $(DISTNAME).zip
	git -C $(sa_src) archive --format=zip \
		--prefix=$(DISTNAME)/sql/ --add-file=$(abspath sql/$(EXTENSION)--$(EXTVERSION).sql) \
		--prefix=$(DISTNAME)/ -o $(abspath $(DISTNAME).zip) HEAD
