-- What is idgen's own is not the user's API: schema idgen holds only the
-- functions users call, no role can call an internal one, and everything
-- that uses them still works for every role.
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

-- what \df idgen.* lists
SELECT p.oid::regprocedure AS api FROM pg_proc p
 WHERE p.pronamespace = 'idgen'::regnamespace ORDER BY p.oid::regprocedure::text;
-- the internal ones, in a schema no role but its owner may use
SELECT p.oid::regprocedure AS internal FROM pg_proc p
 WHERE p.pronamespace = 'idgen_internal'::regnamespace ORDER BY p.oid::regprocedure::text;

CREATE ROLE regress_nobody;
SELECT has_schema_privilege('regress_nobody', 'idgen_internal', 'USAGE') AS nobody_may_use;
SET ROLE regress_nobody;
SELECT idgen_internal.tag_visible(0);
SELECT idgen_internal.adopt('convert', 'pg_class', 'oid', NULL, 'next_id', true, false, true, NULL, NULL);
-- the helpers of 1.0 and of convert_column are gone from schema idgen
SELECT idgen.check_tag_name('t');
SELECT idgen.tag_visible(0);
SELECT idgen.adopt_column('pg_class', 'oid', 'x');
SELECT idgen.adopt_grantees('pg_class', 'oid', NULL);
SELECT idgen.adopt_owned_sequence('pg_class', 1::smallint);
SELECT idgen.adopt_generator(0);
RESET ROLE;

-- the views that call idgen_internal.tag_visible() work for every role,
-- and show it the tags it may use
SELECT idgen.create_tag('internal_seen'), idgen.create_tag('internal_hidden'),
       idgen.create_tag('internal_hybrid', kind => 'hybrid');
GRANT USAGE ON SEQUENCE idgen_seq.internal_seen, idgen_seq.internal_hybrid TO regress_nobody;
SET ROLE regress_nobody;
SELECT tag FROM idgen.stats ORDER BY 1;
SELECT tag FROM idgen.hybrid_stats ORDER BY 1;
SELECT tag, source FROM idgen.runway ORDER BY 1;
RESET ROLE;

-- a role that may only administer tags creates, alters and drops them,
-- and gets the errors bad names get
CREATE ROLE regress_tag_admin;
GRANT INSERT, UPDATE, DELETE ON idgen.tags TO regress_tag_admin;
GRANT CREATE ON SCHEMA idgen_seq TO regress_tag_admin;
SET ROLE regress_tag_admin;
SELECT idgen.create_tag('internal_own');
SELECT idgen.alter_tag('internal_own', reclaim => false);
SELECT reclaim FROM idgen.tags WHERE tag = 'internal_own';
SELECT idgen.drop_tag('internal_own');
SELECT idgen.create_tag(NULL);
SELECT idgen.create_tag('');
SELECT idgen.create_tag(repeat('x', 64));
SELECT idgen.alter_tag(NULL, reclaim => false);
SELECT idgen.alter_tag('', reclaim => false);
SELECT idgen.drop_tag(NULL);
SELECT idgen.drop_tag(repeat('x', 64));
SELECT idgen.drop_tag('', if_exists => true);
RESET ROLE;

-- the owner of a table, with no other privilege, converts its column and
-- reverts it
CREATE ROLE regress_table_owner;
CREATE TABLE internal_items (id bigserial PRIMARY KEY, v text);
INSERT INTO internal_items (v) VALUES ('a'), ('b');
ALTER TABLE internal_items OWNER TO regress_table_owner;
SET ROLE regress_table_owner;
SELECT idgen.convert_column('internal_items', 'id', generator => 'snowflake_id');
INSERT INTO internal_items (v) VALUES ('c');
SELECT count(*) FILTER (WHERE id > 2) AS snowflake_rows FROM internal_items;
SELECT idgen.revert_column('internal_items', 'id') > 2 AS reverted;
SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'internal_items'::regclass;
RESET ROLE;

DROP TABLE internal_items;
REVOKE ALL ON idgen.tags FROM regress_tag_admin;
REVOKE CREATE ON SCHEMA idgen_seq FROM regress_tag_admin;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
DROP ROLE regress_nobody, regress_tag_admin, regress_table_owner;
