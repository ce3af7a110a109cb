# Many servers, one ID space: a root and two nodes.  Both nodes insert
# under concurrent pgbench load with IDs from grants of the root; no ID is
# issued twice across the nodes, and the root's ledger accounts for every
# ID.  The root is stopped (immediate) in the middle of the load: the nodes
# go on inserting from their runway without an error; on a node with a
# small runway, exhaustion gives the documented error, and leasing resumes
# once the root is back, without touching the node.  A node stopped
# (immediate) continues above every ID it issued.  The node's role on the
# root may lease grants of the tags it was given and nothing else.  Its
# password lives in a password file: a password in idgen.root is refused,
# and neither it nor a connection string libpq cannot parse reaches a log
# or a view; idgen.runway shows a role only the tags it may monitor.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use IdgenServers;

my $password = 'n0de-s3cret-pw';

my $root = idgen_server('root', conf => "idgen.grant_grace = 2\n", start => 0);
# the node role must give its password
my $hba = slurp_file($root->data_dir . '/pg_hba.conf');
open my $hfh, '>', $root->data_dir . '/pg_hba.conf' or die $!;
print $hfh "local all idgen_node scram-sha-256\n$hba";
close $hfh;
$root->start;
serve_tags(
	$root,
	tags => [ orders => '', small => 'grant_size => 1000', other => '' ],
	grant => [qw(orders small)],
	password => $password);

# the role's password, in a password file that the nodes' idgen.root names
my $passfile = PostgreSQL::Test::Utils::tempdir() . '/pgpass';
open my $pfh, '>', $passfile or die $!;
print $pfh "*:*:*:idgen_node:$password\n";
close $pfh;
chmod 0600, $passfile;

# node NAME: a node leasing from the root as idgen_node
sub node
{
	my ($name) = @_;
	return idgen_node(
		$name, $root,
		root_extra => " passfile=$passfile",
		grants => 2,
		sql => node_sql(
			table => "node text NOT NULL DEFAULT '$name',"
			  . " phase text NOT NULL DEFAULT 'load'"));
}

my $a = node('eu-1');
my $b = node('us-1');

is( $a->safe_psql('postgres',
		"SELECT source, root_reachable FROM idgen.runway WHERE tag = 'orders'"),
	'root|t',
	'the runway view shows the source and a reachable root');

# pgbench NODE CLIENTS TRANSACTIONS PHASE: inserts, started in the background
sub pgbench
{
	my ($node, $clients, $xacts, $phase) = @_;
	return pgbench_start($node, 'postgres', "insert_$phase.sql",
		"INSERT INTO orders (phase) VALUES ('$phase');\n",
		'-c', $clients, '-j', 2, '-t', $xacts);
}

# both nodes under load together, the root up
my @load = (pgbench($a, 4, 1500, 'load'), pgbench($b, 4, 1500, 'load'));
ok($_->{h}->finish, 'pgbench inserts on a node without an error')
  or diag ${ $_->{err} } for @load;

# the root stopped (immediate) in the middle of the load
@load = (pgbench($a, 4, 2000, 'rootdown'), pgbench($b, 4, 2000, 'rootdown'));
$a->poll_query_until('postgres',
	"SELECT count(*) > 500 FROM orders WHERE phase = 'rootdown'");
$root->stop('immediate');
ok($_->{h}->finish, 'pgbench goes on inserting with the root down')
  or diag ${ $_->{err} } for @load;
is( $a->safe_psql('postgres',
		"SELECT count(*) FROM orders WHERE phase = 'rootdown'"),
	8000, 'every insert of the load on node eu-1 committed');

# a small runway: the next grant is needed while the root is down
$a->poll_query_until('postgres',
	"SELECT root_reachable = false FROM idgen.runway WHERE tag = 'orders'")
  or die "the root still looks reachable";
like(
	$a->safe_psql('postgres',
		"SELECT last_error FROM idgen.runway WHERE tag = 'orders'"),
	qr/\S/,
	'the runway view shows the last error');

