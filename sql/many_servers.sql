-- Many servers, as one server sees them: leasing grants out of a tag (the
-- root side), what nodes report they hold and how the root heals and
-- refuses, tags of source root without a root (the node side), and the
-- errors of all of them.  The root, nodes and the runway worker run in TAP
-- tests (t/3*.pl).
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never
-- the grace period after a start would delay the grants made here
SET idgen.grant_grace = 0;
-- node names belong to the role that used them first: one of a known name
CREATE ROLE regress_admin SUPERUSER;
SET ROLE regress_admin;

-- root side: a grant is the next range of the tag, in the ledger
SELECT idgen.create_tag('orders', grant_size => 1000);
SELECT next_id('orders') AS local_first;
SELECT ids AS first_grant, length(proof) AS proof_length,
       root_lsn <= pg_current_wal_insert_lsn() AS lsn_shown
  FROM idgen.lease_grant('orders', 'eu-1');
-- a node draining its grants fast gets larger ones (up to 64 times)
SELECT (idgen.lease_grant('orders', 'eu-1', 2)).ids AS doubled;
SELECT upper(ids) - lower(ids) AS at_most_64_times
  FROM idgen.lease_grant('orders', 'eu-1', 1e9);
SELECT idgen.lease_grant('orders', 'eu-1', -1);
SELECT (idgen.lease_grant('orders', 'us-1')).ids AS other_node;
SELECT tag, node, range, kind, granted_to = session_user AS by_me
  FROM idgen.grants ORDER BY range;
-- the root's own IDs stay clear of every grant
SELECT count(*) AS inside_grants
  FROM (SELECT next_id('orders') AS id FROM generate_series(1, 200000)) s
  JOIN idgen.grants g ON g.range @> s.id;

-- a server that can grant says so: not in recovery, no synchronous standby
-- missing (the runway worker leases from the first such server of its list)
SELECT idgen.grants_blocked() IS NULL AS can_grant;

-- errors of lease_grant
BEGIN;
SELECT idgen.lease_grant('orders', 'eu-1');
ROLLBACK;
SELECT idgen.lease_grant('orders', '');
SELECT idgen.lease_grant('orders', repeat('n', 64));
SELECT idgen.lease_grant('nosuch', 'eu-1');
SELECT idgen.create_tag('h', kind => 'hybrid');
SELECT idgen.lease_grant('h', 'eu-1');
SELECT idgen.create_tag('tiny', maxvalue => 10, grant_size => 8);
SELECT (idgen.lease_grant('tiny', 'eu-1')).ids AS short_at_the_end;
SELECT (idgen.lease_grant('tiny', 'eu-1')).ids AS the_last;
SELECT idgen.lease_grant('tiny', 'eu-1');
SELECT idgen.lease_grant('orders', 'eu-1', held => '{"[1,5)"}');
SELECT idgen.lease_grant('orders', 'eu-1', held => '{NULL}', proofs => '{x}');
SELECT idgen.lease_grant('orders', 'eu-1', held => '{"(,5)"}', proofs => '{x}');
SELECT idgen.lease_grant('orders', 'eu-1', local_ids => '[-5,1)');
-- an ordered tag's IDs are not granted, and a granted tag cannot become
-- ordered: its watermark follows one server's transactions
SELECT idgen.create_tag('ev', ordered => true);
SELECT idgen.lease_grant('ev', 'eu-1');
SELECT idgen.alter_tag('orders', ordered => true);
-- a role may lease only what it may use, and cannot read the ledger
CREATE ROLE regress_node;
SET ROLE regress_node;
SELECT idgen.lease_grant('orders', 'eu-1');
SELECT count(*) FROM idgen.grants;
SET ROLE regress_admin;
GRANT USAGE ON SEQUENCE idgen_seq.orders TO regress_node;
SET ROLE regress_node;
-- a node name belongs to the role that used it first
SELECT idgen.lease_grant('orders', 'eu-1');
SELECT lower((idgen.lease_grant('orders', 'regress-1')).ids) > 0 AS leased;
INSERT INTO idgen.grants (tag, node, range) VALUES ('orders', 'x', '[1,2)');
SELECT * FROM idgen.nodes;
SET ROLE regress_admin;
SELECT node, role FROM idgen.nodes ORDER BY node;

