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
                                 ordered boolean DEFAULT false,
                                 source text DEFAULT 'local',
                                 grant_size bigint DEFAULT 16777216)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the trigger of idgen.tags checks the name
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
    -- say what is needed and who can grant it, rather than "permission
    -- denied for table tags"
    IF NOT pg_catalog.has_table_privilege('idgen.tags', 'INSERT')
       OR NOT pg_catalog.has_schema_privilege('idgen_seq', 'CREATE') THEN
        RAISE EXCEPTION 'permission denied to create tag "%"', tag
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Creating a tag needs INSERT on table idgen.tags and CREATE on schema idgen_seq.',
                  HINT = pg_catalog.format('A superuser, or the owner of the extension, can grant what tag administrators need: GRANT INSERT, UPDATE, DELETE ON idgen.tags TO %I; GRANT CREATE ON SCHEMA idgen_seq TO %I;', current_user, current_user);
    END IF;
    INSERT INTO idgen.tags (tag, kind, start, maxvalue, region, chunk_min, chunk_max, reclaim, locality, ordered, source, grant_size)
        VALUES (tag, kind, start, maxvalue, region, chunk_min, chunk_max, reclaim, locality, ordered, source, grant_size);
END
$$;

DROP FUNCTION idgen.alter_tag(text, bigint, bigint, bigint, integer, integer, boolean);
-- Change a tag's options; NULL leaves an option as it is.  Needs ownership
-- of the tag and UPDATE on idgen.tags.  start can only be raised: every ID
-- issued after the change commits is at least start.  maxvalue cannot go
-- below an ID that was already claimed.  source can change from 'local' to
-- 'root' only: a node's own sequence knows nothing of other nodes' grants.
CREATE FUNCTION idgen.alter_tag(tag text,
                                start bigint DEFAULT NULL,
                                maxvalue bigint DEFAULT NULL,
                                region bigint DEFAULT NULL,
                                chunk_min integer DEFAULT NULL,
                                chunk_max integer DEFAULT NULL,
                                reclaim boolean DEFAULT NULL,
                                locality boolean DEFAULT NULL,
                                ordered boolean DEFAULT NULL,
                                source text DEFAULT NULL,
                                grant_size bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- no tag has an invalid name: any other is reported as not existing
    IF tag IS NULL THEN
        RAISE EXCEPTION 'tag name cannot be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.has_table_privilege('idgen.tags', 'UPDATE') THEN
        RAISE EXCEPTION 'permission denied to alter tag "%"', tag
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Altering a tag needs UPDATE on table idgen.tags and ownership of the tag.',
                  HINT = pg_catalog.format('A superuser, or the owner of the extension, can grant it: GRANT UPDATE ON idgen.tags TO %I;', current_user);
    END IF;
    UPDATE idgen.tags x
       SET start = coalesce(alter_tag.start, x.start),
           maxvalue = coalesce(alter_tag.maxvalue, x.maxvalue),
           region = coalesce(alter_tag.region, x.region),
           chunk_min = coalesce(alter_tag.chunk_min, x.chunk_min),
           chunk_max = coalesce(alter_tag.chunk_max, x.chunk_max),
           reclaim = coalesce(alter_tag.reclaim, x.reclaim),
           locality = coalesce(alter_tag.locality, x.locality),
           ordered = coalesce(alter_tag.ordered, x.ordered),
           source = coalesce(alter_tag.source, x.source),
           grant_size = coalesce(alter_tag.grant_size, x.grant_size)
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
COMMENT ON FUNCTION idgen.create_tag(text, text, bigint, bigint, bigint, integer, integer, boolean, boolean, boolean, text, bigint) IS 'create a tag of kind segment or hybrid, with its sequence; source ''root'' takes its IDs from grants of the root server';
COMMENT ON FUNCTION idgen.alter_tag(text, bigint, bigint, bigint, integer, integer, boolean, boolean, boolean, text, bigint) IS 'change a tag''s options; NULL keeps an option';
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
COMMENT ON VIEW idgen.watermark_holders IS 'one row per open or prepared transaction holding back a watermark: the lowest ID it may still commit (NULL for a prepared transaction this server did not prepare, which holds every ordered tag of its database)';

--
-- Adopting idgen: switch an existing serial, bigserial or identity column
-- to an idgen generator, and back.  Both run as the caller, who must own
-- the table (no SECURITY DEFINER: they do only what the caller could do
-- by hand), take ACCESS EXCLUSIVE on the table until the transaction ends,
-- and qualify every name they use, so that no search_path redirects them.
--

-- Schema idgen_internal holds what is idgen's own: USAGE on it is granted
-- to nobody, so that no role can call its functions by name, while the
-- views and SQL-standard bodies of the extension, bound to them by OID,
-- can (as the role that uses those).
CREATE SCHEMA idgen_internal;
COMMENT ON SCHEMA idgen_internal IS 'idgen: internal functions, callable only through idgen''s views and functions';

-- What convert_column and revert_column share, and what each does, as one
-- function in schema idgen_internal, whose USAGE nobody is granted: no role
-- can name it, so it runs only as called, bound by OID, from their bodies
-- (SQL-standard bodies are parsed when they are created), and it runs as
-- the caller of those.  op is 'convert' or 'revert'; the arguments of the
-- other are NULL.  converted_to is convert_column's result, next_value
-- revert_column's.
CREATE FUNCTION idgen_internal.adopt(op text, tbl regclass, col name,
                                     tag text, generator text,
                                     keep_sequence boolean,
                                     allow_shared boolean,
                                     grant_usage boolean,
                                     identity text, drop_tag boolean,
                                     OUT converted_to text,
                                     OUT next_value bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fn text := pg_catalog.format('idgen.%s_column', op);
    c record;
    ext name;
    seq regclass;
    seqname text;
    owned boolean;
    others text;
    seqlast bigint;
    seqcalled boolean;
    top bigint;            -- every ID given out so far is at most top
    first bigint;          -- first ID (slab, for hybrid tags) of the tag
    t record;
    have_tag boolean;
    sid bigint;
    expr text;
    shape record;
    grantees oid[];
    grant_on text;         -- the new generator's sequence, to grant USAGE on
    g oid;
    gen name;
    tg text;
    m text[];
    prefix text;
    mark bigint;
    restart bigint;
    i integer := 0;
BEGIN
    IF op OPERATOR(pg_catalog.=) 'convert' THEN
        IF generator IS NULL OR generator NOT IN ('next_id', 'hybrid_id', 'snowflake_id') THEN
            RAISE EXCEPTION 'unknown generator "%"', generator
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The generator is next_id, hybrid_id or snowflake_id.';
        END IF;
        IF generator OPERATOR(pg_catalog.=) 'snowflake_id' AND tag IS NOT NULL THEN
            RAISE EXCEPTION 'snowflake_id() takes no tag'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave tag out with generator => ''snowflake_id''.';
        END IF;
    ELSE
        IF identity IS NOT NULL AND pg_catalog.lower(identity) NOT IN ('always', 'by default') THEN
            RAISE EXCEPTION 'invalid identity "%"', identity
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'identity is ''always'', ''by default'', or NULL for a serial column''s default.';
        END IF;
    END IF;

    -- The checks both make, and what they read after locking the table:
    -- the column, its default, and its largest value.
    DECLARE
        rel record;
        att record;
        parent regclass;
        basetype oid;
        relname name;
        relnamespace name;
        attnum smallint;
        typname text;
        typmax bigint;
        attidentity "char";
        adoid oid;
        default_expr text;
        colmax bigint;
    BEGIN
        IF tbl IS NULL OR col IS NULL THEN
            RAISE EXCEPTION 'table and column must not be null'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        -- under repeatable read, the queries below would not see rows
        -- committed after the transaction's snapshot, even with the lock
        IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
            RAISE EXCEPTION '%() must run in a read committed transaction', fn
                USING ERRCODE = 'invalid_transaction_state',
                      DETAIL = pg_catalog.format('This transaction is %s: it would not see rows committed after its snapshot was taken.',
                                                 pg_catalog.current_setting('transaction_isolation')),
                      HINT = 'Run it in a transaction of the default isolation level, read committed.';
        END IF;
        SELECT pc.relname, n.nspname, pc.relkind, pc.relpersistence, pc.relispartition, pc.relowner
          INTO rel FROM pg_catalog.pg_class pc
          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) pc.relnamespace
         WHERE pc.oid OPERATOR(pg_catalog.=) tbl;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid
                USING ERRCODE = 'undefined_table';
        END IF;
        relname := rel.relname;
        relnamespace := rel.nspname;
        IF rel.relkind NOT IN ('r', 'p') THEN
            RAISE EXCEPTION '"%" is not a table', relname
                USING ERRCODE = 'wrong_object_type';
        END IF;
        IF rel.relispartition THEN
            SELECT inh.inhparent INTO parent FROM pg_catalog.pg_inherits inh
             WHERE inh.inhrelid OPERATOR(pg_catalog.=) tbl;
            RAISE EXCEPTION 'cannot convert a column of partition "%"', relname
                USING ERRCODE = 'wrong_object_type',
                      DETAIL = 'A partitioned table''s column default applies to all its partitions.',
                      HINT = pg_catalog.format('Call %s() on the partitioned table %s.', fn, parent);
        END IF;
        IF rel.relpersistence OPERATOR(pg_catalog.=) 't' THEN
            RAISE EXCEPTION 'cannot convert a column of temporary table "%"', relname
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'A tag outlives the session that owns the table.',
                      HINT = 'Give the column its default in CREATE TEMPORARY TABLE, e.g. DEFAULT snowflake_id().';
        END IF;
        IF NOT pg_catalog.pg_has_role(rel.relowner, 'USAGE') THEN
            RAISE EXCEPTION 'must be owner of table %', relname
                USING ERRCODE = 'insufficient_privilege';
        END IF;

        -- inserters, and every other user of the table, wait from here until
        -- the transaction ends; partitions are locked with their table
        EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', tbl);

        SELECT a.attnum, a.atttypid, a.attidentity, a.attgenerated
          INTO att FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) col
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of relation "%" does not exist', col, relname
                USING ERRCODE = 'undefined_column';
        END IF;
        attnum := att.attnum;
        attidentity := att.attidentity;
        -- a domain counts as its base type
        SELECT CASE WHEN pt.typtype OPERATOR(pg_catalog.=) 'd' THEN pt.typbasetype ELSE pt.oid END
          INTO basetype FROM pg_catalog.pg_type pt WHERE pt.oid OPERATOR(pg_catalog.=) att.atttypid;
        typname := pg_catalog.format_type(basetype, NULL);
        typmax := CASE basetype WHEN 'pg_catalog.int2'::pg_catalog.regtype THEN 32767
                                    WHEN 'pg_catalog.int4'::pg_catalog.regtype THEN 2147483647
                                    WHEN 'pg_catalog.int8'::pg_catalog.regtype THEN 9223372036854775807 END;
        IF typmax IS NULL THEN
            RAISE EXCEPTION 'column "%" of table "%" is not of an integer type', col, relname
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = pg_catalog.format('Its type is %s.', pg_catalog.format_type(att.atttypid, NULL)),
                      HINT = 'Only smallint, integer and bigint columns hold idgen IDs.';
        END IF;
        IF att.attgenerated OPERATOR(pg_catalog.<>) '' THEN
            RAISE EXCEPTION 'column "%" of table "%" is a generated column', col, relname
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Its values are computed from other columns.';
        END IF;
        SELECT d.oid, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
          INTO adoid, default_expr FROM pg_catalog.pg_attrdef d
         WHERE d.adrelid OPERATOR(pg_catalog.=) tbl AND d.adnum OPERATOR(pg_catalog.=) att.attnum;
        -- every row of every partition committed before the lock was granted
        EXECUTE pg_catalog.format('SELECT pg_catalog.max(%I)::pg_catalog.int8 FROM %s', col, tbl) INTO colmax;
        SELECT relname AS relname, relnamespace AS relnamespace, attnum AS attnum,
               typname AS typname, typmax AS typmax, attidentity AS attidentity,
               adoid AS adoid, default_expr AS default_expr, colmax AS colmax
          INTO c;
    END;
    SELECT n.nspname INTO ext FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'idgen';
    -- the sequence the column owns: a serial's, an identity's, or one
    -- convert_column kept
    SELECT d.objid::pg_catalog.regclass INTO seq FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_class s ON s.oid OPERATOR(pg_catalog.=) d.objid
     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.=) tbl AND d.refobjsubid OPERATOR(pg_catalog.=) c.attnum
       AND d.deptype IN ('a', 'i') AND s.relkind OPERATOR(pg_catalog.=) 'S'
     LIMIT 1;
    -- the idgen generator the column's default calls, if it calls one
    SELECT p.proname INTO gen FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) d.refobjid
      JOIN pg_catalog.pg_depend e ON e.objid OPERATOR(pg_catalog.=) p.oid
       AND e.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND e.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND e.deptype OPERATOR(pg_catalog.=) 'e'
      JOIN pg_catalog.pg_extension x ON x.oid OPERATOR(pg_catalog.=) e.refobjid
     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass
       AND d.objid OPERATOR(pg_catalog.=) c.adoid
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND x.extname OPERATOR(pg_catalog.=) 'idgen'
       AND p.proname IN ('next_id', 'hybrid_id', 'snowflake_id')
     LIMIT 1;

    IF op OPERATOR(pg_catalog.=) 'convert' THEN
        -- the column's generator: its identity, or a default nextval(seq)
        owned := seq IS NOT NULL;
        IF c.attidentity OPERATOR(pg_catalog.=) '' THEN
            IF c.default_expr IS NULL THEN
                RAISE EXCEPTION 'column "%" of table "%" has no default to convert', col, c.relname
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          DETAIL = 'Serial, bigserial and identity columns are converted, and columns whose default is nextval() of a sequence.',
                          HINT = pg_catalog.format('Give it an idgen default yourself: ALTER TABLE %s ALTER COLUMN %I SET DEFAULT next_id(''tag'').', tbl, col);
            END IF;
            IF gen IS NOT NULL THEN
                RAISE EXCEPTION 'column "%" of table "%" already takes its IDs from idgen', col, c.relname
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          DETAIL = pg_catalog.format('Its default is %s.', c.default_expr),
                          HINT = 'To switch generators, revert it with idgen.revert_column() first.';
            END IF;
            IF seq IS NULL THEN
                -- not the column's own: the sequence its default names
                SELECT d.refobjid::pg_catalog.regclass INTO seq FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_class s ON s.oid OPERATOR(pg_catalog.=) d.refobjid
                 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                   AND d.objid OPERATOR(pg_catalog.=) c.adoid
                   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                   AND s.relkind OPERATOR(pg_catalog.=) 'S'
                 LIMIT 1;
            END IF;
            IF seq IS NULL OR c.default_expr OPERATOR(pg_catalog.<>) pg_catalog.format('nextval(%L::regclass)', seq) THEN
                RAISE EXCEPTION 'default of column "%" of table "%" is not nextval() of a sequence', col, c.relname
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          DETAIL = pg_catalog.format('Its default is %s.', c.default_expr),
                          HINT = pg_catalog.format('Give it an idgen default yourself: ALTER TABLE %s ALTER COLUMN %I SET DEFAULT next_id(''tag'').', tbl, col);
            END IF;
            -- other columns whose default takes values from the sequence, but
            -- for this column of partitions and inheritance children
            WITH RECURSIVE below(rel) AS (
                SELECT tbl::pg_catalog.oid
                UNION
                SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN below b ON i.inhparent OPERATOR(pg_catalog.=) b.rel)
            SELECT pg_catalog.string_agg(pg_catalog.format('%s.%I', a.attrelid::pg_catalog.regclass, a.attname), ', ')
              INTO others
              FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_attrdef ad ON ad.oid OPERATOR(pg_catalog.=) d.objid
              JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) ad.adrelid
                                            AND a.attnum OPERATOR(pg_catalog.=) ad.adnum
             WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass
               AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.refobjid OPERATOR(pg_catalog.=) seq
               AND NOT (a.attrelid IN (SELECT b.rel FROM below b) AND a.attname OPERATOR(pg_catalog.=) col);
            IF others IS NOT NULL AND NOT coalesce(allow_shared, false) THEN
                RAISE EXCEPTION 'sequence % of column "%" of table "%" is shared with other columns', seq, col, c.relname
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          DETAIL = pg_catalog.format('It also gives IDs to %s; after the conversion their IDs and this column''s could be equal.', others),
                          HINT = 'Convert each of them to the same tag, or pass allow_shared => true if this column''s IDs need not differ from theirs.';
            ELSIF others IS NOT NULL AND NOT coalesce(keep_sequence, true) THEN
                RAISE EXCEPTION 'cannot drop sequence % because other columns use it', seq
                    USING ERRCODE = 'dependent_objects_still_exist',
                          DETAIL = pg_catalog.format('It gives IDs to %s.', others),
                          HINT = 'Leave keep_sequence true.';
            ELSIF NOT owned AND NOT coalesce(allow_shared, false) THEN
                RAISE EXCEPTION 'sequence % is not owned by column "%" of table "%"', seq, col, c.relname
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          DETAIL = 'Other applications may take IDs from it; after the conversion theirs and this column''s could be equal.',
                          HINT = pg_catalog.format('Make it the column''s own with ALTER SEQUENCE %s OWNED BY %s.%I, or pass allow_shared => true.', seq, tbl, col);
            END IF;
        END IF;
        seqname := seq::pg_catalog.text;

        -- every ID given out so far: in the column (every committed row: no
        -- other transaction can hold uncommitted ones under the lock) and by the
        -- sequence (to other users too, and to rows since deleted)
        EXECUTE pg_catalog.format('SELECT last_value, is_called FROM %s', seq) INTO seqlast, seqcalled;
        top := GREATEST(c.colmax, seqlast, 0);

        IF generator OPERATOR(pg_catalog.=) 'snowflake_id' THEN
            IF c.typmax OPERATOR(pg_catalog.<) 9223372036854775807 THEN
                RAISE EXCEPTION 'snowflake IDs would exceed the range of column "%" of table "%"', col, c.relname
                    USING ERRCODE = 'numeric_value_out_of_range',
                          DETAIL = pg_catalog.format('The column is of type %s, whose largest value is %s.', c.typname, c.typmax),
                          HINT = pg_catalog.format('Change the column''s type first: ALTER TABLE %s ALTER COLUMN %I TYPE bigint.', tbl, col);
            END IF;
            -- snowflake IDs only grow, server-wide: all later ones exceed sid
            EXECUTE pg_catalog.format('SELECT %I.snowflake_id()', ext) INTO sid;
            IF sid OPERATOR(pg_catalog.<=) top THEN
                RAISE EXCEPTION 'IDs of column "%" of table "%" reach above the snowflake IDs issued now', col, c.relname
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          DETAIL = pg_catalog.format('Its largest ID, or its sequence''s last value, is %s.', top),
                          HINT = 'Convert it to next_id or hybrid_id, whose tags start above any existing ID.';
            END IF;
            expr := pg_catalog.format('%I.snowflake_id()', ext);
        ELSE
            tag := coalesce(tag, c.relname::pg_catalog.text);
            IF generator OPERATOR(pg_catalog.=) 'next_id' THEN
                first := CASE WHEN top OPERATOR(pg_catalog.<) 9223372036854775806
                              THEN top OPERATOR(pg_catalog.+) 1 END;
            ELSE
                -- a hybrid ID is slab << 32 | seconds << 16 | seq
                first := (top OPERATOR(pg_catalog.>>) 32) OPERATOR(pg_catalog.+) 1;
                first := CASE WHEN first OPERATOR(pg_catalog.<=) 2147483647 THEN first END;
            END IF;
            SELECT x.kind, x.start, x.maxvalue INTO t FROM idgen.tags x
             WHERE x.tag OPERATOR(pg_catalog.=) adopt.tag;
            have_tag := FOUND;
            IF have_tag AND t.kind OPERATOR(pg_catalog.<>) (CASE generator WHEN 'next_id' THEN 'segment' ELSE 'hybrid' END) THEN
                RAISE EXCEPTION 'tag "%" is of kind "%"', tag, t.kind
                    USING ERRCODE = 'wrong_object_type',
                          HINT = pg_catalog.format('Pass generator => %L, or another tag.',
                                                   CASE t.kind WHEN 'hybrid' THEN 'hybrid_id' ELSE 'next_id' END);
            END IF;
            IF first IS NULL OR (have_tag AND first OPERATOR(pg_catalog.>) t.maxvalue) THEN
                RAISE EXCEPTION 'tag "%" has no IDs left above those of column "%" of table "%"', tag, col, c.relname
                    USING ERRCODE = 'sequence_generator_limit_exceeded',
                          DETAIL = pg_catalog.format('The column''s largest ID, or its sequence''s last value, is %s.', top);
            END IF;
            -- hybrid IDs exceed 2^32; a segment tag must stay within the type
            IF c.typmax OPERATOR(pg_catalog.<) 9223372036854775807
               AND (generator OPERATOR(pg_catalog.=) 'hybrid_id' OR NOT have_tag
                    OR t.maxvalue OPERATOR(pg_catalog.>) c.typmax) THEN
                RAISE EXCEPTION 'IDs of tag "%" would exceed the range of column "%" of table "%"', tag, col, c.relname
                    USING ERRCODE = 'numeric_value_out_of_range',
                          DETAIL = pg_catalog.format('The column is of type %s, whose largest value is %s.', c.typname, c.typmax),
                          HINT = CASE generator WHEN 'hybrid_id'
                                 THEN pg_catalog.format('Change the column''s type first: ALTER TABLE %s ALTER COLUMN %I TYPE bigint.', tbl, col)
                                 ELSE pg_catalog.format('Change the column''s type first: ALTER TABLE %s ALTER COLUMN %I TYPE bigint; or create the tag with maxvalue => %s and pass it as tag.', tbl, col, c.typmax) END;
            END IF;
            IF NOT have_tag THEN
                PERFORM idgen.create_tag(tag, kind => CASE generator WHEN 'next_id' THEN 'segment' ELSE 'hybrid' END,
                                         start => first);
            ELSIF t.start OPERATOR(pg_catalog.<) first THEN
                -- once this commits, no backend issues a cached ID below first
                PERFORM idgen.alter_tag(tag, start => first);
            END IF;
            expr := pg_catalog.format('%I.%I(%L)', ext, generator, tag);
        END IF;

        IF c.attidentity OPERATOR(pg_catalog.<>) '' AND coalesce(keep_sequence, true)
           AND NOT pg_catalog.has_schema_privilege(
                   (SELECT r.relnamespace FROM pg_catalog.pg_class r WHERE r.oid OPERATOR(pg_catalog.=) seq), 'CREATE') THEN
            RAISE EXCEPTION 'permission denied to keep sequence % of identity column "%" of table "%"', seq, col, c.relname
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'The identity''s sequence is dropped with it; keeping it creates it again, which needs CREATE on its schema.',
                      HINT = 'Pass keep_sequence => false, or have CREATE granted on the schema.';
        END IF;
    ELSE
        -- the default must be a plain call of an idgen generator
        IF gen OPERATOR(pg_catalog.=) 'snowflake_id' THEN
            IF c.default_expr OPERATOR(pg_catalog.<>) pg_catalog.format('%I.snowflake_id()', ext) THEN
                gen := NULL;
            END IF;
        ELSIF gen IS NOT NULL THEN
            prefix := pg_catalog.format('%I.%I(', ext, gen);
            IF pg_catalog.starts_with(c.default_expr, prefix) THEN
                m := pg_catalog.regexp_match(pg_catalog.substr(c.default_expr, pg_catalog.length(prefix) OPERATOR(pg_catalog.+) 1),
                                             '^''((?:[^'']|'''')*)''::text\)$');
                tg := pg_catalog.replace(m[1], '''''', '''');
            END IF;
            IF tg IS NULL THEN
                gen := NULL;
            END IF;
        END IF;
        IF gen IS NULL THEN
            RAISE EXCEPTION 'column "%" of table "%" does not take its IDs from idgen', col, c.relname
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN c.attidentity OPERATOR(pg_catalog.<>) '' THEN 'It is an identity column.'
                                    WHEN c.default_expr IS NULL THEN 'It has no default.'
                                    ELSE pg_catalog.format('Its default is %s.', c.default_expr) END,
                      HINT = 'revert_column() reverts a column whose default is next_id(), hybrid_id() or snowflake_id().';
        END IF;

        -- above every ID in the column and every ID idgen gave out
        top := GREATEST(c.colmax, 0);
        IF seq IS NOT NULL THEN
            EXECUTE pg_catalog.format('SELECT last_value FROM %s', seq) INTO mark;
            top := GREATEST(top, mark);
        END IF;
        IF gen OPERATOR(pg_catalog.=) 'snowflake_id' THEN
            EXECUTE pg_catalog.format('SELECT %I.snowflake_id()', ext) INTO mark;
            top := GREATEST(top, mark);
        ELSIF EXISTS (SELECT FROM idgen.tags x WHERE x.tag OPERATOR(pg_catalog.=) tg) THEN
            -- the tag's high-water mark: no ID (slab) above it was given out
            EXECUTE pg_catalog.format('SELECT last_value FROM idgen_seq.%I', tg) INTO mark;
            IF gen OPERATOR(pg_catalog.=) 'hybrid_id' THEN
                mark := CASE WHEN mark OPERATOR(pg_catalog.<) 2147483647
                             THEN ((mark OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.<<) 32) OPERATOR(pg_catalog.-) 1
                             ELSE 9223372036854775807 END;
            END IF;
            top := GREATEST(top, mark);
        END IF;
        IF top OPERATOR(pg_catalog.>=) c.typmax THEN
            RAISE EXCEPTION 'no values left above the IDs of column "%" of table "%"', col, c.relname
                USING ERRCODE = 'sequence_generator_limit_exceeded',
                      DETAIL = pg_catalog.format('Its IDs, or those idgen gave out, reach %s; the column is of type %s.', top, c.typname);
        END IF;
        restart := top OPERATOR(pg_catalog.+) 1;
    END IF;

    -- The roles that may insert into the table (or its column), or take
    -- values from the sequence convert_column replaces: those that need
    -- USAGE on the new generator's sequence.  0 stands for PUBLIC.
    SELECT pg_catalog.array_agg(x) INTO grantees FROM (
        SELECT pc.relowner FROM pg_catalog.pg_class pc WHERE pc.oid OPERATOR(pg_catalog.=) tbl
        UNION
        SELECT x.grantee FROM pg_catalog.pg_class pc, pg_catalog.aclexplode(pc.relacl) x
         WHERE pc.oid OPERATOR(pg_catalog.=) tbl AND x.privilege_type OPERATOR(pg_catalog.=) 'INSERT'
        UNION
        SELECT x.grantee FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) x
         WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) col
           AND x.privilege_type OPERATOR(pg_catalog.=) 'INSERT'
        UNION
        SELECT x.grantee FROM pg_catalog.pg_class pc, pg_catalog.aclexplode(pc.relacl) x
         WHERE pc.oid OPERATOR(pg_catalog.=) CASE op WHEN 'convert' THEN seq END
           AND x.privilege_type IN ('USAGE', 'UPDATE')) s(x);

    IF op OPERATOR(pg_catalog.=) 'convert' THEN
        -- the sequence's shape, to keep it when it goes with an identity
        SELECT q.seqtypid, q.seqincrement, q.seqmin, q.seqmax, q.seqcache, q.seqcycle, q.seqstart
          INTO shape FROM pg_catalog.pg_sequence q WHERE q.seqrelid OPERATOR(pg_catalog.=) seq;
        IF c.attidentity OPERATOR(pg_catalog.<>) '' THEN
            -- the identity's sequence is dropped with it
            EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP IDENTITY', tbl, col);
        END IF;
        -- recurses to partitions and inheritance children
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s', tbl, col, expr);
        IF c.attidentity OPERATOR(pg_catalog.<>) '' AND coalesce(keep_sequence, true) THEN
            -- the identity's sequence again, where it was, owned by the column
            -- as a serial's is
            EXECUTE pg_catalog.format('CREATE SEQUENCE %s AS %s INCREMENT %s MINVALUE %s MAXVALUE %s START %s CACHE %s %s OWNED BY %s.%I',
                                      seqname, shape.seqtypid::pg_catalog.regtype, shape.seqincrement, shape.seqmin, shape.seqmax,
                                      shape.seqstart, shape.seqcache, CASE WHEN shape.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END,
                                      tbl, col);
            PERFORM pg_catalog.setval(seqname::pg_catalog.regclass, seqlast, seqcalled);
        ELSIF c.attidentity OPERATOR(pg_catalog.=) '' AND NOT coalesce(keep_sequence, true) THEN
            -- refused while other columns' defaults use it
            EXECUTE pg_catalog.format('DROP SEQUENCE %s', seqname);
        END IF;

        IF coalesce(grant_usage, true) AND tag IS NOT NULL THEN
            grant_on := pg_catalog.format('idgen_seq.%I', tag);
        END IF;
        converted_to := tag;
    ELSE
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', tbl, col);
        IF identity IS NOT NULL THEN
            -- a sequence the column owns makes way for the identity's own
            IF seq IS NOT NULL THEN
                seqname := pg_catalog.format(' SEQUENCE NAME %s', seq);
                EXECUTE pg_catalog.format('DROP SEQUENCE %s', seq);
            END IF;
            EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (START WITH %s%s)',
                                      tbl, col, pg_catalog.upper(identity), restart, coalesce(seqname, ''));
        ELSE
            IF seq IS NULL THEN
                -- a new sequence, named as a serial column's would be
                LOOP
                    seqname := pg_catalog.format('%I.%I', c.relnamespace,
                                   pg_catalog.left(pg_catalog.format('%s_%s_seq', c.relname, col), 60)
                                   OPERATOR(pg_catalog.||) CASE WHEN i OPERATOR(pg_catalog.>) 0 THEN i::pg_catalog.text ELSE '' END);
                    EXIT WHEN pg_catalog.to_regclass(seqname) IS NULL;
                    i := i OPERATOR(pg_catalog.+) 1;
                END LOOP;
                EXECUTE pg_catalog.format('CREATE SEQUENCE %s AS %s START %s OWNED BY %s.%I',
                                          seqname, c.typname, restart, tbl, col);
                seq := seqname::pg_catalog.regclass;
            ELSE
                EXECUTE pg_catalog.format('ALTER SEQUENCE %s RESTART WITH %s', seq, restart);
            END IF;
            EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT pg_catalog.nextval(%L::pg_catalog.regclass)',
                                      tbl, col, seq);
            grant_on := seq::pg_catalog.text;
        END IF;

        IF coalesce(drop_tag, false) AND tg IS NOT NULL THEN
            -- other columns whose default still calls the tag
            SELECT pg_catalog.string_agg(pg_catalog.format('%s.%I', a.attrelid::pg_catalog.regclass, a.attname), ', ')
              INTO others
              FROM pg_catalog.pg_attrdef ad
              JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) ad.adrelid
                                            AND a.attnum OPERATOR(pg_catalog.=) ad.adnum
             WHERE pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) OPERATOR(pg_catalog.=) c.default_expr;
            IF others IS NOT NULL THEN
                RAISE EXCEPTION 'cannot drop tag "%" because other columns use it', tg
                    USING ERRCODE = 'dependent_objects_still_exist',
                          DETAIL = pg_catalog.format('The default of %s calls it.', others),
                          HINT = 'Revert them first, or leave drop_tag false.';
            END IF;
            PERFORM idgen.drop_tag(tg, if_exists => true);
        END IF;
        next_value := restart;
    END IF;

    -- whoever could insert into the table, or take values from its old
    -- sequence, may take values from the new generator's sequence
    IF grant_on IS NOT NULL THEN
        FOREACH g IN ARRAY grantees LOOP
            EXECUTE pg_catalog.format('GRANT USAGE ON SEQUENCE %s TO %s', grant_on,
                                      CASE WHEN g OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                           ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g)) END);
        END LOOP;
    END IF;
