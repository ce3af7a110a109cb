#!/usr/bin/env bash
# make demo-cluster: many servers, one ID space.  Starts three throwaway
# clusters (a root and two nodes, eu-1 and us-1), inserts on both nodes
# with IDs leased from the root, shows the root's ledger, then stops the
# root and shows the nodes still inserting from their runway, and the root
# back.  Every cluster is stopped again at the end (also on failure).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

prepare

work=$(make_workdir demo-cluster)
bin=$(pg_bindir)

# on exit, also on failure: stop every cluster of the demo that runs
trap 'stop_servers "$work"' EXIT

# sql PORT DB: run psql on a server, statements on stdin
sql() { as_pguser env PGHOST="$work" PGPORT="$1" "$bin/psql" -X -q -d "$2" "${@:3}"; }

say "starting the root"
# a throwaway root: leases wait 5 s, not 30, after it starts, for the
# nodes to report what they hold (idgen.grant_grace)
root=$(start_server "$work" root "idgen.grant_grace = 5")
as_pguser env PGHOST="$work" PGPORT="$root" "$bin/createdb" ids
sql "$root" ids <<'SQL'
CREATE EXTENSION idgen;
SELECT idgen.create_tag('orders') \g /dev/null
-- what a node needs on the root: to log in, and USAGE on the tags it serves
CREATE ROLE idgen_node LOGIN;
GRANT USAGE ON SEQUENCE idgen_seq.orders TO idgen_node;
SQL

nodes=()
ports=()
for name in eu-1 us-1; do
    say "starting node $name, leasing from the root"
    port=$(start_server "$work" "$name" "idgen.root = 'host=$work port=$root dbname=ids user=idgen_node'
idgen.node_name = '$name'")
    nodes+=("$name")
    ports+=("$port")
    sql "$port" postgres <<SQL
CREATE EXTENSION idgen;
SELECT idgen.create_tag('orders', source => 'root') \g /dev/null
CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'), node text DEFAULT '$name');
SQL
    for _ in $(seq 60); do
        held=$(echo "SELECT grants_held FROM idgen.runway WHERE tag = 'orders'" | sql "$port" postgres -At 2>/dev/null || true)
        [ "${held:-0}" -ge 2 ] && break
        sleep 1
    done
done

echo "INSERT INTO orders DEFAULT VALUES;" > "$work/insert.sql"
chmod a+r "$work/insert.sql"
# load PHASE: 4 clients inserting for 3 seconds on both nodes at once
load() {
    local i pids=()
    say "$1: 4 clients inserting for 3 seconds on each node"
    for i in 0 1; do
        as_pguser env PGHOST="$work" PGPORT="${ports[$i]}" "$bin/pgbench" -n -M prepared \
            -c 4 -j 2 -T 3 -f "$work/insert.sql" postgres > "$work/pgbench-${nodes[$i]}.log" 2>&1 &
        pids+=($!)
    done
    for i in 0 1; do
        wait "${pids[$i]}" || true
        echo "${nodes[$i]}: $(grep -E '^number of (transactions actually processed|failed)' "$work/pgbench-${nodes[$i]}.log" | tr '\n' ' ')"
    done
}

load "root up"
for i in 0 1; do
    sql "${ports[$i]}" postgres <<SQL
\echo '-- ${nodes[$i]}: its rows and IDs'
SELECT node, count(*) AS rows, min(id), max(id) FROM orders GROUP BY node;
SQL
done
sql "$root" ids <<'SQL'
\echo '-- the root''s ledger: every grant, to whom, when (grants are disjoint)'
SELECT node, range, upper(range) - lower(range) AS size, granted_at::time(0) FROM idgen.grants ORDER BY range;
SQL

say "stopping the root (immediate)"
as_pguser "$bin/pg_ctl" -D "$work/root" -m immediate -w stop >/dev/null
load "root down"
sleep 6
for i in 0 1; do
    sql "${ports[$i]}" postgres <<SQL
\echo '-- ${nodes[$i]}: still inserting; the runway view'
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_ids FROM orders;
\x on
SELECT tag, grants_held, ids_left, round(ids_per_second) AS ids_per_second, seconds_left, root_reachable, last_error FROM idgen.runway;
\x off
SQL
done

say "starting the root again: the nodes lease again without a restart"
start_cluster "$work/root" "$work/root.log"
for _ in $(seq 30); do
    ok=$(echo "SELECT root_reachable FROM idgen.runway WHERE tag = 'orders'" | sql "${ports[0]}" postgres -At 2>/dev/null || true)
    [ "$ok" = t ] && break
    sleep 1
done
sql "${ports[0]}" postgres <<'SQL'
SELECT tag, grants_held, root_reachable FROM idgen.runway;
SQL

say "stopping the clusters"
