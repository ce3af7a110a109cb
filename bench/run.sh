#!/usr/bin/env bash
# make bench: measure idgen's generators side by side with their baselines
# (SELECT 1, nextval, gen_random_uuid) in one run, and report whether each
# of the project's targets (bench/README.md) is met.  First the counts per
# transaction (instructions, WAL, XIDs, fsyncs, locks, system calls; the
# whole server under valgrind's callgrind, exact whatever the machine's
# load), then wall-clock figures: interleaved, in rounds, medians, ratios,
# and the A/A spread (the same workload twice in a round) that shows their
# noise.
#
#   bash bench/run.sh            full run (about 45 minutes on 2 cores)
#   bash bench/run.sh --counts   the counts per transaction alone (a few
#                                minutes): the before/after comparison of
#                                a change; PG_CONFIG=... picks the server
#   bash bench/run.sh --fast     a smoke test of every phase, for development
#   bash bench/run.sh --quick    the compact comparison that `make demo` ends
#                                with (under 30 s): in-server cost and pgbench
#                                at 8 clients, no INSERT phases
#   bash bench/run.sh --publish  also copy the chart and tables into
#                                bench/README.md and README.md
#
# Without PGHOST/PGPORT it installs what is missing, builds and installs
# idgen, and starts a throwaway cluster (data in tmp_check/bench, as in
# `make demo`), stopped again on exit.  With PGHOST or PGPORT set it uses
# that server instead (idgen installed and preloaded there) and skips what
# needs a restart or the data directory: the INSERT phase with a small
# shared_buffers and the counts.
#
# Settings (environment): TX_N ("200 2200": transactions per client of the
# two callgrind runs of each workload; their difference counts), TX_REPS
# (1; more: each of those runs repeated, the fewest instructions count),
# ROUNDS, DURATION (s per pgbench point), CLIENTS
# ("1 2 8 32 64"), JOBS (pgbench -j), INSERT_CLIENTS ("1 8 32 64"; the
# large-index phase runs at 8, or the last of them), INSERT_DURATION,
# CALLS (calls per in-server measurement), COST_REPS (in-server
# measurements per round, the fastest counts), BIG_ROWS (rows before the
# large-index INSERT phase; 0 skips it), BIG_SHARED_BUFFERS, INSTR (0 skips
# the in-server instruction counts), COUNTS (0 skips the counts per
# transaction), ANCHORS (an override: a directory with the sources of the
# peers, pgedge-snowflake/ and pg_uuidv7/, to build and install them when
# missing).  The peers are used when installed in the server: pgEdge
# snowflake from https://github.com/pgEdge/snowflake and pg_uuidv7 from
# https://github.com/fboulnois/pg_uuidv7 (make USE_PGXS=1 install and
# make install; without them, and without ANCHORS, the run leaves them out
# and says where to get them).  Results go to bench/results/<time>/ and
# bench/results/latest.
source "$(dirname "${BASH_SOURCE[0]}")/../tools/common.sh"

mode=full
publish=0
for arg in "$@"; do
    case $arg in
        --quick) mode=quick ;;
        --fast) mode=fast ;;
        --counts) mode=counts ;;
        --publish) publish=1 ;;
        -h|--help) sed -n '2,/^source/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/run.sh: unknown argument \"$arg\" (try --help)" >&2; exit 2 ;;
    esac
done

# the command as given, with the settings that came from the environment
command_line="bash bench/run.sh${*:+ $*}"
for v in TX_N TX_REPS COUNTS NO_BUILD INSTR BIG_SHARED_BUFFERS BIG_ROWS COST_REPS CALLS INSERT_DURATION INSERT_CLIENTS JOBS CLIENTS DURATION ROUNDS; do
    [ -n "${!v:-}" ] && command_line="$v=\"${!v}\" $command_line"
done
# the peers' sources are wherever this machine keeps them: not published
[ -n "${ANCHORS:-}" ] && command_line="ANCHORS=DIR $command_line"
# the PostgreSQL, when not the pg_config on PATH
[ "${PG_CONFIG:-pg_config}" != pg_config ] && command_line="PG_CONFIG=$PG_CONFIG $command_line"

case $mode in
    full)
        : "${ROUNDS:=3}" "${DURATION:=4}" "${CLIENTS:=1 2 8 32 64}" "${INSERT_CLIENTS:=1 8 32 64}"
        : "${INSERT_DURATION:=5}" "${CALLS:=1000000}" "${BIG_ROWS:=2000000}" "${INSTR:=1}" "${COUNTS:=1}" ;;
    counts)
        ROUNDS=0 DURATION=0 INSERT_DURATION=0 BIG_ROWS=0 INSTR=0 COUNTS=1 CLIENTS=8 CALLS=0 ;;
    fast)
        : "${ROUNDS:=1}" "${DURATION:=1}" "${CLIENTS:=1 8}" "${INSERT_CLIENTS:=1 8}"
        : "${INSERT_DURATION:=1}" "${CALLS:=100000}" "${BIG_ROWS:=100000}" "${INSTR:=1}" "${COUNTS:=1}" ;;
    quick)
        : "${ROUNDS:=1}" "${DURATION:=2}" "${CLIENTS:=8}"
        : "${INSERT_DURATION:=0}" "${CALLS:=200000}" "${BIG_ROWS:=0}" "${INSTR:=0}" "${COUNTS:=0}" ;;