-- what nodes hold: a grant proven with the proof it came with is accepted
CREATE TABLE held (name text PRIMARY KEY, ids int8range, proof text);
INSERT INTO held SELECT 'a1', ids, proof FROM idgen.lease_grant('orders', 'a');
INSERT INTO held SELECT 'a2', ids, proof FROM idgen.lease_grant('orders', 'a');
SELECT refused, stop, root_lsn > '0/0' AS lsn_shown
  FROM idgen.report_holdings('orders', 'a', 'i1', '', 0,
    (SELECT array_agg(ids ORDER BY ids) FROM held),
    (SELECT array_agg(proof ORDER BY ids) FROM held));
-- a proof that does not verify: refused, and the node must stop
SELECT refused, stop FROM idgen.report_holdings('orders', 'a', 'i1', '', 0,
    (SELECT array_agg(ids) FROM held WHERE name = 'a2'), '{00}');
-- nor under another name, which the proof does not cover
SELECT refused, stop FROM idgen.report_holdings('orders', 'b', 'i1', '', 0,
    (SELECT array_agg(ids) FROM held WHERE name = 'a2'),
    (SELECT array_agg(proof) FROM held WHERE name = 'a2'));
SELECT idgen.report_holdings('orders', 'a', 'i1', '', 0, '{"[1,5)"}', '{}');
-- the root went back (its ledger row and mark lost, as in a restore from an
-- older backup): the grant is recorded again and the mark raised above it
INSERT INTO held SELECT 'a3', ids, proof FROM idgen.lease_grant('orders', 'a');
DELETE FROM idgen.grants WHERE range = (SELECT ids FROM held WHERE name = 'a3');
SELECT setval('idgen_seq.orders', lower(ids) - 1) > 0 AS went_back
  FROM held WHERE name = 'a3';
SELECT refused, stop FROM idgen.report_holdings('orders', 'a', 'i1', '', 0,
    (SELECT array_agg(ids ORDER BY ids DESC) FROM held),
    (SELECT array_agg(proof ORDER BY ids DESC) FROM held));
SELECT kind FROM idgen.grants WHERE range = (SELECT ids FROM held WHERE name = 'a3');
SELECT last_value = upper(ids) - 1 AS mark_above_it
  FROM idgen_seq.orders, held WHERE name = 'a3';
SELECT lower((idgen.lease_grant('orders', 'b')).ids) >= upper(ids) AS granted_above
  FROM held WHERE name = 'a3';
-- granted twice (the root went back and granted it to b before a reported):
-- refused, and a must stop issuing from the tag's grants
INSERT INTO held SELECT 'a4', ids, proof FROM idgen.lease_grant('orders', 'a');
UPDATE idgen.grants SET node = 'b'
 WHERE range = (SELECT ids FROM held WHERE name = 'a4');
SELECT refused ~ 'overlaps .* granted to node "b"' AS overlap, stop
  FROM idgen.report_holdings('orders', 'a', 'i1', '', 0,
    (SELECT array_agg(ids ORDER BY ids DESC) FROM held),
    (SELECT array_agg(proof ORDER BY ids DESC) FROM held));
SELECT idgen.lease_grant('orders', 'a', instance => 'i1',
    held => (SELECT array_agg(ids ORDER BY ids DESC) FROM held),
    proofs => (SELECT array_agg(proof ORDER BY ids DESC) FROM held));
UPDATE idgen.grants SET node = 'a'
 WHERE range = (SELECT ids FROM held WHERE name = 'a4');

