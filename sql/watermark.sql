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
