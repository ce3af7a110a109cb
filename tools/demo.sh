#!/usr/bin/env bash
# make demo: install what is missing, build and install idgen, start a
# throwaway cluster with idgen preloaded, show next_id at work, and stop
# the cluster again (also on failure).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

prepare

work=$(make_workdir demo)
port=$(free_port)
bin=$(pg_bindir)
data="$work/data"

say "starting a throwaway cluster in $work on port $port"
echo "shared_preload_libraries = 'idgen'" | init_cluster "$data" "$port" "$work"
trap 'stop_servers "$work"' EXIT
start_cluster "$data" "$work/server.log"

export PGHOST="$work" PGPORT="$port" PGDATABASE=postgres
psql_demo() { as_pguser env PGHOST="$PGHOST" PGPORT="$PGPORT" "$bin/psql" -X -q -d postgres "$@"; }

psql_demo <<'SQL'
\echo '-- a tag and a table whose key defaults to next_id'
CREATE EXTENSION idgen;
SELECT idgen.create_tag('orders') \g /dev/null
CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'), item text);
INSERT INTO orders (item) VALUES ('apple'), ('pear'), ('plum') RETURNING id, item;
\echo '-- this session''s cached chunk, read from shared memory'
SELECT pid = pg_backend_pid() AS mine, tag, chunk_start, next_id, chunk_end, chunk_size
  FROM idgen.backend_ranges;
\echo '-- 1000 contiguous IDs for a bulk load'
SELECT next_id_range('orders', 1000) AS block;
SQL

say "8 clients inserting for 5 seconds (pgbench)"
echo "INSERT INTO orders (item) VALUES ('x');" > "$work/insert.sql"
chmod a+r "$work/insert.sql"
as_pguser env PGHOST="$PGHOST" PGPORT="$PGPORT" "$bin/pgbench" -n -M prepared -c 8 -j 2 -T 5 \
    -f "$work/insert.sql" postgres 2>&1 | grep -E '^(number of transactions actually processed|tps)'

psql_demo <<'SQL'
\echo '-- every ID unique; the clients'' tails went back to the pool when they exited'
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_ids, max(id) AS max_id FROM orders;
SELECT tag, issued, returned, claims, waits, pool_remaining, cached, high_water_mark FROM idgen.stats;
SQL
say "next_id against PostgreSQL's own generators, measured on this cluster now"
bash "$REPO/bench/run.sh" --quick

say "stopping the cluster"
