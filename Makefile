# idgen: unique 64-bit IDs generated inside PostgreSQL (PGXS build)

MODULE_big = idgen
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

EXTENSION = idgen
DATA = $(wildcard idgen--*.sql)
PGFILEDESC = "idgen - unique 64-bit ID generators"

PG_CPPFLAGS = -I$(srcdir)/src -Wno-unused-parameter -Wno-missing-field-initializers

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: rebuild every object when a header
# changes, or objects disagree on the layout of shared memory.
$(OBJS): $(wildcard src/*.h)

# The test, demo and benchmark drivers install what is missing, build,
# install, and start throwaway clusters as an unprivileged user.
.PHONY: test demo bench
test:
	bash tools/test.sh

demo:
	bash tools/demo.sh

bench:
	bash bench/run.sh
