# Many servers with a root that fails over by itself: three etcd members
# (Raft) and a root of three PostgreSQL servers managed by Patroni
# (synchronous_mode), each preloading idgen.  Two nodes follow the root's
# leader through a multi-host idgen.root and insert under pgbench load
# while the test kills the leader's postmaster (kill -9), then the
# leader's Patroni (kill -9: its PostgreSQL is left running, a primary
# cut off from its synchronous standby that can commit nothing), waits for
# the new leader, kills that one's Patroni too, and at last stops the
# whole root for longer than a round of the runway worker and brings it
# back.  At the end: no ID on two servers (the root inserts too), no error
# on a node, every grant a node holds is in the final leader's ledger, and
# grants lie above every earlier one.  The nodes lease their snowflake node
# ids ('auto'): the final leader's registry holds the rows the first one
# made (never recorded again from a node's report), and the nodes hold
# their ids and issue snowflake IDs with them.
#
# make test installs patroni and etcd-server (tools/common.sh,
# ensure_patroni) and sets IDGEN_PATRONI_REQUIRED=1, so that their absence
# fails; run by hand without it, their absence skips the test.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time sleep);
use IdgenServers;

my $required = $ENV{IDGEN_PATRONI_REQUIRED} // 0;
for my $tool (qw(patroni etcd curl))
{
	next if system("command -v $tool >/dev/null 2>&1") == 0;
	die "$tool is not installed" if $required;
	plan skip_all => "$tool is not installed (Debian packages patroni, etcd-server, curl)";
}

my $base = "$PostgreSQL::Test::Utils::tmp_check/t_309_patroni";
mkdir $base;
my $user = getpwuid($<);
my @nodes;			# the nodes, once they run
my $bindir = `pg_config --bindir`;
chomp $bindir;
my $port = \&PostgreSQL::Test::Cluster::get_free_port;

# spawn NAME COMMAND: a daemon of the test, its output in NAME.log; its pid
sub spawn
{
	my ($name, $cmd) = @_;
	system("sh -c '$cmd > $base/$name.log 2>&1 & echo \$! > $base/$name.pid'") == 0
	  or die "could not start $name";
	my $pid = slurp_file("$base/$name.pid");
	chomp $pid;
	return $pid;
}

# etcd: three members
my @etcd = map { { name => "e$_", client => $port->(), peer => $port->() } } 1 .. 3;
my $initial = join ',', map { "$_->{name}=http://127.0.0.1:$_->{peer}" } @etcd;
for my $e (@etcd)
{
	$e->{pid} = spawn($e->{name},
		"etcd --name $e->{name} --data-dir $base/$e->{name}"
		  . " --listen-client-urls http://127.0.0.1:$e->{client}"
		  . " --advertise-client-urls http://127.0.0.1:$e->{client}"
		  . " --listen-peer-urls http://127.0.0.1:$e->{peer}"
		  . " --initial-advertise-peer-urls http://127.0.0.1:$e->{peer}"
		  . " --initial-cluster $initial --initial-cluster-state new"
		  . " --initial-cluster-token idgen-test");
}
my $etcd_hosts = join ',', map { "127.0.0.1:$_->{client}" } @etcd;

# the root: three Patroni members
my @root = map { { name => "r$_", pg => $port->(), api => $port->() } } 1 .. 3;
for my $r (@root)
{
	open my $fh, '>', "$base/$r->{name}.yml" or die $!;
	print $fh <<YML;
scope: idgen-root
name: $r->{name}
restapi:
  listen: 127.0.0.1:$r->{api}
  connect_address: 127.0.0.1:$r->{api}
etcd3:
  hosts: $etcd_hosts
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      parameters:
        shared_preload_libraries: idgen
        idgen.grant_grace: 20
        idgen.snowflake_node_id_lease: 8s
        wal_log_hints: 'on'
  initdb:
    - encoding: UTF8
    - auth: trust
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$r->{pg}
  connect_address: 127.0.0.1:$r->{pg}
  data_dir: $base/$r->{name}
  bin_dir: $bindir
  pgpass: $base/$r->{name}.pgpass
  authentication:
    superuser:
      username: $user
    replication:
      username: $user
  parameters:
    unix_socket_directories: '$base'
YML
	close $fh;
}

# start_member R: Patroni of a member
sub start_member
{
	my ($r) = @_;
	$r->{pid} = spawn($r->{name}, "patroni $base/$r->{name}.yml");
}
start_member($_) for @root;

# psql_on PORT SQL: run SQL on a server of the root (database ids); the
# result, or undef on error
sub psql_on
{
	my ($p, $sql, $db) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-XAtq', '-h', '127.0.0.1', '-p', $p, '-d', $db // 'ids',
		'-v', 'ON_ERROR_STOP=1', '-c', $sql ], '>', \$out, '2>', \$err)
	  or return undef;
	chomp $out;
	return $out;
}

