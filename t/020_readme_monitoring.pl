# The README's Monitoring table against the catalog: for each view and
# table it lists, its columns as the table gives them are the relation's
# columns from pg_attribute, in order; and every view of the extension is
# in the table.  So the reference cannot drift from what CREATE EXTENSION
# creates.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $readme = abs_path(dirname(__FILE__)) . '/../README.md';

# the rows of the table in the README's section "Monitoring": relation
# name => its columns, as written
my $text = slurp_file($readme);
my ($section) = $text =~ /^## Monitoring\n(.*?)^## /ms;
ok(defined $section, 'the README has a section "Monitoring"');
my %documented;
my @order;
foreach my $line (split /\n/, $section // '')
{
	next unless $line =~ /^\|\s*`(idgen\.\w+)`\s*\|[^|]*\|\s*`([^`]*)`\s*\|\s*$/;
	$documented{$1} = $2;
	push @order, $1;
}
ok(@order >= 5, 'its table lists the views and tables (' . scalar(@order) . ' rows)');

my $node = PostgreSQL::Test::Cluster->new('monitoring');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION idgen');

foreach my $rel (@order)
{
	my $columns = $node->safe_psql(
		'postgres', qq{
		SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute
		 WHERE attrelid = to_regclass('$rel') AND attnum > 0 AND NOT attisdropped});
	is($documented{$rel}, $columns, "README's columns of $rel are the catalog's");
}

# every view that belongs to the extension is documented
my @views = split /\n/, $node->safe_psql(
	'postgres', q{
	SELECT c.oid::regclass FROM pg_depend d
	  JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
	  JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
	 WHERE e.extname = 'idgen' AND d.deptype = 'e' AND c.relkind = 'v'
	 ORDER BY 1::text});
ok(@views >= 5, 'the extension has views (' . join(', ', @views) . ')');
is(join(', ', grep { !exists $documented{$_} } @views), '',
	'every view of the extension is in the README\'s Monitoring table');

$node->stop;
done_testing();