esac
: "${JOBS:=2}" "${INSERT_CLIENTS:=8}" "${BIG_SHARED_BUFFERS:=16MB}" "${COST_REPS:=3}"
# the large-index phase: 8 clients if INSERT_CLIENTS has them, else the last
LARGE_CLIENTS=$(tr ' ' '\n' <<<"$INSERT_CLIENTS" | grep -x 8 || true)
[ -n "$LARGE_CLIENTS" ] || LARGE_CLIENTS=${INSERT_CLIENTS##* }
# instruction counts: calls per query under valgrind (two sizes, differenced)
INSTR_N1=1000
INSTR_N2=21000
# counts per transaction: transactions per client of the two runs
: "${TX_N:=200 2200}" "${TX_REPS:=1}"
read -r TX_N1 TX_N2 <<<"$TX_N"

if [ -n "${PGHOST:-}" ] || [ -n "${PGPORT:-}" ]; then
    target=existing
else
    target=own
fi

ensure_packages
[ "$COUNTS" = 1 ] && [ "$target" = own ] && install_packages valgrind
bin=$(pg_bindir)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results="$REPO/bench/results/$stamp"
[ "$mode" = quick ] || [ "$mode" = counts ] && results="$REPO/bench/results/$mode-$stamp"
mkdir -p "$results"
raw="$results/raw.tsv"
: > "$raw"

# record FIELDS...: one tab-separated line of raw results
record() { (IFS=$'\t'; echo "$*") >> "$raw"; }

# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------
data=
created_exts=()
server_up=0

cleanup() {
    local status=$?
    set +e
    if [ "$target" = existing ] && [ "$server_up" = 1 ]; then
        psql_q "DROP SCHEMA IF EXISTS idgen_bench CASCADE" >/dev/null 2>&1
        psql_q "SELECT idgen.drop_tag(t, if_exists => true) FROM unnest(ARRAY['idgen_bench',
                'idgen_bench_h', 'idgen_bench_ins', 'idgen_bench_ins_chunks', 'idgen_bench_ins_h',
                'idgen_bench_o', 'idgen_bench_wm']) AS t" >/dev/null 2>&1
        local e
        for e in "${created_exts[@]}"; do
            psql_q "DROP EXTENSION IF EXISTS $e" >/dev/null 2>&1
        done
    fi
    if [ -n "$data" ] && [ -f "$data/postmaster.pid" ]; then
        as_pguser "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$target" = own ] && [ "${NO_BUILD:-0}" != 1 ]; then
    # not against an existing server, whose caller (make demo) may hold
    # the install lock already, nor with NO_BUILD=1 (bench the idgen
    # installed now, at the risk of a concurrent reinstall)
    prepare
fi
if [ "$target" = own ]; then
    work=$(make_workdir bench)
else
    work=$(make_workdir "bench-$mode")
