# Randomized uniqueness test of many servers: hunts for an ID issued on two
# servers, or twice on one.
#
# A root of two servers (a primary and its synchronous standby, which the
# nodes follow through a multi-host connection string), a regional node
# leasing from the root, node n1 leasing from the root and node n2 leasing
# from the regional.  pgbench inserts into a table keyed by next_id of a
# root-sourced tag on the regional, n1 and n2, in rounds of a few seconds,
# while a driver makes faults at random (bounded in number, one at a time):
#   root_restart   the root's primary stopped (immediate) and started again
#   root_failover  the primary stopped (immediate), its standby promoted, a
#                  new standby made from the new primary in the old one's place
#   root_backup    a base backup of the root's primary, for root_restore
#   root_restore   the root replaced by an older base backup (a new standby
#                  made from it): it goes back, and must heal
#   node_kill      kill -9 of a node's postmaster, then a start
#   worker_kill    kill -9 of a node's runway worker (a crash restart)
#   grant_size     alter_tag of the root's or the regional's grant size
#   tag_cycle      on n1, a second tag dropped and created again under its
#                  name, with a few rows
#   switch         once: on n1, a tag that issued IDs from its own sequence
#                  switched to source root, before n2 leases the same tag
# At the end every row of every server is collected: no ID is on two
# servers, none twice on one (the primary keys would have refused it: a
# duplicate key error fails the test too).
#
# Environment:
#   MS_DURATION  seconds of faults and load (default 60); long run: 1800
#   SEED         random seed (default: random), printed first; it replays
#                the choice of faults, not the timing
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(rmtree);
use Time::HiRes qw(time sleep);
use IdgenServers;

my $duration = $ENV{MS_DURATION} // 60;
my $seed = $ENV{SEED} // int(rand(2**31));
diag("random seed: $seed (replay with SEED=$seed MS_DURATION=$duration)");
srand($seed);

my $grace = 16;
my %faults;
my $roots = 0;

# root_server NAME PORT: a server of the root, with idgen and replication
sub root_server
{
	my ($name, $port) = @_;
	my $s = PostgreSQL::Test::Cluster->new($name, defined $port ? (port => $port) : ());
	return $s;
}

my $primary = idgen_root(
	'root0',
	init => [ allows_streaming => 1 ],
	conf => "idgen.grant_grace = $grace\nwal_keep_size = '64MB'\n",
	tags => [
		orders => 'grant_size => 2000',
		cycle => 'grant_size => 1000',
		sw => 'grant_size => 1000'
	]);
my @backups;
my $backups_made = 0;

# standby_of PRIMARY NAME PORT: a synchronous standby of the root's primary
sub standby_of
{
	my ($p, $name, $port) = @_;
	my $bk = "for_$name";
	$p->backup($bk);
	my $s = root_server($name, $port);
	$s->init_from_backup($p, $bk, has_streaming => 1);
	$s->start;
	$p->append_conf('postgresql.conf', "synchronous_standby_names = '*'");
	$p->reload;
	$p->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_stat_replication WHERE sync_state = 'sync'")
	  or die "$name did not become a synchronous standby";
	rmtree($p->backup_dir . "/$bk");
	return $s;
}
my $standby = standby_of($primary, 'root' . ++$roots);
my @root_ports = ($primary->port, $standby->port);

# root_conninfo: the root's servers, whichever is the primary
sub root_conninfo
{
	my $host = $primary->host;
	return "host=$host,$host port=$root_ports[0],$root_ports[1] dbname=ids user=idgen_node target_session_attrs=read-write";
}

# node NAME ABOVE: a node leasing orders from ABOVE (the root when undef),
# and serving it to idgen_node in its database ids
sub node
{
	my ($name, $above) = @_;
	my $n = idgen_node(
		$name,
		$above // root_conninfo(),
		conf => qq{idgen.node_database = 'ids'
idgen.runway_grants = 3
idgen.grant_grace = $grace
restart_after_crash = on
});
	serve_tags(
		$n,
		tags => [ orders => "source => 'root', region => 200, chunk_max => 20" ],
		extra => qq{
		CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'),
							 node text NOT NULL DEFAULT '$name');
});
	return wait_grants($n, 1, db => 'ids');
}
my $regional = node('regional');
$regional->safe_psql('ids', "SELECT idgen.alter_tag('orders', grant_size => 500)");
my $n1 = node('n1');
my $n2 = node('n2', $regional);
my @nodes = ($regional, $n1, $n2);