-- a copy of a node: the last grant to the name is not among its holdings
INSERT INTO held SELECT 'c1', ids, proof FROM idgen.lease_grant('orders', 'c');
INSERT INTO held SELECT 'c2', ids, proof FROM idgen.lease_grant('orders', 'c');
SELECT refused FROM idgen.report_holdings('orders', 'c', 'i1', '', 0,
    (SELECT array_agg(ids) FROM held WHERE name IN ('c1', 'c2')),
    (SELECT array_agg(proof) FROM held WHERE name IN ('c1', 'c2')));
SELECT count(held_since) AS held FROM idgen.grants WHERE node = 'c';
INSERT INTO held SELECT 'c3', ids, proof FROM idgen.lease_grant('orders', 'c');
-- holding the one before the last, which nobody said it held: the last was
-- lost (never recorded)
SELECT refused, stop FROM idgen.report_holdings('orders', 'c', 'i1', '', 0,
    (SELECT array_agg(ids) FROM held WHERE name = 'c2'),
    (SELECT array_agg(proof) FROM held WHERE name = 'c2'));
SELECT kind FROM idgen.grants WHERE range = (SELECT ids FROM held WHERE name = 'c3');
-- and whoever holds the lost one is another server under the same name
SELECT refused ~ 'recorded as lost' AS lost, stop
  FROM idgen.report_holdings('orders', 'c', 'i1', '', 0,
    (SELECT array_agg(ids) FROM held WHERE name = 'c3'),
    (SELECT array_agg(proof) FROM held WHERE name = 'c3'));
-- a server lagging behind a grant that was reported held: another server
-- under the name (a copy that lags)
SELECT refused ~ 'does not hold grant' AS lags, stop
  FROM idgen.report_holdings('orders', 'c', 'i1', '', 0,
    (SELECT array_agg(ids) FROM held WHERE name = 'c1'),
    (SELECT array_agg(proof) FROM held WHERE name = 'c1'));
-- a node's mark of a tag never goes back: a lower one is another server
-- under its name (a copy that lags); a tag dropped and created again there
-- is a new incarnation, whose mark starts over
SELECT refused FROM idgen.report_holdings('orders', 'm', 'i1', '1234', 5000, '{}', '{}');
SELECT refused FROM idgen.report_holdings('orders', 'm', 'i1', '1234', 6000, '{}', '{}');
SELECT refused ~ 'mark 4000 .* below the 6000 it reported before' AS went_back, stop
  FROM idgen.report_holdings('orders', 'm', 'i1', '1234', 4000, '{}', '{}');
SELECT refused FROM idgen.report_holdings('orders', 'm', 'i1', '5678', 10, '{}', '{}');
SELECT tag, node, incarnation, mark FROM idgen.node_marks WHERE node = 'm';
-- one server instance holds a node name at a time: a new one is held back
-- while the current one reports (a restarted node takes the name over once
-- the old instance has been silent, t/306); both reporting: two servers
SELECT refused FROM idgen.report_holdings('orders', 'd', 'first', '', 0, '{}', '{}');
SELECT refused ~ 'another server instance reported as node "d"' AS held, stop, hold
  FROM idgen.report_holdings('orders', 'd', 'second', '', 0, '{}', '{}');
SELECT refused, hold FROM idgen.report_holdings('orders', 'd', 'first', '', 0, '{}', '{}');
SELECT refused ~ 'two servers lease grants as node "d"' AS two, stop, hold
  FROM idgen.report_holdings('orders', 'd', 'second', '', 0, '{}', '{}');
SELECT refused ~ 'two servers' AS two, stop
  FROM idgen.report_holdings('orders', 'd', 'first', '', 0, '{}', '{}');

-- IDs a node issued before its tag took them from here: adopted when they
-- lie above everything issued here and within one grant
SELECT idgen.create_tag('sw', grant_size => 1000);
SELECT (idgen.lease_grant('sw', 'n1', local_ids => '[1,301)')).ids AS above_adopted;
SELECT node, range, kind FROM idgen.grants WHERE tag = 'sw' ORDER BY range;
SELECT (idgen.lease_grant('sw', 'n1', local_ids => '[1,301)')).ids AS adopted_once;
SELECT idgen.lease_grant('sw', 'n2', local_ids => '[1,301)');
SELECT idgen.lease_grant('sw', 'n2', local_ids => '[10000,100000)');
SELECT (idgen.lease_grant('sw', 'n2', local_ids => '[1,10)')).ids IS NOT NULL
  AS below_start_ignored FROM idgen.alter_tag('sw', start => 50000);

