-- hybrid_id and hybrid_parse: layout, order, errors
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

SELECT idgen.create_tag('events', kind => 'hybrid');
SELECT tag, kind, start, maxvalue FROM idgen.tags;

-- the first ID: slab 1, claimed just now, sequence 0
SELECT hybrid_id('events') AS id \gset
SELECT :id >> 32 AS slab, :id > 0 AS positive,
       (idgen.hybrid_parse(:id)).slab AS parsed_slab,
       (idgen.hybrid_parse(:id)).seq AS parsed_seq;

-- IDs are unique and increase within a backend, also when a slab's
-- sequence for one second runs out and another slab is taken
CREATE TEMP TABLE drawn AS
    SELECT n, hybrid_id('events') AS id FROM generate_series(1, 200000) n;
SELECT count(DISTINCT id) AS distinct_ids,
       bool_and(id > :id) AS above_first,
       array_agg(id ORDER BY n) = array_agg(id ORDER BY id) AS increasing
  FROM drawn;
-- every slab but the one in use was abandoned, none was returned
SELECT slabs_claimed - slabs_abandoned AS in_use, slabs_continued,
       slabs_returned, slabs_pooled, last_slab = slabs_claimed AS all_claimed
  FROM idgen.hybrid_stats WHERE tag = 'events';
-- slabs were used in order, each from sequence 0 up
SELECT bool_and(p.seq <= 65535 AND p.seconds <= 65535) AS in_range,
       min(p.slab) AS first_slab
  FROM drawn, idgen.hybrid_parse(id) p;

-- NULL in, NULL out, as nextval does
SELECT hybrid_id(NULL) IS NULL AS null_tag;
SELECT idgen.hybrid_parse(NULL) IS NULL AS null_id;

-- hybrid_parse: the bit layout
SELECT * FROM idgen.hybrid_parse(0);
SELECT * FROM idgen.hybrid_parse((5::bigint << 32) | (7 << 16) | 9);
SELECT * FROM idgen.hybrid_parse(9223372036854775807);
SELECT * FROM idgen.hybrid_parse(-1);
-- immutable: usable in an index
CREATE TEMP TABLE ev (id bigint PRIMARY KEY DEFAULT hybrid_id('events'));
CREATE INDEX ev_slab ON ev (((idgen.hybrid_parse(id)).slab));
INSERT INTO ev DEFAULT VALUES;
SELECT count(*) FROM ev WHERE (idgen.hybrid_parse(id)).slab >= 1;

-- maxvalue: at most 2147483647, so that IDs stay positive
SELECT idgen.create_tag('bad', kind => 'hybrid', maxvalue => 2147483648);
SELECT idgen.alter_tag('events', maxvalue => 4294967295);
SELECT idgen.create_tag('seg_big', maxvalue => 4294967295);
SELECT idgen.drop_tag('seg_big');

-- wrong kinds
SELECT idgen.create_tag('orders');
SELECT next_id('events');
SELECT next_id_range('events', 10);
SELECT hybrid_id('orders');
SELECT hybrid_id('nosuchtag');
SELECT hybrid_id('');

-- read-only transactions, as nextval
BEGIN READ ONLY;
SELECT hybrid_id('events');
ROLLBACK;

-- permissions follow sequences
CREATE ROLE idgen_hybrid_user;
SET ROLE idgen_hybrid_user;
SELECT hybrid_id('events');
RESET ROLE;
GRANT USAGE ON SEQUENCE idgen_seq.events TO idgen_hybrid_user;
SET ROLE idgen_hybrid_user;
SELECT hybrid_id('events') > :id AS granted;
RESET ROLE;
DROP OWNED BY idgen_hybrid_user;
DROP ROLE idgen_hybrid_user;

-- slab exhaustion (setval stands in for the slabs other sessions claimed)
-- (three sessions racing for two slabs are in specs/hybrid_concurrent.spec)
SELECT idgen.create_tag('few', kind => 'hybrid', start => 7, maxvalue => 8);
SELECT hybrid_id('few') >> 32 AS slab;
SELECT idgen.create_tag('none', kind => 'hybrid', maxvalue => 2);
SELECT setval('idgen_seq.none', 2);
SELECT hybrid_id('none');
SELECT slabs_claimed FROM idgen.hybrid_stats WHERE tag = 'none';

-- a dropped and recreated tag starts afresh
SELECT idgen.drop_tag('events');
SELECT hybrid_id('events');
SELECT idgen.create_tag('events', kind => 'hybrid');
SELECT hybrid_id('events') >> 32 AS slab;
SELECT slabs_claimed, slabs_abandoned FROM idgen.hybrid_stats WHERE tag = 'events';

SELECT * FROM idgen.hybrid_stats ORDER BY tag;

-- drop_tag frees the tags' shared slots, which DROP EXTENSION would not
SELECT count(idgen.drop_tag(tag)) AS dropped FROM idgen.tags;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
