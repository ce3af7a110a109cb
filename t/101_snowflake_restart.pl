# snowflake_id() across restarts: every new ID is greater than every ID
# issued before, after a clean restart, an immediate shutdown, and a
# restart with the system clock one hour back (libfaketime).  Also: real
# concurrency (pgbench), and the clock-ahead error.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# libfaketime, wherever the distribution put it (FAKETIME_LIB overrides)
my ($faketime_lib) = grep { -e }
  ($ENV{FAKETIME_LIB} // (), glob('/usr/lib/*/faketime/libfaketime.so.1'),
	'/usr/lib/faketime/libfaketime.so.1',
	'/usr/local/lib/faketime/libfaketime.so.1');

my $node = PostgreSQL::Test::Cluster->new('snowflake_restart');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION idgen;
	CREATE TABLE ids (n bigserial, id bigint PRIMARY KEY, pid int DEFAULT pg_backend_pid());
});

# draw IDs; returns (smallest, largest) of the batch
sub draw
{
	my ($count) = @_;
	my $out = $node->safe_psql('postgres', qq{
		WITH d AS (INSERT INTO ids (id) SELECT snowflake_id() FROM generate_series(1, $count) RETURNING id)
		SELECT min(id) || ' ' || max(id) FROM d;
	});
	return split / /, $out;
}

# 8 sessions at once: every ID unique (primary key), each session's
# increasing
$node->pgbench(
	'--no-vacuum --client=8 --jobs=2 --transactions=500',
	0,
	[qr{actually processed: 4000/4000}],
	[qr{^$}],
	'concurrent snowflake_id() calls',
	{ 'snowflake_insert' => 'INSERT INTO ids (id) SELECT snowflake_id() FROM generate_series(1, 10);' });
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM (SELECT id <= lag(id) OVER (PARTITION BY pid ORDER BY n) AS bad FROM ids) s
		 WHERE bad}),
	'0',
	'each session\'s IDs increase');
is($node->safe_psql('postgres', 'SELECT count(DISTINCT id) FROM ids'),
	'40000', 'all concurrent IDs are distinct');

# clean restart
my (undef, $max) = draw(1000);
$node->restart;
my ($min) = draw(1000);
cmp_ok($min, '>', $max, 'after a clean restart, new IDs exceed old ones');

# immediate shutdown (no shutdown checkpoint: the lease comes from WAL)
(undef, $max) = draw(100000);
$node->stop('immediate');
$node->start;
($min) = draw(1000);
cmp_ok($min, '>', $max, 'after an immediate shutdown, new IDs exceed old ones');

# restart with the clock one hour back, and what follows from it
my ($ret, $stdout, $stderr);
SKIP:
{
	skip 'libfaketime is not installed (set FAKETIME_LIB to its path)', 7
	  unless $faketime_lib;

	(undef, $max) = draw(1000);
	$node->stop('immediate');
	my $log_offset = -s $node->logfile;
	{
		local $ENV{LD_PRELOAD} = $faketime_lib;
		local $ENV{FAKETIME} = '-1h';
		local $ENV{FAKETIME_DONT_FAKE_MONOTONIC} = '1';
		$node->start;
	}
	cmp_ok(
		$node->safe_psql('postgres', 'SELECT extract(epoch FROM now())'),
		'<',
		time() - 3000,
		'the server runs with its clock an hour back');
	($min) = draw(1000);
	cmp_ok($min, '>', $max,
		'after a restart with the clock an hour back, new IDs exceed old ones');
	like(
		slurp_file($node->logfile, $log_offset),
		qr/WARNING:  system clock went back by at least \d+ ms/,
		'the clock going back is logged');

	# the logical time now leads the clock by an hour; with no lead allowed
	# past the resumption point, a burst borrows ticks until it fails
	$node->append_conf('postgresql.conf', 'idgen.snowflake_max_clock_ahead = 0');
	$node->reload;
	$node->poll_query_until('postgres',
		"SELECT current_setting('idgen.snowflake_max_clock_ahead') = '0'")
	  or die 'timed out waiting for the reload';
	($ret, $stdout, $stderr) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT count(snowflake_id()) FROM generate_series(1, 100000)");
	isnt($ret, 0, 'a burst past idgen.snowflake_max_clock_ahead fails');
	like(
		$stderr,
		qr/ERROR:  55000: could not generate a snowflake ID: logical time is \d+ ms ahead of the system clock/,
		'the clock-ahead error names the lead, with SQLSTATE 55000');
	like($stderr, qr/HINT:  The system clock went back, or IDs were requested faster/,
		'the clock-ahead error has a hint');
	$node->append_conf('postgresql.conf', 'idgen.snowflake_max_clock_ahead = 1s');
	$node->reload;
	$node->poll_query_until('postgres',
		"SELECT current_setting('idgen.snowflake_max_clock_ahead') = '1s'")
	  or die 'timed out waiting for the reload';
	($min) = draw(1000);
	cmp_ok($min, '>', $max,
		'with the lead allowed again, IDs come, and still increase');
}

# without its lease sequence, snowflake_id() cannot resume after a restart
$node->safe_psql('postgres', q{
	ALTER EXTENSION idgen DROP SEQUENCE idgen.snowflake_lease_end;
	DROP SEQUENCE idgen.snowflake_lease_end;
});
$node->restart;
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT snowflake_id()');
like(
	$stderr,
	qr/ERROR:  snowflake IDs are not available: extension idgen is not installed in database "postgres"\n.*HINT:  Create the extension idgen in database "postgres"/s,
	'a missing lease sequence is reported, with the fix');

$node->stop;
done_testing();
