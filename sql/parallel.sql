-- No ID function runs in parallel mode: a function wrongly marked PARALLEL
-- SAFE that calls one, run under a parallel scan, gets nextval()'s error
-- (25000) and draws nothing.  t/014_misuse_sweep.pl calls every function of
-- the extension that way.
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
SELECT idgen.create_tag('par');
SELECT idgen.create_tag('par_ordered', ordered => true);
SELECT idgen.create_tag('par_hybrid', kind => 'hybrid');
CREATE TABLE par_rows AS SELECT g FROM generate_series(1, 10000) g;
ANALYZE par_rows;

-- wrongly marked wrappers
CREATE FUNCTION par_next_id(int) RETURNS bigint LANGUAGE sql PARALLEL SAFE
    AS $$ SELECT next_id('par') $$;
CREATE FUNCTION par_next_id_range(int) RETURNS bigint LANGUAGE sql PARALLEL SAFE
    AS $$ SELECT lower(next_id_range('par', 2)) $$;
CREATE FUNCTION par_hybrid_id(int) RETURNS bigint LANGUAGE sql PARALLEL SAFE
    AS $$ SELECT hybrid_id('par_hybrid') $$;
CREATE FUNCTION par_watermark(int) RETURNS bigint LANGUAGE sql PARALLEL SAFE
    AS $$ SELECT idgen.watermark('par_ordered') $$;
CREATE FUNCTION par_snowflake_id(int) RETURNS bigint LANGUAGE sql PARALLEL SAFE
    AS $$ SELECT snowflake_id() $$;

-- the marks they wrongly override: every generator is PARALLEL UNSAFE
SELECT p.proname, p.proparallel FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_extension x ON d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = x.oid AND x.extname = 'idgen'
 WHERE p.proname IN ('next_id', 'next_id_range', 'hybrid_id', 'watermark', 'snowflake_id')
 ORDER BY 1;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- the workers scan, the leader only gathers
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT max(par_next_id(g)) FROM par_rows;

SELECT max(par_next_id(g)) FROM par_rows;
SELECT max(par_next_id_range(g)) FROM par_rows;
SELECT max(par_hybrid_id(g)) FROM par_rows;
SELECT max(par_watermark(g)) FROM par_rows;
SELECT max(par_snowflake_id(g)) FROM par_rows;

-- a leader that holds a chunk of the tag from this very transaction does
-- not make the workers' draws possible
SELECT next_id('par') AS first_id \gset
BEGIN;
SELECT next_id('par') - :first_id AS in_transaction;
SELECT max(par_next_id(g)) FROM par_rows;
ROLLBACK;
-- nor does the leader draw when it scans too
SET parallel_leader_participation = on;
SELECT max(par_next_id(g)) FROM par_rows;
SELECT max(par_hybrid_id(g)) FROM par_rows;

-- nothing was drawn or claimed in all of that: the next ID is the one the
-- rolled-back transaction gave back, and no worker ever held a chunk
RESET parallel_leader_participation;
SELECT next_id('par') - :first_id AS after_first;
SELECT tag, claims, high_water_mark FROM idgen.stats WHERE tag = 'par';
SELECT count(*) AS chunks_of_others FROM idgen.backend_ranges
 WHERE tag = 'par' AND pid <> pg_backend_pid();

-- a parallel plan around a correct call: idgen.watermark() is PARALLEL
-- UNSAFE, so the query runs without workers, and works
SELECT idgen.watermark('par_ordered') AS watermark, count(*) FROM par_rows;

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
