# The deprecated names of the snowflake settings (idgen.epoch, idgen.node_id,
# idgen.max_clock_ahead, idgen.node_id_lease): a value given only under the
# old name is the new name's, with a warning at start; the same value under
# both names is accepted; different values stop the server.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('snowflake_old_names');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'idgen'\ninclude_if_exists = 'names.conf'");

my %renamed = (
	'idgen.epoch' => [ 'idgen.snowflake_epoch', "'2024-06-01 00:00:00+00'", '2024-06-01 00:00:00+00' ],
	'idgen.node_id' => [ 'idgen.snowflake_node_id', '7', '7' ],
	'idgen.max_clock_ahead' => [ 'idgen.snowflake_max_clock_ahead', '5s', '5s' ],
	'idgen.node_id_lease' => [ 'idgen.snowflake_node_id_lease', '30s', '30s' ],
);

# write the settings of the next start
sub names
{
	my ($settings) = @_;
	open my $fh, '>', $node->data_dir . '/names.conf' or die $!;
	print $fh $settings;
	close $fh;
}

# the values in force under the new names
sub shown
{
	return join ',',
	  map { $node->safe_psql('postgres', "SHOW $renamed{$_}[0]") }
	  sort keys %renamed;
}

my $expected = join ',', map { $renamed{$_}[2] } sort keys %renamed;

# the old names alone
names(join '', map { "$_ = $renamed{$_}[1]\n" } sort keys %renamed);
my $log_start = -s $node->logfile;
$node->start;
is(shown(), $expected, 'values under the old names are in force under the new ones');
my $log = slurp_file($node->logfile, $log_start);
for my $old (sort keys %renamed)
{
	like($log,
		qr/WARNING:  setting "\Q$old\E" is deprecated\n.*HINT:  Use "\Q$renamed{$old}[0]\E" instead\./,
		"a warning for $old names $renamed{$old}[0]");
}
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_settings WHERE name IN ('idgen.epoch', 'idgen.node_id', 'idgen.max_clock_ahead', 'idgen.node_id_lease')"),
	'0', 'the old names are not in pg_settings');
my $id = $node->safe_psql('postgres',
	"CREATE EXTENSION idgen; SELECT (idgen.snowflake_parse(snowflake_id())).node");
is($id, '7', 'snowflake_id() uses the node id given under the old name');
$node->stop;

# the new names alone, and both names with the same values
for my $both (0, 1)
{
	names(join '',
		map { ($both ? "$_ = $renamed{$_}[1]\n" : '') . "$renamed{$_}[0] = $renamed{$_}[1]\n" }
		  sort keys %renamed);
	$log_start = -s $node->logfile;
	$node->start;
	is(shown(), $expected,
		$both ? 'the same values under both names' : 'the new names alone');
	unlike(slurp_file($node->logfile, $log_start), qr/is deprecated/,
		'no warning when the new name is given');
	$node->stop;
}

# different values under both names
for my $old (sort keys %renamed)
{
	my ($new, $value) = @{ $renamed{$old} };
	my $other = {
		'idgen.epoch' => "'2023-01-01 00:00:00+00'",
		'idgen.node_id' => '8',
		'idgen.max_clock_ahead' => '2s',
		'idgen.node_id_lease' => '40s'
	}->{$old};
	names("$old = $other\n$new = $value\n");
	$log_start = -s $node->logfile;
	my $ret = $node->start(fail_ok => 1);
	is($ret, 0, "the server does not start with different $old and $new");
	like(slurp_file($node->logfile, $log_start),
		qr/FATAL:  conflicting values for parameters "\Q$old\E" and "\Q$new\E".*\n.*DETAIL:  "\Q$old\E" is the deprecated name of "\Q$new\E"\.\n.*HINT:  Remove "\Q$old\E" from the server configuration\./,
		"the error names $old and $new");
}

names('');
$node->start;
is($node->safe_psql('postgres', 'SHOW idgen.snowflake_node_id'), '0',
	'the defaults again without the settings');
$node->stop;

done_testing();
