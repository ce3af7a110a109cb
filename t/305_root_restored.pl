# Many servers: a root that goes back.  The root is restored from a base
# backup taken before node A leased its last grants.  The restored root
# grants nothing during its grace period, while A reports what it holds:
# the root records A's grants again and raises its mark above them, so
# that node B's next grants lie above A's, and A's own next grant too.  A
# sees the root's WAL position behind the one it was shown, and logs it.
# Then the root goes back again while A is down: B is granted A's grants
# again before A reports; when A comes back, the root refuses it loudly
# and A stops issuing from its grants rather than repeat B's IDs.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IdgenServers;

my $grace = 20;
my $root = idgen_root(
	'root',
	init => [ allows_streaming => 1 ],
	conf => "idgen.grant_grace = $grace",
	tags => [ orders => 'grant_size => 1000' ]);

# node NAME: a node leasing orders from the root's port
sub node
{
	my ($name) = @_;
	return idgen_node(
		$name, $root,
		conf => "idgen.runway_grants = 2\nidgen.runway = 0\n",
		grants => 2,
		sql => node_sql(
			tag => 'region => 100, chunk_max => 10',
			table => 'phase text NOT NULL'));
}

# grants NODE: the grants a node holds, as [lo, hi) pairs
sub grants
{
	my ($node) = @_;
	return map { [ split /\|/ ] } split /\n/,
	  $node->safe_psql('postgres',
		"SELECT lower(range), upper(range) FROM idgen.leases WHERE kind = 'grant' ORDER BY 1"
	  );
}

# overlaps A B: how many grants of A overlap a grant of B
sub overlaps
{
	my ($x, $y) = @_;
	my $n = 0;
	for my $g (@$x)
	{
		$n++ if grep { $g->[0] < $_->[1] && $_->[0] < $g->[1] } @$y;
	}
	return $n;
}

# insert NODE N PHASE: N rows on a node
sub insert
{
	my ($node, $n, $phase) = @_;
	$node->safe_psql('postgres',
		"INSERT INTO orders (phase) SELECT '$phase' FROM generate_series(1, $n)");
}

# restore_root BACKUP NAME: stop the root (immediate) and start a server
# restored from BACKUP of it in its place, on its port
sub restore_root
{
	my ($backup, $name) = @_;
	my $old = $root;
	$old->stop('immediate');
	$root = PostgreSQL::Test::Cluster->new($name, port => $old->port);
	$root->init_from_backup($old, $backup);
	$root->start;
}

my $a = node('a');
my $b = node('b');
insert($_, 300, 'before') for $a, $b;

# runway_grants NODE N: have a node hold N grants with IDs left
sub runway_grants
{
	my ($node, $n) = @_;
	$node->append_conf('postgresql.conf', "idgen.runway_grants = $n");
	$node->reload;
	wait_grants($node, $n);
}

# the backup, then A's grants that the restored root will not know
$root->backup('bk');
my $before = scalar(grants($a));
runway_grants($a, 4);
insert($a, 3000, 'after_backup');
my @a_held = grants($a);
cmp_ok(scalar(@a_held), '>', $before, 'node a leased grants after the backup');

restore_root('bk', 'root_restored');

# B needs grants at once: the restored root grants nothing before A has
# reported, in its grace period
insert($b, 1500, 'grace');
$b->poll_query_until('postgres',
	"SELECT grants_held >= 2 AND state = 'leasing' FROM idgen.runway WHERE tag = 'orders'"
) or die "b leased nothing after the grace period";
is( $root->safe_psql(
		'ids', q{
	SELECT min(b.granted_at) > max(a.held_since)
	  FROM idgen.grants b, idgen.grants a
	 WHERE b.node = 'b' AND b.kind = 'grant' AND a.node = 'a' AND a.kind = 'healed'
	   AND b.granted_at > pg_postmaster_start_time()}),
	't',
	"the restored root granted b nothing before it had recorded a's grants again");
is(overlaps([ grants($b) ], \@a_held), 0,
	"b's grants from the restored root do not overlap a's");

# and A's own next grants lie above what it holds
insert($a, 3000, 'after_restore');
my @a_new = grep {
	my $g = $_;
	!grep { $_->[0] == $g->[0] } @a_held
} grants($a);
cmp_ok(scalar(@a_new), '>', 0, 'a leased from the restored root');
ok(!grep({ my $g = $_; grep { $g->[0] < $_->[1] } @a_held } @a_new),
	'above every grant it held');
is(overlaps([ grants($a) ], [ grants($b) ]), 0, 'no grant is held by both nodes');

insert($_, 2000, 'end') for $a, $b;
my %seen;
my $dups = 0;
$dups += count_repeats(\%seen, ids($_)) for $a, $b;
is($dups, 0, 'no ID was issued on both nodes');
is(scalar(keys %seen), 2 * 300 + 3000 + 1500 + 3000 + 2 * 2000,
	'every insert committed');
is( $b->safe_psql('postgres', "SELECT count(*) FROM orders WHERE phase = 'grace'"),
	1500, 'the inserts of b during the grace period came from its runway');

like(slurp_file($root->logfile),
	qr/node "a" holds grant \[\d+, \d+\) of tag "orders", which this server had no record of/,
	'the restored root logs the grants it had lost');
like(slurp_file($root->logfile),
	qr/raised the high-water mark of tag "orders" from \d+ to \d+ for what node "a" holds/,
	'and the mark it raised');
like(slurp_file($a->logfile),
	qr/runway worker: root server went back: it had no record of 2 grants of tag "orders"/,
	'a notices that the root went back');
is( $root->safe_psql('ids',
		"SELECT count(*) > 0 FROM idgen.grants WHERE node = 'a' AND kind = 'healed'"),
	't',
	'the ledger holds them again');

# the root goes back again, while A is down: B gets A's grants before A
# reports, and A is refused and stopped when it comes back
$root->backup('bk2');
my @a_known = grants($a);
runway_grants($a, 8);
my @a_lost = grep {
	my $g = $_;
	!grep { $_->[0] == $g->[0] } @a_known
} grants($a);
cmp_ok(scalar(@a_lost), '>', 0, 'a leased grants after the second backup');
$a->stop;
restore_root('bk2', 'root_restored2');
# B asks for more grants than it holds: they come from where A's were
runway_grants($b, 10);
insert($b, 4000, 'while_a_down');
cmp_ok(overlaps([ grants($b) ], \@a_lost), '>', 0,
	'with a down, the restored root granted b what a holds');

$a->start;
$a->poll_query_until('postgres',
	"SELECT state = 'stopped' FROM idgen.runway WHERE tag = 'orders'")
  or die "a was not stopped";
like(
	$a->safe_psql('postgres',
		"SELECT last_error FROM idgen.runway WHERE tag = 'orders'"),
	qr/overlaps \[\d+, \d+\) granted to node "b"/,
	'a is told which grant of b overlaps its own');
my ($ret, $stdout, $stderr) = $a->psql('postgres',
	"INSERT INTO orders (phase) SELECT 'stopped' FROM generate_series(1, 200)");
isnt($ret, 0, 'a issues no more IDs from its grants');
like($stderr, qr/tag "orders" issues no more IDs from its grants/,
	'with an error that says so');
like(slurp_file($root->logfile),
	qr/WARNING:  grant \[\d+, \d+\) of tag "orders" held by node "a" overlaps/,
	'the root logs the conflict');

$a->stop;
$b->stop;
$root->stop;
done_testing();
