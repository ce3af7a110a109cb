# Behind PgBouncer in transaction mode (README, "Connection poolers"):
# 20 clients share 5 server connections, so that each client's
# transactions run on whichever backend is free.
#
# - next_id, snowflake_id() and hybrid_id insert through the pooler
#   (pgbench, simple and extended protocol) with no error, every ID
#   distinct;
# - the README's watermark reader (its Python block, run as written by
#   t/clients/readme_watermark.py, psycopg 3) reads every row of an ordered
#   tag exactly once through the pooler while 20 clients insert;
# - the same reader without its prepare_threshold=None fails there: psycopg
#   prepares the repeated poll on one server connection, and the pooler
#   sends the next run to another (server_round_robin, so that it does
#   every time, not by chance).
#
# make test installs Debian's pgbouncer (tools/common.sh, ensure_pgbouncer)
# and sets IDGEN_PGBOUNCER_REQUIRED=1, so a missing one fails; so does a
# missing psycopg 3 with IDGEN_CLIENTS_REQUIRED=1 (ensure_clients).  Run by
# hand without them, what is missing is skipped with the reason.
# IDGEN_PGBOUNCER names another pgbouncer binary.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $here = abs_path(dirname(__FILE__));
my $readme = "$here/../README.md";
my $python = '/usr/bin/python3';
my ($pgbouncer) =
  grep { -x $_ } ($ENV{IDGEN_PGBOUNCER} // (), '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer');

if (!defined $pgbouncer)
{
	plan skip_all => 'pgbouncer is not installed' unless $ENV{IDGEN_PGBOUNCER_REQUIRED};
	fail('pgbouncer is not installed (IDGEN_PGBOUNCER_REQUIRED is set)');
	done_testing();
	exit;
}

my $node = PostgreSQL::Test::Cluster->new('pooled');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'idgen'
idgen.snowflake_database = 'bouncer'
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE bouncer');
$node->safe_psql(
	'bouncer', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('seg');
	SELECT idgen.create_tag('hyb', kind => 'hybrid');
	SELECT idgen.create_tag('events', ordered => true);
	CREATE TABLE seg (id bigint PRIMARY KEY DEFAULT next_id('seg'), item text);
	CREATE TABLE snow (id bigint PRIMARY KEY DEFAULT snowflake_id(), item text);
	CREATE TABLE hyb (id bigint PRIMARY KEY DEFAULT hybrid_id('hyb'), item text);
	CREATE TABLE events (id bigint PRIMARY KEY DEFAULT next_id('events'), payload jsonb);
});
my $user = $node->safe_psql('postgres', 'SELECT current_user');

# pgbouncer on a port of its own, in transaction mode, in front of the
# cluster's socket; trust, as the cluster's own authentication is
my $dir = PostgreSQL::Test::Utils::tempdir;
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $pool_size = 5;
my $clients = 20;
PostgreSQL::Test::Utils::append_to_file("$dir/userlist.txt", qq{"$user" ""\n});
PostgreSQL::Test::Utils::append_to_file(
	"$dir/pgbouncer.ini", qq{
[databases]
bouncer = host=@{[ $node->host ]} port=@{[ $node->port ]} dbname=bouncer

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 100
server_round_robin = 1
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
});
my ($bouncer_out, $bouncer_err) = ('', '');
my $bouncer = IPC::Run::start([ $pgbouncer, "$dir/pgbouncer.ini" ],
	'>', \$bouncer_out, '2>', \$bouncer_err);

# through SQL: psql's result through the pooler, or undef on an error
sub through
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[
			'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1',
			'-p', $port, '-U', $user, '-d', 'bouncer', '-c', $sql
		],
		'>', \$out, '2>', \$err);
	chomp $out;
	return $ok ? $out : undef;
}

