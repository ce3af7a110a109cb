-- The top of the ID space: no cut overflows, and the end of a tag's range
-- gives the documented error, for next_id, next_id_range and hybrid slabs
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

-- a tag that ends at the largest ID
SELECT idgen.create_tag('e', start => 9223372036854775790, region => 100,
                        chunk_min => 10, chunk_max => 10);
SELECT count(*), min(id), max(id), min(id) > 0 AS positive
  FROM (SELECT next_id('e') AS id FROM generate_series(1, 17)) s;
SELECT next_id('e');
SELECT next_id_range('e', 1);
SELECT pool_remaining, cached, high_water_mark FROM idgen.stats WHERE tag = 'e';

-- a role with USAGE only cannot take a default tag's whole space at once
SELECT idgen.create_tag('t');
CREATE ROLE idgen_user;
GRANT USAGE ON SEQUENCE idgen_seq.t TO idgen_user;
SET ROLE idgen_user;
SELECT next_id('t');
SELECT next_id_range('t', 9223372036854775806 - 150003);
SELECT upper(r) - lower(r) AS most_at_once FROM next_id_range('t', 2147483647) r;
SELECT next_id('t');
RESET ROLE;
DROP OWNED BY idgen_user;
DROP ROLE idgen_user;

-- next_id_range near the end: served from what is left, or refused with
-- what is left
SELECT idgen.create_tag('r', start => 9223372036854775700, region => 50,
                        chunk_min => 1, chunk_max => 1);
SELECT next_id_range('r', 40);
SELECT next_id_range('r', 45);
SELECT next_id_range('r', 107);
SELECT next_id_range('r', 7);
SELECT next_id_range('r', 6);
SELECT next_id_range('r', 1);

-- hybrid IDs of the last slab stay positive
SELECT idgen.create_tag('h', kind => 'hybrid', start => 2147483647);
SELECT hybrid_id('h') > 0 AS positive, (idgen.hybrid_parse(hybrid_id('h'))).slab;

SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
