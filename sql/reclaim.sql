-- reclaim: IDs drawn by aborted transactions are issued again; rolled-back
-- savepoints, prepared transactions and next_id_range keep theirs.  Tags
-- here have per-backend chunks (locality => false); sql/locality.sql covers
-- reclaim on a locality tag.
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
SELECT idgen.create_tag('r', region => 100, chunk_min => 5, chunk_max => 5,
                        locality => false);

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

-- a rolled-back savepoint's IDs may live on (a result set, a variable, a
-- cursor): they come back only if the whole transaction aborts
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

-- ... and they do come back when it aborts, released or rolled back
BEGIN;
SELECT next_id('r') AS in_parent;
SAVEPOINT s;
SELECT next_id('r') AS released;
RELEASE SAVEPOINT s;
SAVEPOINT t;
SELECT next_id('r') AS rolled_back;
ROLLBACK TO SAVEPOINT t;
ROLLBACK;
SELECT next_id('r') AS back_to_in_parent;

-- RETURN QUERY keeps the rows of a block that failed afterwards: those
-- IDs reach the INSERT and must not be issued again
CREATE TABLE rq (id bigint PRIMARY KEY);
CREATE FUNCTION ids() RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        RETURN QUERY SELECT next_id('r') FROM generate_series(1, 3);
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
    RETURN QUERY SELECT next_id('r') FROM generate_series(1, 3);
END
$$;
INSERT INTO rq SELECT * FROM ids();
INSERT INTO rq SELECT * FROM ids();
SELECT count(*) AS six_distinct_twice FROM rq;

-- a cursor that sorted (buffered) its IDs in a block that failed: the
-- rows fetched after the failure are inserted
DO $$
DECLARE
    c CURSOR FOR SELECT next_id('r') AS id FROM generate_series(1, 4) ORDER BY 1;
    v bigint;
BEGIN
    OPEN c;
    BEGIN
        FETCH c INTO v;
        INSERT INTO rq VALUES (v);
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    INSERT INTO rq SELECT next_id('r') FROM generate_series(1, 4);
    LOOP
        FETCH c INTO v;
        EXIT WHEN NOT FOUND;
        INSERT INTO rq VALUES (v);
    END LOOP;
END
$$;
SELECT count(*) AS twelve_plus_seven FROM rq;

-- a procedure that rolls back its own transaction keeps its variables:
-- their IDs are not issued again
CREATE PROCEDURE keep_across_rollback() LANGUAGE plpgsql AS $$
DECLARE
    x bigint;
BEGIN
    x := next_id('r');
    ROLLBACK;
    INSERT INTO rq VALUES (x), (next_id('r'));
    COMMIT;
END
$$;
CALL keep_across_rollback();
SELECT count(*) AS nineteen_plus_two FROM rq;

-- PL/pgSQL exception blocks are subtransactions: the same rule
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
SELECT pg_backend_pid() AS old_pid \gset
\c
-- wait until the old backend has exited (and handed its tail back)
CREATE FUNCTION wait_exit(old_pid integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WHILE EXISTS (SELECT FROM pg_stat_activity WHERE pid = old_pid) LOOP
        PERFORM pg_sleep(0.01);
        -- pg_stat_activity is read once per transaction otherwise
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END
$$;
SELECT wait_exit(:old_pid);
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

-- the pool's list of returned ranges holds 64: an aborted transaction that
-- gives back 69 separate runs (each chunk of one ID, a next_id_range block
-- between them) keeps the 64 largest (ties: the ones already there; runs go
-- back newest first, so 1, 3, 5, 7 and 9 are the five lost); a new backend
-- starts at the lowest range kept
SELECT idgen.create_tag('full', region => 1000, chunk_min => 1, chunk_max => 1,
                        locality => false);
BEGIN;
DO $$
BEGIN
    FOR i IN 1..70 LOOP
        PERFORM next_id('full');
        PERFORM next_id_range('full', 1);
    END LOOP;
END
$$;
ROLLBACK;
SELECT reclaimed, lost, pool_remaining, returned_ranges
  FROM idgen.pool_stats() WHERE tag = 'full';
SELECT next_id('full') AS rewound_run;
SELECT pg_backend_pid() AS old_pid \gset
\c
SELECT wait_exit(:old_pid);
SELECT array_agg(next_id('full')) AS new_backend FROM generate_series(1, 3);
SELECT lost, returned_ranges FROM idgen.pool_stats() WHERE tag = 'full';

-- reclaim can be switched off per tag
SELECT idgen.create_tag('off', reclaim => false, chunk_min => 5, chunk_max => 5,
                        locality => false);
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

SET client_min_messages = error;
DROP TABLE kept, rq;
DROP FUNCTION ids(), wait_exit(integer);
DROP PROCEDURE keep_across_rollback();
DROP EXTENSION idgen CASCADE;
