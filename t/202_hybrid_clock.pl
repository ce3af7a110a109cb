# Hybrid IDs when the clock jumps: the server runs under libfaketime, whose
# offset the test moves (by writing the file libfaketime reads) between
# calls.  Within a slab an ID never goes below the last one, also when the
# clock goes back, and also in the next backend that continues the slab;
# a jump beyond the seconds field costs a new slab.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# libfaketime, wherever the distribution put it (FAKETIME_LIB overrides)
my ($libfaketime) = grep { -e }
  ($ENV{FAKETIME_LIB} // (), glob('/usr/lib/*/faketime/libfaketime.so.1'),
	'/usr/lib/faketime/libfaketime.so.1',
	'/usr/local/lib/faketime/libfaketime.so.1');
plan skip_all => 'libfaketime is not installed (set FAKETIME_LIB to its path)'
  unless $libfaketime;

my $offset_file = PostgreSQL::Test::Utils::tempdir() . '/faketime';

# set_offset: move the server's clock to real time + $secs
sub set_offset
{
	my ($secs) = @_;
	open my $fh, '>', $offset_file or die "could not write $offset_file: $!";
	print $fh sprintf("%+d\n", $secs);
	close $fh;
}

set_offset(0);
my $node = PostgreSQL::Test::Cluster->new('hybrid_clock');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
{
	local $ENV{LD_PRELOAD} = $libfaketime;
	local $ENV{FAKETIME_TIMESTAMP_FILE} = $offset_file;
	local $ENV{FAKETIME_NO_CACHE} = '1';
	local $ENV{FAKETIME_DONT_FAKE_MONOTONIC} = '1';
	$node->start;
}
chmod 0666, $offset_file;
$node->safe_psql('postgres',
	"CREATE EXTENSION idgen; SELECT idgen.create_tag('c', kind => 'hybrid')");

# one backend: each step moves the clock (server side, by COPY to the
# offset file), then draws an ID and decodes it
my $out = $node->safe_psql(
	'postgres', qq{
CREATE TEMP TABLE ids (step text, id bigint);
INSERT INTO ids VALUES ('start', hybrid_id('c'));
COPY (SELECT '+10') TO '$offset_file';
INSERT INTO ids VALUES ('ahead 10 s', hybrid_id('c'));
COPY (SELECT '-3600') TO '$offset_file';
INSERT INTO ids VALUES ('back 1 h', hybrid_id('c'));
INSERT INTO ids VALUES ('back 1 h, again', hybrid_id('c'));
COPY (SELECT '+86400') TO '$offset_file';
INSERT INTO ids VALUES ('ahead 1 day', hybrid_id('c'));
COPY (SELECT '+0') TO '$offset_file';
INSERT INTO ids VALUES ('back to now', hybrid_id('c'));
SELECT i.step, p.slab, p.seconds >= 10, p.seq,
       i.id > lag(i.id) OVER (ORDER BY ctid)
  FROM ids i, idgen.hybrid_parse(i.id) p ORDER BY ctid;
});
is( $out, "start|1|f|0|
ahead 10 s|1|t|0|t
back 1 h|1|t|1|t
back 1 h, again|1|t|2|t
ahead 1 day|2|f|0|t
back to now|2|f|1|t", 'the clock going back never makes an ID go down');

is( $node->safe_psql('postgres',
		"SELECT slabs_claimed, slabs_abandoned FROM idgen.hybrid_stats"),
	'2|1',
	'the slab whose seconds ran out was abandoned');

# the next backend continues slab 2 above its last ID, with the clock
# even further back
$node->poll_query_until('postgres',
	"SELECT slabs_pooled = 1 FROM idgen.hybrid_stats WHERE tag = 'c'")
  or die 'timed out waiting for the slab to be returned';
set_offset(-7200);
is( $node->safe_psql(
		'postgres', "SELECT * FROM idgen.hybrid_parse(hybrid_id('c'))"),
	'2|0|2',
	'a continued slab goes on above its last ID when the clock went back');

$node->stop;
done_testing();
