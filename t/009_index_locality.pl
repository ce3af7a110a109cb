# Index locality: with default tag options, a primary key filled by
# DEFAULT next_id() from many concurrent sessions is as compact as a
# bigserial key filled by the same sessions in the same transactions.  The
# property is asserted on pgstattuple's pgstatindex (leaf density), not on
# time.  A tag with locality => false, whose backends each insert at their
# own place in the index, shows what the option changes.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('locality');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'idgen'
max_connections = 80
synchronous_commit = off
});
$node->start;

if (!$node->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'pgstattuple'"))
{
	plan skip_all => 'pgstattuple is not installed (postgresql-contrib)';
}

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION idgen;
	CREATE EXTENSION pgstattuple;
	SELECT idgen.create_tag('dflt');
	SELECT idgen.create_tag('chunks', locality => false);
});

my $script = $node->basedir . '/insert.sql';
PostgreSQL::Test::Utils::append_to_file(
	$script, q{
BEGIN;
INSERT INTO k_serial (n) VALUES (1);
INSERT INTO k_next_id (n) VALUES (1);
INSERT INTO k_chunks (n) VALUES (1);
COMMIT;
});

# density CLIENTS ROWS: fresh tables, CLIENTS sessions inserting ROWS rows
# in all, one row into each table per transaction; returns the leaf
# densities of the three primary keys
sub density
{
	my ($clients, $rows) = @_;

	$node->safe_psql(
		'postgres', q{
		DROP TABLE IF EXISTS k_serial, k_next_id, k_chunks;
		CREATE TABLE k_serial (id bigserial PRIMARY KEY, n int);
		CREATE TABLE k_next_id (id bigint PRIMARY KEY DEFAULT next_id('dflt'), n int);
		CREATE TABLE k_chunks (id bigint PRIMARY KEY DEFAULT next_id('chunks'), n int);
	});
	my ($out, $err) = ('', '');
	my @cmd = (
		'pgbench', '-n', '-c', $clients, '-j', '2',
		'-t', int($rows / $clients), '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres');
	ok(IPC::Run::run(\@cmd, '>', \$out, '2>', \$err),
		"$clients clients: pgbench ran without a failed client")
	  or diag($err);

	my @d = split /\|/,
	  $node->safe_psql(
		'postgres', q{
		SELECT (pgstatindex('k_serial_pkey')).avg_leaf_density,
			   (pgstatindex('k_next_id_pkey')).avg_leaf_density,
			   (pgstatindex('k_chunks_pkey')).avg_leaf_density,
			   (SELECT count(*) FROM k_next_id)});
	is($d[3], int($rows / $clients) * $clients, "$clients clients: every row inserted");
	note("$clients clients: avg_leaf_density bigserial $d[0], "
		  . "next_id $d[1], next_id with locality => false $d[2]");
	return @d;
}

foreach my $clients (8, 32)
{
	my ($serial, $next_id, $chunks) = density($clients, 40000);

	# bigserial's own density varies a little with the interleaving of
	# the sessions; next_id must not be below it by more than that
	cmp_ok($next_id, '>=', $serial - 3,
		"$clients clients: next_id's index is as dense as bigserial's "
		  . "($next_id% against $serial%)");
	cmp_ok($chunks, '<', $next_id,
		"$clients clients: per-backend chunks (locality => false) fill it less "
		  . "($chunks% against $next_id%)");
}

my ($refills, $issued) = split /\|/,
  $node->safe_psql('postgres',
	"SELECT refills, issued FROM idgen.stats WHERE tag = 'dflt'");
cmp_ok($refills, '>', 0, "refills are counted ($refills for $issued IDs)");

$node->stop;
done_testing();
