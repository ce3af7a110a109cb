# Real client stacks against an idgen-keyed table, each in its own idiom:
# psycopg 3, SQLAlchemy and Django (Python), node-postgres with a pool
# (Node.js), and JDBC (Java).  Each client asserts that its keys are
# distinct and stored as returned; this test checks the tables again from
# outside, and that converted tables continue above their old keys.
#
# make test installs the stacks (tools/common.sh, ensure_clients) and sets
# IDGEN_CLIENTS_REQUIRED=1, so a missing one fails; run by hand without it,
# a missing stack is skipped with the reason.  IDGEN_NODE_MODULES is the
# node_modules directory that holds pg.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $clients = abs_path(dirname(__FILE__)) . '/clients';
my $required = $ENV{IDGEN_CLIENTS_REQUIRED} // 0;
my $python = '/usr/bin/python3';
my $jdbc_jar = $ENV{IDGEN_JDBC_JAR} // '/usr/share/java/postgresql.jar';
my ($node_modules) = grep { -e "$_/pg/package.json" } (
	$ENV{IDGEN_NODE_MODULES} // (),
	'/var/cache/idgen-clients/node_modules',
	($ENV{HOME} // "/nonexistent") . "/.cache/idgen-clients/node_modules");

my $node = PostgreSQL::Test::Cluster->new('clients');
$node->init;
# JDBC needs TCP; every client uses it, on the loopback address only
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'idgen'\nlisten_addresses = '127.0.0.1'");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE clients');
$node->safe_psql('clients', 'CREATE EXTENSION idgen');
my $user = $node->safe_psql('postgres', 'SELECT current_user');

# available CMD...: whether a command runs and exits 0
sub available
{
	my ($out, $err) = ('', '');
	return eval { IPC::Run::run(\@_, '>', \$out, '2>', \$err) } ? 1 : 0;
}

# client NAME, MISSING, CMD, CHECK: run a client (CMD, an array) against
# the cluster, then CHECK, a sub that runs one test; MISSING says what is
# not installed (undef when all is): both are skipped then, or fail when
# the stacks are required
sub client
{
	my ($name, $missing, $cmd, $check) = @_;
  SKIP:
	{
		if (defined $missing)
		{
			skip "$name: $missing", 2 unless $required;
			fail("$name: $missing");
			fail("$name: not checked");
			return;
		}
		my ($out, $err) = ('', '');
		local $ENV{PGHOST} = '127.0.0.1';
		local $ENV{PGPORT} = $node->port;
		local $ENV{PGDATABASE} = 'clients';
		local $ENV{PGUSER} = $user;
		local $ENV{NODE_PATH} = $node_modules // '';
		local $ENV{PYTHONDONTWRITEBYTECODE} = 1;
		my $ok = eval { IPC::Run::run($cmd, '>', \$out, '2>', \$err) };
		chomp $out;
		ok($ok, "$name: " . ($ok ? $out : 'failed'))
		  or diag("$name:\n$out\n$err" . ($@ // ''));
	}
	$check->() unless defined $missing;
	return;
}

# table_ok TABLE, ROWS, NAME: every key of TABLE distinct, ROWS rows, and
# the rows added after the conversion (item not 'legacy') above the others
sub table_ok
{
	my ($table, $rows, $name) = @_;
	is( $node->safe_psql(
			'clients', qq{
		SELECT count(*), count(DISTINCT id),
			   coalesce(min(id) FILTER (WHERE item <> 'legacy')
						> max(id) FILTER (WHERE item = 'legacy'), true)
		  FROM $table}),
		"$rows|$rows|t",
		$name);
	return;
}

my $py_missing = sub {
	my $module = shift;
	return available($python, '-c', "import $module") ? undef
	  : "python3 module $module is not installed";
};

# psycopg 3: a bigserial table with rows, converted
$node->safe_psql(
	'clients', q{
	CREATE TABLE py_orders (id bigserial PRIMARY KEY, item text NOT NULL);
	INSERT INTO py_orders (item) SELECT 'legacy' FROM generate_series(1, 100);
	SELECT idgen.convert_column('py_orders', 'id');
});
client('psycopg 3', $py_missing->('psycopg'), [ $python, "$clients/psycopg_client.py" ],
	sub { table_ok('py_orders', 1301, 'psycopg 3: keys distinct and above the serial\'s') });

# SQLAlchemy: the ORM creates the table, the key a server_default
client('SQLAlchemy', $py_missing->('sqlalchemy') // $py_missing->('psycopg2'),
	[ $python, "$clients/sqlalchemy_client.py" ],
	sub { table_ok('sa_orders', 200, 'SQLAlchemy: keys distinct') });

# Django: its migrations create the table, convert it, and revert it
client('Django', $py_missing->('django') // $py_missing->('psycopg2'),
	[ $python, "$clients/django_client.py" ], sub {
is( $node->safe_psql(
		'clients', q{
	SELECT count(*), count(DISTINCT id),
		   pg_get_expr(d.adbin, d.adrelid)
	  FROM shop_order, pg_attrdef d
	 WHERE d.adrelid = 'shop_order'::regclass
	 GROUP BY 3}),
	"221|221|nextval('shop_order_id_seq'::regclass)",
	'Django: keys distinct, and migrated back to the sequence') });

# node-postgres: an identity table with rows, converted
$node->safe_psql(
	'clients', q{
	CREATE TABLE node_orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item text NOT NULL);
	INSERT INTO node_orders (item) SELECT 'legacy' FROM generate_series(1, 100);
	SELECT idgen.convert_column('node_orders', 'id');
});
client(
	'node-postgres',
	!available('node', '--version') ? 'node is not installed'
	: !defined $node_modules ? 'the npm package pg is not installed'
	: undef,
	[ 'node', "$clients/node_client.js" ],
	sub { table_ok('node_orders', 500, 'node-postgres: keys distinct and above the identity\'s') });

# JDBC: an identity (by default) table with rows, converted
$node->safe_psql(
	'clients', q{
	CREATE TABLE jdbc_orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, item text NOT NULL);
	INSERT INTO jdbc_orders (item) SELECT 'legacy' FROM generate_series(1, 100);
	SELECT idgen.convert_column('jdbc_orders', 'id');
});
client(
	'JDBC',
	!available('javac', '-version') ? 'a JDK (javac) is not installed'
	: !-e $jdbc_jar ? "$jdbc_jar is not installed"
	: undef,
	[ 'java', '-cp', $jdbc_jar, "$clients/JdbcClient.java" ],
	sub { table_ok('jdbc_orders', 300, 'JDBC: keys distinct and above the identity\'s') });

$node->stop;
done_testing();
