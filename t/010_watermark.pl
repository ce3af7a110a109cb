# idgen.watermark() of an ordered tag, under load and across a crash.
#
# 1. Eight writers insert with DEFAULT next_id() and commit (or roll back)
#    after random delays, so that transactions commit out of ID order; a
#    reader polls as the README says: w := watermark, then (in a later
#    statement) the rows with last < id <= w, then last := w.  At the end
#    the reader has seen every committed row exactly once.  How far the
#    watermark trails the highest visible ID is reported, not asserted.
# 2. After an immediate shutdown the watermark starts above every ID issued
#    before, except that a prepared transaction from before the crash holds
#    it until it is committed.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('watermark');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'idgen'
max_prepared_transactions = 5
});
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION idgen;
	SELECT idgen.create_tag('ev', ordered => true);
	CREATE TABLE ev (id bigint PRIMARY KEY DEFAULT next_id('ev'), writer int);
});

my $script = $node->basedir . '/writer.sql';
PostgreSQL::Test::Utils::append_to_file(
	$script, q{
\set delay random(0, 20)
\set outcome random(1, 10)
BEGIN;
INSERT INTO ev (writer) VALUES (:client_id);
\sleep :delay ms
\if :outcome = 1
ROLLBACK;
\else
COMMIT;
\endif
});

my ($out, $err) = ('', '');
my $writers = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '8', '-j', '2', '-T', '10', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$out, '2>', \$err);

# the reader
my $last = 0;
my @seen;
my @lag;
my $polls = 0;

# poll: one round of the reader; returns the watermark
sub poll
{
	my $w = $node->safe_psql('postgres', "SELECT idgen.watermark('ev')");
	my ($rows, $max) = split /\|/, $node->safe_psql(
		'postgres', qq{
		SELECT coalesce(string_agg(id::text, ',' ORDER BY id), ''),
			   (SELECT coalesce(max(id), 0) FROM ev)
		  FROM ev WHERE id > $last AND id <= $w});
	push @seen, split(/,/, $rows);
	push @lag, $max - $w if $max >= $w;
	$last = $w if $w > $last;
	$polls++;
	return $w;
}

while ($writers->pumpable)
{
	$writers->pump_nb;
	poll();
}
$writers->finish;
ok($writers->result(0) == 0, 'the writers ran without a failed client')
  or diag($err);

# writers stopped: the watermark reaches the highest committed ID
my $max = $node->safe_psql('postgres', 'SELECT max(id) FROM ev');
my $w = poll();
is($w, $max, 'once the writers stop, the watermark is the highest committed ID');

my @committed = split /,/,
  $node->safe_psql('postgres', "SELECT string_agg(id::text, ',' ORDER BY id) FROM ev");
my %count;
$count{$_}++ foreach @seen;
is(scalar(grep { $count{$_} > 1 } keys %count), 0, 'no row was read twice');
is_deeply([ sort { $a <=> $b } @seen ], \@committed,
	'the reader saw every committed row (' . scalar(@committed) . " rows, $polls polls)");
my @sorted = sort { $a <=> $b } @lag;
note(sprintf('watermark behind the highest visible ID: median %d, p99 %d IDs',
	$sorted[ int(@sorted / 2) ], $sorted[ int(@sorted * 0.99) ]))
  if @sorted;

# 2. a crash, with a prepared transaction from before it
my $prepared = $node->safe_psql(
	'postgres', q{
	BEGIN;
	INSERT INTO ev (writer) VALUES (0) RETURNING id;
	PREPARE TRANSACTION 'before_crash';
});
$node->safe_psql('postgres', 'INSERT INTO ev (writer) SELECT 0 FROM generate_series(1, 5)');
my $hwm = $node->safe_psql('postgres',
	"SELECT high_water_mark FROM idgen.stats WHERE tag = 'ev'");
$node->stop('immediate');
$node->start;

cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('ev')"),
	'<', $prepared, 'a prepared transaction from before the crash holds the watermark');
$node->safe_psql('postgres', "COMMIT PREPARED 'before_crash'");
$w = $node->safe_psql('postgres', "SELECT idgen.watermark('ev')");
is($w, $hwm, 'then the watermark is the high-water mark from before the crash');
cmp_ok($node->safe_psql('postgres', 'INSERT INTO ev (writer) VALUES (0) RETURNING id'),
	'>', $w, 'new IDs are above it');

$node->stop;
done_testing();
