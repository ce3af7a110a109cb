# idgen.watermark() and prepared transactions this server did not prepare
# itself: those prepared on the primary and promoted with a standby, and
# those that survived an immediate shutdown followed by a restart with the
# clock ten minutes back.  Their floors are unknown, so they hold every
# ordered tag of their database until they are committed or rolled back,
# whatever the timestamps say.  Also: with prepared transactions disabled,
# PREPARE TRANSACTION after drawing from an ordered tag gets PostgreSQL's
# own error.
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

my $primary = PostgreSQL::Test::Cluster->new('wm_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'idgen'
max_prepared_transactions = 5
});
$primary->start;
$primary->safe_psql(
	'postgres', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('ev', ordered => true);
	CREATE TABLE ev (id bigint PRIMARY KEY DEFAULT next_id('ev'));
	INSERT INTO ev SELECT FROM generate_series(1, 3);
});
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('wm_standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;

# prepared on the primary after the standby's postmaster started
my $prepared = $primary->safe_psql(
	'postgres', q{
	BEGIN;
	INSERT INTO ev DEFAULT VALUES RETURNING id;
	PREPARE TRANSACTION 'after_standby_start';
});
$primary->safe_psql('postgres', 'INSERT INTO ev SELECT FROM generate_series(1, 5)');
cmp_ok($primary->safe_psql('postgres', "SELECT idgen.watermark('ev')"),
	'<', $prepared, 'on the primary, the prepared transaction holds the watermark');
$primary->wait_for_catchup($standby);
$primary->stop('immediate');
$standby->promote;

my $node = $standby;
cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('ev')"),
	'<', $prepared,
	'after a promotion, a transaction prepared on the old primary holds the watermark');
is( $node->safe_psql(
		'postgres',
		'SELECT tag, lowest_id IS NULL, gid FROM idgen.watermark_holders'),
	'ev|t|after_standby_start',
	'idgen.watermark_holders shows it, its lowest ID unknown');
$node->safe_psql('postgres', "COMMIT PREPARED 'after_standby_start'");
cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('ev')"),
	'>=', $node->safe_psql('postgres', 'SELECT max(id) FROM ev'),
	'once it is committed, the watermark passes every row');

# an immediate shutdown, then a start with the clock ten minutes back: the
# transaction was prepared "after" the new start time
SKIP:
{
	skip 'libfaketime is not installed (set FAKETIME_LIB to its path)', 4
	  unless $faketime_lib;

	$prepared = $node->safe_psql(
		'postgres', q{
		BEGIN;
		INSERT INTO ev DEFAULT VALUES RETURNING id;
		PREPARE TRANSACTION 'before_clock_back';
	});
	$node->safe_psql('postgres', 'INSERT INTO ev SELECT FROM generate_series(1, 5)');
	$node->stop('immediate');
	{
		local $ENV{LD_PRELOAD} = $faketime_lib;
		local $ENV{FAKETIME} = '-10m';
		local $ENV{FAKETIME_DONT_FAKE_MONOTONIC} = '1';
		$node->start;
	}
	is( $node->safe_psql(
			'postgres',
			"SELECT prepared > pg_postmaster_start_time() FROM pg_prepared_xacts"),
		't',
		'the server started with its clock before the PREPARE');
	cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('ev')"),
		'<', $prepared,
		'after a restart with the clock back, the prepared transaction holds the watermark');
	cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('ev')"),
		'<', $prepared, 'and at the next call');
	$node->safe_psql('postgres', "ROLLBACK PREPARED 'before_clock_back'");
	cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('ev')"),
		'>=', $node->safe_psql('postgres', 'SELECT max(id) FROM ev'),
		'once it is rolled back, the watermark passes every row');
	$node->stop;
	$node->start;
}

# prepared transactions disabled: PostgreSQL's own error, not idgen's
$node->append_conf('postgresql.conf', 'max_prepared_transactions = 0');
$node->restart;
my ($ret, $stdout, $stderr) = $node->psql(
	'postgres', q{
	\set VERBOSITY verbose
	BEGIN;
	INSERT INTO ev DEFAULT VALUES;
	PREPARE TRANSACTION 'disabled';
});
like(
	$stderr,
	qr/ERROR:  55000: prepared transactions are disabled/,
	'with max_prepared_transactions = 0, PREPARE gets PostgreSQL\'s error');
is($node->safe_psql('postgres', 'SELECT count(*) FROM idgen.watermark_holders'),
	'0', 'and nothing holds the watermark');

$node->stop;
done_testing();