fi
mkdir -p "$work/scripts"
cp "$REPO"/bench/*.sql "$work/scripts/"
[ "$(id -u)" = 0 ] && chown -R "$PGUSER_OS" "$work"

# psql_q SQL: run SQL, print unaligned tuples
psql_q() { as_pguser "$bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
# psql_f FILE: run a script
psql_f() { as_pguser "$bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -f "$1"; }

# write_conf SHARED_BUFFERS: the settings of the throwaway cluster
write_conf() {
    cat > "$work/bench.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = '$preload'
shared_buffers = $1
max_connections = 100
max_wal_size = 8GB
checkpoint_timeout = 30min
$extra_conf
CONF
    [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$work/bench.conf"
    return 0
}

# start_server: start the throwaway cluster (as_pguser does not hand it the
# install lock, which it would hold if left running)
start_server() {
    start_cluster "$data" "$work/server.log"
    server_up=1
}
# stop_server: stop it again
stop_server() {
    # -t: a server under valgrind writes its processes' profiles first
    as_pguser "$bin/pg_ctl" -D "$data" -m fast -w -t 300 stop >/dev/null
    server_up=0
}

# install_peer DIR URL MAKEARGS...: build and install a peer extension
# from a copy of its source in $ANCHORS/DIR (never built in place: that
# tree may be read-only); without ANCHORS, say where to get it
ANCHORS=${ANCHORS:-}
install_peer() {
    local name=$1 src="$ANCHORS/$1" url=$2 tmp
    shift 2
    if [ -z "$ANCHORS" ] || [ ! -d "$src" ]; then
        say "$name is not installed: left out (get it from $url and install it into this PostgreSQL, or give ANCHORS=DIR with its source in DIR/$name)"
        return 0
    fi
    tmp=$(mktemp -d /tmp/idgen-peer.XXXXXX)
    cp -r "$src" "$tmp/"
    say "building $(basename "$src") from $src"
    if make -s -C "$tmp/$(basename "$src")" PG_CONFIG="$PG_CONFIG" "$@" >"$tmp/build.log" 2>&1 \
        && $SUDO make -s -C "$tmp/$(basename "$src")" PG_CONFIG="$PG_CONFIG" "$@" install >>"$tmp/build.log" 2>&1; then
        rm -rf "$tmp"
    else
        say "could not build $(basename "$src"), see $tmp/build.log"
    fi
}
if [ "$target" = own ]; then
    extdir="$("$PG_CONFIG" --sharedir)/extension"
    [ -f "$extdir/snowflake.control" ] || install_peer pgedge-snowflake https://github.com/pgEdge/snowflake USE_PGXS=1
    [ -f "$extdir/pg_uuidv7.control" ] || install_peer pg_uuidv7 https://github.com/fboulnois/pg_uuidv7
fi

if [ "$target" = own ]; then
    port=$(free_port)
    data="$work/data"
    preload=idgen
    extra_conf=
    # pgEdge snowflake, when installed, needs preloading and a node number
    if [ -f "$("$PG_CONFIG" --pkglibdir)/snowflake.so" ] \
        && [ -f "$("$PG_CONFIG" --sharedir)/extension/snowflake.control" ]; then
        preload="idgen,snowflake"
        extra_conf="snowflake.node = 1"
    fi
    say "starting a throwaway cluster in $work on port $port"
    write_conf 128MB
    echo "include '$work/bench.conf'" | init_cluster "$data" "$port" "$work"
    start_server
    export PGHOST="$work" PGPORT="$port" PGDATABASE=postgres
    unset PGUSER PGOPTIONS
else
    say "using the server at ${PGHOST:-(default host)}:${PGPORT:-(default port)}"
    server_up=1
fi

# ---------------------------------------------------------------------------
# Set-up and detection of the optional generators
# ---------------------------------------------------------------------------
psql_q "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS idgen" >/dev/null
if ! err=$(psql_f "$work/scripts/setup.sql" 2>&1); then
    echo "$err" >&2
    exit 1
fi
if ! err=$(psql_q "SELECT next_id('idgen_bench')" 2>&1 >/dev/null); then
    echo "$err" >&2
    echo "bench/run.sh: next_id() does not work on this server (is idgen in shared_preload_libraries?)" >&2
    exit 1
fi

# available W [NOTE]: mark workload W available
declare -A avail note
available() { avail[$1]=1; record avail "$1" 1 "${2:-}"; }
# absent W REASON: mark W not available and say why
absent() { avail[$1]=0; note[$1]=$2; record avail "$1" 0 "$2"; say "$1: not available ($2)"; }

# select1_aa and bigserial_aa: the same workload again in the same round
# (A/A), whose ratio to the first run is the noise of wall-clock figures
for w in select1 select1_aa nextval1 nextval1000 uuid next_id next_id_ordered next_id_range next_id_chunks \
    bigserial bigserial_aa; do
    available "$w"
done

# floor: an extension C function with a text argument that does nothing
# (bench/floor.c), built here and loaded from the working directory
if [ "$target" = own ]; then
    mkdir -p "$work/floor"
    cp "$REPO/bench/floor.c" "$work/floor/"
    if make -s -C "$work/floor" -f "$("$PG_CONFIG" --pgxs)" PGXS="$("$PG_CONFIG" --pgxs)" PG_CONFIG="$PG_CONFIG" \
        MODULES=floor >"$work/floor/build.log" 2>&1; then
        psql_q "CREATE FUNCTION idgen_bench.floor(text) RETURNS bigint LANGUAGE C VOLATILE STRICT
                AS '$work/floor/floor', 'idgen_bench_floor'"
        available floor
    else
        absent floor "bench/floor.c does not build, see $work/floor/build.log"
    fi
else
    # only the counts use it, which need the throwaway cluster
    avail[floor]=0
fi

# first_error TEXT: the first ERROR line of psql's output, without prefix
first_error() { grep -m1 -E 'ERROR' <<<"$1" | sed -e 's/^.*ERROR: *//' -e 's/\t/ /g'; }

if [ "$(psql_q "SELECT to_regprocedure('snowflake_id()') IS NOT NULL")" = t ]; then
    if err=$(psql_q "SELECT snowflake_id()" 2>&1); then
        psql_q "CREATE TABLE idgen_bench.ins_snowflake (id bigint PRIMARY KEY DEFAULT snowflake_id(), n int)
                WITH (autovacuum_enabled = off)"
        available snowflake
    else
        absent snowflake "snowflake_id() fails: $(first_error "$err")"
    fi
else
    absent snowflake "no function snowflake_id() in this build"
fi