$root->start;
$b->safe_psql('postgres',
	"SELECT idgen.create_tag('small', source => 'root', region => 100, chunk_max => 10)"
);
$b->append_conf(
	'postgresql.conf', q{
idgen.runway = 0
idgen.runway_grants = 1
});
$b->reload;
$b->poll_query_until('postgres',
	"SELECT grants_held = 1 AND root_reachable FROM idgen.runway WHERE tag = 'small'"
) or die "node us-1 leased no grant of small";
$root->stop('immediate');
my ($ret, $stdout, $stderr) = $b->psql(
	'postgres', q{
	\set VERBOSITY verbose
	SELECT count(next_id('small')) FROM generate_series(1, 5000);
});
isnt($ret, 0, 'a node whose runway is used up fails');
like($stderr, qr/08006: tag "small" has no IDs left from the root server/,
	'with the documented error and a connection-class SQLSTATE');
like($stderr, qr/DETAIL:  The grants this server holds are used up, and the root server is unreachable: /,
	'whose detail gives the last error');
like($stderr, qr/HINT:  Leasing resumes by itself/, 'and a hint');

# the root back: leasing resumes without touching the node
$root->start;
$b->poll_query_until('postgres',
	"SELECT count(next_id('small')) = 2000 FROM generate_series(1, 2000)")
  or die "leasing did not resume";
pass('leasing resumes once the root is back');

# no ID twice across the nodes, and the ledger accounts for every one
my %seen;
my $dups = 0;
$dups += count_repeats(\%seen, ids($_)) for $a, $b;
is(scalar(keys %seen), 2 * (6000 + 8000), 'both nodes committed every insert');
is($dups, 0, 'no ID was issued on both nodes');

my @ledger = map { [ split /\|/ ] } split /\n/,
  $root->safe_psql('ids',
	"SELECT node, lower(range), upper(range) FROM idgen.grants WHERE tag = 'orders' ORDER BY 2"
  );
my $outside = 0;
for my $node ([ $a, 'eu-1' ], [ $b, 'us-1' ])
{
	for my $id (ids($node->[0]))
	{
		$outside++
		  unless grep { $_->[0] eq $node->[1] && $id >= $_->[1] && $id < $_->[2] }
		  @ledger;
	}
}
is($outside, 0, "every ID lies in a grant of the root's ledger to its node");
is( $root->safe_psql(
		'ids', q{
	SELECT count(*) FROM idgen.grants x JOIN idgen.grants y
		ON x.tag = y.tag AND x.range && y.range AND x.ctid <> y.ctid}),
	0,
	'grants never overlap');
is( $root->safe_psql(
		'ids', q{
	SELECT bool_and(lower(range) > 0) AND
		   max(upper(range)) - 1 <= (SELECT last_value FROM idgen_seq.orders)
	  FROM idgen.grants WHERE tag = 'orders'}),
	't',
	"every grant lies below the root's high-water mark");

# a node stopped (immediate) continues above every ID it issued
my $before = $a->safe_psql('postgres', 'SELECT max(id) FROM orders');
my $drawn = $a->safe_psql('postgres',
	"SELECT max(next_id('orders')) FROM generate_series(1, 1000)");
$a->stop('immediate');
$a->start;
$a->safe_psql('postgres',
	"INSERT INTO orders (phase) SELECT 'restart' FROM generate_series(1, 1000)");
ok( $a->safe_psql('postgres',
		"SELECT min(id) FROM orders WHERE phase = 'restart'") > $drawn,
	'a node continues above every ID it issued before a crash');

# the node's role on the root: lease grants of its tags, nothing more
my $as_node = $root->connstr('ids') . " user=idgen_node password=$password";
sub as_node
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $as_node, '-c', $sql ],
		'>', \$out, '2>', \$err);
	return ($? == 0, $out, $err);
}
my ($ok, $out, $err) = as_node("SELECT idgen.lease_grant('orders', 'by-hand')");
ok($ok, 'the node role leases a grant of a tag it was given');
($ok, $out, $err) = as_node("SELECT idgen.lease_grant('other', 'by-hand')");
ok(!$ok && $err =~ /permission denied for tag "other"/,
	'but not of a tag it was not given');

# refused_as_node ERROR, WHAT, SQL...: each SQL fails for the node role
# with an error matching ERROR (one check each, named WHAT and the SQL)
sub refused_as_node
{
	my ($error, $what, @sql) = @_;
	for my $sql (@sql)
	{
		my ($ok, $out, $err) = as_node($sql);
		ok(!$ok && $err =~ $error, "$what: $sql");
	}
	return;
}
refused_as_node(
	qr/permission denied for table grants/,
	'the node role cannot touch the ledger',
	"SELECT * FROM idgen.grants",
	"INSERT INTO idgen.grants (tag, node, range) VALUES ('orders', 'x', '[1,2)')",
	"DELETE FROM idgen.grants",
	"UPDATE idgen.grants SET node = 'x'");
