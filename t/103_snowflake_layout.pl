# snowflake layouts: a bad layout, epoch or node id stops the server at
# start with a clear message; the Sonyflake preset and custom layouts work;
# the errors for an exhausted time field and too many databases (the error
# for a library that was not preloaded is in t/001_not_preloaded.pl).
use strict;
use warnings FATAL => 'all';
use POSIX qw(strftime);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('snowflake_layout');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'idgen'\ninclude_if_exists = 'snowflake.conf'");

# write the snowflake settings of the next start
sub layout
{
	my ($settings) = @_;
	open my $fh, '>', $node->data_dir . '/snowflake.conf' or die $!;
	print $fh $settings;
	close $fh;
}

my @bad = (
	[
		"idgen.snowflake_node_id = 1024\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_node_id": 1024\n.*DETAIL:  The snowflake layout has 10 node bits, so node IDs range from 0 to 1023\./s,
		'a node id too large for the layout'
	],
	[
		"idgen.snowflake_node_id = -1\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_node_id": "-1"/,
		'a negative node id'
	],
	[
		"idgen.snowflake_layout = 'twitter'\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_layout": "twitter"/,
		'an unknown layout'
	],
	[
		"idgen.snowflake_time_bits = 40\n",
		qr/FATAL:  invalid snowflake layout\n.*DETAIL:  "idgen.snowflake_time_bits" is set, but "idgen.snowflake_layout" is "snowflake"\./s,
		'a bit width with a preset'
	],
	[
		"idgen.snowflake_layout = custom\nidgen.snowflake_seq_bits = 14\n",
		qr/FATAL:  invalid snowflake layout\n.*DETAIL:  The time, node and sequence fields have 41 \+ 10 \+ 14 = 65 bits, but at most 63 fit in a bigint\./s,
		'fields wider than a bigint'
	],
	[
		"idgen.snowflake_layout = custom\nidgen.snowflake_time_unit = 0\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_time_unit": "0"/,
		'a zero time unit'
	],
	[
		"idgen.snowflake_epoch = 'the beginning'\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_epoch": "the beginning"/,
		'an epoch that is not a timestamp'
	],
	[
		"idgen.snowflake_epoch = '2999-01-01 00:00:00+00'\n",
		qr/FATAL:  invalid value for parameter "idgen.snowflake_epoch": "2999-01-01 00:00:00\+00"\n.*DETAIL:  The epoch lies in the future\./s,
		'an epoch in the future'
	],
	[
		"idgen.snowflake_layout = custom\nidgen.snowflake_time_bits = 30\n",
		qr/FATAL:  invalid snowflake layout\n.*DETAIL:  The 30-bit time field of 1 ms ticks since 2025-01-01 00:00:00\+00 ran out at /s,
		'a time field that already ran out'
	],
	[
		"idgen.snowflake_layout = custom\nidgen.snowflake_time_bits = 55\nidgen.snowflake_node_bits = 0\nidgen.snowflake_seq_bits = 0\n",
		qr/FATAL:  invalid snowflake layout\n.*DETAIL:  A 55-bit time field of 1 ms ticks outlasts the range of timestamp with time zone\./s,
		'a time field beyond the timestamp range'
	]);

foreach my $case (@bad)
{
	my ($settings, $message, $name) = @$case;
	layout($settings);
	my $offset = -s $node->logfile // 0;
	ok(!$node->start(fail_ok => 1), "the server refuses to start with $name");
	like(slurp_file($node->logfile, $offset), $message, "the log explains $name");
}

# the Sonyflake preset: 10 ms ticks, 16-bit node, 8-bit sequence
layout("idgen.snowflake_layout = sonyflake\nidgen.snowflake_node_id = 40000\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION idgen');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(setting, ' ' ORDER BY name) FROM pg_settings
		 WHERE name IN ('idgen.snowflake_time_unit', 'idgen.snowflake_time_bits',
		                'idgen.snowflake_node_bits', 'idgen.snowflake_seq_bits')}),
	'16 8 39 10',
	'the Sonyflake preset shows its bit widths and time unit');
is( $node->safe_psql('postgres', q{
		WITH ids AS (SELECT n, snowflake_id() AS id FROM generate_series(1, 5000) n)
		SELECT count(DISTINCT id) = 5000
		   AND bool_and(p.node = 40000 AND p.seq < 256
		                AND extract(milliseconds FROM p.ts)::numeric % 10 = 0)
		   AND bool_and(idgen.snowflake_min_id(p.ts) = id & ~((1::bigint << 24) - 1))
		  FROM ids, idgen.snowflake_parse(ids.id) p}),
	't',
	'Sonyflake IDs: node 40000, 8-bit sequence, 10 ms ticks, min_id round trip');

# every database of the server draws from one state: another database
# continues above the IDs of the first
my $first_max = $node->safe_psql('postgres',
	'SELECT max(snowflake_id()) FROM generate_series(1, 1000)');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION idgen');
cmp_ok(
	$node->safe_psql('other',
		'SELECT min(snowflake_id()) FROM generate_series(1, 1000)'),
	'>', $first_max,
	'another database continues above the IDs of the first');
$node->stop;

# a custom layout whose time field runs out in ten minutes: 20-bit time
# (about 17 minutes of ms), no node or sequence bits, so every ID borrows
# a tick and a burst reaches the end of the field
my $epoch = strftime('%Y-%m-%d %H:%M:%S+00', gmtime(time() - 448));
layout(
	"idgen.snowflake_layout = custom\nidgen.snowflake_time_bits = 20\n"
	  . "idgen.snowflake_node_bits = 0\nidgen.snowflake_seq_bits = 0\n"
	  . "idgen.snowflake_epoch = '$epoch'\nidgen.snowflake_max_clock_ahead = '1h'\nidgen.snowflake_lease = '1h'\n");
$node->start;
is( $node->safe_psql('postgres', q{
		WITH ids AS (SELECT n, snowflake_id() AS id FROM generate_series(1, 1000) n)
		SELECT count(DISTINCT id) = 1000 AND max(id) < 1048576
		   AND bool_and(p.node = 0 AND p.seq = 0)
		  FROM ids, idgen.snowflake_parse(ids.id) p}),
	't',
	'a custom 20-bit layout issues distinct IDs below 2^20');
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'SELECT idgen.snowflake_parse(1048576)');
like(
	$stderr,
	qr/ERROR:  1048576 is not a snowflake ID\nDETAIL:  Snowflake IDs of this layout lie between 0 and 1048575\./,
	'decoding a number beyond the layout fails');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT count(snowflake_id()) FROM generate_series(1, 1000000)");
isnt($ret, 0, 'a burst past the end of the time field fails');
like(
	$stderr,
	qr/ERROR:  2200H: the time field of snowflake IDs is exhausted\nDETAIL:  The 20-bit time field ran out at /,
	'the exhausted time field error, with SQLSTATE 2200H');
$node->stop;

done_testing();
