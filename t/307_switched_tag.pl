# Many servers: a tag that issued IDs from its own sequence switched to
# source root, in both orders.  Switched before any other node leased the
# tag, its first lease makes the root adopt the IDs it issued (the root's
# mark rises above them) and the other node's grants lie above.  Switched
# after another node leased the tag, its IDs may also lie in that node's
# grant: the root refuses the switched tag, which issues nothing more, and
# says why.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IdgenServers;

my $root = idgen_root(
	'root',
	conf => 'idgen.grant_grace = 2',
	tags => [ orders => 'grant_size => 1000', items => 'grant_size => 1000' ]);

# node NAME: a node that may lease from the root; no tag yet
sub node
{
	my ($name) = @_;
	return idgen_node(
		$name, $root,
		conf => 'idgen.runway = 0',
		sql => 'CREATE EXTENSION idgen');
}

# tag NODE TAG SOURCE: a tag of a node and its table
sub tag
{
	my ($node, $tag, $source) = @_;
	$node->safe_psql(
		'postgres', qq{
		SELECT idgen.create_tag('$tag', source => '$source', region => 100, chunk_max => 10);
		CREATE TABLE $tag (id bigint PRIMARY KEY DEFAULT next_id('$tag'),
						   phase text NOT NULL);
	});
}

# insert NODE TAG N PHASE: N rows; the psql result
sub insert
{
	my ($node, $tag, $n, $phase) = @_;
	return $node->psql('postgres',
		"INSERT INTO $tag (phase) SELECT '$phase' FROM generate_series(1, $n)");
}

my $n1 = node('n1');
my $n2 = node('n2');

# n1 issues IDs of both tags locally
tag($n1, $_, 'local') for qw(orders items);
insert($n1, $_, 300, 'local') for qw(orders items);

# items: n2 leases from the root before n1 switches
tag($n2, 'items', 'root');
is((insert($n2, 'items', 300, 'root'))[0], 0, 'n2 inserts items from the root');

# n1 switches both tags to the root
$n1->safe_psql('postgres', "SELECT idgen.alter_tag('orders', source => 'root')");
$n1->safe_psql('postgres', "SELECT idgen.alter_tag('items', source => 'root')");

# orders, switched first: adopted
is((insert($n1, 'orders', 300, 'switched'))[0], 0,
	'n1 inserts orders after the switch');
my $mark = $n1->safe_psql('postgres',
	"SELECT upper(range) - 1 FROM idgen.leases WHERE tag = 'orders' AND kind = 'local'");
cmp_ok($mark, '>=', 300, 'the switch recorded the IDs issued locally');
is( $root->safe_psql('ids',
		"SELECT range FROM idgen.grants WHERE tag = 'orders' AND kind = 'adopted'"),
	'[1,' . ($mark + 1) . ')',
	"the root adopts them");
tag($n2, 'orders', 'root');
is((insert($n2, 'orders', 300, 'root'))[0], 0, 'n2 inserts orders from the root');

# items, switched after n2 leased: refused
my ($ret, $stdout, $stderr) = insert($n1, 'items', 300, 'switched');
isnt($ret, 0, 'n1 issues no item after the switch');
like($stderr, qr/has no IDs left from the root server/, 'with the runway error');
like($stderr, qr/IDs 1 to \d+ of tag "items", issued on node "n1" before the tag took its IDs from this server, may have been issued here too/,
	'which says why');
is( $n1->safe_psql('postgres', "SELECT state FROM idgen.runway WHERE tag = 'items'"),
	'refused', 'the runway view shows the tag refused');

# duplicates NODE1 WHERE1 NODE2 WHERE2 TAG: IDs of a tag on both nodes
sub duplicates
{
	my ($x, $wx, $y, $wy, $tag) = @_;
	my %seen = map { $_ => 1 } split /\n/,
	  $x->safe_psql('postgres', "SELECT id FROM $tag WHERE $wx");
	return scalar grep { $seen{$_} } split /\n/,
	  $y->safe_psql('postgres', "SELECT id FROM $tag WHERE $wy");
}
is(duplicates($n1, 'true', $n2, 'true', 'orders'), 0,
	'no ID of orders is on both nodes');
# items: n1's local IDs and n2's grant overlapped before the switch, which
# is what the root refuses; n1 issued nothing after it
is(duplicates($n1, "phase = 'local'", $n2, 'true', 'items'), 300,
	'the items n1 issued before the switch lie in the grant of n2, as the root says');
is($n1->safe_psql('postgres', "SELECT count(*) FROM items WHERE phase = 'switched'"),
	0, 'n1 issued no item after the switch');
is($n1->safe_psql('postgres', 'SELECT count(*) FROM orders'), 600,
	'every order of n1 committed');

$n1->stop;
$n2->stop;
$root->stop;
done_testing();
