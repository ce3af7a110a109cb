#!/usr/bin/env bash
# Runs as the server user from a staged copy (tools/test.sh): pg_regress,
# isolation and TAP tests, each against its own throwaway cluster.  Writes
# the counts to WORKDIR/summary.
set -uo pipefail

work=$1
cd "$work"
pgxs=$(dirname "$(dirname "$(dirname "$(pg_config --pgxs)")")")
bindir=/usr/lib/postgresql/15/bin
export PATH="$bindir:$PATH"
passed=0
failed=0

# count_regress LOG STATUS: add pg_regress's per-test verdicts to the
# totals; a run that failed without a failed test counts as one failure
count_regress() {
    local ok bad
    ok=$(grep -cE '\.\.\. ok' "$1")
    bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$1")
    if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# run_suite NAME DRIVER DBNAME TESTS...: run pg_regress or
# pg_isolation_regress on a temporary instance and count the verdicts
run_suite() {
    local name=$1 driver=$2 dbname=$3
    shift 3
    [ $# -gt 0 ] || return 0
    echo "== $name"
    "$driver" \
        --temp-instance="$work/$name-instance" \
        --temp-config="$work/tools/test.conf" \
        --inputdir="$work" --outputdir="$work/$name" \
        --bindir="$bindir" --dbname="$dbname" \
        "$@" 2>&1 | tee "$work/$name.log"
    count_regress "$work/$name.log" "${PIPESTATUS[0]}"
    [ -f "$work/$name/regression.diffs" ] && cat "$work/$name/regression.diffs"
    return 0
}

run_suite regress "$pgxs/src/test/regress/pg_regress" contrib_regression \
    $(cd sql && ls *.sql 2>/dev/null | sed 's/\.sql$//' | sort)
run_suite isolation "$pgxs/src/test/isolation/pg_isolation_regress" isolation_regression \
    $(cd specs && ls *.spec 2>/dev/null | sed 's/\.spec$//' | sort)

echo "== TAP"
export PG_REGRESS="$pgxs/src/test/regress/pg_regress"
export TESTDIR="$work/tap"
mkdir -p "$TESTDIR"
for t in t/*.pl; do
    [ -e "$t" ] || continue
    log="$work/tap/$(basename "$t" .pl).log"
    perl -I "$pgxs/src/test/perl" "$t" > "$log" 2>&1
    rc=$?
    ok=$(grep -cE '^ok ' "$log")
    bad=$(grep -cE '^not ok ' "$log")
    if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    echo "$t: $ok passed, $bad failed"
    if [ "$bad" -ne 0 ]; then
        cat "$log"
        sed 's/^\[[0-9:.]*\]([0-9.]*s) //' \
            "$work/tap/tmp_check/log/regress_log_$(basename "$t" .pl)" | tail -n 40
    fi
done

echo "$passed passed, $failed failed" > "$work/summary"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
