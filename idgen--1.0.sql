/* idgen--1.0.sql */

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
    region      bigint NOT NULL,
    chunk_min   integer NOT NULL,
    chunk_max   integer NOT NULL,
    reclaim     boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE idgen.tags IS 'one row per idgen tag; start and maxvalue live in the tag''s sequence';
SELECT pg_catalog.pg_extension_config_dump('idgen.tags', '');
GRANT SELECT ON idgen.tags TO PUBLIC;

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
-- Tag management
--
CREATE FUNCTION idgen.check_tag_name(tag text)
RETURNS void
AS 'MODULE_PATHNAME', 'idgen_check_tag_name'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION idgen.tag_changed(tag text, dropping boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'idgen_tag_changed'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- Raise an error unless the options of a tag are consistent.
CREATE FUNCTION idgen.check_tag_options(tag text, start bigint, maxvalue bigint,
                                        region bigint, chunk_min integer,
                                        chunk_max integer,
                                        kind text DEFAULT 'segment')
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF start IS NULL OR start < 1 THEN
        RAISE EXCEPTION 'invalid start % for tag "%"', coalesce(start::text, 'NULL'), tag
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'start must be at least 1.';
    END IF;
    IF maxvalue IS NULL OR maxvalue < start OR maxvalue > 9223372036854775806 THEN
        RAISE EXCEPTION 'invalid maxvalue % for tag "%"', coalesce(maxvalue::text, 'NULL'), tag
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('maxvalue must lie between start (%s) and 9223372036854775806.', start);
    END IF;
    -- a hybrid tag numbers slabs, the top 32 bits of its IDs below the sign bit
    IF kind = 'hybrid' AND maxvalue > 2147483647 THEN
        RAISE EXCEPTION 'invalid maxvalue % for hybrid tag "%"', maxvalue, tag
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Slab numbers of a hybrid tag fill the 31 bits below the sign bit of its IDs.',
                  HINT = format('maxvalue must lie between start (%s) and 2147483647.', start);
    END IF;
    IF region IS NULL OR region < 1 THEN
        RAISE EXCEPTION 'invalid region % for tag "%"', coalesce(region::text, 'NULL'), tag
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'region must be at least 1.';
    END IF;
    IF chunk_min IS NULL OR chunk_max IS NULL OR chunk_min < 1
       OR chunk_min > chunk_max OR chunk_max > region THEN
        RAISE EXCEPTION 'invalid chunk bounds [%, %] for tag "%"',
                coalesce(chunk_min::text, 'NULL'), coalesce(chunk_max::text, 'NULL'), tag
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Chunk bounds must satisfy 1 <= chunk_min <= chunk_max <= region (%s).', region);
    END IF;
END
$$;

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
    IF kind IS NULL OR kind NOT IN ('segment', 'hybrid') THEN
        RAISE EXCEPTION 'invalid tag kind "%"', coalesce(kind, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Valid kinds are "segment" and "hybrid".';
    END IF;
    IF reclaim IS NULL THEN
        RAISE EXCEPTION 'reclaim cannot be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- hybrid tags number slabs, which have 31 bits (IDs stay positive)
    maxvalue := coalesce(maxvalue, CASE kind WHEN 'hybrid' THEN 2147483647
                                             ELSE 9223372036854775806 END);
    -- default chunk bounds shrink to fit a small region
    chunk_max := coalesce(chunk_max, least(10000, region));
    chunk_min := coalesce(chunk_min, least(10, chunk_max));
    PERFORM idgen.check_tag_options(tag, start, maxvalue, region, chunk_min, chunk_max, kind);

    LOCK TABLE idgen.tags IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM idgen.tags t WHERE t.tag = create_tag.tag) THEN
        RAISE EXCEPTION 'tag "%" already exists', tag
            USING ERRCODE = 'duplicate_object';
    END IF;
    IF (SELECT count(*) FROM idgen.tags) >= current_setting('idgen.max_tags', true)::integer THEN
        RAISE EXCEPTION 'too many idgen tags'
            USING ERRCODE = 'configuration_limit_exceeded',
                  DETAIL = format('This database already has %s tags, the limit set by "idgen.max_tags".',
                                  current_setting('idgen.max_tags')),
                  HINT = 'Increase "idgen.max_tags" and restart the server, or drop unused tags.';
    END IF;

    -- MINVALUE below start, so that a tag may hold a single ID
    EXECUTE format('CREATE SEQUENCE idgen_seq.%I AS bigint MINVALUE %s START %s MAXVALUE %s NO CYCLE CACHE 1',
                   tag, start - 1, start, maxvalue);
    INSERT INTO idgen.tags (tag, kind, region, chunk_min, chunk_max, reclaim)
        VALUES (tag, kind, region, chunk_min, chunk_max, reclaim);
END
$$;

-- Change a tag's options; NULL leaves an option as it is.  Needs ownership
-- of the tag and UPDATE on idgen.tags.  maxvalue cannot go below an ID
-- that was already claimed; start only moves the high-water mark up.
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
DECLARE
    t idgen.tags;
    seq regclass;
    cur_start bigint;
    cur_max bigint;
    hwm bigint;
BEGIN
    PERFORM idgen.check_tag_name(tag);
    SELECT * INTO t FROM idgen.tags x WHERE x.tag = alter_tag.tag FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tag "%" does not exist', tag
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create it with idgen.create_tag().';
    END IF;
    -- checks ownership and sends the invalidation, delivered at commit
    PERFORM idgen.tag_changed(tag, false);

    seq := format('idgen_seq.%I', tag)::regclass;
    SELECT s.seqstart, s.seqmax INTO cur_start, cur_max
        FROM pg_sequence s WHERE s.seqrelid = seq;
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value END FROM %s', seq)
        INTO hwm;

    PERFORM idgen.check_tag_options(tag, coalesce(start, cur_start),
                                    coalesce(maxvalue, cur_max),
                                    coalesce(region, t.region),
                                    coalesce(chunk_min, t.chunk_min),
                                    coalesce(chunk_max, t.chunk_max),
                                    t.kind);
    IF maxvalue IS NOT NULL AND hwm IS NOT NULL AND maxvalue < hwm THEN
        RAISE EXCEPTION 'maxvalue % of tag "%" is below its high-water mark %', maxvalue, tag, hwm
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'IDs up to the high-water mark may already have been issued.';
    END IF;
    IF start IS NOT NULL AND hwm IS NOT NULL AND start <= hwm THEN
        RAISE EXCEPTION 'start % of tag "%" is not above its high-water mark %', start, tag, hwm
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'IDs up to the high-water mark may already have been issued.';
    END IF;

    IF maxvalue IS NOT NULL THEN
        EXECUTE format('ALTER SEQUENCE %s MAXVALUE %s', seq, maxvalue);
    END IF;
    IF start IS NOT NULL THEN
        -- move the high-water mark up; IDs below it stay unused
        EXECUTE format('ALTER SEQUENCE %s MINVALUE %s START %s RESTART %s',
                       seq, least(start, cur_start) - 1, start, start);
    END IF;
    UPDATE idgen.tags x
       SET region = coalesce(alter_tag.region, x.region),
           chunk_min = coalesce(alter_tag.chunk_min, x.chunk_min),
           chunk_max = coalesce(alter_tag.chunk_max, x.chunk_max),
           reclaim = coalesce(alter_tag.reclaim, x.reclaim)
     WHERE x.tag = alter_tag.tag;
END
$$;

-- Drop a tag.  Needs ownership of the tag and DELETE on idgen.tags.  IDs
-- cached for the tag anywhere in the server are never handed out again.
CREATE FUNCTION idgen.drop_tag(tag text, if_exists boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM idgen.check_tag_name(tag);
    IF NOT EXISTS (SELECT FROM idgen.tags x WHERE x.tag = drop_tag.tag) THEN
        IF coalesce(if_exists, false) THEN
            RAISE NOTICE 'tag "%" does not exist, skipping', tag;
            RETURN;
        END IF;
        RAISE EXCEPTION 'tag "%" does not exist', tag
            USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM idgen.tag_changed(tag, true);
    DELETE FROM idgen.tags x WHERE x.tag = drop_tag.tag;
    EXECUTE format('DROP SEQUENCE idgen_seq.%I', tag);
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
      LEFT JOIN idgen.pool_stats() s ON s.tag = t.tag
      LEFT JOIN pg_catalog.pg_sequences q
             ON q.schemaname = 'idgen_seq' AND q.sequencename = t.tag;
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
      LEFT JOIN idgen.hybrid_stats() s ON s.tag = t.tag
      LEFT JOIN pg_catalog.pg_sequences q
             ON q.schemaname = 'idgen_seq' AND q.sequencename = t.tag
     WHERE t.kind = 'hybrid';
GRANT SELECT ON idgen.hybrid_stats TO PUBLIC;