# psql_up PORT, SQL: psql_on, retried for up to two minutes while the
# server is not up (a member Patroni is still starting, or rewinding)
sub psql_up
{
	my ($p, $sql) = @_;
	my $until = time + 120;
	while (1)
	{
		my $out = psql_on($p, $sql);
		return $out if defined $out;
		die "the server on port $p does not answer" if time > $until;
		nap(1);
	}
}

# leader: the member that holds Patroni's leader lock, waiting for one
sub leader
{
	my $until = time + 120;
	while (time < $until)
	{
		for my $r (@root)
		{
			my $code = `curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$r->{api}/leader`;
			return $r if $code eq '200';
		}
		nap(0.5) if @nodes;
		sleep 0.5 unless @nodes;
	}
	die 'no leader';
}

my $leader = leader();
psql_on($leader->{pg}, 'CREATE DATABASE ids', 'postgres') // die 'no database';
psql_on(
	$leader->{pg},
	root_sql(
		tags => [ orders => 'grant_size => 1000000' ],
		extra => q{
	GRANT EXECUTE ON FUNCTION idgen.lease_node_id TO idgen_node;
	CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'));
})) // die 'no tag on the root';

# the nodes, following the leader wherever it is
my $hosts = join ',', map { '127.0.0.1' } @root;
my $ports = join ',', map { $_->{pg} } @root;
for my $name (qw(eu-1 us-1))
{
	my $n = idgen_node(
		$name,
		"host=$hosts port=$ports dbname=ids user=idgen_node target_session_attrs=read-write",
		conf => "idgen.snowflake_node_id = 'auto'\nidgen.runway_grants = 3\n",
		grants => 3,
		sql => node_sql(tag => 'region => 1000', table => ''));
	$n->poll_query_until('postgres', "SELECT state = 'leased' FROM idgen.snowflake_node")
	  or die "$name leased no node id";
	push @nodes, $n;
}
# the registry as the first leader made it
my $node_ids_sql = "SELECT string_agg(node || ' ' || node_id || ' ' || leased_at, ', ' ORDER BY node) FROM idgen.node_ids";
my $registry = psql_on($leader->{pg}, $node_ids_sql);

# the load: rounds of pgbench on each node, kept going by nap()
my %load;
my $errors = '';

# pump_load: finish the rounds that ended, and start new ones
sub pump_load
{
	pump_rounds(
		\%load, \@nodes,
		sub {
			pgbench_start($_[0], 'postgres', 'insert.sql',
				"INSERT INTO orders DEFAULT VALUES;\n",
				'-c', 2, '-j', 1, '-T', 5);
		},
		sub { $errors .= ${ $_[0]->{err} } });
}

# nap SECONDS: wait, keeping the load going
sub nap
{
	my ($secs) = @_;
	my $until = time + $secs;
	do { pump_load(); sleep 0.2 } while (time < $until);
}

# root_insert N: rows inserted on the root's leader itself
my $root_rows = 0;
sub root_insert
{
	my ($n) = @_;
	my $l = leader();
	my $until = time + 60;
	until (defined psql_on($l->{pg},
			"INSERT INTO orders SELECT FROM generate_series(1, $n)"))
	{
		die 'the root does not insert' if time > $until;
		nap(1);
		$l = leader();
	}
	$root_rows += $n;
}

# new_leader OLD: wait until another member than OLD leads
sub new_leader
{
	my ($old) = @_;
	my $until = time + 120;
	while (time < $until)
	{
		my $l = leader();
		return $l if $l != $old;
		nap(0.5);
	}
	die 'no new leader';
}

nap(5);
root_insert(500);
my $failovers = 0;

# 1. kill -9 of the leader's postmaster: Patroni restarts or replaces it
my ($pm) = split /\n/, slurp_file("$base/$leader->{name}/postmaster.pid");
kill 'KILL', $pm;
nap(15);
$leader = leader();
root_insert(500);