END
$$;

-- Switch a serial, bigserial or identity column (or one whose default is
-- nextval() of a sequence) to DEFAULT next_id(tag), hybrid_id(tag) or
-- snowflake_id(), so that no new ID equals one the column holds or its
-- sequence gave out.  Returns the tag.  See README.md, "Adopting idgen".
CREATE FUNCTION idgen.convert_column(tbl regclass, col name,
                                     tag text DEFAULT NULL,
                                     generator text DEFAULT 'next_id',
                                     keep_sequence boolean DEFAULT true,
                                     allow_shared boolean DEFAULT false,
                                     grant_usage boolean DEFAULT true)
RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
    SELECT a.converted_to
      FROM idgen_internal.adopt('convert', tbl, col, tag, generator, keep_sequence,
                                allow_shared, grant_usage, NULL, NULL) a;
END;

-- Switch a column converted by convert_column back to a sequence: its
-- default becomes nextval() of the sequence it owns (the one
-- convert_column kept, or a new one), or, with identity => 'always' or
-- 'by default', an identity; either way the next value is above every ID
-- the column holds and every ID idgen gave out.  Returns that value.
CREATE FUNCTION idgen.revert_column(tbl regclass, col name,
                                    identity text DEFAULT NULL,
                                    drop_tag boolean DEFAULT false)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
    SELECT a.next_value
      FROM idgen_internal.adopt('revert', tbl, col, NULL, NULL, NULL, NULL, NULL,
                                identity, drop_tag) a;
