# indent.mk -- format the C sources the way PostgreSQL formats its own.
#
# Included by the Makefile.  Targets:
#   make indent           rewrite INDENT_FILES (default src/*.c src/*.h)
#                         that pg_bsd_indent would change
#   make indent-diff      print what "make indent" would change (diff -u);
#                         change nothing
#   make update-typedefs  rewrite typedefs.list from src/*.c and src/*.h
#
# pg_bsd_indent is the indenter PostgreSQL's src/tools/pgindent/pgindent
# drives (Debian: package pg-bsd-indent).  Each file goes through what
# pgindent does to it: the comment fix-ups before (// comments become
# /* */, dash-protected comments are kept), pg_bsd_indent with pgindent's
# options, and the fix-ups after (run-together comments, "type *" of a
# function's return type).  The typedefs are PostgreSQL's list (a
# PostgreSQL 18 source tree's src/tools/pgindent/typedefs.list: set
# PG_TYPEDEFS; the source tree test/lib/pg18.sh caches is used when there)
# plus the project's own (typedefs.list) plus pgindent's additions, less
# pgindent's exclusions.

srcdir ?= .
PG_BSD_INDENT ?= pg_bsd_indent
PG_INDENT_OPTS = -bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 \
	-nfc1 -i4 -l79 -lp -lpl -nip -npro -sac -tpg -ts4
PG_TYPEDEFS ?= $(firstword $(wildcard \
	/var/cache/scale_advisor/pg18-*/src/src/tools/pgindent/typedefs.list))
INDENT_FILES ?= $(sort $(wildcard $(srcdir)/src/*.c $(srcdir)/src/*.h))

# names pgindent adds to and removes from the typedefs (pgindent's
# @additional and %excluded)
PG_TYPEDEFS_ADD = bool regex_t regmatch_t regoff
PG_TYPEDEFS_DROP = FD_SET LookupSet boolean date duration element_type \
	inquiry iterator other pointer reference rep string timestamp type wrap

# pgindent's pre_indent and post_indent, as far as they concern C files
# outside the server's tree (no CATALOG() lines, no extern "C" blocks)
SA_INDENT_PRE = s!^([ \t]*)//(.*)$$!$$1/* $$2 */!gm; s!/\* +---!/*---X_X!g;
SA_INDENT_POST = s!/\*---X_X!/* ---!g; s!\*/(/\*.*\*/)$$!*/\t$$1!gm; \
	s!^([A-Za-z_]\S*)[ \t]+\*$$!$$1 *!gm;

# sa_indent_run ACTION: for each file of INDENT_FILES, the shell variable
# f names it and $tmp/new.c holds it indented; then ACTION runs.
define sa_indent_run
@test -n "$(PG_TYPEDEFS)" && test -f "$(PG_TYPEDEFS)" || { \
	echo "PostgreSQL's typedefs.list not found: set PG_TYPEDEFS to the src/tools/pgindent/typedefs.list of a PostgreSQL source tree" >&2; \
	exit 1; }
@command -v $(PG_BSD_INDENT) >/dev/null || { \
	echo "$(PG_BSD_INDENT) not found (Debian: apt-get install pg-bsd-indent)" >&2; exit 1; }
@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
printf '%s\n' $(PG_TYPEDEFS_DROP) > "$$tmp/drop" && \
{ cat "$(PG_TYPEDEFS)" "$(srcdir)/typedefs.list"; printf '%s\n' $(PG_TYPEDEFS_ADD); } | \
	grep -vxF -f "$$tmp/drop" > "$$tmp/typedefs" && \
for f in $(INDENT_FILES); do \
	perl -0pe '$(SA_INDENT_PRE)' "$$f" > "$$tmp/in.c" && \
	$(PG_BSD_INDENT) $(PG_INDENT_OPTS) -U"$$tmp/typedefs" "$$tmp/in.c" "$$tmp/out.c" && \
	perl -0pe '$(SA_INDENT_POST)' "$$tmp/out.c" > "$$tmp/new.c" || exit 1; \
	$(1); \
done
endef

# these rules do not change the including Makefile's default goal
sa_indent_goal := $(.DEFAULT_GOAL)

.PHONY: indent indent-diff update-typedefs

indent:
	$(call sa_indent_run,cmp -s "$$f" "$$tmp/new.c" || { cp "$$tmp/new.c" "$$f" && echo "indented $$f"; })

indent-diff:
	$(call sa_indent_run,diff -u --label "$$f" --label "$$f (indented)" "$$f" "$$tmp/new.c")

# every name a typedef in src/ declares: struct, union and enum tags, the
# name after a typedef's closing brace, function pointer types, plain
# typedefs (comments removed first)
SA_TYPEDEFS_PERL = s{/\*.*?\*/}{ }gs; \
	$$n{$$1} = 1 while /\btypedef\s+(?:struct|union|enum)\s+(\w+)/g; \
	while (/\btypedef\s+(?:struct|union|enum)\s*\w*\s*(\{(?:[^{}]++|(?1))*\})\s*(\w+)\s*;/g) { $$n{$$2} = 1 } \
	$$n{$$1} = 1 while /\btypedef\s[^;{}]*?\(\s*\*\s*(\w+)\s*\)/g; \
	$$n{$$1} = 1 while /\btypedef\s+(?!struct\b|union\b|enum\b)[\w\s*]+?\b(\w+)\s*;/g; \
	END { print "$$_\n" for sort keys %n }

update-typedefs:
	perl -0777 -ne '$(SA_TYPEDEFS_PERL)' \
		$(sort $(wildcard $(srcdir)/src/*.c $(srcdir)/src/*.h)) > $(srcdir)/typedefs.list

.DEFAULT_GOAL := $(sa_indent_goal)
