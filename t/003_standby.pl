# Every generator under streaming replication: a hot standby refuses to
# issue IDs, as it refuses nextval; after the primary fails, a synchronous
# standby promoted in its place continues above every ID the primary
# issued.  Replication is synchronous, so each claim and lease extension
# reaches the standby before IDs under it are handed out.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$primary->start;
$primary->safe_psql(
	'postgres', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('orders', region => 1000);
	SELECT idgen.create_tag('h', kind => 'hybrid');
	CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'),
						 node text);
	CREATE TABLE ids (id bigint PRIMARY KEY);
	INSERT INTO ids SELECT snowflake_id() FROM generate_series(1, 1000);
});
$primary->backup('bk');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;

# make replication synchronous: claims and leases wait for the standby
$primary->append_conf('postgresql.conf',
	"synchronous_standby_names = 'standby'");
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT sync_state = 'sync' FROM pg_stat_replication")
  or die "the standby did not become synchronous";

$primary->safe_psql('postgres',
	"INSERT INTO orders (node) SELECT 'primary' FROM generate_series(1, 2500)"
);
# IDs handed out on the primary but never committed anywhere
my $uncommitted = $primary->safe_psql('postgres',
	"SELECT max(next_id('orders')) FROM generate_series(1, 300)");
# snowflake IDs drawn after the standby started: the lease is extended for
# them, through the synchronous standby
$primary->safe_psql('postgres',
	"INSERT INTO ids SELECT snowflake_id() FROM generate_series(1, 100000)");
my $snowflake_max = $primary->safe_psql('postgres',
	'SELECT max(snowflake_id()) FROM generate_series(1, 1000)');
my $hybrid_max = $primary->safe_psql('postgres',
	"SELECT max(hybrid_id('h')) FROM generate_series(1, 1000)");
$primary->wait_for_catchup($standby);

foreach my $call ("next_id('orders')", 'snowflake_id()', "hybrid_id('h')")
{
	my ($ret, $stdout, $stderr) = $standby->psql('postgres', "SELECT $call");
	isnt($ret, 0, "$call fails on a hot standby");
	my $name = $call =~ s/\(.*//r;
	like(
		$stderr,
		qr/cannot execute \Q$name\E\(\) in a read-only transaction/,
		"$call fails as nextval does");
}

$primary->stop('immediate');
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for the promotion';
$standby->safe_psql('postgres',
	"INSERT INTO orders (node) SELECT 'standby' FROM generate_series(1, 500)"
);
my $res = $standby->safe_psql(
	'postgres', q{
	SELECT min(id) FILTER (WHERE node = 'standby') >
		   max(id) FILTER (WHERE node = 'primary'),
		   min(id) FILTER (WHERE node = 'standby'),
		   count(*) = count(DISTINCT id)
	  FROM orders});
my ($above, $min_new, $distinct) = split /\|/, $res;
is($above, 't', 'the promoted standby continues above the primary\'s IDs');
cmp_ok($min_new, '>', $uncommitted,
	'and above IDs the primary handed out without committing');
is($distinct, 't', 'all IDs distinct');

cmp_ok(
	$standby->safe_psql(
		'postgres', 'SELECT min(snowflake_id()) FROM generate_series(1, 1000)'),
	'>', $snowflake_max,
	'after promotion, snowflake IDs exceed every ID the old primary issued');
cmp_ok(
	$standby->safe_psql(
		'postgres', "SELECT min(hybrid_id('h')) FROM generate_series(1, 1000)"),
	'>', $hybrid_max,
	'after promotion, hybrid IDs exceed every ID the old primary issued');

$standby->stop;
done_testing();