END;

COMMENT ON FUNCTION idgen_internal.adopt(text, regclass, name, text, text, boolean, boolean, boolean, text, boolean) IS 'what idgen.convert_column and idgen.revert_column do (internal)';
COMMENT ON FUNCTION idgen.convert_column(regclass, name, text, text, boolean, boolean, boolean) IS 'switch a serial, bigserial or identity column to DEFAULT next_id(tag), hybrid_id(tag) or snowflake_id(), above every existing ID';
COMMENT ON FUNCTION idgen.revert_column(regclass, name, text, boolean) IS 'switch a column converted by idgen.convert_column back to a sequence or identity, above every ID idgen gave out';

--
-- 1.1: misuse gets a clear error (issue 26).
--

-- idgen.watermark() looks its tag up with a snapshot that parallel mode
-- cannot take, in the leader too: it is PARALLEL UNSAFE like the
-- generators, so that no parallel plan calls it.
ALTER FUNCTION idgen.watermark(text) PARALLEL UNSAFE;

-- Internal helpers are not the user's API: idgen.check_tag_name() is gone
-- (the trigger of idgen.tags checks names, and no tag has an invalid one),
-- adopt_column(), adopt_grantees(), adopt_owned_sequence() and
-- adopt_generator() became part of idgen_internal.adopt() above, and
-- tag_visible() moves to idgen_internal at the end of this script, once
-- every view that calls it exists.
CREATE OR REPLACE FUNCTION idgen.drop_tag(tag text, if_exists boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- no tag has an invalid name: any other is reported as not existing
    IF tag IS NULL THEN
        RAISE EXCEPTION 'tag name cannot be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
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
DROP FUNCTION idgen.check_tag_name(text);

--
-- 1.1: many servers, one ID space (see README, "Many servers").  A root
-- server leases grants of a tag's IDs to node servers; each node claims its
-- regions from the grants it holds instead of from its own sequence.
--

-- Where a tag's IDs come from: 'local' (its own sequence, as in 1.0) or
-- 'root' (grants leased from the server idgen.root names).  grant_size is
-- the base size of the grants this server leases out of the tag.
ALTER TABLE idgen.tags ADD COLUMN source text NOT NULL DEFAULT 'local';
ALTER TABLE idgen.tags ADD COLUMN grant_size bigint NOT NULL DEFAULT 16777216;

-- The ledger of a server that leases grants (a root, or a node serving
-- nodes below it): one row per grant, written only by idgen.lease_grant
-- and idgen.report_holdings.  kind is 'grant' (leased), 'healed' (a grant
-- a node proved it holds that this server had no record of: it went back),
-- 'adopted' (IDs a node issued from its own sequence before its tag took
-- its IDs from this server) or 'lost' (a grant its node never recorded);
-- held_since is when its node first reported holding it.  Nobody but its
-- owner may read or write it; grant SELECT to operators.
CREATE TABLE idgen.grants (
    tag         text NOT NULL,
    node        text NOT NULL,
    range       int8range NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    granted_to  name NOT NULL DEFAULT SESSION_USER,
    kind        text NOT NULL DEFAULT 'grant'
                CHECK (kind IN ('grant', 'healed', 'adopted', 'lost')),
    held_since  timestamptz,
    PRIMARY KEY (tag, range)
);
CREATE INDEX grants_node ON idgen.grants (tag, node, granted_at);
SELECT pg_catalog.pg_extension_config_dump('idgen.grants', '');
REVOKE ALL ON idgen.grants FROM PUBLIC;
COMMENT ON TABLE idgen.grants IS 'ledger of the grants this server leased to nodes: tag, node name, range [lo, hi), time, role, kind, since when the node reports holding it';

-- The nodes that lease from this server: each name belongs to the role
-- that used it first, and to one server instance (a random token per start
-- of the node) at a time; a new instance is a candidate until the current
-- one falls silent, so that two servers leasing under one name (a copy of
-- a node, a standby promoted next to its primary) are refused.
CREATE TABLE idgen.nodes (
    node                text PRIMARY KEY,
    role                name NOT NULL,
    instance            text,
    seen_at             timestamptz,
    candidate           text,
    candidate_since     timestamptz,
    candidate_seen_at   timestamptz
);
SELECT pg_catalog.pg_extension_config_dump('idgen.nodes', '');
REVOKE ALL ON idgen.nodes FROM PUBLIC;
COMMENT ON TABLE idgen.nodes IS 'nodes that lease grants from this server: name, the role it belongs to, the server instances last seen under it';

-- The high-water mark each node last reported of each tag, with the
-- tag's incarnation there (its sequence's OID): a node's mark never goes
-- back, so a lower one comes from another server under the same name (a
-- copy, a standby promoted next to its primary, a restored backup).
CREATE TABLE idgen.node_marks (
    tag         text NOT NULL,
    node        text NOT NULL,
    incarnation text NOT NULL,
    mark        bigint NOT NULL,
    reported_at timestamptz NOT NULL,
    PRIMARY KEY (tag, node)
);
SELECT pg_catalog.pg_extension_config_dump('idgen.node_marks', '');
REVOKE ALL ON idgen.node_marks FROM PUBLIC;
COMMENT ON TABLE idgen.node_marks IS 'per tag and node: the high-water mark the node last reported, and the tag''s incarnation there';

