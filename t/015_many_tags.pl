# Thousands of tags (issue 22, item 4): 10,000 tags and 1,000 connections
# in at most 64 MB of idgen's shared memory, each backend holding chunks of
# at most idgen.tags_per_backend tags (chunk.c).
#
# 1. Memory: what idgen adds to the server's shared memory, measured as
#    the difference of "postgres -C shared_memory_size" with and without
#    idgen preloaded (it counts idgen's LWLock tranches, which
#    pg_shmem_allocations shows only inside PostgreSQL's own LWLock array),
#    and the sum of idgen's entries in pg_shmem_allocations; both at most
#    64 MB.
# 2. 10,000 tags, all used by one session, one transaction each: every
#    entry of the session is evicted again and again.
# 3. Eviction: a session uses more tags without locality than it has
#    entries, in three rounds, while another session draws the same tags
#    and exits: its IDs stay unique and increase per tag, the tails it
#    handed back are counted as returned in idgen.stats.
# 4. One transaction that uses more tags than a session has entries fails
#    with the configuration-limit error naming the setting; the session
#    goes on working.
# 5. The watermark: an ordered tag's floor survives the evictions of the
#    transaction that holds it.
# 6. next_id's per-call path does not depend on the number of tags: by
#    design (a call site's memo points at the tag's LocalTag, which points
#    at its chunk; no loop, map or lock on the way), which this checks
#    without timing by counting what a call can do besides a bounds check
#    and an increment: refills, claims, tails handed back (evictions) and
#    lookups.  The same 20,000 calls make exactly the same counts with 10
#    tags in the server as with 10,000 of them, all used by the session.
# 7. Bad values of idgen.tags_per_backend are refused at start (with a
#    warning; the default holds, as for every setting of a library).
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $entries = 64;    # idgen.tags_per_backend's default

my $node = PostgreSQL::Test::Cluster->new('many_tags');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
max_connections = 1000
shared_buffers = 16MB
idgen.max_tags = 10000
});

# 1. memory, before the server starts
sub shmem_mb
{
	my (@extra) = @_;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[ 'postgres', '-D', $node->data_dir, '-C', 'shared_memory_size', @extra ],
		'>', \$stdout, '2>', \$stderr);
	die "postgres -C failed: $stderr" unless $ok;
	chomp $stdout;
	$stdout =~ s/MB$//;
	return $stdout;
}
my $without = shmem_mb('-c', "shared_preload_libraries=");
my $with = shmem_mb('-c', "shared_preload_libraries=idgen");
note("shared_memory_size: $without MB without idgen, $with MB with it");
cmp_ok($with - $without, '<=', 64,
	'10,000 tags and 1,000 connections: idgen adds at most 64 MB of shared memory'
);

$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION idgen');

my $named = $node->safe_psql('postgres',
	"SELECT sum(allocated_size) FROM pg_shmem_allocations WHERE name LIKE 'idgen%'"
);
note("idgen's entries in pg_shmem_allocations: $named bytes");
cmp_ok($named, '<=', 64 * 1024 * 1024,
	"idgen's entries in pg_shmem_allocations take at most 64 MB");

# the counters of note 6, summed over every tag
sub counts
{
	return $node->safe_psql('postgres',
		q{SELECT sum(refills) || '/' || sum(claims) || '/' || sum(returned)
		    FROM idgen.pool_stats()});
}

# 6, first half: 10 tags in the server
$node->safe_psql(
	'postgres', q{
	SELECT idgen.create_tag('hot', chunk_min => 1000, chunk_max => 1000,
							locality => false);
	SELECT idgen.create_tag('warm' || i) FROM generate_series(1, 9) i;
});
my $hot = $node->background_psql('postgres', on_error_stop => 1);

# differences of refills/claims/returned
sub delta
{
	my ($a, $b) = @_;
	my @a = split m{/}, $a;
	my @b = split m{/}, $b;
	return join('/', map { $b[$_] - $a[$_] } 0 .. 2);
}

