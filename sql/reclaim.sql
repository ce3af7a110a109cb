-- reclaim: IDs drawn by aborted transactions and rolled-back savepoints
-- are issued again; prepared transactions and next_id_range keep theirs
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
SELECT idgen.create_tag('r', region => 100, chunk_min => 5, chunk_max => 5);

-- top-level abort rewinds the chunk
BEGIN;
SELECT next_id('r') FROM generate_series(1, 3);
SELECT chunk_start, next_id, chunk_end, xact_drawn FROM idgen.backend_ranges;
ROLLBACK;
SELECT next_id('r') AS reissued;
SELECT xact_drawn FROM idgen.backend_ranges;

-- an error aborts too
BEGIN;
SELECT next_id('r');
SELECT 1 / 0;
ROLLBACK;
SELECT next_id('r') AS reissued_after_error;

-- ROLLBACK TO SAVEPOINT gives back exactly what was drawn since
CREATE TABLE kept (id bigint);
BEGIN;
INSERT INTO kept VALUES (next_id('r'));
SAVEPOINT a;
INSERT INTO kept VALUES (next_id('r')), (next_id('r'));
SAVEPOINT b;
INSERT INTO kept VALUES (next_id('r'));
ROLLBACK TO SAVEPOINT b;
INSERT INTO kept VALUES (next_id('r'));
RELEASE SAVEPOINT a;
SAVEPOINT c;
INSERT INTO kept VALUES (next_id('r'));
ROLLBACK TO SAVEPOINT c;
COMMIT;
SELECT id FROM kept ORDER BY id;
SELECT next_id('r') AS after_savepoints;

-- a released savepoint belongs to its parent: rolled back with it
BEGIN;
SELECT next_id('r') AS in_parent;
SAVEPOINT s;
SELECT next_id('r') AS released;
RELEASE SAVEPOINT s;
ROLLBACK;
SELECT next_id('r') AS back_to_in_parent;

-- PL/pgSQL exception blocks are subtransactions
DO $$
DECLARE
    kept_id bigint;
BEGIN
    BEGIN
        PERFORM next_id('r');
        PERFORM next_id('r');
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    kept_id := next_id('r');
    RAISE NOTICE 'first ID after the failed block: %', kept_id;
END
$$;

-- a run spanning a refill: the part in the current chunk is rewound, the
-- part in the previous chunk goes back to the pool for a new backend
SELECT chunk_start, next_id, chunk_end FROM idgen.backend_ranges;
BEGIN;
SELECT array_agg(next_id('r')) AS drawn FROM generate_series(1, 8);
ROLLBACK;
SELECT chunk_start, next_id, chunk_end FROM idgen.backend_ranges;
SELECT reclaimed, pool_remaining FROM idgen.stats;
\c
SELECT array_agg(next_id('r')) AS new_backend FROM generate_series(1, 6);

-- a prepared transaction keeps its IDs, even when rolled back later
BEGIN;
SELECT next_id('r') AS prepared;
PREPARE TRANSACTION 'p';
ROLLBACK PREPARED 'p';
SELECT next_id('r') AS not_reissued;

-- next_id_range blocks are never given back
BEGIN;
SELECT next_id_range('r', 3);
ROLLBACK;
SELECT next_id_range('r', 3) AS next_block;

-- reclaim can be switched off per tag
SELECT idgen.create_tag('off', reclaim => false, chunk_min => 5, chunk_max => 5);
BEGIN;
SELECT next_id('off');
ROLLBACK;
SELECT next_id('off') AS not_reissued;
SELECT idgen.alter_tag('off', reclaim => true);
BEGIN;
SELECT next_id('off');
ROLLBACK;
SELECT next_id('off') AS reissued;

SELECT tag, reclaimed FROM idgen.stats ORDER BY tag;

SET client_min_messages = warning;
DROP TABLE kept;
DROP EXTENSION idgen CASCADE;
