# Snowflake node ids that cannot collide: nodes with idgen.snowflake_node_id = 'auto'
# lease their node id from the root's registry (idgen.node_ids).  Two
# nodes get different ids, and their snowflake IDs never collide under
# concurrent load.  A node stopped (immediate) keeps its id until its lease
# has run out: a node started meanwhile gets another one, and the node
# that gets it afterwards continues above every ID the stopped one issued
# with it, although those ran far ahead of the clock.  A node that cannot
# renew stops issuing before the root may give its id to another, and one
# that finds its id given away takes another and goes on above its own
# IDs; one whose wall clock is set back stops all the same.  A root that
# lost its registry (rows deleted, then restarted, as a restore from an old
# backup would) assigns no id during its grace period, while live nodes
# renew theirs and so record them again: a node started then gets an id of
# its own, and a holder whose lease lapsed does not get even its own id
# back then.  A copy of a node (pg_basebackup) gets an id of its own; a
# node that has a root assigns none.  'auto' without idgen.root stops the
# server at start.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IdgenServers;

my ($ret, $stdout, $stderr);

# the root's lease length (ms): a node stops 3/4 of it after its last
# renewal, the root frees an id 1/4 of it after the lease ended, and
# assigns none for 5/4 of it after it starts
my $lease = 6000;

my $root = idgen_root(
	'root',
	conf => "idgen.snowflake_node_id_lease = ${lease}ms",
	extra => "\tGRANT EXECUTE ON FUNCTION idgen.lease_node_id TO idgen_node;\n");

# A layout with 4 IDs a millisecond and a logical time that may lead the
# clock by an hour: a burst of IDs runs far ahead of the clock.
my $layout = q{
idgen.snowflake_layout = custom
idgen.snowflake_time_bits = 41
idgen.snowflake_node_bits = 10
idgen.snowflake_seq_bits = 2
idgen.snowflake_max_clock_ahead = '1h'
};

# node NAME: a started node with 'auto', holding its node id
sub node
{
	my ($name) = @_;
	my $node = idgen_node(
		$name, $root,
		init => [ allows_streaming => 1 ],
		conf => "idgen.snowflake_node_id = 'auto'\n$layout",
		sql => q{
		CREATE EXTENSION idgen;
		CREATE TABLE ev (id bigint PRIMARY KEY DEFAULT snowflake_id(),
						 node text NOT NULL DEFAULT current_setting('idgen.node_name'));
	});
	wait_leased($node);
	return $node;
}

# wait_leased NODE: until the node holds a node id
sub wait_leased
{
	my ($node) = @_;
	$node->poll_query_until('postgres',
		"SELECT state = 'leased' FROM idgen.snowflake_node")
	  or die $node->name . ' leased no node id: '
	  . $node->safe_psql('postgres', 'SELECT * FROM idgen.snowflake_node');
}

# node_id NODE: the node id it holds
sub node_id
{
	my ($node) = @_;
	return $node->safe_psql('postgres', 'SELECT node_id FROM idgen.snowflake_node');
}

my $na = node('eu-1');
my $nb = node('us-1');
my ($ida, $idb) = (node_id($na), node_id($nb));
isnt($ida, $idb, "two nodes with 'auto' get different node ids ($ida, $idb)");
is( $root->safe_psql('ids',
		'SELECT string_agg(node || \'=\' || node_id, \' \' ORDER BY node) FROM idgen.node_ids'),
	"eu-1=$ida us-1=$idb",
	"the root's registry shows both");
is( $na->safe_psql('postgres',
		'SELECT bool_and(p.node = n.node_id) FROM idgen.snowflake_node n,'
		  . ' generate_series(1, 100), idgen.snowflake_parse(snowflake_id()) p'),
	't',
	'snowflake IDs carry the leased node id');
like(slurp_file($na->logfile), qr/leased snowflake node id $ida from the root server/,
	'the node logs its lease');

# both nodes under load: no ID on both
sub pgbench
{
	my ($node, $xacts) = @_;
	return pgbench_start($node, 'postgres', 'insert.sql',
		"INSERT INTO ev DEFAULT VALUES;\n",
		'-c', 4, '-j', 2, '-t', $xacts);
}
my @load = (pgbench($na, 1000), pgbench($nb, 1000));
ok($_->{h}->finish, 'pgbench inserts snowflake IDs without an error')
  or diag ${ $_->{err} } for @load;

