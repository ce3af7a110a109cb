#!/usr/bin/env bash
# installcheck-twice.sh [PG_CONFIG=...]: what a packager does, twice.  One
# server of the installation of PG_CONFIG (Debian's PostgreSQL 15 by
# default), configured with exactly the settings the README's "Testing an
# installed server" lists (tools/test.conf, checked against the README),
# runs the pg_regress and the isolation suites with "make installcheck",
# then both again, without a restart in between: whatever one run leaves
# behind in the server (shared memory, slots, workers, the databases the
# suites drop and create) must not break the next.  Builds and installs
# idgen first, as make test does.  The last line is "N passed, N failed";
# the exit status is non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ "$PG_CONFIG" = pg_config ] && PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

# on any exit: stop the server and print the totals
trap 'finish_totals server_stop' EXIT
trap 'exit 130' INT TERM

# settings_block: the settings the README asks a packager's test server
# for, as the fenced block that follows the line naming tools/test.conf
settings_block() {
    awk '/^### Testing an installed server/ { section = 1 }
         section && /tools\/test.conf/ { named = 1 }
         named && /^```/ { if (inside) exit; inside = 1; next }
         inside { print }' "$REPO/README.md"
}

prepare
work=$(make_workdir installcheck-twice)
mkdir -p "$work/check"
stage_sources "$work/check"
if ! diff <(grep -v '^#' "$REPO/tools/test.conf" | grep -v '^$') \
    <(settings_block | sed 's/ *#.*//' | grep -v '^$') >&2; then
    echo "tools/test.conf and the settings in the README's \"Testing an installed server\" differ" >&2
    exit 1
fi
server_start "$work" "$REPO/tools/test.conf"

for round in 1 2; do
    server_installcheck "regress-$round" "$work/check" "$work/check/regression.diffs" \
        ISOLATION= TAP_TESTS=
    server_installcheck "isolation-$round" "$work/check" \
        "$work/check/output_iso/regression.diffs" REGRESS= TAP_TESTS=
done
