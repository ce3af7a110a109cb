#!/usr/bin/env bash
# run_tests.sh WORKDIR PG_CONFIG: runs as the server user from a staged
# copy (tools/test.sh) every test the Makefile declares, through its
# standard targets: "make installcheck" for the pg_regress and isolation
# suites, each against a throwaway instance (--temp-instance, configured by
# tools/test.conf), and "make prove_installcheck" for each TAP test.
# Writes the counts to WORKDIR/summary.
set -uo pipefail

work=$1
pg_config=$2
cd "$work"
export PATH="$("$pg_config" --bindir):$PATH"
passed=0
failed=0

# count LOG STATUS OK_PATTERN FAIL_PATTERN: add a log's verdicts to the
# totals (skipped tests count as neither); a run that failed without a
# failed test counts as one failure
count() {
    local ok bad
    ok=$(grep -E "$3" "$1" | grep -vic '# skip')
    bad=$(grep -cE "$4" "$1")
    if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# installcheck NAME DIFFS MAKE_ARGS...: one pg_regress or isolation suite
# on its own temporary instance; its verdicts ("test x ... ok" up to
# PostgreSQL 15, "ok 1 - x" from 16 on) are counted
installcheck() {
    local name=$1 diffs=$2
    shift 2
    echo "== $name"
    make -s PG_CONFIG="$pg_config" installcheck "$@" \
        EXTRA_REGRESS_OPTS="--temp-instance=$work/$name-instance" \
        > "$work/$name.log" 2>&1
    local status=$?
    cat "$work/$name.log"
    count "$work/$name.log" "$status" '\.\.\. ok|^ok [0-9]' \
        '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]'
    [ -f "$diffs" ] && cat "$diffs"
    return 0
}

installcheck regress "$work/regression.diffs" ISOLATION= TAP_TESTS=
installcheck isolation "$work/output_iso/regression.diffs" REGRESS= TAP_TESTS=

echo "== TAP"
mkdir -p "$work/tap"
for t in t/*.pl; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .pl)
    log="$work/tap/$name.log"
    make -s PG_CONFIG="$pg_config" prove_installcheck PROVE_TESTS="$t" \
        PROVE_FLAGS=--verbose > "$log" 2>&1
    status=$?
    before=$failed
    count "$log" "$status" '^ok ' '^not ok '
    echo "$t: $(grep -E '^ok ' "$log" | grep -vic '# skip') passed, $((failed - before)) failed"
    # a test skipped whole counts as neither: say so, with its reason
    grep -E '^1\.\.0 # (skip|SKIP)' "$log" | sed "s|^1\.\.0 # [A-Za-z]* *|$t: SKIPPED, neither passed nor failed: |"
    if [ "$failed" -ne "$before" ]; then
        cat "$log"
        sed 's/^\[[0-9:.]*\]([0-9.]*s) //' \
            "$work/tmp_check/log/regress_log_$name" | tail -n 40
    fi
done

echo "$passed passed, $failed failed" > "$work/summary"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
