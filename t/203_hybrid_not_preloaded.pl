# Without shared_preload_libraries, hybrid_id and idgen.hybrid_stats fail
# with the preload error; hybrid_parse needs no shared memory and works.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hybrid_not_preloaded');
$node->init;
$node->start;
$node->safe_psql('postgres',
	"CREATE EXTENSION idgen; SELECT idgen.create_tag('h', kind => 'hybrid')");

foreach my $call ("hybrid_id('h')", '* FROM idgen.hybrid_stats')
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT $call");
	isnt($ret, 0, "SELECT $call fails");
	like(
		$stderr,
		qr/idgen must be loaded via "shared_preload_libraries"/,
		"SELECT $call names the missing preload");
}

is( $node->safe_psql(
		'postgres', 'SELECT * FROM idgen.hybrid_parse((3::bigint << 32) | 65537)'),
	'3|1|1',
	'hybrid_parse works without preloading');

$node->stop;
done_testing();
