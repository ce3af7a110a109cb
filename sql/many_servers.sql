-- Many servers, as one server sees them: leasing grants out of a tag (the
-- root side), tags of source root without a root (the node side), and the
-- errors of both.  The root, nodes and the runway worker run in TAP tests
-- (t/3*.pl).
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

-- root side: a grant is the next range of the tag, in the ledger
SELECT idgen.create_tag('orders', grant_size => 1000);
SELECT next_id('orders') AS local_first;
SELECT idgen.lease_grant('orders', 'eu-1') AS first_grant;
-- a node draining its grants fast gets larger ones (up to 64 times)
SELECT idgen.lease_grant('orders', 'eu-1', 2) AS doubled;
SELECT upper(g) - lower(g) AS at_most_64_times
  FROM idgen.lease_grant('orders', 'eu-1', 1e9) g;
SELECT idgen.lease_grant('orders', 'eu-1', -1);
SELECT idgen.lease_grant('orders', 'us-1') AS other_node;
SELECT tag, node, range, granted_to = current_user AS by_me
  FROM idgen.grants ORDER BY range;
-- the root's own IDs stay clear of every grant
SELECT count(*) AS inside_grants
  FROM (SELECT next_id('orders') AS id FROM generate_series(1, 200000)) s
  JOIN idgen.grants g ON g.range @> s.id;

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
SELECT idgen.lease_grant('tiny', 'eu-1') AS short_at_the_end;
SELECT idgen.lease_grant('tiny', 'eu-1');
-- a role may lease only what it may use, and cannot read the ledger
CREATE ROLE regress_node;
SET ROLE regress_node;
SELECT idgen.lease_grant('orders', 'eu-1');
SELECT count(*) FROM idgen.grants;
RESET ROLE;
GRANT USAGE ON SEQUENCE idgen_seq.orders TO regress_node;
SET ROLE regress_node;
SELECT lower(idgen.lease_grant('orders', 'eu-1')) > 0 AS leased;
INSERT INTO idgen.grants (tag, node, range) VALUES ('orders', 'x', '[1,2)');
RESET ROLE;

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
SELECT tag, source, grants_held, ids_left, root_reachable
  FROM idgen.runway ORDER BY tag;
-- a local tag may take grants from now on, never the other way round
SELECT idgen.alter_tag('orders', source => 'root');
SELECT idgen.alter_tag('orders', source => 'local');
SELECT idgen.alter_tag('fromroot', source => 'local');

-- a grant recorded by hand (as the runway worker records them): claims of
-- the node's tag take their regions from it, and from nothing else
INSERT INTO idgen.leases (tag, range) VALUES ('fromroot', '[500,600)');
SELECT min(id), max(id), count(*)
  FROM (SELECT next_id('fromroot') AS id FROM generate_series(1, 100)) s;
SELECT next_id('fromroot');
SELECT grants_held, ids_left FROM idgen.runway WHERE tag = 'fromroot';
-- dropping the tag forgets the grants held of it
SELECT idgen.drop_tag('fromroot');
SELECT count(*) AS leases_left FROM idgen.leases;

-- the ledger and the leases are kept by pg_dump
SELECT array_agg(c::regclass ORDER BY c::regclass::text) AS dumped
  FROM pg_extension, unnest(extconfig) c WHERE extname = 'idgen';

REVOKE ALL ON SEQUENCE idgen_seq.orders FROM regress_node;
DROP ROLE regress_node;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
