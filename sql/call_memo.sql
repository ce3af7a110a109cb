-- The lookup memo: a call site remembers its tag (fn_extra); one without a
-- memo yet, as each execution of a prepared statement or each statement of
-- a session starts, consults the backend's last lookup of the same kind of
-- tag.  Neither may hand out a tag of the wrong kind, a dropped tag, or a
-- tag the current role may no longer use.
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
SELECT idgen.create_tag('memo_s', start => 100, region => 1000);
SELECT idgen.create_tag('memo_t', start => 5000, region => 1000);
SELECT idgen.create_tag('memo_h', kind => 'hybrid');

-- prepared statements of two tags, executed in turn: each its own tag
PREPARE ps AS SELECT next_id('memo_s') AS id;
PREPARE pt AS SELECT next_id('memo_t') AS id;
EXECUTE ps;
EXECUTE pt;
EXECUTE ps;
EXECUTE pt;
PREPARE pp(text) AS SELECT next_id($1) AS id;
EXECUTE pp('memo_t');
EXECUTE pp('memo_s');

-- the last lookup was of a segment tag named memo_s: a hybrid generator
-- asked for the same name still says it is of the wrong kind, and a
-- segment generator asked for the hybrid tag too
SELECT next_id('memo_s') BETWEEN 100 AND 1099 AS segment_id;
SELECT hybrid_id('memo_s');
SELECT hybrid_id('memo_h') > 0 AS hybrid_ok;
SELECT next_id('memo_h');
SELECT next_id('memo_s') BETWEEN 100 AND 1099 AS segment_id;

-- a dropped tag: the memo of the statement and of the backend are stale
EXECUTE ps;
SELECT idgen.drop_tag('memo_s');
EXECUTE ps;
SELECT next_id('memo_s');
-- created again, with another start: its IDs, not the old chunk's
SELECT idgen.create_tag('memo_s', start => 90000, region => 1000);
EXECUTE ps;
SELECT next_id('memo_s');

-- a role whose right to use the tag is revoked: refused at its next
-- statement, although the backend's memo holds the tag
CREATE ROLE regress_memo_user;
GRANT USAGE ON SEQUENCE idgen_seq.memo_t TO regress_memo_user;
SET ROLE regress_memo_user;
SELECT next_id('memo_t') BETWEEN 5000 AND 5999 AS user_id;
EXECUTE pt;
RESET ROLE;
REVOKE USAGE ON SEQUENCE idgen_seq.memo_t FROM regress_memo_user;
SET ROLE regress_memo_user;
SELECT next_id('memo_t');
EXECUTE pt;
RESET ROLE;
EXECUTE pt;

-- names of one length that differ in one byte (first, middle, last), for
-- every way the memo's comparison reads a name (1 to 17 bytes, and 63),
-- drawn in turn at one call site: each name gets its own tag's IDs
CREATE TABLE memo_names (n int, name text);
INSERT INTO memo_names
SELECT row_number() OVER (ORDER BY l, name), name
FROM (SELECT DISTINCT l, CASE WHEN p = 0 THEN repeat('a', l)
                              ELSE overlay(repeat('a', l) PLACING 'b' FROM p) END AS name
      FROM (SELECT l, unnest(ARRAY[0, 1, (l + 1) / 2, l]) AS p
            FROM unnest(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 63]) AS l) x) y;
SELECT count(idgen.create_tag(name, start => n * 10000, region => 1000)) FROM memo_names;
SELECT format('SELECT %s AS len, count(*) AS draws, bool_and(next_id(t.name) / 10000 = t.n) AS own_ids
               FROM memo_names t, generate_series(1, 3) WHERE length(t.name) = %s', l, l)
FROM (SELECT DISTINCT length(name) AS l FROM memo_names) x ORDER BY l \gexec

DEALLOCATE ALL;
DROP EXTENSION idgen CASCADE;
DROP ROLE regress_memo_user;
DROP TABLE memo_names;
