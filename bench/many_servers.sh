#!/usr/bin/env bash
# bench/many_servers.sh: what many servers cost (README, "Many servers").
# Starts a throwaway root and one node, and measures on the node, side by
# side in one run: the in-server cost of next_id on a tag of source root
# against a local tag (interleaved rounds, medians), then an 8-client
# INSERT load, alternating between a root-sourced and a local tag, from
# which it derives the grants per hour and the runway in seconds that the
# default settings give at that rate.
# ROUNDS (5), CALLS (1000000), LOAD_SECONDS (20) override the defaults.
source "$(dirname "${BASH_SOURCE[0]}")/../tools/common.sh"

ROUNDS=${ROUNDS:-5}
CALLS=${CALLS:-1000000}
SECONDS_LOAD=${LOAD_SECONDS:-20}

prepare
work=$(make_workdir bench-many)
bin=$(pg_bindir)

# on exit, also on failure: stop the root and the node
trap 'stop_servers "$work"' EXIT
# sql PORT DB ARGS...: psql on a server, stopping at the first error
sql() { as_pguser env PGHOST="$work" PGPORT="$1" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -d "$2" "${@:3}"; }

# leases wait 5 s, not 30, after the root starts (idgen.grant_grace)
root=$(start_server "$work" root "jit = off
idgen.grant_grace = 5")
sql "$root" postgres <<'SQL'
CREATE EXTENSION idgen;
SELECT idgen.create_tag('rem') \g /dev/null
SELECT idgen.create_tag('ins') \g /dev/null
CREATE ROLE idgen_node LOGIN;
GRANT USAGE ON SEQUENCE idgen_seq.rem, idgen_seq.ins TO idgen_node;
SQL
node=$(start_server "$work" node "jit = off
idgen.root = 'host=$work port=$root dbname=postgres user=idgen_node'")
sql "$node" postgres <<'SQL'
CREATE EXTENSION idgen;
SELECT idgen.create_tag('loc') \g /dev/null
SELECT idgen.create_tag('rem', source => 'root') \g /dev/null
SELECT idgen.create_tag('ins', source => 'root') \g /dev/null
SELECT idgen.create_tag('insloc') \g /dev/null
-- the INSERT load runs on tags of its own: the in-server phase drains
-- 'rem' far faster than any INSERT load, and its grants grow to match
CREATE TABLE orders_root (id bigint PRIMARY KEY DEFAULT next_id('ins'), v int);
CREATE TABLE orders_local (id bigint PRIMARY KEY DEFAULT next_id('insloc'), v int);
-- time one generator inside the server: seconds for n calls
CREATE FUNCTION cost(expr text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; BEGIN
    t0 := clock_timestamp();
    EXECUTE format('SELECT count(%s) FROM generate_series(1, %s) g', expr, n);
    RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;
SQL
for _ in $(seq 60); do
    held=$(sql "$node" postgres -At -c "SELECT min(grants_held) FROM idgen.runway WHERE source = 'root'")
    [ "${held:-0}" -ge 2 ] && break
    sleep 1
done

say "in-server cost, $ROUNDS rounds of $CALLS calls (fastest of 3), rotating order"
sql "$node" postgres -At <<SQL
SET work_mem = '256MB';
CREATE TEMP TABLE m (round int, what text, ns float8);
DO \$\$
DECLARE
    what text[] := ARRAY['g', 'next_id(''loc'')', 'next_id(''rem'')'];
    r int; i int; k int;
BEGIN
    -- warm up: caches, pools, first claims
    PERFORM cost(w, $CALLS) FROM unnest(what) w;
    FOR r IN 1..$ROUNDS LOOP
        FOR i IN 0..2 LOOP
            k := (r + i) % 3 + 1;
            -- the fastest of three, as bench/run.sh does (COST_REPS)
            INSERT INTO m VALUES (r, what[k], least(cost(what[k], $CALLS),
                cost(what[k], $CALLS), cost(what[k], $CALLS)) * 1e9 / $CALLS);
        END LOOP;
    END LOOP;
END \$\$;
\pset format aligned
\pset tuples_only off
SELECT what, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ns)::numeric, 1) AS median_ns_per_call
  FROM m GROUP BY what ORDER BY what;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ns - g.ns)::numeric, 1) AS local_net_ns,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ns - g.ns)::numeric, 1) AS root_net_ns
  FROM m r JOIN m l USING (round) JOIN m g USING (round)
 WHERE r.what = 'next_id(''rem'')' AND l.what = 'next_id(''loc'')' AND g.what = 'g';
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY (r.ns - g.ns) / (l.ns - g.ns))::numeric, 3)
       AS root_over_local_net_cost
  FROM m r JOIN m l USING (round) JOIN m g USING (round)
 WHERE r.what = 'next_id(''rem'')' AND l.what = 'next_id(''loc'')' AND g.what = 'g';
SQL

say "INSERT, pgbench -M prepared -c 8 -j 2 -T $SECONDS_LOAD, local and root-sourced tag alternating, 3 rounds"
for kind in root local; do
    echo "INSERT INTO orders_$kind (v) VALUES (1);" > "$work/insert_$kind.sql"
    chmod a+r "$work/insert_$kind.sql"
done
: > "$work/tps"
for round in 1 2 3; do
    order="root local"
    [ $((round % 2)) = 0 ] && order="local root"
    for kind in $order; do
        as_pguser env PGHOST="$work" PGPORT="$node" "$bin/pgbench" -n -M prepared -c 8 -j 2 \
            -T "$SECONDS_LOAD" -f "$work/insert_$kind.sql" postgres > "$work/pgbench.log" 2>&1
        echo "$round $kind $(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.log" | head -n 1) $(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.log")" >> "$work/tps"
    done
done
cat "$work/tps"
tps=$(awk '$2 == "root" { print $3 }' "$work/tps" | sort -n | sed -n 2p)
tps_local=$(awk '$2 == "local" { print $3 }' "$work/tps" | sort -n | sed -n 2p)
sleep 6
sql "$node" postgres <<SQL
SELECT tag, grants_held, ids_left, round(ids_per_second) AS measured_ids_per_second, seconds_left
  FROM idgen.runway WHERE tag = 'ins';
SELECT round($tps) AS median_tps_root_tag, round($tps_local) AS median_tps_local_tag,
       round($tps * 3600 / 16777216.0, 2) AS grants_per_hour_default_size,
       round(greatest(2 * 16777216.0 / $tps, 3600)) AS runway_seconds_default_settings;
SQL
sql "$root" postgres -c "SELECT tag, count(*) AS grants, sum(upper(range) - lower(range)) AS ids FROM idgen.grants GROUP BY tag ORDER BY tag"
