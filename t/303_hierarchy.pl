# Many servers, three levels: root -> regional -> node.  The regional holds
# grants of the root and serves grants to the node below it from them,
# with the same protocol; the node's IDs lie in the regional's grants,
# which lie in the root's.  With the regional stopped, the node goes on
# inserting from its runway.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IdgenServers;

# server NAME ABOVE TAG_OPTIONS: a server running idgen with database ids,
# leasing from ABOVE (if any), serving tag orders (created with the
# arguments TAG_OPTIONS) to role idgen_node
sub server
{
	my ($name, $above, $tag_options) = @_;
	my $node = idgen_server(
		$name,
		start => 0,
		conf => qq{idgen.grant_grace = 2
idgen.node_name = '$name'
idgen.node_database = 'ids'
});
	$node->append_conf('postgresql.conf', root_setting($above)) if $above;
	$node->start;
	serve_tags(
		$node,
		tags => [ orders => $tag_options ],
		extra => q{
		CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'),
							 phase text NOT NULL);
});
	wait_grants($node, 2, db => 'ids') if $above;
	return $node;
}

my $root = server('root', undef, '');
my $regional =
  server('regional', $root, "source => 'root', grant_size => 20000");
my $node = server('node', $regional, "source => 'root', region => 1000");

for my $s ($root, $regional, $node)
{
	$s->safe_psql('ids',
		"INSERT INTO orders (phase) SELECT 'up' FROM generate_series(1, 3000)");
}

$regional->stop('immediate');
$node->safe_psql('ids',
	"INSERT INTO orders (phase) SELECT 'regional down' FROM generate_series(1, 10000)"
);
pass('the node goes on inserting with the regional down');
$regional->start;
$regional->safe_psql('ids',
	"INSERT INTO orders (phase) SELECT 'restarted' FROM generate_series(1, 3000)");

# every ID of each tier within the grants of the tier above, none twice
my %owner;
my $dups = 0;
for my $s ($root, $regional, $node)
{
	for my $id (ids($s, 'ids'))
	{
		$dups++ if exists $owner{$id};
		$owner{$id} = $s->name;
	}
}
is($dups, 0, 'no ID issued twice across the three tiers');
is(scalar(keys %owner), 22000, 'every insert committed');

# within SERVER LEDGER NODE: the IDs SERVER issued, outside LEDGER's grants
# to NODE
sub outside
{
	my ($server, $ledger, $name) = @_;
	my @grants = map { [ split /\|/ ] } split /\n/,
	  $ledger->safe_psql('ids',
		"SELECT lower(range), upper(range) FROM idgen.grants WHERE node = '$name'"
	  );
	my $n = 0;
	for my $id (grep { $owner{$_} eq $name } keys %owner)
	{
		$n++ unless grep { $id >= $_->[0] && $id < $_->[1] } @grants;
	}
	return ($n, scalar @grants);
}
my ($n, $grants) = outside($node, $regional, 'node');
ok($grants > 0, "the regional leased $grants grants to the node");
is($n, 0, "the node's IDs lie in the regional's grants to it");
($n, $grants) = outside($regional, $root, 'regional');
is($n, 0, "the regional's IDs lie in the root's grants to it");
is( $regional->safe_psql(
		'ids', q{
	SELECT count(*) FROM idgen.grants g
	 WHERE NOT EXISTS (SELECT FROM idgen.leases l WHERE l.range @> g.range)}),
	0,
	"every grant the regional gave lies in one grant it holds");

$node->stop;
$regional->stop;
$root->stop;
done_testing();