# n1: a second tag dropped and created again, and a local tag to switch
$n1->safe_psql(
	'ids', q{
	SELECT idgen.create_tag('cycle', source => 'root', region => 50, chunk_max => 10);
	CREATE TABLE cycled (id bigint PRIMARY KEY, gen int NOT NULL);
	SELECT idgen.create_tag('sw', region => 50, chunk_max => 10);
	CREATE TABLE sw (id bigint PRIMARY KEY DEFAULT next_id('sw'), node text NOT NULL DEFAULT 'n1');
	INSERT INTO sw SELECT FROM generate_series(1, 100);
});

# load: a pgbench round per node at a time
my %load;
my $dup_errors = '';
my $rounds = 0;

# load_round NODE: a round of inserts on a node, started
sub load_round
{
	my ($n) = @_;
	$rounds++;
	return pgbench_start($n, 'ids', 'insert.sql',
		"INSERT INTO orders DEFAULT VALUES;\n",
		'-c', 2, '-j', 1, '-T', 3 + int(rand(4)));
}

# pump_load: finish the rounds that ended, and start new ones
sub pump_load
{
	pump_rounds(
		\%load, \@nodes,
		\&load_round,
		sub {
			my ($l) = @_;
			$dup_errors .= ${ $l->{err} } if ${ $l->{err} } =~ /duplicate key/;
		});
}

# settle SECONDS: keep the load going for a while
sub settle
{
	my ($secs) = @_;
	my $until = time + $secs;
	while (time < $until)
	{
		pump_load();
		sleep 0.2;
	}
}

# wait_load_done: let every round end
sub wait_load_done
{
	for my $l (values %load)
	{
		$l->{h}->finish;
		$dup_errors .= ${ $l->{err} } if ${ $l->{err} } =~ /duplicate key/;
	}
	%load = ();
}

# the faults
my %fault = (
	root_restart => sub {
		$primary->stop('immediate');
		$primary->start;
	},
	root_failover => sub {
		my $old = $primary;
		$old->stop('immediate');
		$standby->promote;
		($primary, $standby) = ($standby, undef);
		$standby = standby_of($primary, 'root' . ++$roots, $old->port);
		rmtree($old->data_dir);
	},
	root_backup => sub {
		my $bk = 'older' . ++$backups_made;
		$primary->backup($bk);
		push @backups, [ $primary, $bk ];
		# the three latest are enough to go back with
		while (@backups > 3)
		{
			my ($from, $gone) = @{ shift @backups };
			rmtree($from->backup_dir . "/$gone");
		}
	},
	root_restore => sub {
		return 0 unless @backups;
		my ($from, $bk) = @{ $backups[ int(rand(@backups)) ] };
		my ($pport, $sport) = ($primary->port, $standby->port);
		$standby->stop('immediate');
		$primary->stop('immediate');
		my @gone = ($primary, $standby);
		$primary = root_server('root' . ++$roots, $pport);
		$primary->init_from_backup($from, $bk);
		$primary->start;
		$standby = standby_of($primary, 'root' . ++$roots, $sport);
		rmtree($_->data_dir) for @gone;
	},
	node_kill => sub {
		my $n = $nodes[ int(rand(@nodes)) ];
		kill 'KILL', $n->{_pid};
		$n->{_pid} = undef;
		# its children leave on their own; until then it cannot start
		my $started = 0;
		for (1 .. 60)
		{
			$started = PostgreSQL::Test::Utils::system_log('pg_ctl', '-w', '-D',
				$n->data_dir, '-l', $n->logfile, 'start') == 0
			  and last;
			sleep 0.5;
		}
		die 'node ' . $n->name . ' did not start after kill -9' unless $started;
		$n->_update_pid(1);
	},
	worker_kill => sub {
		my $n = $nodes[ int(rand(@nodes)) ];
		my $pid = $n->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE backend_type = 'idgen runway worker'");
		return 0 unless $pid;
		kill 'KILL', $pid;
		# the node restarts after the crash; psql may find it gone meanwhile
		my $until = time + 120;
		until (eval { $n->safe_psql('postgres', 'SELECT 1') eq '1' })
		{
			die 'node ' . $n->name . ' did not come back' if time > $until;
			sleep 0.5;
		}
	},
	grant_size => sub {
		my $size = (500, 1000, 5000)[ int(rand(3)) ];
		my $on = rand() < 0.5 ? $primary : $regional;
		$on->safe_psql('ids', "SELECT idgen.alter_tag('orders', grant_size => $size)");
	},
	tag_cycle => sub {
		my $gen = ($n1->safe_psql('ids', 'SELECT coalesce(max(gen), 0) FROM cycled')) + 1;
		$n1->safe_psql('ids', "SELECT idgen.drop_tag('cycle')");
		$n1->safe_psql('ids',
			"SELECT idgen.create_tag('cycle', source => 'root', region => 50, chunk_max => 10)");
		# a claim fails at once while the runway finds the root unreachable
		# (after a root fault, until its next attempt, within 10 s): insert
		# again until the new tag leases
		my ($ret, $out, $err);
		my $until = time + 60;
		for (;;)
		{
			($ret, $out, $err) = $n1->psql('ids',
				"INSERT INTO cycled SELECT next_id('cycle'), $gen FROM generate_series(1, 30)");
			$dup_errors .= $err if $err =~ /duplicate key/;
			last if $ret == 0 || time > $until;
			sleep 0.5;
		}
		diag("tag_cycle $gen: the insert still fails after 60 s: $err") if $ret != 0;
	},
);
# at most this many of each per minute of MS_DURATION
my %per_minute = (
	root_restart => 2, root_failover => 1, root_backup => 2, root_restore => 1,
	node_kill => 3, worker_kill => 2, grant_size => 3, tag_cycle => 3);
