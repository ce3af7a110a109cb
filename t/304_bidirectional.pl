# Many servers: two nodes as two primaries replicating orders to each other
# (bidirectional logical replication: origin = none from PostgreSQL 16 on,
# pglogical with forward_origins = '{}' before), both inserting with IDs
# from grants of one root: both end with the same rows, and replication
# reports no conflict.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IdgenServers;

my $root = PostgreSQL::Test::Cluster->new('root');
my $native = $root->pg_version >= 16;
my $pglogical = !$native
  && -e $root->config_data('--sharedir') . '/extension/pglogical.control';
if (!$native && !$pglogical)
{
	plan skip_all =>
	  'bidirectional logical replication needs PostgreSQL 16 (origin = none), or pglogical (Debian: postgresql-15-pglogical), which is not installed';
}
init_idgen($root, conf => 'idgen.grant_grace = 2');
$root->start;
serve_tags($root, db => 'postgres', tags => [ orders => '' ]);

my @nodes;
for my $name ('eu-1', 'us-1')
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	my $preload = $native ? 'idgen' : 'idgen, pglogical';
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = '$preload'
idgen.node_name = '$name'
track_commit_timestamp = on
} . root_setting($root, db => 'postgres'));
	$node->start;
	$node->safe_psql('postgres',
		node_sql(table => 'node text NOT NULL, n integer NOT NULL'));
	if ($native)
	{
		$node->safe_psql('postgres',
			'CREATE PUBLICATION orders_pub FOR TABLE orders');
	}
	else
	{
		my $dsn = $node->connstr('postgres');
		$dsn =~ s/'/''/g;
		# where the server has output_plugin_libraries, logical slots may
		# use only the output plugins it lists: add pglogical's
		if ($node->safe_psql('postgres',
				"SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'"))
		{
			# a list: written in the configuration file, it is split
			# into its names (a quoted ALTER SYSTEM value would be one)
			$node->append_conf('postgresql.conf',
				"output_plugin_libraries = 'pgoutput, test_decoding, pglogical_output'"
			);
			$node->reload;
		}
		$node->safe_psql(
			'postgres', qq{
			CREATE EXTENSION pglogical;
			SELECT pglogical.create_node(node_name := '$name', dsn := '$dsn');
			SELECT pglogical.replication_set_add_table('default', 'orders');
		});
	}
	wait_grants($node, 1);
	push @nodes, $node;
}
my ($a, $b) = @nodes;

# each subscribes to the other's changes made there, not to its own coming back
for my $pair ([ $a, $b, 'from_us' ], [ $b, $a, 'from_eu' ])
{
	my ($sub, $pub, $name) = @$pair;
	my $conn = $pub->connstr('postgres');
	$conn =~ s/'/''/g;
	if ($native)
	{
		$sub->safe_psql('postgres',
			"CREATE SUBSCRIPTION $name CONNECTION '$conn' PUBLICATION orders_pub WITH (origin = none, copy_data = false)"
		);
		$sub->wait_for_subscription_sync($pub, $name);
		next;
	}
	$sub->safe_psql('postgres',
		"SELECT pglogical.create_subscription(subscription_name := '$name', provider_dsn := '$conn', synchronize_structure := false, synchronize_data := false, forward_origins := '{}')"
	);
	$sub->poll_query_until('postgres',
		"SELECT status = 'replicating' FROM pglogical.show_subscription_status('$name')"
	) or die "subscription $name is not replicating";
}

# both insert at the same time: 2 clients of 3500 inserts each per node
my @load;
for my $node ($a, $b)
{
	my $name = $node->name;
	push @load,
	  pgbench_start($node, 'postgres', 'insert.sql',
		"INSERT INTO orders (node, n) VALUES ('$name', :client_id);\n",
		'-c', 2, '-j', 2, '-t', 3500);
}
ok($_->{h}->finish, 'both nodes insert at the same time') or diag ${ $_->{err} }
  for @load;

for my $node ($a, $b)
{
	$node->poll_query_until('postgres', 'SELECT count(*) = 14000 FROM orders')
	  or die 'the rows of both nodes did not arrive on ' . $node->name;
}

my $rows = 'SELECT count(*), md5(string_agg(id || node || n, \',\' ORDER BY id)) FROM orders';
is($a->safe_psql('postgres', $rows), $b->safe_psql('postgres', $rows),
	'both nodes end with the same rows');
is($a->safe_psql('postgres', 'SELECT count(*) FROM orders'),
	14000, 'every insert of both nodes is there');
for my $node ($a, $b)
{
	if ($native)
	{
		is( $node->safe_psql(
				'postgres',
				'SELECT coalesce(sum(apply_error_count + sync_error_count), 0) FROM pg_stat_subscription_stats'
			),
			0,
			'replication reports no error on ' . $node->name);
	}
	unlike(slurp_file($node->logfile), qr/duplicate key|conflict/i,
		'replication logs no conflict on ' . $node->name);
}

$a->stop;
$b->stop;
$root->stop;
done_testing();
