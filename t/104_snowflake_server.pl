# snowflake_id() is one generator per server: two databases drawing at the
# same time never issue the same ID, and each session's IDs increase.  The
# lease lives in idgen.snowflake_database (here postgres), kept by a
# background worker: without the extension there, snowflake_id() fails
# with a clear error in every database.  After an immediate shutdown, and
# after the extension was dropped and created again there, every database
# continues above every ID issued before; in single-user mode the backend
# keeps the lease itself.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('snowflake_server');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$node->start;

for my $db ('db1', 'db2')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
		CREATE EXTENSION idgen;
		CREATE TABLE ids (n bigserial, id bigint PRIMARY KEY,
						  pid int DEFAULT pg_backend_pid());
	});
}

# the lease keeper's database lacks the extension
my ($ret, $stdout, $stderr) =
  $node->psql('db1', "\\set VERBOSITY verbose\nSELECT snowflake_id()");
isnt($ret, 0, 'without the extension in idgen.snowflake_database, snowflake_id() fails');
like(
	$stderr,
	qr/ERROR:  55000: snowflake IDs are not available: extension idgen is not installed in database "postgres"/,
	'the error names the database');
like($stderr, qr/HINT:  Create the extension idgen in database "postgres"/,
	'the error says what to do');

$node->safe_psql('postgres', 'CREATE EXTENSION idgen');
is($node->safe_psql('db1', 'SELECT snowflake_id() > 0'),
	't', 'once it is there, snowflake_id() works in another database');

# both databases at once, three sessions each
my $script = $node->basedir . '/insert.sql';
append_to_file($script,
	"INSERT INTO ids (id) SELECT snowflake_id() FROM generate_series(1, 10);\n");
my @runs;
for my $db ('db1', 'db2')
{
	my ($out, $err) = ('', '');
	push @runs,
	  [
		IPC::Run::start(
			[
				'pgbench', '-n', '-c', '3', '-j', '1', '-T', '4', '-f', $script,
				'-h', $node->host, '-p', $node->port, $db
			],
			'>', \$out, '2>', \$err),
		\$out, \$err
	  ];
}
for my $run (@runs)
{
	ok($run->[0]->finish, 'pgbench ran without errors')
	  or diag(${ $run->[2] });
}

# every ID of both databases, merged: none twice
my %seen;
my $dups = 0;
my $total = 0;
for my $db ('db1', 'db2')
{
	for my $id (split /\n/, $node->safe_psql($db, 'SELECT id FROM ids'))
	{
		$dups++ if $seen{$id}++;
		$total++;
	}
	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FILTER (WHERE id <= prev)
		  FROM (SELECT id, lag(id) OVER (PARTITION BY pid ORDER BY n) AS prev
				  FROM ids) s}),
		'0',
		"$db: the IDs of each session increase");
}
cmp_ok($total, '>', 1000, "$total IDs drawn in two databases at once");
is($dups, 0, 'no ID was issued in both databases');

# an immediate shutdown: every database resumes above every earlier ID
my $max = 0;
for my $db ('db1', 'db2')
{
	my $m = $node->safe_psql($db, 'SELECT max(id) FROM ids');
	$max = $m if $m > $max;
}
$node->stop('immediate');
$node->start;
cmp_ok(
	$node->safe_psql('db2',
		'SELECT min(snowflake_id()) FROM generate_series(1, 1000)'),
	'>', $max,
	'after an immediate shutdown, IDs of any database exceed every earlier one');

# the extension dropped and created again in the keeper's database: the
# lease is cut at the drop, so no ID is issued until it is durable in the
# new sequence, which covers every ID issued before
$max = $node->safe_psql('db1',
	'SELECT max(snowflake_id()) FROM generate_series(1, 1000)');
$node->safe_psql('postgres', 'DROP EXTENSION idgen');
($ret, $stdout, $stderr) = $node->psql('db1', 'SELECT snowflake_id()');
like(
	$stderr,
	qr/snowflake IDs are not available: extension idgen is not installed in database "postgres"/,
	'while the extension is missing in the keeper\'s database, snowflake_id() fails');
$node->safe_psql('postgres', 'CREATE EXTENSION idgen');
my $next = $node->safe_psql('db1', 'SELECT snowflake_id()');
cmp_ok($next, '>', $max, 'once it is back, IDs continue above the earlier ones');
is( $node->safe_psql(
		'postgres', qq{
		SELECT last_value >= extract(epoch FROM (idgen.snowflake_parse($next)).ts) * 1000
		  FROM idgen.snowflake_lease_end}),
	't',
	'and the new lease sequence covers them');

# single-user mode runs no lease keeper: a backend of the keeper's
# database keeps the lease itself, and other databases say why they cannot
$node->stop;
for my $case ([ 'postgres', qr/above = "t"/, 'works in the keeper\'s database' ],
	[ 'db1', qr/not available in single-user mode outside database "postgres"/,
		'fails elsewhere, saying why' ])
{
	my ($db, $expect, $what) = @$case;
	my ($out, $err) = ('', '');
	IPC::Run::run(
		[ 'postgres', '--single', '-D', $node->data_dir, $db ],
		'<', \"SELECT snowflake_id() > $next AS above\n",
		'>', \$out, '2>', \$err);
	like($out . $err, $expect, "in single-user mode, snowflake_id() $what");
}

done_testing();