if [ "$(psql_q "SELECT to_regprocedure('hybrid_id(text)') IS NOT NULL")" = t ]; then
    if err=$(psql_q "SELECT idgen.create_tag('idgen_bench_h', kind => 'hybrid');
                     SELECT idgen.create_tag('idgen_bench_ins_h', kind => 'hybrid');
                     SELECT hybrid_id('idgen_bench_h');" 2>&1); then
        psql_q "CREATE TABLE idgen_bench.ins_hybrid (id bigint PRIMARY KEY DEFAULT hybrid_id('idgen_bench_ins_h'), n int)
                WITH (autovacuum_enabled = off)"
        available hybrid
    else
        absent hybrid "hybrid_id() fails: $(first_error "$err")"
    fi
else
    absent hybrid "no function hybrid_id(text) in this build"
fi

# other ID extensions, used when installed, never required
# optional_ext W EXTENSION CALL COLTYPE
optional_ext() {
    local w=$1 ext=$2 call=$3 type=$4 state err
    state=$(psql_q "SELECT CASE WHEN EXISTS (SELECT FROM pg_extension WHERE extname = '$ext') THEN 'created'
                               WHEN EXISTS (SELECT FROM pg_available_extensions WHERE name = '$ext') THEN 'available'
                               ELSE 'absent' END")
    if [ "$state" = absent ]; then
        absent "$w" "extension $ext not installed"
        return 0
    fi
    if [ "$state" = available ]; then
        if ! err=$(psql_q "CREATE EXTENSION $ext" 2>&1); then
            absent "$w" "CREATE EXTENSION $ext fails: $(first_error "$err")"
            return 0
        fi
        created_exts+=("$ext")
    fi
    if ! err=$(psql_q "SELECT $call" 2>&1); then
        absent "$w" "$call fails: $(first_error "$err")"
        return 0
    fi
    psql_q "CREATE TABLE idgen_bench.ins_$w (id $type PRIMARY KEY DEFAULT $call, n int)
            WITH (autovacuum_enabled = off)"
    available "$w" "$ext $(psql_q "SELECT extversion FROM pg_extension WHERE extname = '$ext'")"
}
optional_ext pgedge snowflake "snowflake.nextval()" bigint
optional_ext uuidv7 pg_uuidv7 "uuid_generate_v7()" uuid

# the workloads of each phase, among the available ones
pick() { local w; for w in "$@"; do [ "${avail[$w]}" = 1 ] && echo "$w"; done; return 0; }
mapfile -t RT_W < <(pick select1 select1_aa nextval1 nextval1000 uuid next_id next_id_ordered next_id_range snowflake hybrid pgedge uuidv7)
mapfile -t COST_W < <(pick nextval1 nextval1000 uuid next_id next_id_ordered next_id_range snowflake hybrid pgedge uuidv7)
mapfile -t INS_W < <(pick bigserial bigserial_aa nextval1000 uuid next_id next_id_chunks snowflake hybrid pgedge uuidv7)

# the counts per transaction: the generators over the floor, and INSERT
# with DEFAULT next_id against bigserial
mapfile -t TX_W < <(pick select1 floor next_id nextval1 nextval1000 uuid snowflake hybrid pgedge uuidv7 \
    | sed 's/^/rt_/'; pick bigserial next_id | sed 's/^/ins_/')
# table_of W: the table (and pgbench script) of an INSERT workload (A/A runs
# share their first run's)
table_of() { echo "${1%_aa}"; }

# expr W: the SQL expression of a generator, for the in-server phase
expr_of() {
    case $1 in
        series) echo "*" ;;
        nextval1) echo "nextval('idgen_bench.seq_cache1')" ;;
        nextval1000) echo "nextval('idgen_bench.seq_cache1000')" ;;
        uuid) echo "gen_random_uuid()" ;;
        next_id) echo "next_id('idgen_bench')" ;;
        next_id_ordered) echo "next_id('idgen_bench_o')" ;;
        next_id_range) echo "next_id_range('idgen_bench', 100)" ;;
        snowflake) echo "snowflake_id()" ;;
        hybrid) echo "hybrid_id('idgen_bench_h')" ;;
        pgedge) echo "snowflake.nextval()" ;;
        uuidv7) echo "uuid_generate_v7()" ;;
    esac
}

# rotate R WORDS...: WORDS rotated left by R, one a line (interleaving: each
# round starts with a different workload)
rotate() {
    local r=$1
    shift
    local a=("$@") n=$# i
    for ((i = 0; i < n; i++)); do echo "${a[$(((i + r) % n))]}"; done
}

# ---------------------------------------------------------------------------
# Machine and settings
# ---------------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
ram=$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
record meta mode "$mode"
record meta command "$command_line"
record meta target "$target"
record meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
record meta machine "$(nproc) CPUs ($cpu), $ram RAM, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
record meta kernel "$(uname -sr)"
record meta pg_version "$(psql_q "SELECT version()")"
record meta settings "$(psql_q "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
    FROM pg_settings WHERE name IN ('shared_buffers', 'max_connections', 'fsync', 'synchronous_commit',
    'wal_level', 'max_wal_size', 'checkpoint_timeout', 'work_mem', 'full_page_writes', 'shared_preload_libraries',
    'huge_pages', 'jit')")"
record meta rounds "$ROUNDS"
record meta duration "$DURATION"
record meta clients "$CLIENTS"
record meta jobs "$JOBS"
record meta insert_clients "$INSERT_CLIENTS"
record meta large_clients "$LARGE_CLIENTS"
record meta insert_duration "$INSERT_DURATION"
record meta calls "$CALLS"
record meta big_rows "$BIG_ROWS"
record meta big_shared_buffers "$BIG_SHARED_BUFFERS"

