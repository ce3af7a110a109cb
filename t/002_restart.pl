# After a clean restart, an immediate shutdown, and a backend killed with
# SIGKILL under load, every new ID is above every ID issued before.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('restart');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$node->append_conf('postgresql.conf', "restart_after_crash = on");
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('orders', region => 1000, chunk_max => 100);
	CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders'),
						 phase text);
});

# insert_phase: insert rows of a phase from several sessions at once
sub insert_phase
{
	my ($phase) = @_;
	my @sessions;
	for my $i (1 .. 3)
	{
		push @sessions,
		  $node->background_psql('postgres', on_error_stop => 1);
	}
	for my $s (@sessions)
	{
		$s->query_safe(
			"INSERT INTO orders (phase) SELECT '$phase' FROM generate_series(1, 500)"
		);
	}
	$_->quit for @sessions;
}

# check_above: every ID of a phase is above every ID of the earlier ones
sub check_above
{
	my ($phase, $what) = @_;
	my $res = $node->safe_psql(
		'postgres', qq{
		SELECT count(*), count(DISTINCT id),
			   min(id) FILTER (WHERE phase = '$phase') >
			   max(id) FILTER (WHERE phase <> '$phase')
		  FROM orders});
	my ($n, $distinct, $above) = split /\|/, $res;
	is($n, $distinct, "$what: all IDs distinct");
	is($above, 't', "$what: new IDs are above all earlier ones");
}

insert_phase('before');

# a session with a cached chunk that is never returned
my $idle = $node->background_psql('postgres', on_error_stop => 1);
$idle->query_safe("SELECT next_id('orders')");

$node->restart;
insert_phase('after_restart');
check_above('after_restart', 'clean restart');

$node->stop('immediate');
$node->start;
insert_phase('after_immediate');
check_above('after_immediate', 'immediate shutdown');

# SIGKILL of a backend under load makes the postmaster reinitialise
# shared memory; the cached chunks and pools are lost, never reissued.
my $script = $node->basedir . '/insert.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	"INSERT INTO orders (phase) VALUES ('load');\n");
my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '4', '-T', '60', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	"SELECT count(*) > 200 FROM orders WHERE phase = 'load'")
  or die "the load did not start";
my $victim = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity
	   WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
		 AND query LIKE 'INSERT%' LIMIT 1}
);
ok(kill('KILL', $victim), "killed backend $victim with SIGKILL");
$pgbench->finish;
$node->poll_query_until('postgres', 'SELECT true')
  or die "the server did not come back";
insert_phase('after_kill');
check_above('after_kill', 'backend killed under load');

my $lost = $node->safe_psql('postgres',
	"SELECT high_water_mark - (SELECT count(*) FROM orders) FROM idgen.stats");
cmp_ok($lost, '>=', 0, "high-water mark covers every ID ($lost not committed)");

$node->stop;
done_testing();
