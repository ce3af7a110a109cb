-- every bad input gets a clear error and changes nothing
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
SELECT idgen.create_tag('t');

-- names
SELECT next_id('');
SELECT next_id(repeat('x', 64));
SELECT next_id('nosuchtag');
SELECT next_id_range('nosuchtag', 10);
SELECT idgen.create_tag(NULL);
SELECT idgen.create_tag('');
SELECT idgen.create_tag(repeat('é', 32));
SELECT idgen.create_tag('t');
SELECT idgen.alter_tag('nosuchtag', region => 10);
SELECT idgen.drop_tag('nosuchtag');

-- options
SELECT idgen.create_tag('bad', kind => 'uuid');
SELECT idgen.create_tag('bad', kind => NULL);
SELECT idgen.create_tag('bad', start => 0);
SELECT idgen.create_tag('bad', start => 10, maxvalue => 5);
SELECT idgen.create_tag('bad', maxvalue => 9223372036854775807);
SELECT idgen.create_tag('bad', region => 0);
SELECT idgen.create_tag('bad', chunk_min => 0);
SELECT idgen.create_tag('bad', chunk_min => 20, chunk_max => 10);
SELECT idgen.create_tag('bad', region => 100, chunk_max => 1000);
SELECT idgen.create_tag('bad', reclaim => NULL);
SELECT idgen.alter_tag('t', chunk_min => 100000);
SELECT count(*) AS no_bad_tag FROM idgen.tags WHERE tag = 'bad';

-- next_id_range needs a positive count
SELECT next_id_range('t', 0);
SELECT next_id_range('t', -5);

-- maxvalue cannot drop below IDs already claimed, start cannot go back
SELECT next_id('t');
SELECT idgen.alter_tag('t', maxvalue => 5);
SELECT idgen.alter_tag('t', start => 0);
SELECT idgen.alter_tag('t', start => 10);
SELECT idgen.alter_tag('t', start => 9);

-- read-only transactions, as nextval
BEGIN READ ONLY;
SELECT next_id('t');
ROLLBACK;
BEGIN READ ONLY;
SELECT next_id_range('t', 3);
ROLLBACK;

-- permissions follow sequences
CREATE ROLE idgen_reader;
CREATE ROLE idgen_user;
GRANT USAGE ON SEQUENCE idgen_seq.t TO idgen_user;
SET ROLE idgen_reader;
SELECT next_id('t');
SELECT next_id_range('t', 2);
SELECT idgen.create_tag('mine');
SELECT idgen.alter_tag('t', region => 5000);
SELECT idgen.drop_tag('t');
SELECT idgen.reset_stats();
RESET ROLE;
-- the hint's grants are what creating a tag needs: INSERT alone is not
GRANT INSERT ON idgen.tags TO idgen_reader;
SET ROLE idgen_reader;
SELECT idgen.create_tag('mine');
RESET ROLE;
GRANT CREATE ON SCHEMA idgen_seq TO idgen_reader;
SET ROLE idgen_reader;
SELECT idgen.create_tag('mine');
RESET ROLE;
SELECT idgen.drop_tag('mine');
REVOKE INSERT ON idgen.tags FROM idgen_reader;
REVOKE CREATE ON SCHEMA idgen_seq FROM idgen_reader;
SET ROLE idgen_user;
SELECT next_id('t') > 0 AS granted;
RESET ROLE;
-- a revoke takes effect in the user's next transaction
REVOKE USAGE ON SEQUENCE idgen_seq.t FROM idgen_user;
SET ROLE idgen_user;
SELECT next_id('t');
RESET ROLE;
DROP ROLE idgen_reader;
DROP OWNED BY idgen_user;
DROP ROLE idgen_user;

SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
