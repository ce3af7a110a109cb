/* idgen--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION idgen" to load this file. \quit

-- Administrative objects live in schema idgen; each tag's high-water mark
-- is a sequence in schema idgen_seq named exactly like the tag.
CREATE SCHEMA idgen;
CREATE SCHEMA idgen_seq;
GRANT USAGE ON SCHEMA idgen TO PUBLIC;
GRANT USAGE ON SCHEMA idgen_seq TO PUBLIC;

CREATE TABLE idgen.tags (
    tag         text PRIMARY KEY,
    kind        text NOT NULL DEFAULT 'segment',
    start       bigint NOT NULL DEFAULT 1,
    maxvalue    bigint NOT NULL,
    region      bigint NOT NULL DEFAULT 100000,
    chunk_min   integer NOT NULL,
    chunk_max   integer NOT NULL,
    reclaim     boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE idgen.tags IS 'one row per idgen tag; the high-water mark is the sequence idgen_seq.<tag>';
SELECT pg_catalog.pg_extension_config_dump('idgen.tags', '');
GRANT SELECT ON idgen.tags TO PUBLIC;

-- Every write to idgen.tags, through the functions below or directly, is
-- checked and carried out by this trigger (see tag.c): INSERT creates the
-- tag's sequence, UPDATE needs ownership of the tag and moves its mark,
-- DELETE drops the sequence, TRUNCATE is refused.
CREATE FUNCTION idgen.tags_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'idgen_tags_guard'
LANGUAGE C;
REVOKE ALL ON FUNCTION idgen.tags_guard() FROM PUBLIC;
CREATE TRIGGER tags_guard BEFORE INSERT OR UPDATE OR DELETE ON idgen.tags
    FOR EACH ROW EXECUTE FUNCTION idgen.tags_guard();
CREATE TRIGGER tags_no_truncate BEFORE TRUNCATE ON idgen.tags
    FOR EACH STATEMENT EXECUTE FUNCTION idgen.tags_guard();

--
-- ID generators, in the extension's schema so that DEFAULT next_id('t')
-- works with the default search_path.
--
CREATE FUNCTION next_id(tag text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'idgen_next_id'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION next_id_range(tag text, n bigint)
RETURNS int8range
AS 'MODULE_PATHNAME', 'idgen_next_id_range'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

--
-- Tag management: thin wrappers around idgen.tags, whose trigger does the
-- checking.  They run as the caller.
--
CREATE FUNCTION idgen.check_tag_name(tag text)
RETURNS void
AS 'MODULE_PATHNAME', 'idgen_check_tag_name'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

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
                                 reclaim boolean DEFAULT true)
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
    INSERT INTO idgen.tags (tag, kind, start, maxvalue, region, chunk_min, chunk_max, reclaim)
        VALUES (tag, kind, start, maxvalue, region, chunk_min, chunk_max, reclaim);
END
$$;

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
                                reclaim boolean DEFAULT NULL)
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
           reclaim = coalesce(alter_tag.reclaim, x.reclaim)
     WHERE x.tag OPERATOR(pg_catalog.=) alter_tag.tag;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tag "%" does not exist', tag
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create it with idgen.create_tag().';
    END IF;
END
$$;

-- Drop a tag and its sequence.  Needs ownership of the tag and DELETE on
-- idgen.tags.  IDs cached for the tag anywhere in the server are never
-- handed out once the drop has committed.
CREATE FUNCTION idgen.drop_tag(tag text, if_exists boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM idgen.check_tag_name(tag);
    DELETE FROM idgen.tags x WHERE x.tag OPERATOR(pg_catalog.=) drop_tag.tag;
    IF NOT FOUND THEN
        IF coalesce(if_exists, false) THEN
            RAISE NOTICE 'tag "%" does not exist, skipping', tag;
            RETURN;
        END IF;
        RAISE EXCEPTION 'tag "%" does not exist', tag
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create it with idgen.create_tag().';
    END IF;
END
$$;

--
-- Monitoring
--
CREATE FUNCTION idgen.pool_stats(
    OUT tag text, OUT issued bigint, OUT reclaimed bigint, OUT returned bigint,
    OUT ranges bigint, OUT claims bigint, OUT waits bigint, OUT lost bigint,
    OUT pool_remaining bigint, OUT cached bigint, OUT returned_ranges integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'idgen_pool_stats'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

-- Whether the current role may see the counters and caches of the tag
-- whose sequence is seq: it may use the tag or read the sequence, or has
-- the privileges of pg_read_all_stats.
CREATE FUNCTION idgen.tag_visible(seq oid)
RETURNS boolean
AS 'MODULE_PATHNAME', 'idgen_tag_visible'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

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
           q.last_value AS high_water_mark
      FROM idgen.tags t
      JOIN pg_catalog.pg_class c
        ON c.relname = t.tag AND c.relnamespace = 'idgen_seq'::pg_catalog.regnamespace
      LEFT JOIN idgen.pool_stats() s ON s.tag = t.tag
      LEFT JOIN pg_catalog.pg_sequences q
             ON q.schemaname = 'idgen_seq' AND q.sequencename = t.tag
     WHERE idgen.tag_visible(c.oid);
GRANT SELECT ON idgen.stats TO PUBLIC;

CREATE FUNCTION idgen.reset_stats(tag text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'idgen_reset_stats'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION idgen.reset_stats(text) FROM PUBLIC;

CREATE FUNCTION idgen.backend_ranges(
    OUT pid integer, OUT tag text, OUT chunk_start bigint, OUT next_id bigint,
    OUT chunk_end bigint, OUT chunk_size integer, OUT xact_drawn bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'idgen_backend_ranges'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW idgen.backend_ranges AS
    SELECT * FROM idgen.backend_ranges();
GRANT SELECT ON idgen.backend_ranges TO PUBLIC;

-- Snowflake IDs
--
-- The durable time lease of snowflake_id(): the Unix time in milliseconds
-- at which the last leased tick starts.  No ID is issued beyond it; after a
-- restart IDs resume above it.  Kept by pg_dump, so that a restored
-- database also continues above every ID it holds.
CREATE SEQUENCE idgen.snowflake_lease_end AS bigint MINVALUE 0 START 0 NO CYCLE CACHE 1;
COMMENT ON SEQUENCE idgen.snowflake_lease_end IS 'durable time lease of snowflake_id(); never set it yourself';
SELECT pg_catalog.pg_extension_config_dump('idgen.snowflake_lease_end', '');

CREATE FUNCTION snowflake_id()
RETURNS bigint
AS 'MODULE_PATHNAME', 'idgen_snowflake_id'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- IMMUTABLE: the layout is fixed while the server runs (see snowflake.c).
CREATE FUNCTION idgen.snowflake_parse(id bigint, OUT ts timestamptz,
                                      OUT node integer, OUT seq integer)
RETURNS record
AS 'MODULE_PATHNAME', 'idgen_snowflake_parse'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION idgen.snowflake_min_id(ts timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'idgen_snowflake_min_id'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

--
-- Hybrid IDs
--
-- hybrid_id(tag): slab | seconds since the slab was claimed | sequence, for
-- tags of kind 'hybrid'; hybrid_parse decodes such an ID.
CREATE FUNCTION hybrid_id(tag text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'idgen_hybrid_id'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION idgen.hybrid_parse(id bigint,
                                   OUT slab bigint, OUT seconds integer,
                                   OUT seq integer)
RETURNS record
AS 'MODULE_PATHNAME', 'idgen_hybrid_parse'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION idgen.hybrid_stats(
    OUT tag text, OUT slabs_claimed bigint, OUT slabs_continued bigint,
    OUT slabs_returned bigint, OUT slabs_abandoned bigint,
    OUT slabs_pooled integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'idgen_hybrid_stats'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW idgen.hybrid_stats AS
    SELECT t.tag,
           coalesce(s.slabs_claimed, 0) AS slabs_claimed,
           coalesce(s.slabs_continued, 0) AS slabs_continued,
           coalesce(s.slabs_returned, 0) AS slabs_returned,
           coalesce(s.slabs_abandoned, 0) AS slabs_abandoned,
           coalesce(s.slabs_pooled, 0) AS slabs_pooled,
           q.last_value AS last_slab
      FROM idgen.tags t
      JOIN pg_catalog.pg_class c
        ON c.relname = t.tag AND c.relnamespace = 'idgen_seq'::pg_catalog.regnamespace
      LEFT JOIN idgen.hybrid_stats() s ON s.tag = t.tag
      LEFT JOIN pg_catalog.pg_sequences q
             ON q.schemaname = 'idgen_seq' AND q.sequencename = t.tag
     WHERE t.kind = 'hybrid' AND idgen.tag_visible(c.oid);
GRANT SELECT ON idgen.hybrid_stats TO PUBLIC;

-- 1.1: every object of the extension says what it is for.
COMMENT ON SCHEMA idgen IS 'idgen: tag administration, monitoring and decoding';
COMMENT ON SCHEMA idgen_seq IS 'idgen: one sequence per tag, holding its high-water mark';
COMMENT ON TABLE idgen.tags IS 'idgen tags, one row each; write it through idgen.create_tag, alter_tag and drop_tag (a trigger applies their checks to any write)';
COMMENT ON FUNCTION idgen.tags_guard() IS 'trigger of idgen.tags: validates, checks ownership, creates and drops tag sequences';
COMMENT ON FUNCTION next_id(text) IS 'next ID of a segment tag';
COMMENT ON FUNCTION next_id_range(text, bigint) IS 'n contiguous IDs of a segment tag, [lo, lo + n), the caller''s for good';
COMMENT ON FUNCTION idgen.check_tag_name(text) IS 'raise the error an invalid tag name gets';
COMMENT ON FUNCTION idgen.create_tag(text, text, bigint, bigint, bigint, integer, integer, boolean) IS 'create a tag of kind segment or hybrid, with its sequence';
COMMENT ON FUNCTION idgen.alter_tag(text, bigint, bigint, bigint, integer, integer, boolean) IS 'change a tag''s options; NULL keeps an option';
COMMENT ON FUNCTION idgen.drop_tag(text, boolean) IS 'drop a tag and its sequence';
COMMENT ON FUNCTION idgen.pool_stats() IS 'counters of the shared pool of each tag the caller may monitor (behind idgen.stats)';
COMMENT ON FUNCTION idgen.tag_visible(oid) IS 'whether the caller may monitor the tag whose sequence this is';
COMMENT ON VIEW idgen.stats IS 'per-tag counters: issued, reclaimed, returned, claims, waits, pool and caches, high-water mark';
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
