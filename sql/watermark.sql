-- watermark(tag) of an ordered tag: every ID at or below it that will ever
-- commit has committed.  specs/watermark_concurrent.spec covers concurrent sessions.
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
SELECT idgen.create_tag('w', ordered => true);
SELECT ordered, locality FROM idgen.tags WHERE tag = 'w';

-- nothing issued yet
SELECT idgen.watermark('w');
CREATE TABLE ev (id bigint PRIMARY KEY DEFAULT next_id('w'));
INSERT INTO ev SELECT FROM generate_series(1, 3);
SELECT idgen.watermark('w'), max(id) FROM ev;

-- this session's open transaction holds it; its commit releases it
BEGIN;
INSERT INTO ev DEFAULT VALUES RETURNING id;
SELECT idgen.watermark('w');
SELECT tag, lowest_id, pid = pg_backend_pid() AS mine, state FROM idgen.watermark_holders;
COMMIT;
SELECT idgen.watermark('w');
SELECT count(*) FROM idgen.watermark_holders;

-- an aborted transaction's IDs: rewound and given back, the watermark stays
BEGIN;
INSERT INTO ev SELECT FROM generate_series(1, 3);
ROLLBACK;
SELECT idgen.watermark('w');
INSERT INTO ev DEFAULT VALUES RETURNING id;
SELECT idgen.watermark('w');

-- more prepared transactions than max_prepared_transactions (10 here), one
-- after the other, without a watermark call between them: the floors of
-- finished ones make room for new ones
SELECT format('BEGIN; INSERT INTO ev DEFAULT VALUES; PREPARE TRANSACTION %L', 'wm' || i),
       format('COMMIT PREPARED %L', 'wm' || i)
  FROM generate_series(1, 12) i \gexec
SELECT idgen.watermark('w') = max(id) AS caught_up FROM ev;
SELECT count(*) FROM idgen.watermark_holders;

-- a finished prepared transaction is no holder, even before a watermark
-- call has pruned it
BEGIN;
INSERT INTO ev DEFAULT VALUES;
PREPARE TRANSACTION 'wm_done';
COMMIT PREPARED 'wm_done';
SELECT count(*) FROM idgen.watermark_holders;

-- a slot reused: an ordered tag whose prepared transactions finished is
-- dropped, and a new ordered tag takes its slot; the old floors (lower
-- than the new tag's, 2 and 3 against 1) must not count, nor show
SELECT idgen.create_tag('w_old', ordered => true);
CREATE TABLE ev_old (id bigint PRIMARY KEY DEFAULT next_id('w_old'));
INSERT INTO ev_old DEFAULT VALUES;
BEGIN;
INSERT INTO ev_old DEFAULT VALUES RETURNING id;
PREPARE TRANSACTION 'wm_old1';
BEGIN;
INSERT INTO ev_old DEFAULT VALUES RETURNING id;
PREPARE TRANSACTION 'wm_old2';
COMMIT PREPARED 'wm_old1';
COMMIT PREPARED 'wm_old2';
DROP TABLE ev_old;
SELECT idgen.drop_tag('w_old');
SELECT idgen.create_tag('w_new', ordered => true);
CREATE TABLE ev_new (id bigint PRIMARY KEY DEFAULT next_id('w_new'));
BEGIN;
INSERT INTO ev_new DEFAULT VALUES RETURNING id;
PREPARE TRANSACTION 'wm_new';
INSERT INTO ev_new DEFAULT VALUES RETURNING id;
SELECT idgen.watermark('w_new');
SELECT tag, lowest_id, gid FROM idgen.watermark_holders;
COMMIT PREPARED 'wm_new';
SELECT idgen.watermark('w_new');
DROP TABLE ev_new;
SELECT idgen.drop_tag('w_new');

-- no chunk is kept across transactions
SELECT count(*) FROM idgen.backend_ranges WHERE tag = 'w' AND chunk_end > next_id;

-- bad input
SELECT idgen.watermark(NULL);
SELECT idgen.watermark('nope');
SELECT idgen.create_tag('plain');
SELECT idgen.watermark('plain');
SELECT next_id_range('w', 10);
SELECT idgen.create_tag('w2', ordered => true, locality => false);
SELECT idgen.create_tag('w3', ordered => true, source => 'root');
SELECT idgen.create_tag('h', kind => 'hybrid', ordered => true);
SELECT idgen.alter_tag('w', locality => false);
UPDATE idgen.tags SET ordered = NULL WHERE tag = 'w';
CREATE ROLE wm_nobody;
SET ROLE wm_nobody;
SELECT idgen.watermark('w');
SELECT count(*) FROM idgen.watermark_holders;
RESET ROLE;

-- a plain tag can become ordered, and back
SELECT idgen.alter_tag('plain', ordered => true);
SELECT next_id('plain');
SELECT idgen.watermark('plain');
SELECT idgen.alter_tag('plain', ordered => false);
SELECT next_id_range('plain', 2);

DROP ROLE wm_nobody;
DROP TABLE ev;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