# the pooler accepts connections once it has read its configuration
my $up;
foreach (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
{
	last if defined($up = through('SELECT 1'));
	usleep(100_000);
}
is($up, '1', 'pgbouncer in transaction mode answers')
  or diag(slurp_file("$dir/pgbouncer.log"));

# pgbench through the pooler: ROUNDS transactions per client, one row into
# each table
my $rounds = 50;
PostgreSQL::Test::Utils::append_to_file(
	"$dir/insert.sql", q{
INSERT INTO seg (item) VALUES ('x');
INSERT INTO snow (item) VALUES ('x');
INSERT INTO hyb (item) VALUES ('x');
});
foreach my $protocol ('simple', 'extended')
{
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[
			'pgbench', '-n', '-M', $protocol, '-c', $clients, '-j', '2',
			'-t', $rounds, '-f', "$dir/insert.sql", '-h', '127.0.0.1',
			'-p', $port, '-U', $user, 'bouncer'
		],
		'>', \$out, '2>', \$err);
	ok($ok, "pgbench -M $protocol, $clients clients through the pooler: no error")
	  or diag("$out\n$err");
}
my $rows = 2 * $clients * $rounds;
foreach my $table ('seg', 'snow', 'hyb')
{
	is($node->safe_psql('bouncer', "SELECT count(*), count(DISTINCT id) FROM $table"),
		"$rows|$rows", "$table: $rows rows through the pooler, every ID distinct");
}
# the clients really shared server connections: no more backends of the
# database than the pool holds
my $backends = $node->safe_psql('bouncer',
	"SELECT count(*) FROM pg_stat_activity WHERE datname = 'bouncer' AND pid <> pg_backend_pid()");
ok($backends >= 2 && $backends <= $pool_size,
	"$clients clients were served by $backends server connections");

# the README's watermark reader, through the pooler
SKIP:
{
	my $missing =
	  !-x $python ? "$python is not installed"
	  : !IPC::Run::run([ $python, '-c', 'import psycopg' ], '>', \my $o, '2>', \my $e)
	  ? 'python3 module psycopg (psycopg 3) is not installed'
	  : undef;
	if (defined $missing)
	{
		skip $missing, 3 unless $ENV{IDGEN_CLIENTS_REQUIRED};
		fail("README's watermark reader: $missing") foreach 1 .. 3;
		last SKIP;
	}
	local $ENV{PGHOST} = '127.0.0.1';
	local $ENV{PGPORT} = $port;
	local $ENV{PGDATABASE} = 'bouncer';
	local $ENV{PGUSER} = $user;
	local $ENV{PYTHONDONTWRITEBYTECODE} = 1;
	my $reader_cmd = [ $python, "$here/clients/readme_watermark.py", $readme ];

	# the reader polls while 20 clients insert, until it has read them all
	my $events = $clients * $rounds;
	my ($out, $err) = ('', '');
	my $reader = IPC::Run::start([ @$reader_cmd, $events ],
		'>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	# writers start once the reader polls, and take a few milliseconds a
	# transaction, so that it polls while they commit
	$reader->pump until $out =~ /^poll 3$/m || !$reader->pumpable;
	PostgreSQL::Test::Utils::append_to_file("$dir/events.sql",
		qq{INSERT INTO events (payload) VALUES ('{}');\n\\sleep 5 ms\n});
	my ($bout, $berr) = ('', '');
	IPC::Run::run(
		[
			'pgbench', '-n', '-c', $clients, '-j', '2', '-t', $rounds,
			'-f', "$dir/events.sql", '-h', '127.0.0.1', '-p', $port,
			'-U', $user, 'bouncer'
		],
		'>', \$bout, '2>', \$berr) or diag("pgbench:\n$bout\n$berr");
	my $ok = eval { $reader->finish };
	my ($result) = $out =~ /^(rows .*)$/m;
	$result //= '(no result)';
	my $sum = $node->safe_psql('bouncer', 'SELECT count(*), sum(id) FROM events');
	my ($count, $total) = split /\|/, $sum;
	ok( $ok && $count == $events,
		"the README's watermark reader through the pooler, while $clients clients insert: $result")
	  or diag("reader:\n$out\n$err" . ($@ // ''));
	like($result, qr/^rows $events distinct $events sum $total polls \d+$/,
		"... it read every committed row exactly once");

	# without prepare_threshold=None, the poll is prepared on one server
	# connection and run again on another
	($out, $err) = ('', '');
	my $failed = !IPC::Run::run([ @$reader_cmd, $events + 1, '--without-prepare-threshold', '--polls', 50 ],
		'>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	ok( $failed && $err =~ /prepared statement "[^"]+" does not exist/,
		"the same reader without prepare_threshold=None fails behind the pooler")
	  or diag("reader:\n$out\n$err");
	note("its error: " . ($err =~ /(\S*prepared statement[^\n]*)/ ? $1 : $err));
}

$bouncer->kill_kill;
$node->stop;
done_testing();
