# idgen.max_tags counts the tags of every database of the server: each
# tag holds a slot from create_tag (or its first use after a restart) until
# it is dropped, by drop_tag, DROP EXTENSION or DROP DATABASE, and a
# rolled-back create_tag gives its slot back.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('slots');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'idgen'
idgen.max_tags = 3
});
$node->start;

for my $db ('db1', 'db2', 'db3')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION idgen');
}

# create_tag: the result, or the error's SQLSTATE and message
sub create_tag
{
	my ($db, $tag) = @_;
	my ($ret, $out, $err) = $node->psql($db,
		"\\set VERBOSITY verbose\nSELECT idgen.create_tag('$tag')");
	return $ret == 0 ? 'ok' : $err;
}

is(create_tag('db1', 'a'), 'ok', 'first tag of db1');
is(create_tag('db1', 'b'), 'ok', 'second tag of db1');
is(create_tag('db2', 'c'), 'ok', 'a tag of db2 takes the third slot');
like(
	create_tag('db2', 'd'),
	qr/53400: too many idgen tags in use.*All 3 tag slots set by "idgen.max_tags" are taken by tags of this server's databases/s,
	'a fourth tag in another database is refused at create_tag');
is($node->safe_psql('db1', "SELECT next_id('a')"),
	'1', 'the tags that have slots keep working');

$node->safe_psql('db1', "SELECT idgen.drop_tag('a')");
is(create_tag('db2', 'd'), 'ok', 'drop_tag freed a slot');

$node->safe_psql('db2', "SELECT idgen.drop_tag('d')");
$node->safe_psql('db2',
	"BEGIN; SELECT idgen.create_tag('rolled_back'); ROLLBACK;");
is(create_tag('db3', 'e'), 'ok',
	'a rolled-back create_tag gave its slot back');
like(create_tag('db3', 'f'),
	qr/too many idgen tags in use/, 'the server is full again');

$node->safe_psql('postgres', 'DROP DATABASE db2');
is(create_tag('db3', 'f'), 'ok', 'DROP DATABASE freed its tags\' slots');

$node->safe_psql('db3', 'SET client_min_messages = error; DROP EXTENSION idgen CASCADE');
is(create_tag('db1', 'g'), 'ok', 'DROP EXTENSION freed its tags\' slots');
is(create_tag('db1', 'h'), 'ok', 'both of them');
like(create_tag('db1', 'i'),
	qr/too many idgen tags in use/, 'and the limit still holds');

# a tag's sequence moved out of idgen_seq and dropped there frees the slot
# too, so that a later sequence with the same OID never finds it
$node->safe_psql(
	'db1', q{
	ALTER SEQUENCE idgen_seq.h SET SCHEMA public;
	DROP SEQUENCE public.h;
	SELECT idgen.drop_tag('h');
});
is(create_tag('db1', 'i'), 'ok', 'a sequence dropped elsewhere freed its slot');

# after a restart, tags get their slots back at first use
$node->restart;
is( $node->safe_psql(
		'db1', "SELECT next_id('b') > 0, next_id('g') > 0, next_id('i') > 0"),
	't|t|t',
	'tags of a restarted server take slots at first use');

$node->stop;
done_testing();
