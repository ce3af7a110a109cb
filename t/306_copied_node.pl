# Many servers: a node copied with pg_basebackup and started as a second
# node (a new shard made from a copy) has the same grants, mark and name
# as the original.  Its claims wait for its first reports to the root,
# which holds it back while the original reports and then stops both: the
# copy issues no ID of the original's.  On the copy, a new idgen.node_name
# and idgen.become_new_node() give it grants of its own; the original
# resumes once the copy no longer reports under its name.  A restart of a
# node is not taken for a copy: it waits until its old instance has been
# silent, and goes on.
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
	tags => [ orders => 'grant_size => 1000' ]);

my $a = idgen_node(
	'a', $root,
	init => [ allows_streaming => 1 ],
	node_name => 'eu-1',
	conf => 'idgen.runway = 0',
	grants => 2,
	sql => node_sql(
		tag => 'region => 100, chunk_max => 10',
		table => 'phase text NOT NULL'));

# insert NODE N PHASE: N rows on a node, one a transaction; the psql result
sub insert
{
	my ($node, $n, $phase) = @_;
	return $node->psql('postgres',
		"INSERT INTO orders (phase) VALUES ('$phase');\n" x $n);
}

insert($a, 150, 'before');

# the copy, started as a second node
$a->backup('copy');
my $c = PostgreSQL::Test::Cluster->new('c');
$c->init_from_backup($a, 'copy');
$c->start;
my ($ret, $stdout, $stderr) = insert($c, 150, 'copy');
isnt($ret, 0, 'the copy issues no ID');
like($stderr, qr/tag "orders" (issues no more|may not issue) IDs from its grants/,
	'it is told why');
is($c->safe_psql('postgres', "SELECT count(*) FROM orders WHERE phase = 'copy'"),
	0, 'not a single row of the copy committed');
like(slurp_file($root->logfile), qr/two servers lease grants as node "eu-1"/,
	'the root logs two servers under one name');
$a->poll_query_until('postgres',
	"SELECT state = 'stopped' FROM idgen.runway WHERE tag = 'orders'")
  or die "the original was not stopped";
like($a->safe_psql('postgres', "SELECT last_error FROM idgen.runway WHERE tag = 'orders'"),
	qr/two servers lease grants as node "eu-1"/,
	'the original is stopped too, and shows why');

# on the copy: a new name, and grants of its own
($ret, $stdout, $stderr) = $c->psql('postgres', 'SELECT idgen.become_new_node()');
like($stderr, qr/this server still leases as node "eu-1"/,
	'become_new_node() needs a new name first');
$c->append_conf('postgresql.conf', "idgen.node_name = 'eu-2'");
$c->reload;
$c->poll_query_until('postgres', "SELECT current_setting('idgen.node_name') = 'eu-2'")
  or die "no new name";
cmp_ok($c->safe_psql('postgres', 'SELECT idgen.become_new_node()'),
	'>=', 2, 'the copy gives up the grants it shares with the original');
($ret, $stdout, $stderr) = insert($c, 150, 'copy');
is($ret, 0, 'the copy inserts under its new name') or diag $stderr;

# the original resumes once the copy is silent under its name
$a->poll_query_until('postgres',
	"SELECT state = 'leasing' FROM idgen.runway WHERE tag = 'orders'")
  or die "the original did not resume";
($ret, $stdout, $stderr) = insert($a, 300, 'after');
is($ret, 0, 'the original inserts again') or diag $stderr;

# a restart of the original is not a copy: it waits, then goes on
my $copies = () = slurp_file($root->logfile) =~ /two servers lease grants/g;
$a->restart;
($ret, $stdout, $stderr) = insert($a, 100, 'restart');
is($ret, 0, 'a restarted node issues again') or diag $stderr;
is(scalar(() = slurp_file($root->logfile) =~ /two servers lease grants/g),
	$copies, 'and is not taken for a copy');

my %seen;
my $dups = 0;
for my $node ($a, $c)
{
	# the copy holds the original's rows from before the copy
	my $where = $node == $c ? "WHERE phase <> 'before'" : '';
	$dups += count_repeats(\%seen,
		ids($node, 'postgres', "SELECT id FROM orders $where"));
}
is($dups, 0, 'no ID is on both servers');
is( $root->safe_psql('ids',
		"SELECT string_agg(DISTINCT node, ',' ORDER BY node) FROM idgen.grants"),
	'eu-1,eu-2',
	"the root's ledger shows the copy under its own name");

$a->stop;
$c->stop;
$root->stop;
done_testing();
