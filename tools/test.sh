#!/usr/bin/env bash
# make test [PG_CONFIG=...]: install what is missing, build and install
# idgen, then run every pg_regress, isolation and TAP test as the server
# user, against the PostgreSQL of PG_CONFIG.  The last line printed is
# "N passed, N failed on PostgreSQL X.Y" (also in tmp_check/summary); the
# exit status is non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

prepare
check_test_tools || exit 1
ensure_clients
ensure_patroni
ensure_sqlsmith
ensure_pgbouncer
work=$(make_workdir test)
stage_sources "$work"
# the tools and the release files, from the checkout, as the caller (it
# needs git and no server); its verdicts count with the suites'
echo "== tools/selftest.sh"
selftest_status=0
PG_CONFIG="$PG_CONFIG" bash "$REPO/tools/selftest.sh" > "$work/selftest.log" 2>&1 || selftest_status=$?
cat "$work/selftest.log"
set +e
as_pguser bash "$work/tools/run_tests.sh" "$work" "$PG_CONFIG"
status=$?
set -e
summary=$(tail -n 1 "$work/summary" 2>/dev/null || echo "0 passed, 1 failed")
st_passed=$(grep -E '^ok ' "$work/selftest.log" | grep -vic '# skip' || true)
st_failed=$(grep -cE '^not ok ' "$work/selftest.log" || true)
[ "$selftest_status" -ne 0 ] && [ "$st_failed" -eq 0 ] && st_failed=1
if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    summary="$((BASH_REMATCH[1] + st_passed)) passed, $((BASH_REMATCH[2] + st_failed)) failed"
fi
[ "$selftest_status" -eq 0 ] || status=1
echo "$summary on $(pg_version)" > "$REPO/tmp_check/summary"
cat "$REPO/tmp_check/summary"
exit $status
