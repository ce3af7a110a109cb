# Many servers: two nodes as two primaries replicating orders to each other
# (bidirectional logical replication, origin = none, PostgreSQL 16 on),
# both inserting with IDs from grants of one root: both end with the same
# rows, and replication reports no conflict.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = PostgreSQL::Test::Cluster->new('root');
if ($root->pg_version < 16)
{
	plan skip_all =>
	  'bidirectional logical replication (origin = none) needs PostgreSQL 16; on 15 it needs pglogical, for which this test has no variant';
}
$root->init;
$root->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$root->start;
$root->safe_psql(
	'postgres', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('orders');
	CREATE ROLE idgen_node LOGIN;
	GRANT USAGE ON SEQUENCE idgen_seq.orders TO idgen_node;
});

my @nodes;
for my $name ('eu-1', 'us-1')
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	my $conninfo = $root->connstr('postgres') . ' user=idgen_node';
	$conninfo =~ s/'/''/g;
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'idgen'
idgen.root = '$conninfo'
idgen.node_name = '$name'
});
	$node->start;
	$node->safe_psql(
		'postgres', q{
		CREATE EXTENSION idgen;
		SELECT idgen.create_tag('orders', source => 'root');
		CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'),
							 node text NOT NULL, n integer NOT NULL);
		CREATE PUBLICATION orders_pub FOR TABLE orders;
	});
	$node->poll_query_until('postgres',
		"SELECT grants_held >= 1 FROM idgen.runway WHERE tag = 'orders'")
	  or die "$name leased no grant";
	push @nodes, $node;
}
my ($a, $b) = @nodes;

# each subscribes to the other's changes made there, not to its own coming back
for my $pair ([ $a, $b, 'from_us' ], [ $b, $a, 'from_eu' ])
{
	my ($sub, $pub, $name) = @$pair;
	my $conn = $pub->connstr('postgres');
	$conn =~ s/'/''/g;
	$sub->safe_psql('postgres',
		"CREATE SUBSCRIPTION $name CONNECTION '$conn' PUBLICATION orders_pub WITH (origin = none, copy_data = false)"
	);
}
$a->wait_for_subscription_sync($b, 'from_us');
$b->wait_for_subscription_sync($a, 'from_eu');

# both insert at the same time
my @h;
for my $node ($a, $b)
{
	my $name = $node->name;
	push @h,
	  $node->background_psql('postgres', on_error_stop => 1);
	$h[-1]->query_until(qr/started/, qq{
		\\echo started
		INSERT INTO orders (node, n) SELECT '$name', i FROM generate_series(1, 5000) i;
	});
}
for my $node ($a, $b)
{
	my $name = $node->name;
	$node->safe_psql('postgres',
		"INSERT INTO orders (node, n) SELECT '$name', -i FROM generate_series(1, 2000) i"
	);
}
$_->quit for @h;

$b->wait_for_catchup('from_us');
$a->wait_for_catchup('from_eu');

my $rows = 'SELECT count(*), md5(string_agg(id || node || n, \',\' ORDER BY id)) FROM orders';
is($a->safe_psql('postgres', $rows), $b->safe_psql('postgres', $rows),
	'both nodes end with the same rows');
is($a->safe_psql('postgres', 'SELECT count(*) FROM orders'),
	14000, 'every insert of both nodes is there');
for my $node ($a, $b)
{
	is( $node->safe_psql(
			'postgres',
			'SELECT coalesce(sum(apply_error_count + sync_error_count), 0) FROM pg_stat_subscription_stats'
		),
		0,
		'replication reports no conflict on ' . $node->name);
	unlike(slurp_file($node->logfile), qr/duplicate key|conflict/,
		'and logs none on ' . $node->name);
}

$a->stop;
$b->stop;
$root->stop;
done_testing();
