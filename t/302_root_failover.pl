# Many servers: failover of the root.  The root has a synchronous standby,
# so every grant (the move of the tag's mark, and the ledger row) reaches
# it before the node sees the grant.  The root fails; the standby is
# promoted and the node pointed at it by a reload of idgen.root: new grants
# start above every grant the old root gave, and the node goes on
# inserting throughout.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IdgenServers;

my $primary = idgen_root(
	'root1',
	init => [ allows_streaming => 1 ],
	conf => 'idgen.grant_grace = 2',
	tags => [ orders => 'grant_size => 5000' ]);
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('root2');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;
$primary->append_conf('postgresql.conf',
	"synchronous_standby_names = 'root2'");
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT sync_state = 'sync' FROM pg_stat_replication")
  or die "the standby did not become synchronous";

my $node = idgen_node(
	'node', $primary,
	node_name => 'eu-1',
	grants => 2,
	sql => node_sql(tag => 'region => 1000', table => 'phase text NOT NULL'));
$node->safe_psql('postgres',
	"INSERT INTO orders (phase) SELECT 'before' FROM generate_series(1, 7000)");

# what the old root gave; the synchronous standby has all of it
my $old_top = $primary->safe_psql('ids',
	'SELECT max(upper(range)) FROM idgen.grants');
my $old_count = $primary->safe_psql('ids', 'SELECT count(*) FROM idgen.grants');
ok($old_count >= 2, "the old root gave $old_count grants");
$primary->stop('immediate');

# the node goes on from its runway while the root fails over
$node->safe_psql('postgres',
	"INSERT INTO orders (phase) SELECT 'failover' FROM generate_series(1, 100)");
$standby->promote;
is($standby->safe_psql('ids', 'SELECT count(*) FROM idgen.grants'),
	$old_count, 'the promoted standby has the whole ledger');

# the node pointed at the new root
$node->append_conf('postgresql.conf', root_setting($standby));
$node->append_conf('postgresql.conf', 'idgen.runway_grants = 4');
$node->reload;
$node->poll_query_until('postgres',
	"SELECT grants_held >= 4 AND root_reachable FROM idgen.runway WHERE tag = 'orders'")
  or die "the node leased nothing from the new root";
$node->safe_psql('postgres',
	"INSERT INTO orders (phase) SELECT 'after' FROM generate_series(1, 12000)");

my $new = $standby->safe_psql('ids',
	"SELECT count(*), min(lower(range)) FROM idgen.grants WHERE granted_at > (SELECT max(granted_at) FROM idgen.grants g WHERE upper(g.range) = $old_top)"
);
my ($new_count, $new_min) = split /\|/, $new;
ok($new_count > 0, 'the promoted root leased new grants');
ok($new_min >= $old_top, 'which start above every grant the old root gave');
is( $node->safe_psql('postgres',
		'SELECT count(*) = count(DISTINCT id) FROM orders'),
	't',
	'the node issued no ID twice');
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders'),
	19100, 'every insert committed');
like(slurp_file($node->logfile), qr/idgen\.root changed, reconnecting/,
	'the node logs the change of root');

# a root cut off from the synchronous standby it waits for (as a primary
# left running after a failover is) can grant nothing: the node says why
# at once instead of waiting on it, and leases again once it can
$standby->append_conf('postgresql.conf',
	"synchronous_standby_names = 'gone'");
$standby->reload;
$node->append_conf('postgresql.conf', 'idgen.runway_grants = 8');
$node->reload;
$node->poll_query_until('postgres',
	"SELECT state = 'unreachable' AND last_error ~ 'cannot grant: 0 of the 1 synchronous standbys it waits for are connected' FROM idgen.runway WHERE tag = 'orders'"
) or die "the node did not see that the root cannot grant";
pass('a root without its synchronous standby is not leased from');
$standby->append_conf('postgresql.conf', "synchronous_standby_names = ''");
$standby->reload;
$node->poll_query_until('postgres',
	"SELECT grants_held >= 8 AND state = 'leasing' FROM idgen.runway WHERE tag = 'orders'")
  or die "the node did not lease again";
pass('and leased from again once it can grant');

$node->stop;
$standby->stop;
done_testing();