# hot_delta PRELUDE: in the session $hot, the SQL PRELUDE (if any), then
# every warm tag once, a transaction each, then hot (its entries, memo and
# chunk); returns the refills/claims/returned of 20,000 next_id('hot')
# calls after that
sub hot_delta
{
	my ($prelude) = @_;
	$hot->query_safe($prelude) if defined $prelude;
	$hot->query_safe(
		q{DO $$ BEGIN
			FOR i IN 1..9 LOOP PERFORM next_id('warm' || i); COMMIT; END LOOP;
		  END $$});
	$hot->query_safe("SELECT next_id('hot')");
	my $before = counts();
	$hot->query_safe("SELECT count(next_id('hot')) FROM generate_series(1, 20000)");
	return delta($before, counts());
}
my $few = hot_delta();

# 2. 10,000 tags: with hot and warm1..9, t1 to t9990
for my $k (0 .. 9)
{
	my $lo = 1000 * $k + 1;
	my $hi = $k == 9 ? 9990 : 1000 * $k + 1000;
	$node->safe_psql('postgres',
		"SELECT idgen.create_tag('t' || i) FROM generate_series($lo, $hi) i");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM idgen.tags'),
	'10000', '10,000 tags in one server');

# every tag used by one session, a transaction each; it holds 64 at a time
$node->safe_psql(
	'postgres', q{
	CREATE TABLE drawn (tag text, id bigint, UNIQUE (tag, id));
	DO $$ BEGIN
		FOR i IN 1..9990 LOOP
			INSERT INTO drawn VALUES ('t' || i, next_id('t' || i));
			COMMIT;
		END LOOP;
	END $$;
});
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*), count(DISTINCT tag),
				 (SELECT sum(issued) FROM idgen.pool_stats() WHERE tag ~ '^t[0-9]+$')
			FROM drawn}),
	'9990|9990|9990',
	'one session drew an ID of each of 9,990 tags, one transaction each');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM idgen.backend_ranges WHERE tag ~ '^t[0-9]+\$'"),
	'0',
	'the session that exited holds no chunk of them');

# 6, second half: the same calls, in a session that used all 10,000 tags
# (its entries are full of other tags, which it does not touch again)
my $many = hot_delta(
	q{DO $$ BEGIN
		FOR i IN 1..9990 LOOP PERFORM next_id('t' || i); COMMIT; END LOOP;
	  END $$});
is($many, $few,
	'20,000 next_id calls refill, claim and hand back the same with 10,000 tags as with 10 (refills/claims/returned: '
	  . $few . ')');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM idgen.backend_ranges WHERE pid = " . $hot->query_safe('SELECT pg_backend_pid()')),
	$entries,
	"a session that used 10,000 tags holds chunks of $entries");
$hot->quit;

# 3. eviction with tags without locality, whose tails go to the pool
$node->safe_psql(
	'postgres', q{
	DO $$ BEGIN
		FOR i IN 1..100 LOOP
			PERFORM idgen.alter_tag('t' || i, chunk_min => 10, chunk_max => 10,
									locality => false);
		END LOOP;
	END $$;
	CREATE TABLE ev (tag text, id bigint, round int, pid int, UNIQUE (tag, id));
});
my $returned_before = $node->safe_psql('postgres',
	"SELECT sum(returned) FROM idgen.pool_stats() WHERE tag ~ '^t([1-9][0-9]?|100)\$'");
