# Without shared_preload_libraries, CREATE EXTENSION works, tags can be
# managed, and every function that needs shared memory fails with a clear
# error; decoding a hybrid ID needs none and works.
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
is( $node->psql(
		'postgres',
		"SELECT idgen.create_tag('t'), idgen.create_tag('h', kind => 'hybrid')"),
	0,
	'tags can be created without preloading');

foreach my $call (
	"next_id('t')", "next_id_range('t', 5)",
	"hybrid_id('h')", 'snowflake_id()',
	'idgen.snowflake_parse(1)', "idgen.snowflake_min_id('2026-01-01')",
	'* FROM idgen.stats', '* FROM idgen.backend_ranges',
	'* FROM idgen.hybrid_stats')
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT $call");
	isnt($ret, 0, "SELECT $call fails");
	like(
		$stderr,
		qr/ERROR:  idgen must be loaded via "shared_preload_libraries"/,
		"SELECT $call names the missing preload");
	like($stderr, qr/HINT:  Add idgen to "shared_preload_libraries"/,
		"SELECT $call hints at the fix");
}

is( $node->safe_psql(
		'postgres', 'SELECT * FROM idgen.hybrid_parse((3::bigint << 32) | 65537)'),
	'3|1|1',
	'hybrid_parse works without preloading');

$node->stop;
done_testing();