-- a root restored from a backup: raise every tag's mark by hand
SELECT * FROM idgen.raise_marks(900000, 'sw');
SELECT * FROM idgen.raise_marks(10, 'sw');
SELECT tag, new_mark >= 900000 AS raised FROM idgen.raise_marks(900000) ORDER BY tag;
SELECT idgen.raise_marks(NULL);
-- at most to maxvalue: every ID of the tag is then taken
SELECT * FROM idgen.raise_marks(100, 'tiny');
SELECT idgen.raise_marks(5, 'h');
SET ROLE regress_node;
SELECT idgen.raise_marks(5, 'orders');
SELECT * FROM idgen.raise_marks(5);
SET ROLE regress_admin;

-- options: source and grant_size
SELECT idgen.create_tag('bad', source => 'elsewhere');
SELECT idgen.create_tag('bad', source => NULL);
SELECT idgen.create_tag('bad', grant_size => 0);
SELECT idgen.create_tag('bad', kind => 'hybrid', source => 'root');
SELECT idgen.alter_tag('orders', grant_size => 5000);
SELECT tag, source, grant_size FROM idgen.tags WHERE tag = 'orders';

-- node side, with no root configured: no IDs, and an error that says why
SELECT idgen.create_tag('fromroot', source => 'root');
SELECT next_id('fromroot');
\echo :LAST_ERROR_SQLSTATE
SELECT tag, source, grants_held, ids_left, root_reachable, state
  FROM idgen.runway ORDER BY tag;
-- a local tag may take grants from now on, never the other way round; the
-- IDs it issued are recorded for the root to adopt
SELECT idgen.alter_tag('tiny', source => 'root');
SELECT tag, range, kind, abandoned FROM idgen.leases;
SELECT idgen.alter_tag('tiny', source => 'local');
SELECT idgen.alter_tag('fromroot', source => 'local');

-- a grant recorded by hand (as the runway worker records them): claims of
-- the node's tag take their regions from it, and from nothing else
INSERT INTO idgen.leases (tag, range) VALUES ('fromroot', '[500,600)');
SELECT min(id), max(id), count(*)
  FROM (SELECT next_id('fromroot') AS id FROM generate_series(1, 100)) s;
SELECT next_id('fromroot');
SELECT grants_held, ids_left FROM idgen.runway WHERE tag = 'fromroot';
-- dropping the tag abandons the grants held of it: a tag created again
-- under the name never claims from them
SELECT idgen.drop_tag('fromroot');
SELECT tag, range, abandoned FROM idgen.leases WHERE tag = 'fromroot';
SELECT idgen.create_tag('fromroot', source => 'root', start => 500);
SELECT next_id('fromroot');
SELECT idgen.drop_tag('fromroot');

-- snowflake node ids leased to nodes with idgen.snowflake_node_id = 'auto': the
-- runway worker asks idgen.lease_node_id() (t/311); here by hand.  A short
-- lease; the first answer after a start opens a grace period of a lease and
-- a quarter, in which only live holders are answered (a holder whose row
-- this server lost records it again)
SET idgen.snowflake_node_id_lease = '2s';
SELECT node_id, lease_ms, floor_ms, cap_ms = 5000 + lease_ms AS cap_is_mark_plus_lease
  FROM idgen.lease_node_id('n-live', 'i1', 1023, 5, false, 5000);