# all_ids NODE...: the IDs in ev of the nodes, and how many are on two
sub duplicates
{
	my %seen;
	my $dups = 0;
	$dups += count_repeats(\%seen, ids($_, 'postgres', 'SELECT id FROM ev')) for @_;
	return (scalar(keys %seen), $dups);
}
my ($n, $dups) = duplicates($na, $nb);
is($n, 8000, 'every insert committed');
is($dups, 0, 'no snowflake ID is on both nodes');

# a's IDs run far ahead of the clock: 4 a millisecond, 400000 of them
$na->safe_psql('postgres', 'INSERT INTO ev SELECT FROM generate_series(1, 400000)');
my $ev_max = $na->safe_psql('postgres', 'SELECT max(id) FROM ev');
my $ahead = $na->safe_psql('postgres',
	"SELECT extract(epoch FROM (SELECT ts FROM idgen.snowflake_parse($ev_max)) - now())::int");
cmp_ok($ahead, '>', 30, "node eu-1's IDs run $ahead s ahead of the clock");

# cut off from the root, a issues on, but never above the time the root's
# registry records for its id: there, or at its deadline, it stops
$na->safe_psql(
	'postgres', q{
	CREATE FUNCTION burst(n int) RETURNS bigint LANGUAGE plpgsql AS $$
	DECLARE
		last bigint;
	BEGIN
		FOR i IN 1 .. n LOOP
			BEGIN
				last := snowflake_id();
			EXCEPTION WHEN object_not_in_prerequisite_state THEN
				RETURN last;
			END;
		END LOOP;
		RETURN last;
	END $$;
});
$na->append_conf('postgresql.conf',
	"idgen.root = 'host=/nonexistent port=1 dbname=ids user=idgen_node'");
$na->reload;
my $a_max = $na->safe_psql('postgres', 'SELECT burst(5000000)');
cmp_ok($a_max, '>', $ev_max, 'a node cut off from the root issues on for a while');
($ret, $stdout, $stderr) = $na->psql('postgres', 'SELECT snowflake_id()');
like($stderr, qr/snowflake IDs are not available: the lease of node id $ida ran out|could not generate a snowflake ID: the root server has not recorded its time for node id $ida/,
	'then stops');

# a stopped (immediate): its id stays leased until its lease has run out
$na->stop('immediate');
my $nc = node('eu-2');
isnt(node_id($nc), $ida, 'a node started meanwhile gets another node id');
my $free_at = $root->safe_psql('ids',
	"SELECT leased_until + interval '${lease}ms' / 4 FROM idgen.node_ids WHERE node_id = $ida");
$root->poll_query_until('ids', "SELECT now() > '$free_at'")
  or die 'the lease of eu-1 does not end';

# the next node gets it, and continues above every ID eu-1 issued with it
my $nd = node('ap-1');
is(node_id($nd), $ida, "the node started after that takes eu-1's node id");
ok( $root->safe_psql('ids',
		"SELECT leased_at >= '$free_at' FROM idgen.node_ids WHERE node_id = $ida") eq 't',
	'only once the lease of eu-1 had run out, and a quarter lease more');
cmp_ok($nd->safe_psql('postgres', 'SELECT min(snowflake_id()) FROM generate_series(1, 10)'),
	'>', $a_max, "its IDs continue above eu-1's, although those ran ahead of the clock");

# b cannot renew (its root unreachable): it stops issuing before the root
# may give its id to another
$nb->append_conf('postgresql.conf',
	"idgen.root = 'host=/nonexistent port=1 dbname=ids user=idgen_node'");
$nb->reload;
my $b_max = $nb->safe_psql('postgres', 'SELECT max(id) FROM ev');
$nb->poll_query_until('postgres',
	"SELECT state = 'expired' FROM idgen.snowflake_node")
  or die 'us-1 does not notice that its lease ran out';
($ret, $stdout, $stderr) = $nb->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT snowflake_id()");
like($stderr,
	qr/ERROR:  55000: snowflake IDs are not available: the lease of node id $idb ran out\nDETAIL:  The root server did not renew it in time: .*\nHINT:  The runway worker renews it/,
	'a node that cannot renew stops issuing, with the documented error');
my $b_expired = $nb->safe_psql('postgres', 'SELECT expires_at FROM idgen.snowflake_node');
is( $root->safe_psql('ids',
		"SELECT '$b_expired'::timestamptz < leased_until - interval '${lease}ms' / 8"
		  . " FROM idgen.node_ids WHERE node_id = $idb"),
	't',
	"its lease ends there well before the root's lease ends, and the root frees it a quarter lease after that");
