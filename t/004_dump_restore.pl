# pg_dump / pg_restore into a new database keeps the tags and continues
# above every ID issued in the old one.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE DATABASE old;
	CREATE DATABASE new;
});
$node->safe_psql(
	'old', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('orders', region => 1000, chunk_max => 50);
	SELECT idgen.create_tag('we"ird tag', start => 5000, reclaim => false);
	CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'),
						 db text DEFAULT current_database());
	INSERT INTO orders SELECT FROM generate_series(1, 1234);
	SELECT next_id('we"ird tag');
});

my $dump = $node->basedir . '/old.dump';
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('old') ],
	'pg_dump');
$node->command_ok(
	[ 'pg_restore', '-d', $node->connstr('new'), $dump ],
	'pg_restore');

is( $node->safe_psql(
		'new', 'SELECT tag, kind, region, chunk_max, reclaim FROM idgen.tags ORDER BY tag'),
	"orders|segment|1000|50|t\nwe\"ird tag|segment|100000|10000|f",
	'the tags came back');

$node->safe_psql('new', 'INSERT INTO orders SELECT FROM generate_series(1, 100)');
is( $node->safe_psql(
		'new', q{
	SELECT min(id) FILTER (WHERE db = 'new') > max(id) FILTER (WHERE db = 'old'),
		   count(*) = count(DISTINCT id)
	  FROM orders}),
	't|t',
	'new IDs are above the old ones');
cmp_ok($node->safe_psql('new', q{SELECT next_id('we"ird tag')}),
	'>', 5000, 'the quoted tag continues too');

$node->stop;
done_testing();
