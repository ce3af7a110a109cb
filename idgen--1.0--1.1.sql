/* idgen--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION idgen UPDATE TO '1.1'" to load this file. \quit

-- 1.1: locality.  By default a tag's backends draw their IDs together
-- from the front of a chunk shared through the tag's pool, so that a B-tree
-- on them fills at its right edge as with a sequence; locality => false
-- keeps the per-backend chunks of 1.0 (README, "Index locality").  Tags of
-- 1.0 get the new default.
ALTER TABLE idgen.tags ADD COLUMN locality boolean NOT NULL DEFAULT true;

-- 1.1: ordered tags.  Their IDs are tracked until they commit, so that
-- idgen.watermark() can tell readers polling by ID how far every ID has
-- committed (README, "Incremental readers").
ALTER TABLE idgen.tags ADD COLUMN ordered boolean NOT NULL DEFAULT false;

DROP FUNCTION idgen.create_tag(text, text, bigint, bigint, bigint, integer, integer, boolean);
-- Create a tag: a row in idgen.tags and its sequence idgen_seq.<tag>.
-- NULL maxvalue and chunk bounds get defaults that fit kind and region.
-- Needs INSERT on idgen.tags and CREATE on schema idgen_seq; the creator
-- owns the tag.
CREATE FUNCTION idgen.create_tag(tag text,
                                 kind text DEFAULT 'segment',
                                 start bigint DEFAULT 1,
                                 maxvalue bigint DEFAULT NULL,
                                 region bigint DEFAULT 100000,
                                 chunk_min integer DEFAULT NULL,
                                 chunk_max integer DEFAULT NULL,
                                 reclaim boolean DEFAULT true,
                                 locality boolean DEFAULT true,
                                 ordered boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM idgen.check_tag_name(tag);
    IF EXISTS (SELECT FROM idgen.tags t WHERE t.tag OPERATOR(pg_catalog.=) create_tag.tag) THEN
        RAISE EXCEPTION 'tag "%" already exists', tag
            USING ERRCODE = 'duplicate_object';
    END IF;
    -- hybrid tags number slabs, which have 31 bits (IDs stay positive)
    maxvalue := coalesce(maxvalue, CASE kind WHEN 'hybrid' THEN 2147483647
                                             ELSE 9223372036854775806 END);
    -- default chunk bounds shrink to fit a small region
    chunk_max := coalesce(chunk_max, least(10000, region));
    chunk_min := coalesce(chunk_min, least(10, chunk_max));
    INSERT INTO idgen.tags (tag, kind, start, maxvalue, region, chunk_min, chunk_max, reclaim, locality, ordered)
        VALUES (tag, kind, start, maxvalue, region, chunk_min, chunk_max, reclaim, locality, ordered);
END
$$;

DROP FUNCTION idgen.alter_tag(text, bigint, bigint, bigint, integer, integer, boolean);
-- Change a tag's options; NULL leaves an option as it is.  Needs ownership
-- of the tag and UPDATE on idgen.tags.  start can only be raised: every ID
-- issued after the change commits is at least start.  maxvalue cannot go
-- below an ID that was already claimed.
CREATE FUNCTION idgen.alter_tag(tag text,
                                start bigint DEFAULT NULL,
                                maxvalue bigint DEFAULT NULL,
                                region bigint DEFAULT NULL,
                                chunk_min integer DEFAULT NULL,
                                chunk_max integer DEFAULT NULL,
                                reclaim boolean DEFAULT NULL,
                                locality boolean DEFAULT NULL,
                                ordered boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM idgen.check_tag_name(tag);
    UPDATE idgen.tags x
       SET start = coalesce(alter_tag.start, x.start),
           maxvalue = coalesce(alter_tag.maxvalue, x.maxvalue),
           region = coalesce(alter_tag.region, x.region),
           chunk_min = coalesce(alter_tag.chunk_min, x.chunk_min),
           chunk_max = coalesce(alter_tag.chunk_max, x.chunk_max),
           reclaim = coalesce(alter_tag.reclaim, x.reclaim),
           locality = coalesce(alter_tag.locality, x.locality),
           ordered = coalesce(alter_tag.ordered, x.ordered)
     WHERE x.tag OPERATOR(pg_catalog.=) alter_tag.tag;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tag "%" does not exist', tag
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create it with idgen.create_tag().';
    END IF;
END
$$;

-- 1.1: idgen.stats shows what locality costs: refills (visits to the pool)
-- and IDs skipped (given up by a chunk that fell behind, or come back below
-- the front of a locality tag's pool).
DROP VIEW idgen.stats;
DROP FUNCTION idgen.pool_stats();
CREATE FUNCTION idgen.pool_stats(
    OUT tag text, OUT issued bigint, OUT reclaimed bigint, OUT returned bigint,
    OUT ranges bigint, OUT claims bigint, OUT waits bigint, OUT lost bigint,
    OUT pool_remaining bigint, OUT cached bigint, OUT returned_ranges integer,
    OUT refills bigint, OUT skipped bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'idgen_pool_stats_1_1'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW idgen.stats AS
    SELECT t.tag, t.kind,
           coalesce(s.issued, 0) AS issued,
           coalesce(s.reclaimed, 0) AS reclaimed,
           coalesce(s.returned, 0) AS returned,
           coalesce(s.ranges, 0) AS ranges,
           coalesce(s.claims, 0) AS claims,
           coalesce(s.waits, 0) AS waits,
           coalesce(s.lost, 0) AS lost,
           coalesce(s.pool_remaining, 0) AS pool_remaining,
           coalesce(s.cached, 0) AS cached,
           q.last_value AS high_water_mark,
           coalesce(s.refills, 0) AS refills,
           coalesce(s.skipped, 0) AS skipped
      FROM idgen.tags t
      JOIN pg_catalog.pg_class c
        ON c.relname = t.tag AND c.relnamespace = 'idgen_seq'::pg_catalog.regnamespace
      LEFT JOIN idgen.pool_stats() s ON s.tag = t.tag
      LEFT JOIN pg_catalog.pg_sequences q
             ON q.schemaname = 'idgen_seq' AND q.sequencename = t.tag
     WHERE idgen.tag_visible(c.oid);
GRANT SELECT ON idgen.stats TO PUBLIC;

-- 1.1: the watermark of an ordered tag, and what holds it back.
CREATE FUNCTION idgen.watermark(tag text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'idgen_watermark'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION idgen.watermark_holders(
    OUT tag text, OUT pid integer, OUT transaction xid, OUT lowest_id bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'idgen_watermark_holders'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW idgen.watermark_holders AS
    SELECT h.tag, h.lowest_id, h.pid, a.state, a.xact_start,
           h.transaction, p.gid, p.prepared
      FROM idgen.watermark_holders() h
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = h.pid
      LEFT JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = h.transaction;
GRANT SELECT ON idgen.watermark_holders TO PUBLIC;

-- 1.1: every object of the extension says what it is for.
COMMENT ON SCHEMA idgen IS 'idgen: tag administration, monitoring and decoding';
COMMENT ON SCHEMA idgen_seq IS 'idgen: one sequence per tag, holding its high-water mark';
COMMENT ON TABLE idgen.tags IS 'idgen tags, one row each; write it through idgen.create_tag, alter_tag and drop_tag (a trigger applies their checks to any write)';
COMMENT ON FUNCTION idgen.tags_guard() IS 'trigger of idgen.tags: validates, checks ownership, creates and drops tag sequences';
COMMENT ON FUNCTION next_id(text) IS 'next ID of a segment tag';
COMMENT ON FUNCTION next_id_range(text, bigint) IS 'n contiguous IDs of a segment tag, [lo, lo + n), the caller''s for good';
COMMENT ON FUNCTION idgen.check_tag_name(text) IS 'raise the error an invalid tag name gets';
COMMENT ON FUNCTION idgen.create_tag(text, text, bigint, bigint, bigint, integer, integer, boolean, boolean, boolean) IS 'create a tag of kind segment or hybrid, with its sequence';
COMMENT ON FUNCTION idgen.alter_tag(text, bigint, bigint, bigint, integer, integer, boolean, boolean, boolean) IS 'change a tag''s options; NULL keeps an option';
COMMENT ON FUNCTION idgen.drop_tag(text, boolean) IS 'drop a tag and its sequence';
COMMENT ON FUNCTION idgen.pool_stats() IS 'counters of the shared pool of each tag the caller may monitor (behind idgen.stats)';
COMMENT ON FUNCTION idgen.tag_visible(oid) IS 'whether the caller may monitor the tag whose sequence this is';
COMMENT ON VIEW idgen.stats IS 'per-tag counters: issued, reclaimed, returned, claims, waits, pool and caches, high-water mark, refills, skipped';
COMMENT ON FUNCTION idgen.reset_stats(text) IS 'zero the counters of one tag, or of every tag of the database';
COMMENT ON FUNCTION idgen.backend_ranges() IS 'the chunk each backend caches of each tag the caller may monitor (behind idgen.backend_ranges)';
COMMENT ON VIEW idgen.backend_ranges IS 'one row per backend and tag: the chunk of IDs it caches';
COMMENT ON SEQUENCE idgen.snowflake_lease_end IS 'durable time lease of snowflake_id() for the whole server, in the database idgen.snowflake_database names; never set it yourself';
COMMENT ON FUNCTION snowflake_id() IS 'time-ordered ID: time | node | sequence, strictly increasing across the server';
COMMENT ON FUNCTION idgen.snowflake_parse(bigint) IS 'decode a snowflake ID into (ts, node, seq)';
COMMENT ON FUNCTION idgen.snowflake_min_id(timestamptz) IS 'smallest snowflake ID of the tick holding a time, for WHERE id >= ...';
COMMENT ON FUNCTION hybrid_id(text) IS 'next ID of a hybrid tag: slab | seconds | sequence';
COMMENT ON FUNCTION idgen.hybrid_parse(bigint) IS 'decode a hybrid ID into (slab, seconds, seq)';
COMMENT ON FUNCTION idgen.hybrid_stats() IS 'slab counters of each hybrid tag the caller may monitor (behind idgen.hybrid_stats)';
COMMENT ON VIEW idgen.hybrid_stats IS 'per hybrid tag: slabs claimed, continued, returned, abandoned and pooled';
COMMENT ON FUNCTION idgen.watermark(text) IS 'largest ID of an ordered tag at and below which every ID that will ever commit has committed: a safe cursor for readers polling by ID';
COMMENT ON FUNCTION idgen.watermark_holders() IS 'transactions that hold back the watermark of each ordered tag the caller may monitor (behind idgen.watermark_holders)';
COMMENT ON VIEW idgen.watermark_holders IS 'one row per open or prepared transaction holding back a watermark: the lowest ID it may still commit';