# A session B holds chunks of t1..t50 below those of session A, then exits:
# its tails wait in the pools below A's IDs.  A, which cycles through 100
# tags, has its chunks evicted between its uses of a tag; when it uses the
# tag again it must take IDs above its last one, not B's tails.
my $draw_sql = sub {
	my ($n, $round) = @_;
	return qq{DO \$\$ BEGIN
		FOR i IN 1..$n LOOP
			INSERT INTO ev VALUES ('t' || i, next_id('t' || i), $round,
								   pg_backend_pid());
			COMMIT;
		END LOOP;
	  END \$\$};
};
my $b = $node->background_psql('postgres', on_error_stop => 1);
$b->query_safe($draw_sql->(50, 0));
my $a = $node->background_psql('postgres', on_error_stop => 1);
$a->query_safe($draw_sql->(100, 1));
$b->quit;
$a->query_safe($draw_sql->(100, $_)) for (2 .. 3);
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM (
			SELECT id <= lag(id) OVER (PARTITION BY tag, pid ORDER BY round) AS down
			  FROM ev) s WHERE down}),
	'0',
	'after evictions, each session\'s IDs of each tag still increase');
is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT (tag, id)) FROM ev'),
	'350|350', 'and every ID of the rounds is unique');
cmp_ok(
	$node->safe_psql('postgres',
		"SELECT sum(returned) FROM idgen.pool_stats() WHERE tag ~ '^t([1-9][0-9]?|100)\$'")
	  - $returned_before,
	'>=', 8 * 100,
	'the tails of evicted chunks are counted as returned');

# 4. one transaction, more tags than entries
my ($ret, $out, $err) = $node->psql(
	'postgres', q{\set VERBOSITY verbose
BEGIN;
SELECT count(next_id('t' || i)) FROM generate_series(1, 65) i;
});
like(
	$err,
	qr/53400: too many idgen tags used in one transaction.*at most 64 tags at once \("idgen.tags_per_backend"\).*HINT:.*increase "idgen.tags_per_backend"/s,
	'a transaction that uses more tags than a session holds gets a clear error');
is( $node->safe_psql(
		'postgres',
		q{BEGIN;
		  SELECT count(next_id('t' || i)) FROM generate_series(1, 64) i;
		  COMMIT;}),
	'64',
	'as many tags as entries in one transaction work');

# 5. the watermark with evictions: the floor of an open transaction stays
# the server is full: an existing tag becomes the ordered one
$node->safe_psql('postgres',
	"SELECT idgen.alter_tag('t9990', ordered => true)");
my $w = $node->background_psql('postgres', on_error_stop => 1);
$w->query_safe(
	q{DO $$ BEGIN
		FOR i IN 1..100 LOOP PERFORM next_id('t' || i); COMMIT; END LOOP;
	  END $$});
$w->query_safe('BEGIN');
my $held = $w->query_safe("SELECT next_id('t9990')");
# the same transaction: 63 more tags, each taking the entry of another
$w->query_safe(
	"SELECT count(next_id('t' || i)) FROM generate_series(101, 163) i");
$node->safe_psql('postgres',
	"SELECT next_id('t9990') FROM generate_series(1, 10)");
cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('t9990')"),
	'<', $held,
	'an open transaction\'s ordered ID holds the watermark through evictions');
is( $node->safe_psql(
		'postgres',
		"SELECT min(lowest_id) FROM idgen.watermark_holders WHERE tag = 't9990'"),
	$held,
	'and is shown as the holder');
$w->query_safe('COMMIT');
cmp_ok($node->safe_psql('postgres', "SELECT idgen.watermark('t9990')"),
	'>=', $held, 'once it commits, the watermark passes it');
$w->quit;
$a->quit;

# 7. bad values: as for every setting of a library, the server warns and
# keeps the default
for my $bad (
	[ '0', qr/0 is outside the valid range for parameter "idgen.tags_per_backend" \(1 \.\. 65536\)/ ],
	[ 'many', qr/invalid value for parameter "idgen.tags_per_backend": "many"/ ])
{
	my $offset = -s $node->logfile;
	$node->append_conf('postgresql.conf', "idgen.tags_per_backend = '$bad->[0]'\n");
	$node->restart;
	like(slurp_file($node->logfile, $offset), $bad->[1],
		"idgen.tags_per_backend = $bad->[0] is refused");
	is($node->safe_psql('postgres', 'SHOW idgen.tags_per_backend'),
		$entries, 'and the default holds');
}
$node->stop;

done_testing();