refused_as_node(
	qr/permission denied|must be owner/,
	'the node role cannot change or use other tags',
	"SELECT pg_catalog.setval('idgen_seq.orders', 1)",
	"SELECT idgen.alter_tag('orders', maxvalue => 5)",
	"SELECT idgen.drop_tag('other')",
	"SELECT next_id('other')");
($ok, $out, $err) = as_node("BEGIN; SELECT idgen.lease_grant('orders', 'by-hand'); COMMIT");
ok(!$ok && $err =~ /cannot run inside a transaction block/,
	'a grant is never leased inside a transaction block');

# a tag the worker cannot serve (its sequence dropped by hand) spares the
# others, and its error is logged once, not at every round
$b->safe_psql(
	'postgres', q{
	SELECT idgen.create_tag('broken', source => 'root');
	SET client_min_messages = error;
	DROP SEQUENCE idgen_seq.broken;
});
$b->append_conf('postgresql.conf', 'idgen.runway_grants = 4');
$b->reload;
$b->poll_query_until('postgres',
	"SELECT grants_held >= 4 FROM idgen.runway WHERE tag = 'orders'")
  or die "the worker stopped serving orders";
$b->safe_psql('postgres', "SELECT pg_sleep(3)");
my @broken = slurp_file($b->logfile) =~
  /runway worker: sequence of tag "broken" does not exist/g;
is(scalar(@broken), 1,
	'a tag the worker cannot serve spares the others, its error logged once');

# one log line per change of state, not one per retry: the root was down
# twice, and the worker retried many times meanwhile
my @down = slurp_file($b->logfile) =~ /runway worker: root server is unreachable/g;
ok(@down >= 1 && @down <= 2,
	'a node logs each outage of the root once, not each retry (' . scalar(@down) . ')');

# the password in idgen.root is never logged, nor shown to other roles
for my $node ($a, $b)
{
	unlike(slurp_file($node->logfile), qr/\Q$password\E/,
		'the password of idgen.root is not in the log of ' . $node->name);
}
$a->safe_psql('postgres', 'CREATE ROLE someone LOGIN');
($ret, $stdout, $stderr) = $a->psql('postgres', 'SHOW idgen.root',
	extra_params => [ '-U', 'someone' ]);
ok($ret != 0 && $stderr =~ /permission denied|must be superuser|privileges of/,
	'idgen.root is not shown to other roles');

# the runway's state of a tag is shown only to roles that may monitor it
is( $a->safe_psql(
		'postgres',
		"SELECT count(*) FROM idgen.runway_status()",
		extra_params => [ '-U', 'someone' ]),
	0,
	'runway_status() shows a role no tag it may not monitor');
$a->safe_psql('postgres', 'GRANT SELECT ON SEQUENCE idgen_seq.orders TO someone');
is( $a->safe_psql(
		'postgres',
		"SELECT tag FROM idgen.runway_status()",
		extra_params => [ '-U', 'someone' ]),
	'orders',
	'and the tags it may');

# idgen.root with a password, or that libpq cannot parse: refused, and the
# secret reaches neither the log nor a view
for my $case (
	[ 'pw', " user=idgen_node password=$password", qr/holds a password/ ],
	[ 'bad', " user=idgen_node $password", qr/not a valid connection string/ ])
{
	my ($name, $extra, $says) = @$case;
	my $n = PostgreSQL::Test::Cluster->new("conf_$name");
	$n->init;
	my $conninfo = $root->connstr('ids') . $extra;
	$conninfo =~ s/'/''/g;
	$n->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'idgen'
idgen.root = '$conninfo'
});
	$n->start;
	$n->safe_psql('postgres', node_sql());
	$n->poll_query_until('postgres',
		"SELECT last_error IS NOT NULL FROM idgen.runway WHERE tag = 'orders'")
	  or die "no error shown for $name";
	my $shown = $n->safe_psql('postgres',
		"SELECT state || ': ' || last_error FROM idgen.runway WHERE tag = 'orders'");
	like($shown, $says, "idgen.root ($name) is refused: $shown");
	unlike($shown, qr/\Q$password\E/, "the view does not show its secret ($name)");
	$n->stop;
	unlike(slurp_file($n->logfile), qr/\Q$password\E/,
		"the log does not show its secret ($name)");
}

$a->stop;
$b->stop;
$root->stop;
done_testing();
