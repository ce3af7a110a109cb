# pg_upgrade of a cluster using every generator, configured as the README
# says for every server (shared_preload_libraries = 'idgen' in the new
# cluster too): next_id of a tag, an ordered tag with its watermark, a
# hybrid tag, snowflake_id(), and a bigserial column converted to next_id.
# After the upgrade, every generator continues above every ID issued
# before, with no duplicate (a unique index over all of them), and the
# watermark does not go below the rows read before.
#
# The old cluster comes from IDGEN_UPGRADE_FROM, the bin directory of an
# older installation that has idgen installed (CI: Debian's PostgreSQL 15
# for the PostgreSQL 18 run); without it, the cluster is upgraded from the
# same installation, as PostgreSQL's own pg_upgrade test does.  So the test
# always runs.
use strict;
use warnings FATAL => 'all';
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $new = PostgreSQL::Test::Cluster->new('new');
my $from = $ENV{IDGEN_UPGRADE_FROM};
my $old =
  defined $from
  ? PostgreSQL::Test::Cluster->new('old', install_path => dirname($from))
  : PostgreSQL::Test::Cluster->new('old');
my $old_bindir = $old->config_data('--bindir');
my $new_bindir = $new->config_data('--bindir');
note("upgrading from $old_bindir to $new_bindir");

# data checksums on both sides: initdb enables them by default from
# PostgreSQL 18 on, and pg_upgrade needs both clusters alike
$old->init(extra => ['--data-checksums']);
$old->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$old->start;
$old->safe_psql('postgres', 'CREATE EXTENSION idgen');
$old->safe_psql('postgres', 'CREATE DATABASE app');
$old->safe_psql(
	'app', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('orders', region => 1000, chunk_max => 50);
	SELECT idgen.create_tag('events', ordered => true);
	SELECT idgen.create_tag('h', kind => 'hybrid');
	CREATE TABLE legacy (id bigserial PRIMARY KEY, note text);
	INSERT INTO legacy (note) SELECT 'serial' FROM generate_series(1, 300);
	SELECT idgen.convert_column('legacy', 'id');
	INSERT INTO legacy (note) SELECT 'converted' FROM generate_series(1, 300);
	CREATE TABLE events (id bigint PRIMARY KEY DEFAULT next_id('events'));
	INSERT INTO events SELECT FROM generate_series(1, 500);
	CREATE TABLE ids (gen text, id bigint, phase text, UNIQUE (gen, id));
	INSERT INTO ids SELECT 'orders', next_id('orders'), 'before' FROM generate_series(1, 2500);
	INSERT INTO ids SELECT 'h', hybrid_id('h'), 'before' FROM generate_series(1, 100);
	INSERT INTO ids SELECT 'snowflake', snowflake_id(), 'before' FROM generate_series(1, 1000);
	INSERT INTO ids SELECT 'legacy', id, 'before' FROM legacy;
	INSERT INTO ids SELECT 'events', id, 'before' FROM events;
});
# drawn and never stored: the new IDs must be above these too
my %drawn;
for my $call ([ 'orders', "next_id('orders')" ], [ 'h', "hybrid_id('h')" ],
	[ 'snowflake', 'snowflake_id()' ], [ 'legacy', "next_id('legacy')" ])
{
	$drawn{ $call->[0] } = $old->safe_psql('app',
		"SELECT max($call->[1]) FROM generate_series(1, 777)");
}
my $read_up_to = $old->safe_psql('app', "SELECT idgen.watermark('events')");
is($read_up_to, $old->safe_psql('app', 'SELECT max(id) FROM events'),
	'before the upgrade, a reader has read every event');
$old->stop;

# the new cluster, configured as the README says for every server
$new->init(extra => ['--data-checksums']);
$new->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");

my $dir = PostgreSQL::Test::Utils::tempdir;
chdir $dir;
my @upgrade = (
	"$new_bindir/pg_upgrade", '--no-sync',
	'-d', $old->data_dir, '-D', $new->data_dir,
	'-b', $old_bindir, '-B', $new_bindir,
	'-s', $new->host, '-p', $old->port, '-P', $new->port);
command_ok([ @upgrade, '--check' ], 'pg_upgrade --check');
command_ok(\@upgrade, 'pg_upgrade');
$new->start;

# what the README's "Major upgrades" says to run afterwards
$new->safe_psql($_, 'ALTER EXTENSION idgen UPDATE') for ('postgres', 'app');

$new->safe_psql(
	'app', q{
	INSERT INTO ids SELECT 'orders', next_id('orders'), 'after' FROM generate_series(1, 2500);
	INSERT INTO ids SELECT 'h', hybrid_id('h'), 'after' FROM generate_series(1, 100);
	INSERT INTO ids SELECT 'snowflake', snowflake_id(), 'after' FROM generate_series(1, 1000);
	INSERT INTO legacy (note) SELECT 'after' FROM generate_series(1, 300);
	INSERT INTO ids SELECT 'legacy', id, 'after' FROM legacy WHERE note = 'after';
	INSERT INTO events SELECT FROM generate_series(1, 500);
	INSERT INTO ids SELECT 'events', id, 'after' FROM events
	 WHERE id > (SELECT max(id) FROM ids WHERE gen = 'events');
});
is( $new->safe_psql(
		'app', q{
	SELECT string_agg(gen, ',' ORDER BY gen) FROM (
		SELECT gen FROM ids GROUP BY gen
		HAVING min(id) FILTER (WHERE phase = 'after') >
			   max(id) FILTER (WHERE phase = 'before')) s}),
	'events,h,legacy,orders,snowflake',
	'every generator continues above the IDs committed before the upgrade');
for my $gen (sort keys %drawn)
{
	cmp_ok($new->safe_psql('app',
			"SELECT min(id) FROM ids WHERE gen = '$gen' AND phase = 'after'"),
		'>', $drawn{$gen}, "$gen continues above the IDs drawn and never stored");
}
is($new->safe_psql('app', "SELECT count(*) FROM ids WHERE phase = 'after'"),
	'4400', 'no ID issued after the upgrade was issued before');
cmp_ok($new->safe_psql('app', "SELECT idgen.watermark('events')"),
	'>=', $new->safe_psql('app', 'SELECT max(id) FROM events'),
	'the watermark passes the new events, above the old ones');
cmp_ok($read_up_to, '<',
	$new->safe_psql('app', "SELECT min(id) FROM ids WHERE gen = 'events' AND phase = 'after'"),
	'so a reader\'s cursor from before the upgrade misses none of them');

$new->stop;
done_testing();