# 2. kill -9 of the leader's Patroni, then of the new leader's: their
# PostgreSQL runs on, a primary cut off from its synchronous standby
my @orphans;
my @taken_over;
for (1 .. 2)
{
	my $orphan = $leader;
	kill 'KILL', $orphan->{pid};
	$orphan->{killed_at} = psql_on($orphan->{pg}, 'SELECT now()');
	push @orphans, $orphan;
	$leader = new_leader($orphan);
	$failovers++;
	# what the new leader's ledger holds when it takes over
	push @taken_over, [ split /\n/,
		psql_on($leader->{pg}, 'SELECT range FROM idgen.grants ORDER BY range') // '' ];
	root_insert(500);
	nap(10);
}

# 3. the whole root down for longer than a round of the worker, then back
for my $r (@root)
{
	kill 'TERM', $r->{pid} unless grep { $_ == $r } @orphans;
}
nap(3);
for my $r (@root)
{
	system('pg_ctl', '-D', "$base/$r->{name}", '-m', 'immediate', 'stop');
}
for my $n (@nodes)
{
	$n->poll_query_until('postgres',
		"SELECT state = 'unreachable' FROM idgen.runway WHERE tag = 'orders'")
	  or die $n->name . ' does not see the root down';
}
nap(5);
start_member($_) for @root;
$leader = leader();
root_insert(500);
for my $n (@nodes)
{
	my $until = time + 120;
	until ($n->safe_psql('postgres',
			"SELECT state = 'leasing' AND grants_held >= 2 FROM idgen.runway WHERE tag = 'orders'") eq 't')
	{
		die $n->name . ' does not lease again' if time > $until;
		nap(1);
	}
}

# the load ends
for my $l (values %load)
{
	$l->{h}->finish;
	$errors .= ${ $l->{err} };
}
is($errors, '', 'no node reported an error while its runway lasted');

my %seen;
my $dups = 0;
my %rows;
for my $n (@nodes)
{
	my @ids = ids($n);
	$rows{ $n->name } += @ids;
	$dups += count_repeats(\%seen, @ids);
}
my @root_ids = split /\n/, psql_on($leader->{pg}, 'SELECT id FROM orders');
$rows{root} += @root_ids;
$dups += count_repeats(\%seen, @root_ids);
diag("failovers: $failovers, rows: " . join(', ', map { "$_ $rows{$_}" } sort keys %rows));
is($dups, 0, 'no ID is on two servers');
is($rows{root}, $root_rows, 'every row of the root committed');

# every grant a node holds is in the final leader's ledger
my %ledger = map { $_ => 1 } split /\n/,
  psql_on($leader->{pg}, "SELECT node || ' ' || range FROM idgen.grants WHERE kind IN ('grant', 'healed')");
my $missing = 0;
for my $n (@nodes)
{
	for my $g (split /\n/,
		$n->safe_psql('postgres', "SELECT range FROM idgen.leases WHERE kind = 'grant'"))
	{
		$missing++ unless $ledger{ $n->name . " $g" };
	}
}
is($missing, 0, "the final leader's ledger holds every grant the nodes hold");
# the orphans granted nothing the quorum does not have
for my $o (@orphans)
{
	my $outside = 0;
	for my $g (split /\n/,
		psql_up($o->{pg}, "SELECT node || ' ' || range FROM idgen.grants WHERE kind = 'grant'"))
	{
		$outside++ unless $ledger{$g};
	}
	is($outside, 0, "every grant of the orphaned primary $o->{name} is in the final ledger");
}

# a new leader's grants lie above every grant it found at its takeover
my $below = 0;
my %final = map { $_ => 1 } split /\n/, psql_on($leader->{pg}, 'SELECT range FROM idgen.grants');
for my $snapshot (@taken_over)
{
	my %had = map { $_ => 1 } @$snapshot;
	my ($top) = sort { $b <=> $a } map { /,(\d+)\)/ ? $1 : 0 } @$snapshot;
	$top //= 0;
	for my $g (keys %final)
	{
		next if $had{$g};
		my ($lo) = $g =~ /\[(\d+),/;
		$below++ if $lo < $top;
	}
}
is($below, 0, 'every grant after a failover lies above every grant before it');
is( psql_on(
		$leader->{pg}, q{
	SELECT count(*) FROM idgen.grants x JOIN idgen.grants y
		ON x.range && y.range AND x.ctid <> y.ctid}),
	0,
	'grants never overlap');

# the registry survived every failover, and the nodes issue with their ids
is(psql_on($leader->{pg}, $node_ids_sql), $registry,
	"the final leader's registry of node ids is the first leader's");
for my $n (@nodes)
{
	$n->poll_query_until('postgres', "SELECT state = 'leased' FROM idgen.snowflake_node")
	  or die $n->name . ' holds no node id';
	my $id = $n->safe_psql('postgres', 'SELECT node_id FROM idgen.snowflake_node');
	like($registry, qr/\b\Q@{[ $n->name ]}\E $id\b/, $n->name . " holds the node id of its row ($id)");
	is( $n->safe_psql('postgres',
			"SELECT bool_and(p.node = $id) FROM generate_series(1, 100), idgen.snowflake_parse(snowflake_id()) p"),
		't', $n->name . ' issues snowflake IDs with it');
}
for my $n (@nodes)
{
	$n->stop;
}
for my $r (@root)
{
	kill 'TERM', $r->{pid};
}
sleep 3;
for my $r (@root)
{
	system('pg_ctl', '-D', "$base/$r->{name}", '-m', 'immediate', 'stop');
}
kill 'TERM', $_->{pid} for @etcd;
done_testing();
