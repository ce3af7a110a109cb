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

regress_tests=$(cd sql && ls *.sql 2>/dev/null | sed 's/\.sql$//' | sort)
if [ -n "$regress_tests" ]; then
    echo "== pg_regress"
    "$pgxs/src/test/regress/pg_regress" \
        --temp-instance="$work/regress-instance" \
        --temp-config="$work/tools/test.conf" \
        --inputdir="$work" --outputdir="$work/regress" \
        --bindir="$bindir" --dbname=contrib_regression \
        $regress_tests 2>&1 | tee "$work/regress.log"
    count_regress "$work/regress.log" "${PIPESTATUS[0]}"
    [ -f "$work/regress/regression.diffs" ] && cat "$work/regress/regression.diffs"
fi

iso_tests=$(cd specs && ls *.spec 2>/dev/null | sed 's/\.spec$//' | sort)
if [ -n "$iso_tests" ]; then
    echo "== isolation"
    "$pgxs/src/test/isolation/pg_isolation_regress" \
        --temp-instance="$work/isolation-instance" \
        --temp-config="$work/tools/test.conf" \
        --inputdir="$work" --outputdir="$work/isolation" \
        --bindir="$bindir" --dbname=isolation_regression \
        $iso_tests 2>&1 | tee "$work/isolation.log"
    count_regress "$work/isolation.log" "${PIPESTATUS[0]}"
    [ -f "$work/isolation/regression.diffs" ] && cat "$work/isolation/regression.diffs"
fi

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
