#!/usr/bin/env bash
# make test: install what is missing, build and install idgen, then run
# every pg_regress, isolation and TAP test as the server user.  The last
# line printed is "N passed, N failed"; the exit status is non-zero when
# anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

prepare
work=$(make_workdir test)
stage_sources "$work"
set +e
as_pguser bash "$work/tools/run_tests.sh" "$work"
status=$?
set -e
summary=$(tail -n 1 "$work/summary" 2>/dev/null || echo "0 passed, 1 failed")
cp "$work/summary" "$REPO/tmp_check/summary" 2>/dev/null || true
echo "$summary"
exit $status
