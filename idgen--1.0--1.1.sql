/* idgen--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION idgen UPDATE TO '1.1'" to load this file. \quit

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