SELECT pg_sleep(2.6);
-- the lowest free id, up to the node's largest; an id reserved for a server
-- with a fixed idgen.snowflake_node_id is never given
INSERT INTO idgen.node_ids (node_id, node, leased_until) VALUES (1, 'db-01 (fixed)', 'infinity');
SELECT node_id, floor_ms FROM idgen.lease_node_id('n-a', 'ia', 1023);
SELECT node_id, floor_ms FROM idgen.lease_node_id('n-b', 'ib', 1023);
SELECT node_id FROM idgen.lease_node_id('n-small', 'is', 3);
SELECT idgen.lease_node_id('n-tiny', 'it', 2);
\echo :LAST_ERROR_SQLSTATE
-- a renewal keeps the id, gives no floor, and its mark only grows
SELECT node_id, floor_ms IS NULL AS no_floor, cap_ms = 9000 + 2000 AS mark_grows
  FROM idgen.lease_node_id('n-a', 'ia', 1023, 0, false, 9000);
SELECT node_id, cap_ms = 9000 + 2000 AS mark_kept
  FROM idgen.lease_node_id('n-a', 'ia', 1023, 0, false, 10);
-- another instance under the name (a restart, a copy) gets another id
SELECT node_id FROM idgen.lease_node_id('n-a', 'ia2', 1023);
-- a node that asks for an id leased to another gets another one
SELECT node_id FROM idgen.lease_node_id('n-x', 'ix', 1023, 2, false, 0);
SELECT node_id, node, role, instance, time_mark IS NOT NULL AS has_mark,
       leased_until > now() AS leased
  FROM idgen.node_ids ORDER BY node_id;
-- once a lease and a quarter have passed, a free id goes to the next node,
-- which starts above the mark its holders left
SELECT pg_sleep(2.6);
SELECT node_id, floor_ms = 9000 + 2000 AS floor_is_mark
  FROM idgen.lease_node_id('n-c', 'ic', 1023);
-- bad input
BEGIN;
SELECT idgen.lease_node_id('n-a', 'ia', 1023);
ROLLBACK;
SELECT idgen.lease_node_id('', 'i', 1023);
SELECT idgen.lease_node_id(repeat('n', 64), 'i', 1023);
SELECT idgen.lease_node_id('n', '', 1023);
SELECT idgen.lease_node_id('n', 'i', -1);
SELECT idgen.lease_node_id('n', 'i', 1023, 1024);
SELECT idgen.lease_node_id('n', 'i', 1023, -2);
SELECT idgen.lease_node_id('n', 'i', 1023, -1, false, -1);
SELECT idgen.lease_node_id('n', 'i', 1023, -1, false, 9223372036854775807);
SELECT idgen.lease_node_id(NULL, 'i', 1023) IS NULL AS strict;
-- a role needs EXECUTE, and only the node names that are its own; it cannot
-- read or write the registry
SET ROLE regress_node;
SELECT idgen.lease_node_id('regress-1', 'ir', 1023);
SET ROLE regress_admin;
GRANT EXECUTE ON FUNCTION idgen.lease_node_id TO regress_node;
SET ROLE regress_node;
SELECT node_id >= 0 AS leased FROM idgen.lease_node_id('regress-1', 'ir', 1023);
SELECT idgen.lease_node_id('n-a', 'ia', 1023, 0, false, 0);
SELECT * FROM idgen.node_ids;
UPDATE idgen.node_ids SET leased_until = now();
-- this server's own node id, from the setting
SELECT * FROM idgen.snowflake_node;
SET ROLE regress_admin;
REVOKE EXECUTE ON FUNCTION idgen.lease_node_id FROM regress_node;
RESET idgen.snowflake_node_id_lease;

-- on a copy of a node: give up the grants, under a new name only
SELECT idgen.become_new_node();
SET ROLE regress_node;
SELECT idgen.become_new_node();
SET ROLE regress_admin;

-- the ledger, the registry, the keys and the leases are kept by pg_dump
SELECT array_agg(c::regclass ORDER BY c::regclass::text) AS dumped
  FROM pg_extension, unnest(extconfig) c WHERE extname = 'idgen';

DROP TABLE held;
REVOKE ALL ON SEQUENCE idgen_seq.orders FROM regress_node;
RESET ROLE;
DROP ROLE regress_node;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
DROP ROLE regress_admin;
