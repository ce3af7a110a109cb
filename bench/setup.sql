-- Objects of the benchmark that need nothing but idgen's segment tags.
-- bench/run.sh runs this first, then creates the rows of generators that
-- it finds (snowflake_id, hybrid_id, pgEdge snowflake, pg_uuidv7), and
-- drops schema idgen_bench and the idgen_bench* tags when it ends.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

DROP SCHEMA IF EXISTS idgen_bench CASCADE;
CREATE SCHEMA idgen_bench;

-- leftovers of an interrupted run
SELECT idgen.drop_tag(t, if_exists => true)
  FROM unnest(ARRAY['idgen_bench', 'idgen_bench_h', 'idgen_bench_ins',
                    'idgen_bench_ins_chunks', 'idgen_bench_ins_h', 'idgen_bench_o',
                    'idgen_bench_wm']) AS t \g /dev/null

SELECT idgen.create_tag('idgen_bench') \g /dev/null
SELECT idgen.create_tag('idgen_bench_ins') \g /dev/null
-- the same with per-backend chunks: what locality changes
SELECT idgen.create_tag('idgen_bench_ins_chunks', locality => false) \g /dev/null
-- ordered tags: what tracking IDs until they commit costs, and how far
-- the watermark trails the rows (the watermark phase)
SELECT idgen.create_tag('idgen_bench_o', ordered => true) \g /dev/null
SELECT idgen.create_tag('idgen_bench_wm', ordered => true) \g /dev/null

CREATE SEQUENCE idgen_bench.seq_cache1 CACHE 1;
CREATE SEQUENCE idgen_bench.seq_cache1000 CACHE 1000;
CREATE SEQUENCE idgen_bench.ins_seq_cache1000 CACHE 1000;

-- Wall-clock time of one query, measured inside the server: no client
-- round trip, no result transfer.
CREATE FUNCTION idgen_bench.time_ns(query text)
RETURNS float8
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE query;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1e9;
END
$$;

-- The INSERT workloads: one table per generator, its primary key
-- defaulting to it (see bench/run.sh for the optional ones).  No
-- autovacuum, so that the WAL measured is the inserts' own.
CREATE TABLE idgen_bench.ins_bigserial (id bigserial PRIMARY KEY, n int)
    WITH (autovacuum_enabled = off);
CREATE TABLE idgen_bench.ins_nextval1000 (
    id bigint PRIMARY KEY DEFAULT nextval('idgen_bench.ins_seq_cache1000'), n int)
    WITH (autovacuum_enabled = off);
CREATE TABLE idgen_bench.ins_uuid (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), n int)
    WITH (autovacuum_enabled = off);
CREATE TABLE idgen_bench.ins_next_id (
    id bigint PRIMARY KEY DEFAULT next_id('idgen_bench_ins'), n int)
    WITH (autovacuum_enabled = off);
CREATE TABLE idgen_bench.ins_next_id_chunks (
    id bigint PRIMARY KEY DEFAULT next_id('idgen_bench_ins_chunks'), n int)
    WITH (autovacuum_enabled = off);

-- The watermark phase: writers insert into wm, one reader polls the
-- watermark of its tag and records its lag in wm_lag.
CREATE TABLE idgen_bench.wm (
    id bigint PRIMARY KEY DEFAULT next_id('idgen_bench_wm'), n int,
    at timestamptz NOT NULL DEFAULT clock_timestamp())
    WITH (autovacuum_enabled = off);
CREATE TABLE idgen_bench.wm_lag (ids bigint, ms float8);