-- The keys with which this server signs the grants it leases, so that a
-- node can prove a grant to a server that lost its record of it (restored
-- from a backup).  Grants are signed with the oldest key, and proofs made
-- with any of them are accepted: a restore of a dump adds the dumped key
-- to the one CREATE EXTENSION made.
CREATE TABLE idgen.grant_keys (
    key     bytea PRIMARY KEY,
    made_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
INSERT INTO idgen.grant_keys (key)
    VALUES (pg_catalog.decode(pg_catalog.md5(pg_catalog.gen_random_uuid()::text) OPERATOR(pg_catalog.||)
                              pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 'hex'));
SELECT pg_catalog.pg_extension_config_dump('idgen.grant_keys', '');
REVOKE ALL ON idgen.grant_keys FROM PUBLIC;
COMMENT ON TABLE idgen.grant_keys IS 'keys signing the grants this server leases (owner only)';

-- The grants a node holds, leased from its root by the runway worker and
-- committed (WAL flushed) before any ID of them is issued, with the node
-- name it was leased under, the root's signature and WAL position.  The grants of a dropped tag stay, abandoned:
-- the node still reports them, since rows may hold their IDs.  A row of
-- kind 'local' holds the IDs a tag issued from its own sequence before it
-- was switched to source root, for the root to adopt.
CREATE TABLE idgen.leases (
    tag         text NOT NULL,
    range       int8range NOT NULL,
    leased_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    node        text,
    proof       text,
    root_lsn    pg_lsn,
    abandoned   boolean NOT NULL DEFAULT false,
    kind        text NOT NULL DEFAULT 'grant' CHECK (kind IN ('grant', 'local')),
    PRIMARY KEY (tag, range)
);
SELECT pg_catalog.pg_extension_config_dump('idgen.leases', '');
REVOKE ALL ON idgen.leases FROM PUBLIC;
COMMENT ON TABLE idgen.leases IS 'grants this node holds from its root, written by the runway worker; claims of tags of source root take their regions from them';

-- Lease a grant of a tag to a node: called by the runway worker of a node
-- over libpq.  Needs USAGE (or UPDATE) on the tag's sequence, as next_id
-- does: a grant is a large next_id_range, recorded in the ledger.  Refused
-- inside a transaction block, so that a returned grant is in the ledger.
-- The grant is the tag's grant_size, doubled until it lasts ten minutes at
-- the node's rate (ids_per_second), up to 64 times.  The node tells what it
-- holds (its highest grants with their proofs, and IDs it issued before
-- its tag took its IDs from here), and the tag's mark is raised above it
-- first; the answer is the grant, its proof and this server's WAL
-- position.
CREATE FUNCTION idgen.lease_grant(tag text, node text,
                                  ids_per_second float8 DEFAULT 0,
                                  instance text DEFAULT '',
                                  incarnation text DEFAULT '',
                                  mark bigint DEFAULT 0,
                                  held int8range[] DEFAULT '{}',
                                  proofs text[] DEFAULT '{}',
                                  local_ids int8range DEFAULT 'empty',
                                  OUT ids int8range, OUT proof text,
                                  OUT root_lsn pg_lsn)
RETURNS record
AS 'MODULE_PATHNAME', 'idgen_lease_grant'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION idgen.lease_grant(text, text, float8, text, text, bigint, int8range[], text[], int8range) IS 'lease the next grant of a tag to a node, durably, above what the node holds, and record it in idgen.grants';

-- What a node holds of a tag, told at every check of this server: its
-- grants (with their proofs) and its own mark of the tag.  The tag's mark
-- is raised above them (healed: how many grants the ledger had lost), and
-- a node whose holdings contradict the ledger is told to stop (refused,
-- and stop is true), or to wait while another instance of the node may be
-- alive (hold).
CREATE FUNCTION idgen.report_holdings(tag text, node text, instance text,
                                      incarnation text, mark bigint,
                                      held int8range[], proofs text[],
                                      OUT refused text, OUT stop boolean,
                                      OUT hold boolean, OUT healed integer,
                                      OUT root_lsn pg_lsn)
RETURNS record
AS 'MODULE_PATHNAME', 'idgen_report_holdings'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION idgen.report_holdings(text, text, text, text, bigint, int8range[], text[]) IS 'a node tells which grants of a tag it holds; the tag''s mark is raised above them';

-- Why this server cannot grant now (in recovery, or cut off from the
-- synchronous standbys it needs), or NULL: the runway worker of a node
-- leases from the first server of its idgen.root that can.
CREATE FUNCTION idgen.grants_blocked()
RETURNS text
AS 'MODULE_PATHNAME', 'idgen_grants_blocked'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION idgen.grants_blocked() IS 'why this server cannot grant now (recovery, missing synchronous standbys), or NULL';

-- For a server restored from a backup, or to a point in time: raise the
-- mark of a tag (every segment tag the caller owns, when tag is NULL) to at
-- least above, durably, and drop what backends cached below it.
CREATE FUNCTION idgen.raise_marks(above bigint, tag text DEFAULT NULL,
                                  OUT tag text, OUT old_mark bigint,
                                  OUT new_mark bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'idgen_raise_marks'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION idgen.raise_marks(bigint, text) IS 'raise the high-water mark of a tag (or of every segment tag the caller owns) to at least a value, after a restore';

-- On a copy of a node (pg_basebackup, a standby promoted while its primary
-- lives on): give up every grant it holds, which the original holds too,
-- so that it leases new ones under its new idgen.node_name.
CREATE FUNCTION idgen.become_new_node()
RETURNS bigint
AS 'MODULE_PATHNAME', 'idgen_become_new_node'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION idgen.become_new_node() FROM PUBLIC;
COMMENT ON FUNCTION idgen.become_new_node() IS 'on a copy of a node: give up the grants it holds (shared with the original), to lease anew under a new idgen.node_name';

CREATE FUNCTION idgen.runway_status(
    OUT tag text, OUT ids_per_second float8, OUT root_reachable boolean,
    OUT state text, OUT last_error text, OUT state_since timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'idgen_runway_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION idgen.runway_status() IS 'what the runway worker knows of each root-sourced tag the current role may monitor (behind idgen.runway)';

CREATE VIEW idgen.runway AS
    SELECT t.tag, t.source,
           CASE WHEN t.source = 'root' THEN coalesce(l.grants, 0) END AS grants_held,
           CASE WHEN t.source = 'root' THEN coalesce(l.ids_left, 0) END AS ids_left,
           r.ids_per_second,
           CASE WHEN t.source = 'root' AND r.ids_per_second > 0
                THEN (coalesce(l.ids_left, 0) / r.ids_per_second)::bigint
           END AS seconds_left,
           r.root_reachable, r.state, r.last_error, r.state_since
      FROM idgen.tags t
      JOIN pg_catalog.pg_class c
        ON c.relname = t.tag AND c.relnamespace = 'idgen_seq'::pg_catalog.regnamespace
      LEFT JOIN pg_catalog.pg_sequences q
             ON q.schemaname = 'idgen_seq' AND q.sequencename = t.tag
      LEFT JOIN LATERAL (
            SELECT pg_catalog.count(*) AS grants,
                   pg_catalog.sum(pg_catalog.upper(g.range) -
                                  greatest(pg_catalog.lower(g.range),
                                           coalesce(q.last_value, t.start - 1) + 1)) AS ids_left
              FROM idgen.leases g
             WHERE g.tag = t.tag AND NOT g.abandoned
               AND pg_catalog.upper(g.range) > coalesce(q.last_value, t.start - 1) + 1) l
        ON t.source = 'root'
      LEFT JOIN idgen.runway_status() r ON r.tag = t.tag
     WHERE idgen.tag_visible(c.oid);
GRANT SELECT ON idgen.runway TO PUBLIC;
COMMENT ON VIEW idgen.runway IS 'per tag: its source and, for tags of source root, grants held, IDs and seconds of runway left, whether the root is reachable, the worker''s state for the tag and its last error';

-- Snowflake node ids that cannot collide (idgen.node_id = 'auto'): the
-- registry of the node ids this server leases to nodes, one row per node id
-- ever leased, written only by idgen.lease_node_id.  node and role hold it
-- (the node name belongs to that role, idgen.nodes), instance is the
-- holder's server instance, leased_until when its lease ends by this
-- server's clock (the id is free a quarter of a lease later), and
-- time_mark the latest time any holder of the id may have issued an ID
-- with: a new holder starts above it.  A row with leased_until 'infinity'
-- keeps an id for a server with a fixed idgen.node_id.  Nobody but its
-- owner may read or write it; grant SELECT to operators.
CREATE TABLE idgen.node_ids (
    node_id      integer PRIMARY KEY CHECK (node_id >= 0),
    node         text NOT NULL,
    role         name NOT NULL DEFAULT CURRENT_USER,
    instance     text NOT NULL DEFAULT '',
    leased_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    renewed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    leased_until timestamptz NOT NULL,
    time_mark    timestamptz
);
SELECT pg_catalog.pg_extension_config_dump('idgen.node_ids', '');
REVOKE ALL ON idgen.node_ids FROM PUBLIC;
COMMENT ON TABLE idgen.node_ids IS 'snowflake node ids this server leases to nodes: holder (node name, role, server instance), lease end, and the latest time an ID was issued with the id';

-- Lease a snowflake node id to a node's server instance: called by the
-- runway worker of a node with idgen.node_id = 'auto' over libpq.  Renews
-- the id held, or assigns one (the one held if it is free, else the lowest
-- free one up to max_node_id), above every ID issued with it before; after
-- a start it answers only live holders (lapsed false) for a lease and a
-- quarter.  The node tells its time high-water mark (ms since 1970); the
-- answer is the id, the lease length, the id's mark before it was assigned
-- (NULL on a renewal) and its mark now, once durable.  Refused inside a
-- transaction block.  Not granted to PUBLIC: grant EXECUTE to node roles.
CREATE FUNCTION idgen.lease_node_id(node text, instance text,
                                    max_node_id integer,
                                    held integer DEFAULT -1,
                                    lapsed boolean DEFAULT false,
                                    time_mark_ms bigint DEFAULT 0,
                                    OUT node_id integer, OUT lease_ms integer,
                                    OUT floor_ms bigint, OUT cap_ms bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'idgen_lease_node_id'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION idgen.lease_node_id(text, text, integer, integer, boolean, bigint) FROM PUBLIC;
COMMENT ON FUNCTION idgen.lease_node_id(text, text, integer, integer, boolean, bigint) IS 'lease or renew the snowflake node id of a node''s server instance, durably, recorded in idgen.node_ids';

CREATE FUNCTION idgen.snowflake_node_status(
    OUT node_id integer, OUT source text, OUT state text,
    OUT expires_at timestamptz, OUT renewed_at timestamptz,
    OUT covered_until timestamptz, OUT last_error text,
    OUT state_since timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'idgen_snowflake_node_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION idgen.snowflake_node_status() IS 'the node id of this server''s snowflake IDs and the state of its lease (behind idgen.snowflake_node)';

CREATE VIEW idgen.snowflake_node AS
    SELECT * FROM idgen.snowflake_node_status();
GRANT SELECT ON idgen.snowflake_node TO PUBLIC;
COMMENT ON VIEW idgen.snowflake_node IS 'the node id of this server''s snowflake IDs: from the setting, or leased from the root (state, local end of the lease, last renewal, time the root''s registry covers, last error)';

--
-- 1.1: misuse gets a clear error (issue 26), continued: the views that
-- call idgen.tag_visible() exist, so it can move where no role can name it.
-- They call it by OID, as the role that reads them, which keeps EXECUTE.
--
ALTER FUNCTION idgen.tag_visible(oid) SET SCHEMA idgen_internal;