like(slurp_file($nb->logfile),
	qr/could not renew the lease of snowflake node id $idb.*the lease of snowflake node id $idb ran out/s,
	'the node logs both changes of state');

# once free, the root gives b's id to another (a probe, by hand)
$free_at = $root->safe_psql('ids',
	"SELECT leased_until + interval '${lease}ms' / 4 FROM idgen.node_ids WHERE node_id = $idb");
$root->poll_query_until('ids', "SELECT now() > '$free_at'")
  or die 'the lease of us-1 does not end';
$root->safe_psql('ids', 'CREATE ROLE prober LOGIN; GRANT EXECUTE ON FUNCTION idgen.lease_node_id TO prober');
is( $root->safe_psql('ids',
		"SELECT node_id FROM idgen.lease_node_id('probe', 'p1', 1023, $idb, false, 0)",
		extra_params => [ '-U', 'prober' ]),
	$idb,
	"a free id is given to whoever asks for it");

# b reaches the root again: its id is gone, it takes another and goes on
# above its own IDs
$nb->append_conf('postgresql.conf', root_setting($root));
$nb->reload;
wait_leased($nb);
my $idb2 = node_id($nb);
isnt($idb2, $idb, 'the node whose id was given away takes another');
cmp_ok($nb->safe_psql('postgres', 'SELECT min(snowflake_id()) FROM generate_series(1, 10)'),
	'>', $b_max, 'and its IDs go on increasing');
like(slurp_file($nb->logfile),
	qr/snowflake node id $idb is no longer this server's; leased node id $idb2/,
	'it says so in its log');

# a node's wall clock set back does not lengthen its lease: its deadline is
# on the monotonic clock (libfaketime moves the wall clock only)
my ($faketime_lib) = grep { -e }
  ($ENV{FAKETIME_LIB} // (), glob('/usr/lib/*/faketime/libfaketime.so.1'),
	'/usr/lib/faketime/libfaketime.so.1',
	'/usr/local/lib/faketime/libfaketime.so.1');
SKIP:
{
	skip 'libfaketime is not installed', 2 unless $faketime_lib;
	my $fk = PostgreSQL::Test::Cluster->new('fk-1');
	my $offset = $fk->basedir . '/faketime';
	open my $ofh, '>', $offset or die $!;
	print $ofh "+0\n";
	close $ofh;
	$fk->init;
	$fk->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'idgen'
idgen.node_name = 'fk-1'
idgen.snowflake_node_id = 'auto'
$layout} . root_setting($root));
	{
		local $ENV{LD_PRELOAD} = $faketime_lib;
		local $ENV{FAKETIME_TIMESTAMP_FILE} = $offset;
		local $ENV{FAKETIME_CACHE_DURATION} = '1';
		local $ENV{FAKETIME_DONT_FAKE_MONOTONIC} = '1';
		local $ENV{DONT_FAKE_MONOTONIC} = '1';
		$fk->start;
	}
	$fk->safe_psql(
		'postgres', q{
		CREATE EXTENSION idgen;
		CREATE FUNCTION issues() RETURNS boolean LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM count(snowflake_id()) FROM generate_series(1, 100);
			RETURN true;
		EXCEPTION WHEN object_not_in_prerequisite_state THEN
			RETURN false;
		END $$;
	});
	wait_leased($fk);
	$fk->safe_psql('postgres', 'SELECT count(snowflake_id()) FROM generate_series(1, 1000)');
	$fk->append_conf('postgresql.conf',
		"idgen.root = 'host=/nonexistent port=1 dbname=ids user=idgen_node'");
	$fk->reload;
	open $ofh, '>', $offset or die $!;
	print $ofh "-600\n";
	close $ofh;
	# IDs go on (the logical time may lead the clock by an hour) until the
	# lease ends by the monotonic clock, not ten minutes later
	$fk->poll_query_until('postgres', 'SELECT issues()', 'f')
	  or die 'the node issues IDs on with its clock set back';
	like(slurp_file($fk->logfile), qr/system clock went back by at least/,
		'the wall clock of a node went back ten minutes');
	($ret, $stdout, $stderr) = $fk->psql('postgres', 'SELECT snowflake_id()');
	like($stderr, qr/the lease of node id \d+ ran out/,
		'and its lease ran out all the same, by its monotonic clock');
	$fk->stop;
}

