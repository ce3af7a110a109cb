# idgen: unique 64-bit IDs generated inside PostgreSQL (PGXS build)

MODULE_big = idgen
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

EXTENSION = idgen
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" idgen.control)
DATA = $(wildcard idgen--*.sql)
PGFILEDESC = "idgen - unique 64-bit ID generators"

# Tests, for "make installcheck" against a server with idgen preloaded (see
# tools/test.conf), or on throwaway instances through "make test".
# Tests that need a tool this machine lacks (libfaketime) skip, saying so.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-config=$(srcdir)/tools/test.conf
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --temp-config=$(srcdir)/tools/test.conf
TAP_TESTS = 1

PG_CPPFLAGS = -I$(srcdir)/src -I$(libpq_srcdir) -Wno-unused-parameter -Wno-missing-field-initializers
# the runway worker of a node talks to its root over libpq, as
# contrib/postgres_fdw and contrib/dblink do
SHLIB_LINK_INTERNAL = $(libpq)

PG_CONFIG ?= pg_config
# The drivers below (and "make dist") need no PGXS: they install what is
# missing, PostgreSQL's server headers and PGXS included, so they must run
# where pg_config is libpq-dev's alone.  Every other goal includes PGXS.
DRIVER_GOALS = test demo demo-cluster bench dist
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out $(DRIVER_GOALS),$(MAKECMDGOALS)),)
WITHOUT_PGXS = 1
endif
endif
ifndef WITHOUT_PGXS
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
endif

# Both suites in one database, the one tools/test.conf names for the
# snowflake lease.
ISOLATION_TESTDB = $(CONTRIB_TESTDB)

# PGXS tracks no header dependencies: rebuild every object when a header
# changes, or objects disagree on the layout of shared memory.
$(OBJS): $(wildcard src/*.h)

# The TAP tests alone, as PostgreSQL's own modules offer them.
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)

# The test, demo and benchmark drivers install what is missing, build,
# install, and start throwaway clusters as an unprivileged user.
.PHONY: test demo demo-cluster bench
test:
	PG_CONFIG="$(PG_CONFIG)" bash tools/test.sh

demo:
	PG_CONFIG="$(PG_CONFIG)" bash tools/demo.sh

# many servers: a root and two nodes, the root stopped and started again
demo-cluster:
	PG_CONFIG="$(PG_CONFIG)" bash tools/demo-cluster.sh

bench:
	PG_CONFIG="$(PG_CONFIG)" bash bench/run.sh

# ---------------------------------------------------------------------------
# PGXN distribution.  "make dist" archives what is committed (HEAD, not the
# work tree) as idgen-X.Y.Z.zip, X.Y.Z being the "version" of META.json,
# which must extend the extension's default_version X.Y (EXTVERSION).
DISTVERSION = $(shell sed -n 's/^ \{0,4\}"version": *"\([^"]*\)".*/\1/p' META.json | head -n 1)
DISTNAME = $(EXTENSION)-$(DISTVERSION)

.PHONY: dist
dist:
	@case "$(DISTVERSION)" in \
	    "$(EXTVERSION)".*) ;; \
	    *) echo "META.json version \"$(DISTVERSION)\" does not extend default_version \"$(EXTVERSION)\" of idgen.control" >&2; exit 1 ;; \
	esac
	git archive --format zip --prefix=$(DISTNAME)/ -o $(DISTNAME).zip HEAD
