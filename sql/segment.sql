-- next_id and next_id_range: the SQL surface of segment tags
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

SELECT idgen.create_tag('orders');
SELECT tag, kind, region, chunk_min, chunk_max, reclaim FROM idgen.tags;

-- IDs start at 1 and increase within a backend
SELECT next_id('orders') AS first;
SELECT array_agg(id) = array_agg(id ORDER BY id) AS increasing,
       count(DISTINCT id) AS distinct_ids
  FROM (SELECT next_id('orders') AS id FROM generate_series(1, 1000)) s;

-- the chunk grew from chunk_min while it was drained quickly
SELECT tag, chunk_size > 10 AS grew, next_id <= chunk_end AS in_chunk
  FROM idgen.backend_ranges WHERE pid = pg_backend_pid();

-- NULL in, NULL out, as nextval does
SELECT next_id(NULL) IS NULL AS null_tag;
SELECT next_id_range(NULL, 5) IS NULL AS null_tag,
       next_id_range('orders', NULL) IS NULL AS null_n;

-- next_id_range: contiguous, never overlapping next_id
SELECT upper(r) - lower(r) AS n FROM next_id_range('orders', 100) r;
CREATE TEMP TABLE drawn AS SELECT next_id('orders') AS id FROM generate_series(1, 5000);
CREATE TEMP TABLE ranged AS SELECT next_id_range('orders', 700) AS r FROM generate_series(1, 20);
INSERT INTO drawn SELECT generate_series(lower(r), upper(r) - 1) FROM ranged;
SELECT count(*) AS ids, count(DISTINCT id) AS distinct_ids FROM drawn;
-- a range larger than a region is claimed whole
SELECT upper(r) - lower(r) AS n FROM next_id_range('orders', 250000) r;

-- options are honoured
SELECT idgen.create_tag('small', start => 1000, maxvalue => 1019, region => 10,
                        chunk_min => 2, chunk_max => 4);
SELECT min(id), max(id), count(DISTINCT id)
  FROM (SELECT next_id('small') AS id FROM generate_series(1, 20)) s;
-- exhausted
SELECT next_id('small');
SELECT next_id_range('small', 1);
SELECT idgen.alter_tag('small', maxvalue => 1029);
SELECT next_id_range('small', 11);
-- raising maxvalue made room again
SELECT next_id('small');
SELECT high_water_mark FROM idgen.stats WHERE tag = 'small';

-- a tag may hold a single ID
SELECT idgen.create_tag('one', start => 5, maxvalue => 5);
SELECT next_id('one');
SELECT next_id('one');

-- any name of 1 to 63 bytes, quoted everywhere
SELECT idgen.create_tag('we"ird ''name; DROP TABLE x');
SELECT next_id('we"ird ''name; DROP TABLE x');
SELECT idgen.create_tag(repeat('x', 63));
SELECT next_id(repeat('x', 63));
SELECT idgen.create_tag('Ω ünïcode');
SELECT next_id('Ω ünïcode');

-- stats
SELECT tag, issued > 0 AS issued, claims > 0 AS claims, ranges, lost,
       high_water_mark >= issued AS hwm_above
  FROM idgen.stats WHERE tag = 'orders';
SELECT idgen.reset_stats('orders');
SELECT ranges, claims, waits FROM idgen.stats WHERE tag = 'orders';
-- a tag that does not exist, as for every other function
SELECT idgen.reset_stats('nope');
SELECT idgen.reset_stats('');

-- drop_tag: the name can be reused, and starts afresh
SELECT idgen.drop_tag('small');
SELECT idgen.create_tag('small');
SELECT next_id('small');
SELECT idgen.drop_tag('small');
SELECT idgen.drop_tag('small', if_exists => true);

SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
