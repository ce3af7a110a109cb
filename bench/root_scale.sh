#!/usr/bin/env bash
# bench/root_scale.sh: how many nodes one root serves (README, "Sizing grants
# and runway").  Starts a throwaway root and measures, at 1, 8 and 64
# concurrent callers: idgen.lease_grant() (grants a second on one tag, the
# ledger's bytes and the WAL per grant) and idgen.report_holdings() (the
# report every node's runway worker makes of each tag every 5 s: reports a
# second, WAL per report) and idgen.lease_node_id() (the renewal of a
# snowflake node id that a node with idgen.snowflake_node_id = 'auto' makes every
# eighth of idgen.snowflake_node_id_lease: renewals a second, WAL per renewal).  From
# them it projects, with the default grant sizing, how many nodes inserting
# 10,000 rows a second one root serves and how large its ledger grows in a
# year.  The root commits with
# synchronous_commit on and no standby; a synchronous standby adds its
# round trip to every grant and report.
# SECONDS_EACH (10) overrides the length of each measurement.
source "$(dirname "${BASH_SOURCE[0]}")/../tools/common.sh"

SECS=${SECONDS_EACH:-10}

prepare
work=$(make_workdir bench-root)
bin=$(pg_bindir)
# on exit, also on failure: stop the root
trap 'stop_servers "$work"' EXIT
port=$(start_server "$work" root "max_connections = 100
jit = off
idgen.grant_grace = 0
# node ids are assigned only a lease and a quarter after the start (5 s
# here); the renewals measured cost the same whatever the lease's length
idgen.snowflake_node_id_lease = 4s")

# sql ARGS...: psql on the root, unaligned tuples, stopping at the first error
sql() { as_pguser env PGHOST="$work" PGPORT="$port" "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }
sql <<'SQL'
CREATE EXTENSION idgen;
SELECT idgen.create_tag('orders') \g /dev/null
SQL
# past the node ids' grace period (from the first answer) before the
# renewals are measured
sql -c "SELECT idgen.lease_node_id('warm-up', 'w', 1023)" >/dev/null 2>&1 || true
sleep 6

cat > "$work/lease.sql" <<'SQL'
SELECT idgen.lease_grant('orders', 'n' || :client_id);
SQL
cat > "$work/report.sql" <<'SQL'
SELECT idgen.report_holdings('orders', 'n' || :client_id, 'i' || :client_id, '', 0, '{}', '{}');
SQL
# each client holds one node id: the first call assigns it, the others renew
cat > "$work/renew.sql" <<'SQL'
SELECT node_id AS held FROM idgen.lease_node_id('n' || :client_id, 'i' || :client_id, 1023, :held, false, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) \gset
SQL
chmod a+r "$work"/*.sql

# run SCRIPT CLIENTS: transactions a second, and WAL bytes a transaction
run() {
    local script=$1 clients=$2 before after out tps count
    before=$(sql -c "SELECT pg_current_wal_insert_lsn()")
    out=$(as_pguser env PGHOST="$work" PGPORT="$port" "$bin/pgbench" -n -c "$clients" \
        -j "$(( clients < 2 ? 1 : 2 ))" -T "$SECS" -D held=-1 -f "$work/$script" postgres 2>&1)
    after=$(sql -c "SELECT pg_current_wal_insert_lsn()")
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)
    count=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    echo "$tps $(sql -c "SELECT round(('$after'::pg_lsn - '$before'::pg_lsn) / greatest($count, 1))")"
}

echo "PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}'), $(nproc) cores, ${SECS} s each, synchronous_commit on, no standby"
echo
echo "| callers | grants/s | WAL B/grant | reports/s | WAL B/report | node id renewals/s | WAL B/renewal |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
declare -A grants reports renewals
for c in 1 8 64; do
    read -r gtps gwal <<<"$(run lease.sql "$c")"
    read -r rtps rwal <<<"$(run report.sql "$c")"
    read -r ntps nwal <<<"$(run renew.sql "$c")"
    grants[$c]=$gtps
    reports[$c]=$rtps
    renewals[$c]=$ntps
    printf '| %s | %.0f | %s | %.0f | %s | %.0f | %s |\n' "$c" "$gtps" "$gwal" "$rtps" "$rwal" "$ntps" "$nwal"
done
bytes=$(sql -c "SELECT round(pg_total_relation_size('idgen.grants')::numeric / count(*)) FROM idgen.grants")
echo
echo "ledger: $bytes bytes per grant (table and indexes)"

# projections: a node inserting R rows a second with the default sizing
# (grant_size 2^24, doubled until a grant lasts 10 minutes) leases a grant
# every 2^24 / R s, and reports each tag every 5 s
python3 - "$bytes" "${reports[8]}" "${grants[8]}" "${renewals[8]}" <<'PY'
import sys
bytes_per_grant, reports, grants, renewals = (float(a) for a in sys.argv[1:5])
rate = 10000
size = 16777216
while size < rate * 600:
    size *= 2
per_node_grants = rate / size            # grants a second per node and tag
per_node_reports = 1 / 5.0               # reports a second per node and tag
nodes = min(reports / per_node_reports, grants / per_node_grants)
print()
print(f"a node at {rate} rows/s: a grant of {size} IDs every {size / rate:.0f} s, a report every 5 s")
print(f"one root at 8 callers serves about {nodes:.0f} such nodes (one tag each), bound by reports")
print(f"ledger growth: {per_node_grants * 86400 * 365:.0f} grants a year per node and tag, "
      f"{per_node_grants * 86400 * 365 * bytes_per_grant / 1e6:.1f} MB")
# idgen.snowflake_node_id_lease is 120 s by default: a node renews every 15 s
print(f"node id renewals at 8 callers: {renewals:.0f}/s, enough for {renewals * 15:.0f} nodes renewing every 15 s")
print(f"runway across a root outage: idgen.runway (1 h by default) at the node's rate, "
      f"at least 2 grants ({2 * size / rate / 60:.0f} min at {rate} rows/s)")
PY
