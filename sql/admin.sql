-- Tag administration cannot make a tag repeat, wrap or stall: alter_tag,
-- direct writes to idgen.tags, the tag's sequence, search_path, drops
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

-- start can only be raised; once the change commits, every new ID is at
-- least start, including IDs this backend had cached below it
SELECT idgen.create_tag('a1', region => 100, chunk_min => 10, chunk_max => 10);
SELECT array_agg(next_id('a1')) AS first_five FROM generate_series(1, 5);
SELECT idgen.alter_tag('a1', start => 1000);
SELECT next_id('a1') AS after_raise;
SELECT high_water_mark >= 1000 AS mark_moved FROM idgen.stats WHERE tag = 'a1';
SELECT idgen.alter_tag('a1', start => 2);
SELECT idgen.alter_tag('a1', start => 999);
SELECT next_id('a1') AS still_above;
-- a raise below the mark moves nothing, but caches below it are dropped
SELECT idgen.alter_tag('a1', start => 1003);
SELECT next_id('a1') >= 1003 AS above_start;

-- a rolled-back alter_tag leaves the mark where claims put it
BEGIN;
SELECT idgen.alter_tag('a1', maxvalue => 1000000);
SELECT count(next_id('a1')) FROM generate_series(1, 200);
ROLLBACK;
SELECT maxvalue FROM idgen.tags WHERE tag = 'a1';
SELECT high_water_mark >= 1200 AS claims_kept FROM idgen.stats WHERE tag = 'a1';

-- maxvalue cannot drop below the mark
SELECT idgen.alter_tag('a1', maxvalue => 1100);

-- direct writes to idgen.tags get the same checks as alter_tag
UPDATE idgen.tags SET chunk_min = 0, chunk_max = 0 WHERE tag = 'a1';
UPDATE idgen.tags SET region = 0 WHERE tag = 'a1';
UPDATE idgen.tags SET kind = 'weird' WHERE tag = 'a1';
UPDATE idgen.tags SET kind = 'hybrid', maxvalue = 2000000 WHERE tag = 'a1';
UPDATE idgen.tags SET tag = 'a2' WHERE tag = 'a1';
UPDATE idgen.tags SET start = 1 WHERE tag = 'a1';
UPDATE idgen.tags SET maxvalue = 10 WHERE tag = 'a1';
UPDATE idgen.tags SET reclaim = NULL WHERE tag = 'a1';
TRUNCATE idgen.tags;
INSERT INTO idgen.tags (tag, kind, maxvalue, chunk_min, chunk_max)
    VALUES ('direct', 'weird', 100, 1, 1);
-- a direct INSERT is a create_tag, a direct DELETE a drop_tag
INSERT INTO idgen.tags (tag, maxvalue, region, chunk_min, chunk_max)
    VALUES ('direct', 1000, 100, 1, 10);
SELECT next_id('direct');
DELETE FROM idgen.tags WHERE tag = 'direct';
SELECT count(*) AS sequence_dropped FROM pg_class
 WHERE relname = 'direct' AND relnamespace = 'idgen_seq'::regnamespace;
SELECT next_id('direct');

-- a role allowed to write idgen.tags still needs to own the tag
CREATE ROLE idgen_admin;
GRANT INSERT, UPDATE, DELETE ON idgen.tags TO idgen_admin;
GRANT CREATE ON SCHEMA idgen_seq TO idgen_admin;
SET ROLE idgen_admin;
UPDATE idgen.tags SET chunk_max = 50 WHERE tag = 'a1';
DELETE FROM idgen.tags WHERE tag = 'a1';
SELECT idgen.alter_tag('a1', region => 1000);
SELECT idgen.drop_tag('a1');
SELECT idgen.create_tag('admins');
SELECT idgen.alter_tag('admins', chunk_max => 100);
RESET ROLE;
SELECT tag, chunk_max FROM idgen.tags WHERE tag IN ('a1', 'admins') ORDER BY tag;
SELECT idgen.drop_tag('admins');
REVOKE ALL ON idgen.tags FROM idgen_admin;
REVOKE CREATE ON SCHEMA idgen_seq FROM idgen_admin;
DROP ROLE idgen_admin;

