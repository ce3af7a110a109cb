# Without shared_preload_libraries, CREATE EXTENSION works and every ID
# function fails with a clear error.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('not_preloaded');
$node->init;
$node->start;

is($node->psql('postgres', 'CREATE EXTENSION idgen'), 0,
	'CREATE EXTENSION works without preloading');
is($node->psql('postgres', "SELECT idgen.create_tag('t')"), 0,
	'tags can be created without preloading');

foreach my $call ("next_id('t')", "next_id_range('t', 5)",
	'* FROM idgen.stats', '* FROM idgen.backend_ranges')
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT $call");
	isnt($ret, 0, "SELECT $call fails");
	like(
		$stderr,
		qr/idgen must be loaded via "shared_preload_libraries"/,
		"SELECT $call names the missing preload");
	like($stderr, qr/HINT:  Add idgen to "shared_preload_libraries"/,
		"SELECT $call hints at the fix");
}

$node->stop;
done_testing();