my %limit = map { $_ => int($per_minute{$_} * $duration / 60 + 0.999) } keys %per_minute;

my $start = time;
settle(3);

# the switch, before n2 leases sw: n1's local IDs are adopted
$n1->safe_psql('ids', "SELECT idgen.alter_tag('sw', source => 'root')");
$n1->safe_psql('ids', 'INSERT INTO sw SELECT FROM generate_series(1, 100)');
# the tag on the regional root first, as the README says: a node whose
# runway asked before its root had the tag was refused, and its claims fail
# until the runway, backing off, asks again
$regional->safe_psql('ids', "SELECT idgen.create_tag('sw', source => 'root'); GRANT USAGE ON SEQUENCE idgen_seq.sw TO idgen_node");
$n2->safe_psql(
	'ids', q{
	SELECT idgen.create_tag('sw', source => 'root', region => 50, chunk_max => 10);
	CREATE TABLE sw (id bigint PRIMARY KEY DEFAULT next_id('sw'), node text NOT NULL DEFAULT 'n2');
});
$n2->safe_psql('ids', 'INSERT INTO sw SELECT FROM generate_series(1, 100)');
$faults{switch} = 1;

while (time - $start < $duration)
{
	my @open = grep { ($faults{$_} // 0) < $limit{$_} } sort keys %limit;
	last unless @open;
	my $f = $open[ int(rand(@open)) ];
	my $done = $fault{$f}->();
	$faults{$f}++ unless defined $done && $done eq '0';
	settle(1 + rand(3));
}

# let every node lease again, then a last round of load
wait_load_done();
for my $n (@nodes)
{
	$n->poll_query_until('ids',
		"SELECT state = 'leasing' FROM idgen.runway WHERE tag = 'orders'")
	  or diag($n->name . ' does not lease: '
		  . $n->safe_psql('ids', "SELECT state, last_error FROM idgen.runway"));
}
settle(3);
wait_load_done();

diag('faults: ' . join(', ', map { "$_ $faults{$_}" } sort keys %faults));
diag("pgbench rounds: $rounds");

is($dup_errors, '', 'no insert met a duplicate key');

# every row of every server, for each tag
for my $table (qw(orders sw cycled))
{
	my %seen;
	my $dups = 0;
	my $rows = 0;
	for my $n (@nodes)
	{
		my $has = $n->safe_psql('ids', "SELECT to_regclass('$table') IS NOT NULL");
		next unless $has eq 't';
		my @ids = ids($n, 'ids', "SELECT id FROM $table");
		$rows += @ids;
		$dups += count_repeats(\%seen, @ids);
	}
	diag("$table: $rows rows");
	cmp_ok($rows, '>', 0, "rows of $table were inserted");
	is($dups, 0, "no ID of $table is on two servers");
}

$_->stop for @nodes;
$standby->stop;
$primary->stop;
done_testing();
