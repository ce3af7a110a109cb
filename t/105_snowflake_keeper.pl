# The snowflake lease keeper, a background worker running as the bootstrap
# superuser in idgen.snowflake_database, trusts nothing the database's
# owner (an ordinary role) can make: where the extension is missing, a
# schema idgen with a sequence snowflake_lease_end of that role's is not
# the lease; and with the extension there, a search_path set for the
# database redirects none of its queries.  It connects only while it
# works, so the database can be dropped (without FORCE, as pg_regress
# does) while the server runs and snowflake IDs are in use elsewhere.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('snowflake_keeper');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'idgen'
idgen.snowflake_database = 'leasedb'
});
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE ROLE dbowner LOGIN;
	CREATE DATABASE leasedb OWNER dbowner;
	CREATE EXTENSION idgen;
});

# the database's owner makes what the keeper looks for, without the extension
$node->safe_psql(
	'leasedb', q{
	SET ROLE dbowner;
	CREATE SCHEMA idgen;
	CREATE SEQUENCE idgen.snowflake_lease_end;
});
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT snowflake_id()');
like(
	$stderr,
	qr/snowflake IDs are not available: extension idgen is not installed in database "leasedb"/,
	'a lease sequence that is no member of the extension is not the lease');
is($node->safe_psql('leasedb',
		'SELECT last_value, is_called FROM idgen.snowflake_lease_end'),
	'1|f', 'the keeper left the owner\'s sequence alone');

# with the extension, under a hostile search_path: the owner's schema comes
# first, with functions and an operator named like those a careless query
# would find there
$node->safe_psql(
	'leasedb', q{
	DROP SCHEMA idgen CASCADE;
	CREATE EXTENSION idgen;
	ALTER DATABASE leasedb SET search_path = evil, pg_catalog;
	SET ROLE dbowner;
	CREATE SCHEMA evil;
	CREATE TABLE evil.calls (what text);
	CREATE FUNCTION evil.setval(regclass, bigint, boolean) RETURNS bigint
		LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('setval') RETURNING 0::bigint $$;
	CREATE FUNCTION evil.eq(bigint, bigint) RETURNS boolean
		LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('=') RETURNING $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq);
	GRANT USAGE ON SCHEMA evil TO PUBLIC;
	GRANT INSERT ON evil.calls TO PUBLIC;
});
my $first = $node->safe_psql('postgres', 'SELECT snowflake_id()');
cmp_ok($first, '>', 0, 'with the extension there, snowflake IDs come');
is($node->safe_psql('leasedb', 'SELECT count(*) FROM evil.calls'),
	'0', 'nothing of the owner\'s schema ran for the keeper');
cmp_ok($node->safe_psql('leasedb', 'SELECT last_value FROM idgen.snowflake_lease_end'),
	'>', 0, 'the lease is in the extension\'s sequence');

# the keeper has done its work and left: nothing holds the database
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 0 FROM pg_stat_activity
		 WHERE backend_type = 'idgen snowflake lease keeper'}),
	'the keeper is not connected while nobody needs the lease');

# snowflake IDs drawn in another database all along, while the keeper's
# database is dropped without FORCE
$node->safe_psql('postgres', 'CREATE TABLE sf (id bigint PRIMARY KEY)');
my $script = $node->basedir . '/draw.sql';
append_to_file($script, "INSERT INTO sf VALUES (snowflake_id());\n");
my ($out, $err) = ('', '');
my $load = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-j', '1', '-T', '5', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$out, '2>', \$err);
sleep(1);
($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE leasedb');
is($ret, 0, 'DROP DATABASE of the keeper\'s database works while IDs are drawn elsewhere')
  or diag($stderr);
$load->finish;

# without its database, snowflake_id() fails as soon as the lease runs out
$node->poll_query_until(
	'postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pgbench'})
  or die 'pgbench did not leave';
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT snowflake_id()');
like(
	$stderr,
	qr/snowflake IDs are not available: the lease keeper could not extend the lease/,
	'without the keeper\'s database, snowflake_id() fails, saying why');

# the database back, with the extension: IDs continue above the earlier ones
my $max = $node->safe_psql('postgres', 'SELECT max(id) FROM sf');
cmp_ok($max, '>', $first, 'IDs were drawn while the database was dropped');
$node->safe_psql('postgres', 'CREATE DATABASE leasedb OWNER dbowner');
$node->safe_psql('leasedb', 'CREATE EXTENSION idgen');
cmp_ok($node->safe_psql('postgres', 'SELECT snowflake_id()'),
	'>', $max, 'with the database back, IDs continue above the earlier ones');

$node->stop;
done_testing();
