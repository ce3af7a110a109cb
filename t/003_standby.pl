# A hot standby refuses next_id as it refuses nextval; promoted, a
# synchronous standby continues above every ID the primary issued.
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
	CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'),
						 node text);
});
$primary->backup('bk');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$standby->start;

# make replication synchronous: claims wait for the standby
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
$primary->wait_for_catchup($standby);

my ($ret, $stdout, $stderr) =
  $standby->psql('postgres', "SELECT next_id('orders')");
isnt($ret, 0, 'next_id fails on a hot standby');
like(
	$stderr,
	qr/cannot execute next_id\(\) in a read-only transaction/,
	'as nextval does');

$primary->stop('immediate');
$standby->promote;
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

$standby->stop;
done_testing();
