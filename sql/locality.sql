-- locality (the default): a tag's backends draw from the front of a chunk
-- shared through its pool, one ID at a time while others draw, more while
-- one draws alone.  specs/segment_locality.spec covers several sessions.
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
SELECT idgen.create_tag('l', region => 1000, chunk_max => 64);
SELECT locality FROM idgen.tags WHERE tag = 'l';

-- drawing alone: contiguous chunks of 1, 1, 2, 4 and 8 IDs (chunk_size is
-- the size of the next)
SELECT array_agg(id) FROM (SELECT next_id('l') AS id FROM generate_series(1, 10)) s;
SELECT chunk_start, next_id, chunk_end, chunk_size FROM idgen.backend_ranges WHERE tag = 'l';
SELECT issued, refills, skipped, cached FROM idgen.stats WHERE tag = 'l';

-- an abort rewinds the chunk: the next transaction issues the same IDs
BEGIN;
SELECT next_id('l') FROM generate_series(1, 2);
ROLLBACK;
SELECT next_id('l');
SELECT reclaimed, skipped FROM idgen.stats WHERE tag = 'l';

-- next_id_range: contiguous, above the shared chunk; next_id goes on
SELECT next_id_range('l', 5);
SELECT next_id('l');

-- locality off and on again: IDs keep increasing
SELECT idgen.alter_tag('l', locality => false);
SELECT locality FROM idgen.tags WHERE tag = 'l';
SELECT next_id('l');
SELECT idgen.alter_tag('l', locality => true);
SELECT next_id('l');

-- a backend that exits hands the rest of its chunk back to the front
SELECT next_id('l') AS last_id, pg_backend_pid() AS old_pid \gset
SELECT chunk_end - next_id AS cached FROM idgen.backend_ranges WHERE tag = 'l';
\c -
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
SELECT next_id('l') - :last_id AS step;
SELECT returned, skipped FROM idgen.stats WHERE tag = 'l';

-- bad values
SELECT idgen.create_tag('l2', locality => NULL);
UPDATE idgen.tags SET locality = NULL WHERE tag = 'l';
SELECT idgen.alter_tag('l', locality => NULL);
SELECT locality FROM idgen.tags WHERE tag = 'l';

SELECT idgen.drop_tag('l');
DROP FUNCTION wait_exit(integer);
DROP EXTENSION idgen;