-- the tag's sequence moved back behind idgen's back: claims fail loudly
SELECT idgen.create_tag('moved', region => 10, chunk_min => 10, chunk_max => 10);
SELECT next_id('moved');
SELECT setval('idgen_seq.moved', 3);
SELECT count(next_id('moved')) FROM generate_series(1, 30);
SELECT setval('idgen_seq.moved', 20);
SELECT count(next_id('moved')), max(next_id('moved')) > 20 AS above_mark
  FROM generate_series(1, 30);
-- a claim in the transaction that rewrote the sequence would not survive
-- a rollback: refused
BEGIN;
ALTER SEQUENCE idgen_seq.moved RESTART 1000;
SELECT count(next_id('moved')) FROM generate_series(1, 30);
ROLLBACK;

-- the tag lookup cannot be redirected by search_path
CREATE FUNCTION public.hijack(text, text) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'hijacked'; RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack);
SET search_path = public, pg_catalog;
SELECT idgen.create_tag('o1');
SELECT next_id('o1');
SELECT idgen.alter_tag('o1', chunk_max => 20);
SELECT idgen.drop_tag('o1');
RESET search_path;
DROP OPERATOR public.= (text, text);
DROP FUNCTION public.hijack(text, text);

-- drop_tag follows the transaction: rolled back or failed, the tag and
-- this backend's cached chunk are untouched
SELECT idgen.create_tag('rb', region => 1000, chunk_min => 100, chunk_max => 100);
SELECT next_id('rb');
BEGIN;
SELECT idgen.drop_tag('rb');
ROLLBACK;
SELECT next_id('rb') AS continues;
CREATE ROLE idgen_stranger;
GRANT DELETE ON idgen.tags TO idgen_stranger;
SET ROLE idgen_stranger;
SELECT idgen.drop_tag('rb');
RESET ROLE;
SELECT next_id('rb') AS still_continues;
REVOKE ALL ON idgen.tags FROM idgen_stranger;

-- monitoring shows a role only the tags it may use (or read)
CREATE ROLE idgen_user;
GRANT USAGE ON SEQUENCE idgen_seq.moved TO idgen_user;
SET ROLE idgen_user;
SELECT tag FROM idgen.stats ORDER BY tag;
SELECT DISTINCT tag FROM idgen.backend_ranges ORDER BY tag;
SELECT tag FROM idgen.pool_stats() ORDER BY tag;
SET ROLE idgen_stranger;
SELECT count(*) AS tags_seen FROM idgen.stats;
SELECT count(*) AS chunks_seen FROM idgen.backend_ranges;
RESET ROLE;
GRANT pg_read_all_stats TO idgen_stranger;
SET ROLE idgen_stranger;
SELECT count(*) > 0 AS stats_reader_sees FROM idgen.stats;
RESET ROLE;
DROP ROLE idgen_stranger;
DROP OWNED BY idgen_user;
DROP ROLE idgen_user;

-- idgen_seq.<tag> must be a sequence
DROP SEQUENCE idgen_seq.rb;
SELECT next_id('rb');
SELECT idgen.create_tag('rb');
SELECT idgen.drop_tag('rb');
CREATE TABLE idgen_seq.tbl (x int);
INSERT INTO idgen.tags (tag, maxvalue, chunk_min, chunk_max) VALUES ('tbl', 100, 1, 1);
DROP TABLE idgen_seq.tbl;
-- a sequence that is there already is adopted only if it fits
CREATE SEQUENCE idgen_seq.handmade;
INSERT INTO idgen.tags (tag, maxvalue, chunk_min, chunk_max) VALUES ('handmade', 100, 1, 1);
DROP SEQUENCE idgen_seq.handmade;

-- PREPARE of a transaction that changed tags is refused
BEGIN;
SELECT idgen.create_tag('prepared');
PREPARE TRANSACTION 'tags';
SELECT count(*) AS not_created FROM idgen.tags WHERE tag = 'prepared';

-- dropping the extension warns with each tag's high-water mark
SELECT idgen.drop_tag('a1');
SET client_min_messages = warning;
DROP EXTENSION idgen CASCADE;
RESET client_min_messages;
CREATE EXTENSION idgen;
SELECT idgen.create_tag('moved', start => 91);
SELECT next_id('moved') AS continues_above;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
