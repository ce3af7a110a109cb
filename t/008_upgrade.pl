# ALTER EXTENSION idgen UPDATE from every earlier version yields the same
# objects as a fresh CREATE EXTENSION (compared as pg_dump --binary-upgrade
# writes them: every member, its definition, comment and privileges); each
# version's script runs against the current C library; and on a database
# with tags in use, IDs continue above those issued before the update.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$node->start;

my $default = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'idgen'");
my @versions = grep { $_ ne $default } split /\n/,
  $node->safe_psql('postgres',
	"SELECT version FROM pg_available_extension_versions WHERE name = 'idgen' ORDER BY version");
ok(@versions > 0, "earlier versions to update from: @versions");

# members: the extension's objects as pg_dump --binary-upgrade lists them,
# without OIDs and the version
sub members
{
	my ($db) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(
		[
			'pg_dump', '--schema-only', '--binary-upgrade', '--no-owner',
			'-d', $node->connstr($db)
		],
		'>', \$out, '2>', \$err)
	  or die "pg_dump failed: $err";
	$out =~ s/^.*binary_upgrade_set_next_.*\n//mg;
	$out =~ s/^.*binary_upgrade_create_empty_extension.*\n//mg;
	$out =~ s/^--.*\n//mg;
	# what differs between any two databases: session tokens (18), frozen
	# xids and OIDs of the relations
	$out =~ s/^\\(?:un)?restrict .*\n//mg;
	$out =~ s/relfrozenxid = '\d+'/relfrozenxid = ''/g;
	$out =~ s/WHERE oid = '\d+'/WHERE oid = ''/g;
	return $out;
}

$node->safe_psql('postgres', "CREATE DATABASE fresh");
$node->safe_psql('fresh', "CREATE EXTENSION idgen");
my $fresh = members('fresh');

for my $v (@versions)
{
	my $db = "from_" . ($v =~ s/\W/_/gr);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION idgen VERSION '$v'");
	$node->safe_psql($db, "ALTER EXTENSION idgen UPDATE");
	is($node->safe_psql($db,
			"SELECT extversion FROM pg_extension WHERE extname = 'idgen'"),
		$default, "$v updated to $default");
	is(members($db), $fresh,
		"$v updated to $default has the objects of a fresh $default");
	$node->safe_psql('postgres', "DROP DATABASE $db");
}

# tags in use across the update: IDs continue above those issued before
# the snowflake lease is kept in database postgres (idgen.snowflake_database)
$node->safe_psql('postgres', "CREATE EXTENSION idgen");
$node->safe_psql('postgres', "CREATE DATABASE inuse");
$node->safe_psql(
	'inuse', qq{
	CREATE EXTENSION idgen VERSION '$versions[0]';
	SELECT idgen.create_tag('orders', region => 100, chunk_max => 10);
	SELECT idgen.create_tag('events', kind => 'hybrid');
	CREATE TABLE ids (gen text, id bigint, phase text, UNIQUE (gen, id));
	INSERT INTO ids SELECT 'orders', next_id('orders'), 'before' FROM generate_series(1, 250);
	INSERT INTO ids SELECT 'events', hybrid_id('events'), 'before' FROM generate_series(1, 5);
	INSERT INTO ids SELECT 'snowflake', snowflake_id(), 'before' FROM generate_series(1, 5);
});
$node->safe_psql('inuse', "ALTER EXTENSION idgen UPDATE");
$node->safe_psql(
	'inuse', q{
	INSERT INTO ids SELECT 'orders', next_id('orders'), 'after' FROM generate_series(1, 250);
	INSERT INTO ids SELECT 'events', hybrid_id('events'), 'after' FROM generate_series(1, 5);
	INSERT INTO ids SELECT 'snowflake', snowflake_id(), 'after' FROM generate_series(1, 5);
});
is( $node->safe_psql(
		'inuse', q{
	SELECT string_agg(gen, ',' ORDER BY gen) FROM (
		SELECT gen FROM ids GROUP BY gen
		HAVING min(id) FILTER (WHERE phase = 'after') >
			   max(id) FILTER (WHERE phase = 'before')) s}),
	'events,orders,snowflake',
	'every generator continues above the IDs issued before the update');

$node->stop;
done_testing();