n_rt=$(( ${#RT_W[@]} * $(wc -w <<<"$CLIENTS") * ROUNDS ))
n_ins=$(( ${#INS_W[@]} * ROUNDS ))
[ "$INSERT_DURATION" -gt 0 ] || n_ins=0
[ "$BIG_ROWS" -gt 0 ] && [ "$target" = own ] && [ "$n_ins" -gt 0 ] && n_big=$n_ins || n_big=0
n_ins=$(( n_ins * $(wc -w <<<"$INSERT_CLIENTS") + n_big ))
est=$(( n_rt * (DURATION + 1) + n_ins * (INSERT_DURATION + 1) ))
[ "$mode" = counts ] || say "$mode run: $ROUNDS round(s); about $([ $est -lt 120 ] && echo "$est s" || echo "$((est / 60 + 1)) min") of pgbench"

# ---------------------------------------------------------------------------
# 1. In-server cost: ns per call over a bare generate_series
# ---------------------------------------------------------------------------
# phase NAME: record how long the previous phase took, start timing NAME
phase_name=
phase_start=$SECONDS
phase() {
    [ -n "$phase_name" ] && record meta "seconds_$phase_name" $((SECONDS - phase_start))
    phase_name=$1
    phase_start=$SECONDS
}
# ---------------------------------------------------------------------------
# 0. Counts per transaction: the whole server under callgrind
# ---------------------------------------------------------------------------
# The primary figures: exact whatever else the machine does, so that a
# before/after comparison of a change needs one run of each.  The server
# runs under valgrind's callgrind, which follows its forked backends and
# counts only inside PostgresMain (--toggle-collect: a forked backend would
# otherwise inherit the postmaster's counts, which grow with every
# connection); each backend writes its profile when it exits.  Each
# workload runs TX_N1 and then TX_N2 transactions per client (pgbench -M
# prepared -t), at 1 client and at 8; the difference of the two runs,
# divided by clients × (TX_N2 - TX_N1), is per transaction: what the
# connections cost to start and end, and the snapshots of the WAL position
# and the XID counter around each run, cancel out.
# cg_done: the profiles of backends that have exited and counted something
cg_done() {
    local f
    for f in "$cgdir"/cg.*; do
        [ -e "$f" ] || continue
        [ -d "/proc/${f##*.}" ] && continue
        grep -q '^totals: [1-9]' "$f" && echo "$f"
    done
    return 0
}
# cg_wait N: wait until N backends have written their profile
cg_wait() {
    local t=0
    while [ "$(cg_done | wc -l)" -lt "$1" ]; do
        sleep 0.2
        t=$((t + 1))
        if [ "$t" -gt 1500 ]; then
            echo "bench/run.sh: $1 callgrind profiles expected in $cgdir, $(cg_done | wc -l) written" >&2
            exit 1
        fi
    done
}
# cg_run SCRIPT CLIENTS N: run SCRIPT N times per client, and print
# "backends instructions heavy_locks lwlocks wal_records
# syscalls idgen_instructions wal_bytes xids fsyncs", the sums over the
# run's backends: pgbench's CLIENTS + 1 connections (one checks the
# server first) and the two snapshots'
cg_run() {
    local j=$JOBS lsn0 xid0 fs0 wal xid1 fs1 out files
    [ "$2" -lt "$j" ] && j=$2
    read -r lsn0 xid0 fs0 < <(psql_q "SELECT pg_current_wal_lsn(), pg_snapshot_xmax(pg_current_snapshot()),
                                             $fsync_sql" | tr '|' ' ')
    if ! out=$(as_pguser "$bin/pgbench" -n -M prepared -f "$work/scripts/$1.sql" -c "$2" -j "$j" -t "$3" 2>&1); then
        echo "bench/run.sh: pgbench $1 -c $2 -t $3 failed under callgrind:" >&2
        tail -n 5 <<<"$out" >&2
        exit 1
    fi
    # the backends' statistics are flushed when they exit
    cg_wait $(($2 + 2))
    read -r wal xid1 fs1 < <(psql_q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0'),
                                            pg_snapshot_xmax(pg_current_snapshot()), $fsync_sql" | tr '|' ' ')
    cg_wait $(($2 + 3))
    mapfile -t files < <(cg_done)
    awk -f "$REPO/bench/callgrind.awk" "${files[@]}" | awk '{printf "%s ", $2}'
    echo "$wal $((xid1 - xid0)) $(awk -v a="$fs0" -v b="$fs1" 'BEGIN {print (a == "" ? "NaN" : b - a)}')"
    rm -f "${files[@]}"
}

if [ "$COUNTS" = 1 ] && [ "$target" = own ] && command -v valgrind >/dev/null; then
    phase counts
    # fsyncs of WAL: pg_stat_wal until PostgreSQL 17, pg_stat_io from 18
    if [ "$(psql_q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pg_stat_wal'::regclass
                    AND attname = 'wal_sync'")" = 1 ]; then
        fsync_sql="(SELECT wal_sync FROM pg_stat_wal)"
        record meta tx_fsync_source "pg_stat_wal.wal_sync"
    elif [ "$(psql_q "SELECT count(*) FROM pg_stat_io WHERE object = 'wal'")" -gt 0 ]; then
        fsync_sql="(SELECT sum(fsyncs) FROM pg_stat_io WHERE object = 'wal')"
        record meta tx_fsync_source "pg_stat_io (object wal), fsyncs"
    else
        fsync_sql="''"
        record meta tx_fsync_source "none"
    fi
    record meta tx_n "$TX_N1 $TX_N2"
    record meta tx_reps "$TX_REPS"
    record meta valgrind "$(valgrind --version)"
    stop_server
    cgdir="$work/callgrind-tx"
    mkdir -p "$cgdir"
    [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$cgdir"
    say "counts per transaction: the server under callgrind, $TX_N1 and $TX_N2 transactions per client"
    as_pguser valgrind --tool=callgrind --trace-children=yes --dump-line=no \
        --collect-atstart=no --toggle-collect=PostgresMain --callgrind-out-file="$cgdir/cg.%p" \
        "$bin/postgres" -D "$data" -c autovacuum=off > "$work/callgrind-tx.log" 2>&1 &
    valgrind_pid=$!
    server_up=1
    # ready: the postmaster's status line (no connection, which would
    # leave a profile to count)
    t=0
    until [ "$(sed -n '8{s/ *$//;p}' "$data/postmaster.pid" 2>/dev/null)" = ready ]; do
        sleep 0.5
        t=$((t + 1))
        if [ "$t" -gt 600 ]; then
            echo "bench/run.sh: the server did not start under valgrind, see $work/callgrind-tx.log" >&2
            exit 1
        fi
    done
    # every workload once first: one-time costs (claims, catalog caches of
    # the shared tiers) are not per transaction
    for w in "${TX_W[@]}"; do
        cg_run "$w" 8 20 > /dev/null
    done
    for ((r = 1; r <= TX_REPS; r++)); do
        for c in 1 8; do
            for n in "$TX_N1" "$TX_N2"; do
                say "counts: run $r/$TX_REPS, $c client(s), $n transactions each"
                for w in "${TX_W[@]}"; do
                    res=$(cg_run "$w" "$c" "$n")
                    # shellcheck disable=SC2086
                    record tx "$w" "$c" "$n" $res
                done
            done
        done
    done
    stop_server
    # the postmaster's own profile is written after pg_ctl saw it stop
    wait "$valgrind_pid" || true
    rm -rf "$cgdir"
    [ "$mode" = counts ] || start_server
elif [ "$COUNTS" = 1 ]; then
    record meta tx_skipped "$([ "$target" = own ] && echo "valgrind not installed" || echo "needs the throwaway cluster")"
fi

phase cost
[ "$ROUNDS" -gt 0 ] && say "in-server cost: $CALLS calls per generator, best of $COST_REPS, $ROUNDS round(s)"
# cost_sql N WORKLOADS...: one timing per workload, bare series included
cost_sql() {
    local n=$1 w
    shift
    echo "SET work_mem = '512MB'; SET jit = off;"
    for w in "$@"; do
        # next_id_range hands out 100 IDs a call: n / 100 calls, n IDs
        local calls=$n
        [ "$w" = next_id_range ] && calls=$(( (n + 99) / 100 ))
        printf "SELECT '%s', %d, idgen_bench.time_ns(\$q\$SELECT count(%s) FROM generate_series(1, %d)\$q\$);\n" \
            "$w" "$calls" "$(expr_of "$w")" "$calls"
    done
}
cost_sql 1000 series "${COST_W[@]}" > "$work/warmup.sql"
for ((r = 1; r <= ROUNDS; r++)); do
    mapfile -t order < <(rotate $((r - 1)) "${COST_W[@]}")
    cp "$work/warmup.sql" "$work/cost_run.sql"
    # each workload COST_REPS times, interleaved; the fastest counts (the
    # machine's noise only ever adds time)
    for ((k = 1; k <= COST_REPS; k++)); do
        cost_sql "$CALLS" series "${order[@]}" >> "$work/cost_run.sql"
    done
    [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$work/cost_run.sql"
    out=$(as_pguser "$bin/psql" -X -q -A -t -F $'\t' -v ON_ERROR_STOP=1 -f "$work/cost_run.sql" \
        | tail -n +$(( ${#COST_W[@]} + 2 )) \
        | awk -F'\t' '!($1 in m) || $3 + 0 < m[$1] + 0 {m[$1] = $3; c[$1] = $2}
                      END {for (w in m) printf "%s\t%s\t%s\n", w, c[w], m[w]}')
    # ns per row of the bare series
    base=$(awk -F'\t' '$1 == "series" {print $3 / $2}' <<<"$out")
    while IFS=$'\t' read -r w calls ns; do
        [ "$w" = series ] && continue
        record cost "$w" "$r" "$ns" "$calls" "$base"
    done <<<"$out"
done

# ---------------------------------------------------------------------------
# 2. Round trip: pgbench -n -M prepared, one call per transaction
# ---------------------------------------------------------------------------
# pgbench_run SCRIPT CLIENTS SECONDS: prints "tps transactions", or
# "NaN 0" when pgbench failed
pgbench_run() {
    local j=$JOBS out
    [ "$2" -lt "$j" ] && j=$2
    if ! out=$(as_pguser "$bin/pgbench" -n -M prepared -f "$work/scripts/$1.sql" -c "$2" -j "$j" -T "$3" 2>&1); then
        echo "pgbench $1 -c $2 failed:" >&2
        tail -n 5 <<<"$out" >&2
        echo "NaN 0"
        return 0
    fi
    awk '/^number of transactions actually processed:/ {n = $NF; sub(/\/.*/, "", n)}
         /^tps = / {t = $3}
         END {print (t == "" ? "NaN" : t), (n == "" ? 0 : n)}' <<<"$out"
}

phase round_trip
for ((r = 1; r <= ROUNDS; r++)); do
    for c in $CLIENTS; do
        say "round trip: round $r/$ROUNDS, $c client(s)"
        mapfile -t order < <(rotate $((r - 1)) "${RT_W[@]}")
        for w in "${order[@]}"; do
            read -r tps _ < <(pgbench_run "rt_${w%_aa}" "$c" "$DURATION")
            record rt "$w" "$c" "$r" "$tps"
        done
    done
done

# ---------------------------------------------------------------------------
# 3. Single-row INSERT into a table whose key defaults to each generator
# ---------------------------------------------------------------------------
# (the probes only when the phase runs: in --counts mode no server is up)
can_checkpoint=1
if [ "$INSERT_DURATION" -gt 0 ] && ! psql_q "CHECKPOINT" >/dev/null 2>&1; then
    can_checkpoint=0
    say "CHECKPOINT not allowed here: WAL per row is measured without a checkpoint before each run"
fi

# insert_phase PHASE CLIENTS...: ROUNDS rounds of every INSERT workload at
# each client count.  In the small phase each run starts from an empty
# table, and the size and leaf density of its primary key are measured
# after it: what that many clients make of an index.
insert_phase() {
    local phase=$1 r c w t lsn0 tps txns wal size
    shift
    for ((r = 1; r <= ROUNDS; r++)); do
        for c in "$@"; do
            say "INSERT ($phase): round $r/$ROUNDS, $c client(s)"
            mapfile -t order < <(rotate $((r - 1)) "${INS_W[@]}")
            for w in "${order[@]}"; do
                t=$(table_of "$w")
                [ "$phase" = small ] && psql_q "TRUNCATE idgen_bench.ins_$t" >/dev/null
                # a checkpoint first, so that every run pays its full-page writes
                [ "$can_checkpoint" = 1 ] && psql_q "CHECKPOINT" >/dev/null
                lsn0=$(psql_q "SELECT pg_current_wal_lsn()")
                read -r tps txns < <(pgbench_run "ins_$t" "$c" "$INSERT_DURATION")
                wal=$(psql_q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")
                size=$(psql_q "SELECT pg_relation_size('idgen_bench.ins_${t}_pkey'),
                                      (SELECT count(*) FROM idgen_bench.ins_$t),
                                      $(density_sql "$t")" | tr '|' '\t')
                record ins "$phase" "$c" "$w" "$r" "$tps" "$txns" "$wal" "$size"
            done
        done
    done
}

# density_sql W: the leaf density of W's primary key, where pgstattuple is
# available
has_density=0
if [ "$INSERT_DURATION" -eq 0 ]; then
    :
elif [ "$(psql_q "SELECT count(*) FROM pg_extension WHERE extname = 'pgstattuple'")" = 1 ]; then
    has_density=1
elif psql_q "CREATE EXTENSION pgstattuple" >/dev/null 2>&1; then
    has_density=1
    created_exts+=(pgstattuple)
else
    record meta density_skipped "pgstattuple not installed (postgresql-contrib)"
fi
density_sql() {
    if [ "$has_density" = 1 ]; then
        echo "(pgstatindex('idgen_bench.ins_$1_pkey')).avg_leaf_density"
    else
        echo "'NaN'"
    fi
}

if [ "$INSERT_DURATION" -gt 0 ]; then
    phase insert_small
    # shellcheck disable=SC2086
    insert_phase small $INSERT_CLIENTS
    if [ "$BIG_ROWS" -gt 0 ] && [ "$target" = own ]; then
        phase insert_large
        say "INSERT (large index): loading $BIG_ROWS rows per table"
        for w in "${INS_W[@]}"; do
            [ "$w" = "$(table_of "$w")" ] || continue
            psql_q "INSERT INTO idgen_bench.ins_$w (n)
                    SELECT 1 FROM generate_series(1, $BIG_ROWS - (SELECT count(*) FROM idgen_bench.ins_$w))"
        done
        psql_q "CHECKPOINT" >/dev/null
        say "restarting with shared_buffers = $BIG_SHARED_BUFFERS"
        stop_server
        write_conf "$BIG_SHARED_BUFFERS"
        start_server
        record meta big_settings "$(psql_q "SELECT 'shared_buffers=' || current_setting('shared_buffers')")"
        insert_phase large "$LARGE_CLIENTS"
    elif [ "$BIG_ROWS" -gt 0 ]; then
        record meta big_skipped "needs the throwaway cluster (restart with a small shared_buffers)"
    fi

    # the watermark of an ordered tag under the INSERT load of 8 clients
    # (or the large phase's count): one reader polls it alongside
    phase watermark
    for ((r = 1; r <= ROUNDS; r++)); do
        say "watermark: round $r/$ROUNDS, $LARGE_CLIENTS writer(s) and one reader"
        psql_q "TRUNCATE idgen_bench.wm, idgen_bench.wm_lag" >/dev/null
        pgbench_run wm_poll 1 "$INSERT_DURATION" >/dev/null &
        read -r tps _ < <(pgbench_run wm_insert "$LARGE_CLIENTS" "$INSERT_DURATION")
        wait
        record wm "$r" "$tps" $(psql_q "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ids),
                                               percentile_cont(0.99) WITHIN GROUP (ORDER BY ids),
                                               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
                                               percentile_cont(0.99) WITHIN GROUP (ORDER BY ms),
                                               count(*)
                                          FROM idgen_bench.wm_lag" | tr '|' ' ')
    done
fi

# ---------------------------------------------------------------------------
# 4. Instructions per call (valgrind callgrind, single-user backend)
# ---------------------------------------------------------------------------
# perf stat would be cheaper, but hardware counters are often missing in
# VMs; callgrind counts instructions exactly, whatever the machine's load.
if [ "$INSTR" = 1 ] && [ "$target" = own ] && command -v valgrind >/dev/null; then
    phase instructions
    say "instructions per call: callgrind on a single-user backend"
    stop_server
    write_conf 128MB
    q="$work/instr.sql"
    {
        echo "SET work_mem = '512MB'"
        echo "SET jit = off"
        for w in series "${COST_W[@]}"; do
            e=$(expr_of "$w")
            for n in 10 $INSTR_N1 $INSTR_N2 $INSTR_N1 $INSTR_N2; do
                [ "$w" = next_id_range ] && n=$(( (n + 99) / 100 ))
                echo "SELECT count($e) FROM generate_series(1, $n)"
            done
        done
    } > "$q"
    [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$q"
    mkdir -p "$work/callgrind"
    [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$work/callgrind"
    # one profile dump after each query's PortalRun
    if as_pguser valgrind --tool=callgrind --dump-after=PortalRun \
        --callgrind-out-file="$work/callgrind/out" \
        "$bin/postgres" --single -D "$data" postgres < "$q" > "$work/callgrind/stdout" 2> "$work/callgrind/stderr"
    then
        nq=$(wc -l < "$q")
        # totals of dumps 1..nq, in order
        for ((i = 1; i <= nq; i++)); do
            awk '/^(totals|summary):/ {print $2; exit}' "$work/callgrind/out.$i" 2>/dev/null || echo NaN
        done > "$work/callgrind/totals"
        if [ "$(grep -c . "$work/callgrind/totals")" = "$nq" ] && ! grep -q ERROR "$work/callgrind/stdout"; then
            i=2 # a workload's queries are lines i+1 .. i+5 (after two SETs)
            for w in series "${COST_W[@]}"; do
                # last pair: (N2 - N1) calls, caches warm
                a=$(sed -n "$((i + 4))p" "$work/callgrind/totals")
                b=$(sed -n "$((i + 5))p" "$work/callgrind/totals")
                d=$((INSTR_N2 - INSTR_N1))
                [ "$w" = next_id_range ] && d=$(( (INSTR_N2 + 99) / 100 - (INSTR_N1 + 99) / 100 ))
                # per call (next_id_range: per call of 100 IDs)
                record instr_raw "$w" "$(awk -v a="$a" -v b="$b" -v d="$d" 'BEGIN {printf "%.1f", (b - a) / d}')"
                i=$((i + 5))
            done
        else
            say "callgrind: unexpected output, no instruction counts (see $work/callgrind)"
        fi
    else
        say "callgrind failed, no instruction counts (see $work/callgrind/stderr)"
    fi
elif [ "$INSTR" = 1 ]; then
    record meta instr_skipped "$([ "$target" = own ] && echo "valgrind not installed" || echo "needs the throwaway cluster")"
fi

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
phase report
record meta seconds_total "$SECONDS"
awk -f "$REPO/bench/report.awk" -v outdir="$results" "$raw" > "$results/results.md"
if [ "$mode" != counts ] && command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$results'" "$REPO/bench/chart.gp" 2> "$results/gnuplot.log" \
        || say "gnuplot failed, see $results/gnuplot.log"
fi
# latest: the last full (or --fast) run, which --publish and publish.sh use
if [ "$mode" = quick ]; then
    ln -sfn "$(basename "$results")" "$REPO/bench/results/latest-quick"
else
    ln -sfn "$(basename "$results")" "$REPO/bench/results/latest"
fi
if [ "$(id -u)" = 0 ] && [ -n "${SUDO_UID:-}" ]; then
    chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$REPO/bench/results" 2>/dev/null || true
fi
if [ "$mode" = quick ]; then
    cat "$results/compact.md"
else
    cat "$results/results.md"
fi
say "results in $results"
if [ "$publish" = 1 ]; then
    bash "$REPO/bench/publish.sh" "$results"
fi
