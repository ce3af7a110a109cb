# Shared by tools/package-test.sh and tools/installcheck-twice.sh: one
# server of the installation of $PG_CONFIG, run by the server user on a
# free port and a socket directory of its own, and "make installcheck" of a
# staged copy of the tests against it, its verdicts counted as
# tools/run_tests.sh counts them, and the totals printed on exit.  Source
# it after tools/common.sh.

passed=0
failed=0
server_data=
server_sockdir=
server_port=
server_up=0

# count_verdicts LOG STATUS: add a suite's verdicts ("test x ... ok" up to
# PostgreSQL 15, "ok 1 - x" from 16 on) to the totals; a suite that failed
# without a failed test counts as one failure
count_verdicts() {
    local ok bad
    ok=$(grep -E '\.\.\. ok|^ok [0-9]' "$1" | grep -vic '# skip' || true)
    bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]' "$1" || true)
    if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# finish_totals CLEANUP: the EXIT trap of a script that counts verdicts
# (trap 'finish_totals CLEANUP' EXIT): run CLEANUP, whose failure counts as
# one; a script that failed without a failed verdict counts as one
# failure; print "N passed, N failed" and exit 0 only when something passed
# and nothing failed
finish_totals() {
    local status=$?
    trap - EXIT
    set +e
    "$1" || failed=$((failed + 1))
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && exit 0
    exit 1
}

# server_ctl ARGS...: pg_ctl of the installation on the server
server_ctl() { as_pguser "$(pg_bindir)/pg_ctl" -D "$server_data" "$@"; }

# server_start DIR CONF: initdb DIR/data and start it with the settings of
# the file CONF and nothing else (port, socket directory and no TCP
# aside); says why and returns non-zero when it cannot
server_start() {
    local dir=$1 conf=$2
    server_sockdir=$(mktemp -d /tmp/idgen-server.XXXXXX)
    [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$server_sockdir"
    server_port=$(free_port) || return 1
    server_data="$dir/data"
    init_cluster "$server_data" "$server_port" "$server_sockdir" < "$conf" || return 1
    start_cluster "$server_data" "$dir/server.log" || return 1
    server_up=1
    say "$(pg_version) on port $server_port, socket in $server_sockdir"
}

# server_stop: stop the server if it runs, and remove its socket directory
server_stop() {
    local status=0
    if [ "$server_up" = 1 ]; then
        server_ctl -m fast -w stop > /dev/null || status=1
        server_up=0
    fi
    [ -n "$server_sockdir" ] && rm -rf "$server_sockdir"
    server_sockdir=
    return $status
}

# server_installcheck NAME CHECKOUT DIFFS MAKE_ARGS...: "make installcheck"
# of the staged copy CHECKOUT against the server, as the server user;
# prints and counts its verdicts, and its diffs (file DIFFS) when it failed
server_installcheck() {
    local name=$1 checkout=$2 diffs=$3 log status=0
    shift 3
    log="$checkout/../$name.log"
    echo "== $name"
    as_pguser env PATH="$(pg_bindir):$PATH" PGHOST="$server_sockdir" PGPORT="$server_port" \
        make -C "$checkout" -s PG_CONFIG="$PG_CONFIG" installcheck "$@" \
        > "$log" 2>&1 || status=$?
    cat "$log"
    count_verdicts "$log" "$status"
    if [ "$status" -ne 0 ] && [ -f "$diffs" ]; then
        cat "$diffs"
    fi
}
