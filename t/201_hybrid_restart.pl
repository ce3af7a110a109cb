# Hybrid slabs across backend exit, restart, immediate shutdown and drop:
# a returned slab is continued by the next backend strictly above its last
# ID; after a restart or crash new slabs lie above every old one; a dropped
# tag's returned slabs are never used again.  (Standbys: t/003_standby.pl.)
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hybrid_restart');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$node->start;
$node->safe_psql('postgres',
	"CREATE EXTENSION idgen; SELECT idgen.create_tag('h', kind => 'hybrid')");

# draw: the IDs of one session (one backend), in order
sub draw
{
	my ($n) = @_;
	return split /\n/,
	  $node->safe_psql('postgres',
		"SELECT hybrid_id('h') FROM generate_series(1, $n)");
}

# stats: slabs_claimed|slabs_continued|slabs_returned|slabs_pooled of 'h'
sub stats
{
	return $node->safe_psql('postgres',
		"SELECT slabs_claimed, slabs_continued, slabs_returned, slabs_pooled"
		  . " FROM idgen.hybrid_stats WHERE tag = 'h'");
}

# wait_returned: wait until $n slabs wait in the pool (backend exit is
# asynchronous to the client)
sub wait_returned
{
	my ($n) = @_;
	$node->poll_query_until('postgres',
		"SELECT slabs_pooled = $n FROM idgen.hybrid_stats WHERE tag = 'h'")
	  or die "timed out waiting for $n returned slabs";
}

sub slab_of { return $_[0] >> 32; }

my @first = draw(10);
is(slab_of($first[0]), 1, 'the first session claims slab 1');
wait_returned(1);
is(stats(), '1|0|1|1', 'its slab went back to the pool at exit');

my @second = draw(10);
is(slab_of($second[0]), 1, 'the next session continues slab 1');
cmp_ok($second[0], '>', $first[-1], '... above the last ID issued from it');
wait_returned(1);
is(stats(), '1|1|2|1', 'no new slab was claimed');

my @all = (@first, @second);
my @sorted = sort { $a <=> $b } @all;
is_deeply(\@all, \@sorted, 'IDs increase across the hand-over');

# a clean restart loses the pool; new slabs lie above the old ones
$node->restart;
my @after_restart = draw(10);
is(slab_of($after_restart[0]), 2, 'after a restart a new slab is claimed');
cmp_ok($after_restart[0], '>', $all[-1], '... and its IDs are above all old ones');

# immediate shutdown: no exit hand-back, crash recovery on start
$node->stop('immediate');
$node->start;
my @after_crash = draw(10);
is(slab_of($after_crash[0]), 3, 'after an immediate shutdown a new slab is claimed');
cmp_ok($after_crash[0], '>', $after_restart[-1],
	'... and its IDs are above all old ones');
is( $node->safe_psql('postgres',
		"SELECT last_value FROM idgen_seq.h"),
	'3', 'the claims were durable');

# a dropped tag's returned slab is not continued by the new tag of that name
wait_returned(1);
$node->safe_psql('postgres',
	"SELECT idgen.drop_tag('h'); SELECT idgen.create_tag('h', kind => 'hybrid')");
my @new_tag = draw(1);
is(slab_of($new_tag[0]), 1, 'the recreated tag claims its own slab 1');
is($new_tag[0], 1 << 32, '... from its first ID, not continuing the old slab');
wait_returned(1);
is(stats(), '1|0|1|1', 'the pool holds only the new tag\'s slab');

$node->stop;
done_testing();