# the root loses its registry and starts again, as a restore would: live
# nodes renew and record their ids again before it assigns any
my %held = map { node_id($_) => 1 } ($nb, $nc, $nd);
$root->safe_psql('ids', 'DELETE FROM idgen.node_ids');
$root->restart;
($ret, $stdout, $stderr) = $root->psql('ids',
	"SELECT idgen.lease_node_id('probe', 'p2', 1023, 900, true, 0)",
	extra_params => [ '-U', 'prober' ]);
like($stderr, qr/this server assigns no snowflake node id yet/,
	'in its grace period the root gives a holder whose lease lapsed not even its own id');
my $ne = idgen_node(
	'sa-1', $root,
	conf => "idgen.snowflake_node_id = 'auto'\n$layout",
	sql => 'CREATE EXTENSION idgen');
($ret, $stdout, $stderr) = $ne->psql('postgres', 'SELECT snowflake_id()');
like($stderr,
	qr/snowflake IDs are not available: this server holds no node id\nDETAIL:  "idgen.snowflake_node_id" is "auto", and the root server gave none: this server assigns no snowflake node id yet/,
	'a node started just after the root assigns none during its grace period');
wait_leased($ne);
ok(!$held{ node_id($ne) }, 'then it gets an id no live node holds (' . node_id($ne) . ')');
is( $root->safe_psql('ids',
		"SELECT string_agg(node_id::text, ' ' ORDER BY node_id) FROM idgen.node_ids"
		  . " WHERE node <> 'sa-1' AND node <> 'probe'"),
	join(' ', sort { $a <=> $b } keys %held),
	'the live nodes recorded their ids again');
like(slurp_file($root->logfile), qr/holds snowflake node id \d+, which this server had no record of/,
	'the root logs each');

# a copy of a node gets an id of its own
$nc->backup('copy');
my $copy = PostgreSQL::Test::Cluster->new('copy');
$copy->init_from_backup($nc, 'copy');
$copy->start;
wait_leased($copy);
isnt(node_id($copy), node_id($nc), 'a copy of a node gets a node id of its own');
$nc->safe_psql('postgres', 'INSERT INTO ev SELECT FROM generate_series(1, 1000)');
$copy->safe_psql('postgres', 'INSERT INTO ev SELECT FROM generate_series(1, 1000)');
($n, $dups) = duplicates($nc, $copy);
is($dups, 0, 'and none of its IDs is on the original');

# node ids come from the root at the top only
($ret, $stdout, $stderr) = $nc->psql('postgres',
	"SELECT idgen.lease_node_id('x', 'y', 1023)");
like($stderr, qr/this server assigns no snowflake node ids: it leases from a root server itself/,
	'a node that leases from a root assigns no node ids');

$_->stop for ($nb, $nc, $nd, $ne, $copy);

# 'auto' without a root, or a value that is neither: the server does not start
my $bad = PostgreSQL::Test::Cluster->new('bad');
$bad->init;
for my $case (
	[ "idgen.snowflake_node_id = 'auto'\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_node_id": "auto"\n.*DETAIL:  "auto" leases the node id from the root server named by "idgen.root", which is not set\.\n.*HINT:  Set "idgen.root"/s,
		"'auto' without idgen.root" ],
	[ "idgen.snowflake_node_id = 'automatic'\nidgen.root = 'host=/nonexistent'\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_node_id": "automatic"/,
		'a node id that is neither a number nor auto' ])
{
	my ($settings, $message, $what) = @$case;
	open my $fh, '>', $bad->data_dir . '/postgresql.auto.conf' or die $!;
	print $fh "shared_preload_libraries = 'idgen'\n$settings";
	close $fh;
	my $offset = -s $bad->logfile // 0;
	ok(!$bad->start(fail_ok => 1), "the server refuses to start with $what");
	like(slurp_file($bad->logfile, $offset), $message, "the log explains $what");
}

# not preloaded: the setting is not checked, and snowflake_id() says why
open my $fh, '>', $bad->data_dir . '/postgresql.auto.conf' or die $!;
print $fh "idgen.snowflake_node_id = 'auto'\n";
close $fh;
$bad->start;
$bad->safe_psql('postgres', 'CREATE EXTENSION idgen');
($ret, $stdout, $stderr) = $bad->psql('postgres', 'SELECT snowflake_id()');
like($stderr, qr/idgen must be loaded via "shared_preload_libraries"/,
	'not preloaded, snowflake_id() says so');
$bad->stop;

$root->stop;
done_testing();
