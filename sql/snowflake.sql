-- snowflake_id, its layout and the decode functions (default layout)
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

-- the layout in use: the snowflake preset
SELECT name, setting, unit FROM pg_settings
 WHERE name IN ('idgen.snowflake_node_id', 'idgen.snowflake_epoch', 'idgen.snowflake_layout',
                'idgen.snowflake_time_unit', 'idgen.snowflake_time_bits',
                'idgen.snowflake_node_bits', 'idgen.snowflake_seq_bits')
 ORDER BY name;

-- IDs increase strictly, are positive, and carry this node and the time
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t0;
CREATE TEMP TABLE ids AS
    SELECT n, snowflake_id() AS id FROM generate_series(1, 20000) n;
SELECT count(*) AS ids, count(DISTINCT id) AS distinct_ids, min(id) > 0 AS positive
  FROM ids;
SELECT count(*) AS out_of_order
  FROM (SELECT id <= lag(id) OVER (ORDER BY n) AS bad FROM ids) s
 WHERE bad;
-- the time field starts at the tick holding the first call, and leads the
-- clock by at most idgen.snowflake_max_clock_ahead
SELECT bool_and(p.node = 0) AS node_0,
       bool_and(p.ts >= date_trunc('milliseconds', t0.t0)) AS not_before_call,
       bool_and(p.ts <= clock_timestamp() + current_setting('idgen.snowflake_max_clock_ahead')::interval)
           AS within_max_clock_ahead
  FROM ids, t0, idgen.snowflake_parse(ids.id) p;
-- the sequence runs 0, 1, 2, ... within a tick
SELECT bool_and(p.seq = 0 OR lag_seq = p.seq - 1) AS seq_counts_up
  FROM (SELECT id, lag((idgen.snowflake_parse(id)).seq) OVER (ORDER BY n) AS lag_seq FROM ids) s,
       idgen.snowflake_parse(s.id) p;

-- decode: fields at their places
SELECT * FROM idgen.snowflake_parse(0);
SELECT * FROM idgen.snowflake_parse((1::bigint << 22) | (5 << 12) | 7);
SELECT * FROM idgen.snowflake_parse(9223372036854775807);
SELECT idgen.snowflake_parse(NULL) IS NULL AS parse_null;

-- round trips: min_id of an ID's time is the ID without node and sequence,
-- and decodes to the same time
SELECT bool_and(idgen.snowflake_min_id(p.ts) = id & ~((1::bigint << 22) - 1)) AS min_id_of_ts,
       bool_and((idgen.snowflake_parse(idgen.snowflake_min_id(p.ts))).ts = p.ts) AS ts_round_trip,
       bool_and(idgen.snowflake_min_id(p.ts) <= id) AS min_id_below
  FROM ids, idgen.snowflake_parse(ids.id) p;

-- min_id: the tick holding the time; 0 before the epoch
SELECT idgen.snowflake_min_id('2025-01-01 00:00:00+00') AS at_epoch,
       idgen.snowflake_min_id('2025-01-01 00:00:00.001+00') AS one_ms,
       idgen.snowflake_min_id('2025-01-01 00:00:00.0019+00') AS same_tick,
       idgen.snowflake_min_id('2024-12-31 23:59:59+00') AS before_epoch,
       idgen.snowflake_min_id('-infinity') AS minus_infinity,
       idgen.snowflake_min_id(NULL) AS null_ts;
SELECT idgen.snowflake_min_id('2094-09-07 15:47:35.551+00') AS last_tick;

-- the decode functions fold into constants and can be indexed
SELECT proname, provolatile, proisstrict, proparallel FROM pg_proc
 WHERE proname IN ('snowflake_parse', 'snowflake_min_id', 'snowflake_id')
 ORDER BY proname;
CREATE TABLE events (id bigint PRIMARY KEY DEFAULT snowflake_id(), payload text);
CREATE INDEX events_ts ON events (((idgen.snowflake_parse(id)).ts));

-- WHERE id >= snowflake_min_id(...) is a range scan of the primary key:
-- 100000 old events and 100 from today
INSERT INTO events (id)
    SELECT idgen.snowflake_min_id(now() - interval '200 days' + n * interval '1 minute') + 1
      FROM generate_series(1, 100000) n;
INSERT INTO events (payload) SELECT 'new' FROM generate_series(1, 100);
VACUUM ANALYZE events;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM events WHERE id >= idgen.snowflake_min_id(now() - interval '1 day');
SELECT count(*) FROM events WHERE id >= idgen.snowflake_min_id(now() - interval '1 day');
SELECT count(*) FROM events WHERE (idgen.snowflake_parse(id)).ts >= now() - interval '1 day';

-- errors
SELECT idgen.snowflake_parse(-1);
SELECT idgen.snowflake_min_id('infinity');
SELECT idgen.snowflake_min_id('2094-09-07 15:47:35.552+00');
BEGIN READ ONLY;
SELECT snowflake_id();
ROLLBACK;
-- nothing was issued by the failed calls: IDs still increase
SELECT snowflake_id() > (SELECT max(id) FROM ids) AS still_increasing;

-- the lease is durable and ahead of every ID issued
SELECT is_called AS lease_taken,
       last_value >= (SELECT extract(epoch FROM (idgen.snowflake_parse(max(id))).ts) * 1000 FROM ids)
           AS lease_covers_ids
  FROM idgen.snowflake_lease_end;
SELECT count(*) AS lease_kept_by_pg_dump FROM pg_extension
 WHERE extname = 'idgen' AND extconfig @> ARRAY['idgen.snowflake_lease_end'::regclass::oid];

DROP TABLE events;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
