# Named wait events: from PostgreSQL 17 on, every wait of idgen shows in
# pg_stat_activity under a name of its own (before, as "Extension").  A
# node's runway worker waits for the root's answer on its socket
# (IdgenRootSocket) while the root holds the lease back in its grace
# period (IdgenGrantGrace, in the root's backend serving the node), then
# naps between rounds (IdgenRunwayNap).
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
	conf => "idgen.grant_grace = 20\n",
	tags => [ orders => '' ]);
my $named = $root->safe_psql('postgres', 'SHOW server_version_num') >= 170000;

# event_name EVENT: what pg_stat_activity shows for the wait event EVENT
sub event_name
{
	my ($event) = @_;
	return $named ? $event : 'Extension';
}

my $node = idgen_node(
	'node', $root,
	sql => q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('orders', source => 'root');
});

# the grace period: the node's first lease waits on the root
ok( $root->poll_query_until(
		'ids', qq{
	SELECT count(*) > 0 FROM pg_stat_activity
	WHERE application_name = 'idgen runway worker'
	  AND wait_event_type = 'Extension'
	  AND wait_event = '@{[ event_name('IdgenGrantGrace') ]}'}),
	'the root serves a lease in its grace period under its wait event');
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT count(*) > 0 FROM pg_stat_activity
	WHERE backend_type = 'idgen runway worker'
	  AND wait_event_type = 'Extension'
	  AND wait_event = '@{[ event_name('IdgenRootSocket') ]}'}),
	'the runway worker waits for the root under its wait event');

# then grants, and the worker naps between rounds
wait_grants($node, 1);
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT count(*) > 0 FROM pg_stat_activity
	WHERE backend_type = 'idgen runway worker'
	  AND wait_event_type = 'Extension'
	  AND wait_event = '@{[ event_name('IdgenRunwayNap') ]}'}),
	'the runway worker naps between rounds under its wait event');
is($node->safe_psql('postgres', "SELECT next_id('orders') > 0"),
	't', 'the node issues IDs from its grants');

$node->stop;
$root->stop;
done_testing();
