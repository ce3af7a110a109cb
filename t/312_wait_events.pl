# Named wait events: from PostgreSQL 17 on, every wait of idgen shows in
# pg_stat_activity under a name of its own (before, as "Extension").  A
# node's runway worker waits for the root's answer on its socket
# (IdgenRootSocket) while the root holds the lease back in its grace
# period (IdgenGrantGrace, in the root's backend serving the node), then
# naps between rounds (IdgenRunwayNap).  A backend that finds a tag's pool
# empty while another backend claims for it waits for that claim
# (IdgenPoolClaim).
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
	sql => node_sql());

# waits_under SERVER, DB, WHO, EVENT: whether, polled in database DB of
# SERVER, a backend that the condition WHO picks from pg_stat_activity comes
# to wait under the wait event EVENT
sub waits_under
{
	my ($server, $db, $who, $event) = @_;
	return $server->poll_query_until(
		$db, qq{
	SELECT count(*) > 0 FROM pg_stat_activity
	WHERE $who
	  AND wait_event_type = 'Extension'
	  AND wait_event = '@{[ event_name($event) ]}'});
}

my $worker = "backend_type = 'idgen runway worker'";

# the grace period: the node's first lease waits on the root
ok( waits_under(
		$root, 'ids', "application_name = 'idgen runway worker'",
		'IdgenGrantGrace'),
	'the root serves a lease in its grace period under its wait event');
ok(waits_under($node, 'postgres', $worker, 'IdgenRootSocket'),
	'the runway worker waits for the root under its wait event');

# then grants, and the worker naps between rounds
wait_grants($node, 1);
ok(waits_under($node, 'postgres', $worker, 'IdgenRunwayNap'),
	'the runway worker naps between rounds under its wait event');
is($node->safe_psql('postgres', "SELECT next_id('orders') > 0"),
	't', 'the node issues IDs from its grants');

# a claim of a new tag waits for a transaction that changes its maxvalue,
# and a second backend drawing from the tag waits for that claim
$root->safe_psql('ids', "SELECT idgen.create_tag('slow')");
my $alter = $root->background_psql('ids', on_error_stop => 1);
$alter->query_safe(
	"BEGIN; SELECT idgen.alter_tag('slow', maxvalue => 1000000000)");
my @draws = map { $root->background_psql('ids', on_error_stop => 1) } 1 .. 2;
$_->query_until(qr/drawing/, "\\echo drawing\nSELECT next_id('slow');\n")
  for @draws;
ok( waits_under(
		$root, 'ids', "query LIKE '%next_id(''slow'')%'", 'IdgenPoolClaim'),
	"a backend waits for another's claim under its wait event");
$alter->query_safe('COMMIT');
$_->quit for @draws, $alter;

$node->stop;
$root->stop;
done_testing();
