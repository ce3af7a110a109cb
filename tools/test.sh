#!/usr/bin/env bash
# make test [PG_CONFIG=...]: install what is missing, build and install
# idgen, then run every pg_regress, isolation and TAP test as the server
# user, against the PostgreSQL of PG_CONFIG.  The last line printed is
# "N passed, N failed on PostgreSQL X.Y" (also in tmp_check/summary); the
# exit status is non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

prepare
ensure_clients
ensure_patroni
ensure_sqlsmith
work=$(make_workdir test)
stage_sources "$work"
set +e
as_pguser bash "$work/tools/run_tests.sh" "$work" "$PG_CONFIG"
status=$?
set -e
summary=$(tail -n 1 "$work/summary" 2>/dev/null || echo "0 passed, 1 failed")
echo "$summary on $(pg_version)" > "$REPO/tmp_check/summary"
cat "$REPO/tmp_check/summary"
exit $status
