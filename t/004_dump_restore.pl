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
	-- tables converted by idgen.convert_column: a bigserial and an identity
	CREATE TABLE legacy (id bigserial PRIMARY KEY, db text DEFAULT current_database());
	INSERT INTO legacy (db) SELECT 'old' FROM generate_series(1, 500);
	SELECT idgen.convert_column('legacy', 'id');
	INSERT INTO legacy (db) SELECT 'old' FROM generate_series(1, 20);
	CREATE TABLE "Legacy id" ("the id" int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
							  db text DEFAULT current_database());
	INSERT INTO "Legacy id" (db) SELECT 'old' FROM generate_series(1, 300);
	SELECT idgen.convert_column('"Legacy id"', 'the id', tag => 'legacy"id');
	INSERT INTO "Legacy id" (db) SELECT 'old' FROM generate_series(1, 30);
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
	"legacy|segment|100000|10000|t\nlegacy\"id|segment|100000|10000|t\norders|segment|1000|50|t\nwe\"ird tag|segment|100000|10000|f",
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

# converted columns keep their next_id defaults and continue above the old
# IDs, the serial's and the tag's alike
is( $node->safe_psql(
		'new', q{
	SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef
	 WHERE adrelid IN ('legacy'::regclass, '"Legacy id"'::regclass) ORDER BY adrelid::regclass::text DESC, adnum}),
	"next_id('legacy'::text)\ncurrent_database()\nnext_id('legacy\"id'::text)\ncurrent_database()",
	'converted columns keep their next_id defaults');
$node->safe_psql(
	'new', q{
	INSERT INTO legacy (db) SELECT 'new' FROM generate_series(1, 100);
	INSERT INTO "Legacy id" (db) SELECT 'new' FROM generate_series(1, 100);
});
is( $node->safe_psql(
		'new', q{
	SELECT min(id) FILTER (WHERE db = 'new') > max(id) FILTER (WHERE db = 'old'),
		   count(*) = count(DISTINCT id), count(*)
	  FROM legacy}),
	't|t|620',
	'a converted bigserial continues above its old IDs after restore');
is( $node->safe_psql(
		'new', q{
	SELECT min("the id") FILTER (WHERE db = 'new') > max("the id") FILTER (WHERE db = 'old'),
		   count(*) = count(DISTINCT "the id"), count(*)
	  FROM "Legacy id"}),
	't|t|430',
	'a converted identity continues above its old IDs after restore');
# and can go back to a sequence above every ID the tag gave out
$node->safe_psql('new', q{SELECT idgen.revert_column('legacy', 'id')});
is( $node->safe_psql(
		'new', q{
	INSERT INTO legacy (db) VALUES ('reverted') RETURNING id > (SELECT max(id) FROM legacy)}),
	't', 'reverted after restore: above every ID');

$node->stop;
done_testing();
