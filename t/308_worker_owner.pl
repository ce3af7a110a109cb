# Many servers: the runway worker runs as the bootstrap superuser in
# idgen.node_database, whose owner may be an ordinary role.  That owner
# cannot make the worker run code of theirs: not with an operator of their
# own ahead of pg_catalog in the database's search_path, and not with a
# schema idgen of their own (tables or views named like the extension's)
# in a database where the extension is not installed.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IdgenServers;

my $root = idgen_root(
	'root',
	conf => 'idgen.grant_grace = 0',
	db => 'postgres',
	tags => [ orders => '' ]);

my $node = idgen_node(
	'node', $root,
	root_db => 'postgres',
	node_name => undef,
	conf => "idgen.node_database = 'app'");

# the database owner, an ordinary role, and the extension installed by a
# superuser in its database
$node->safe_psql(
	'postgres', q{
	CREATE ROLE mallory LOGIN;
	CREATE DATABASE app OWNER mallory;
	CREATE DATABASE app2 OWNER mallory;
});
$node->safe_psql('app',
	node_sql(extra => "\tGRANT CREATE ON SCHEMA public TO mallory;\n"));

# an operator that makes its caller's role superuser, if the caller may
my $trap = q{
	CREATE FUNCTION evil.eq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN
		BEGIN
			ALTER ROLE mallory SUPERUSER;
		EXCEPTION WHEN insufficient_privilege THEN NULL;
		END;
		RETURN a OPERATOR(pg_catalog.=) b;
	END $$;
	CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.eq);
};
$node->safe_psql('app', "CREATE SCHEMA evil; $trap ALTER DATABASE app SET search_path = evil, pg_catalog;",
	extra_params => [ '-U', 'mallory' ]);

# restart_unescalated DB, STARTED, WHY, WHAT: restart the node, wait until
# STARTED holds in database DB (or die saying WHY), give the worker three
# seconds more, and check that mallory is still no superuser (check WHAT)
sub restart_unescalated
{
	my ($db, $started, $why, $what) = @_;
	$node->restart;
	$node->poll_query_until($db, $started) or die $why;
	$node->safe_psql('postgres', 'SELECT pg_sleep(3)');
	is( $node->safe_psql(
			'postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"),
		'f', $what);
	return;
}

# the worker's next start takes the database's settings
# (the test's own queries in app must not use the owner's operators)
restart_unescalated('app',
	"SELECT grants_held >= 1 AND state OPERATOR(pg_catalog.=) 'leasing' FROM idgen.runway WHERE tag OPERATOR(pg_catalog.=) 'orders'",
	'the worker did not serve app',
	"the database owner's operator does not run as the worker");

# a database without the extension, where its owner made a schema idgen of
# its own: the worker takes none of its relations for the extension's
$node->safe_psql(
	'app2', qq{
	CREATE SCHEMA evil;
	$trap
	CREATE SCHEMA idgen;
	CREATE FUNCTION idgen.source() RETURNS text LANGUAGE plpgsql AS \$\$
	BEGIN
		BEGIN
			ALTER ROLE mallory SUPERUSER;
		EXCEPTION WHEN insufficient_privilege THEN NULL;
		END;
		RETURN 'root';
	END \$\$;
	CREATE VIEW idgen.tags AS
		SELECT 'orders'::text AS tag, idgen.source() AS source, 'segment'::text AS kind;
	CREATE TABLE idgen.leases (tag text, range int8range);
}, extra_params => [ '-U', 'mallory' ]);
$node->append_conf('postgresql.conf', "idgen.node_database = 'app2'");
restart_unescalated('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'idgen runway worker' AND datname = 'app2'",
	'the worker did not connect to app2',
	"a schema idgen of the database owner's is not taken for the extension's");

$node->stop;
$root->stop;
done_testing();
