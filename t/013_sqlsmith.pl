# SQLsmith, the random query generator PostgreSQL's developers use to find
# internal errors and crashes, against idgen: a bounded run with a fixed
# seed, as an ordinary role owning its database, whose tables' defaults
# call every generator, on a server that logs every error verbosely.  It
# fails on a crash, on an error of class XX in a statement that calls idgen
# (or raised in idgen's code), and when pg_stat_user_functions shows that
# the run reached idgen's functions too few times to prove anything.
#
# sqlsmith is Debian's package of it (make test installs it, see
# ensure_sqlsmith in tools/common.sh); SQLSMITH names another binary,
# SQLSMITH_QUERIES and SQLSMITH_SEED change the run.  Where it cannot be
# had, the test is skipped, saying why; with IDGEN_SQLSMITH_REQUIRED=1 (set
# by make test once it installed it) a missing sqlsmith fails instead.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);

my $sqlsmith = $ENV{SQLSMITH} // 'sqlsmith';
my $found = IPC::Run::run([ $sqlsmith, '--version' ], '>', \my $version, '2>', \my $verr);
if (!$found)
{
	my $why = "$sqlsmith cannot be run here (Debian's package sqlsmith provides it)";
	if ($ENV{IDGEN_SQLSMITH_REQUIRED})
	{
		fail("SQLsmith is required: $why");
		done_testing();
		exit 0;
	}
	diag("SKIPPED: $why");
	plan skip_all => $why;
}
my $queries = $ENV{SQLSMITH_QUERIES} // 10000;
my $seed = $ENV{SQLSMITH_SEED} // 26;

my $node = PostgreSQL::Test::Cluster->new('sqlsmith');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
shared_preload_libraries = 'idgen'
max_prepared_transactions = 10
log_error_verbosity = verbose
track_functions = 'all'
# random calls of lease_grant would wait out the grace period after a start
idgen.grant_grace = 0
));
$node->start;
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# The snowflake lease's database, and the ordinary role's own database:
# it owns its tags (it may create, alter and drop tags) and tables whose
# defaults call each generator.
$node->safe_psql('postgres', 'CREATE EXTENSION idgen');
$node->safe_psql(
	'postgres', q{
CREATE ROLE smith LOGIN;
CREATE DATABASE smith OWNER smith;
});
$node->safe_psql(
	'smith', q{
CREATE EXTENSION idgen;
GRANT INSERT, UPDATE, DELETE ON idgen.tags TO smith;
GRANT CREATE ON SCHEMA idgen_seq TO smith;
SET ROLE smith;
SELECT idgen.create_tag('smith_seg'),
       idgen.create_tag('smith_hyb', kind => 'hybrid'),
       idgen.create_tag('smith_ord', ordered => true),
       idgen.create_tag('smith_tiny', maxvalue => 1000, region => 10, chunk_max => 5),
       idgen.create_tag('smith_scattered', locality => false);
CREATE TABLE seg_items (id bigint PRIMARY KEY DEFAULT next_id('smith_seg'), name text, n int);
CREATE TABLE scattered_items (id bigint PRIMARY KEY DEFAULT next_id('smith_scattered'), n int);
CREATE TABLE hyb_items (id bigint PRIMARY KEY DEFAULT hybrid_id('smith_hyb'), name text,
                        at timestamptz DEFAULT now());
CREATE TABLE snow_items (id bigint PRIMARY KEY DEFAULT snowflake_id(), payload text);
CREATE TABLE ord_items (id bigint PRIMARY KEY DEFAULT next_id('smith_ord'), v int,
                        seen bigint DEFAULT idgen.watermark('smith_ord'));
CREATE TABLE tiny_items (id bigint DEFAULT next_id('smith_tiny'), v int);
CREATE TABLE blocks (ids int8range DEFAULT next_id_range('smith_seg', 10), note text);
INSERT INTO seg_items (name, n) SELECT 'item ' || g, g FROM generate_series(1, 20) g;
INSERT INTO scattered_items (n) SELECT g FROM generate_series(1, 20) g;
INSERT INTO hyb_items (name) SELECT 'h' || g FROM generate_series(1, 20) g;
INSERT INTO snow_items (payload) SELECT 'p' || g FROM generate_series(1, 20) g;
INSERT INTO ord_items (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO tiny_items (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO blocks (note) VALUES ('a'), ('b');
RESET ROLE;
ANALYZE;
});
# count from here: a backend's counters are reported before it leaves
# pg_stat_activity
my $gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'smith'";
$node->poll_query_until('postgres', $gone);
$node->safe_psql('smith', 'SELECT pg_stat_reset()');
my $log_start = -s $node->logfile;

my ($out, $err) = ('', '');
my $target = $node->connstr('smith') . ' user=smith';
my $ok = IPC::Run::run(
	[
		$sqlsmith, "--target=$target", "--seed=$seed",
		"--max-queries=$queries", '--exclude-catalog', '--verbose'
	],
	'>', \$out, '2>', \$err,
	IPC::Run::timeout(10 * $PostgreSQL::Test::Utils::timeout_default));
note('sqlsmith: ' . ((split /\n/, ($version // '') . ($verr // ''))[0] // ''));
my @last = grep { defined && /\S/ } (split /\n/, $err)[ -3 .. -1 ];
note("sqlsmith's last words: @last") if @last;
ok($ok, "sqlsmith ran $queries queries (seed $seed) and exited normally")
  or diag($err);

# Errors of the run, from the log: each ERROR with its LOCATION and
# STATEMENT lines.
my $log = substr(slurp_file($node->logfile), $log_start);
my (@errors, $current);
foreach my $line (split /\n/, $log)
{
	if ($line =~ /\bERROR:  ([0-9A-Z]{5}): (.*)$/)
	{
		$current = { code => $1, message => $2, location => '', statement => '' };
		push @errors, $current;
	}
	elsif ($current && $line =~ /\bLOCATION:  (.*)$/)
	{
		$current->{location} = $1;
	}
	elsif ($current && $line =~ /\bSTATEMENT:  (.*)$/)
	{
		$current->{statement} = $1;
		$current->{in_statement} = 1;
	}
	elsif ($current && $current->{in_statement} && $line =~ /^\s/)
	{
		$current->{statement} .= "\n$line";
	}
	elsif ($current && $line =~ /^\S/ && $line !~ /\b(?:DETAIL|HINT|CONTEXT|QUERY):  /)
	{
		$current = undef;
	}
}
my %classes;
$classes{ substr($_->{code}, 0, 2) }++ foreach @errors;
diag("errors of the run by SQLSTATE class: "
	  . join(', ', map { "$_: $classes{$_}" } sort keys %classes));

# A statement calls idgen when it names one of its functions, schemas or
# views, or writes rows into a table whose defaults call a generator (an
# INSERT or MERGE, an UPDATE that sets DEFAULT); an error raised in idgen's
# own code counts whatever the statement.  An error raised while the
# statement was parsed (PostgreSQL's parser, e.g. its "failed to find
# conversion function from unknown to text" on random CASE expressions of
# unknown type) came before anything was called, and is PostgreSQL's own.
my $tables = qr/(?:public\.)?(?:seg_items|scattered_items|hyb_items|snow_items|
	ord_items|tiny_items|blocks)\b/x;
my $idgen_sql = qr/\b(?:next_id|next_id_range|hybrid_id|snowflake_id)\s*\(|
	\bidgen(?:_seq)?\.|
	\b(?:insert|merge)\s+into\s+$tables|
	\bupdate\s+$tables.*\bdefault\b/isx;
# idgen's source files, from the tree under test (replication's slot.c
# shares a name with ours: its errors count as idgen's, which is strict)
my $idgen_files = join('|',
	map { (my $f = $_) =~ s{.*/}{}; quotemeta($f) }
	  glob(dirname(__FILE__) . '/../src/*.c'));
die "no source files of idgen found beside $0" if $idgen_files eq '';
my $idgen_code = qr/\b(?:$idgen_files):\d+/;
my $parser = qr/\b(?:parse_\w+|analyze|gram|scan)\.[cly]:\d+/;

# Internal errors of PostgreSQL's own built-in functions that sqlsmith
# reaches with random arguments, in statements that also read one of
# idgen's views; each is raised the same without idgen:
#	- "invalid INTERVAL typmod": pg_catalog.interval(interval, integer) with
#	  a typmod that no interval declaration makes, planned over a value that
#	  is not a constant, e.g. SELECT pg_catalog.interval(now() - now(), 27);
#	  (XX000 in intervaltypmodleastfield, on a server without idgen too);
#	  and pg_catalog.intervaltypmodout(integer) called with such a typmod,
#	  e.g. SELECT pg_catalog.intervaltypmodout(86); (XX000 in
#	  intervaltypmodout, on 17.11 without idgen)
#	- "could not open relation with OID": from 18 on, pg_catalog.pg_sequences
#	  (which idgen.stats, idgen.hybrid_stats and idgen.runway join for
#	  last_value) opens every sequence its snapshot shows, also one that a
#	  trigger dropped earlier in the same statement: a DELETE FROM idgen.tags
#	  RETURNING a subquery on one of those views does that (its trigger
#	  drops the tag's sequence).  On 18.6 without idgen: a table whose
#	  BEFORE DELETE trigger drops a sequence, and DELETE FROM it RETURNING
#	  (SELECT last_value FROM pg_sequences WHERE sequencename = 's1').
#	  Only in a statement that reads pg_sequences through those views.
my $builtin = qr/^invalid INTERVAL typmod: .*\((?:intervaltypmodleastfield|intervaltypmodout), timestamp\.c:\d+\)$/;
my $sequences_view = qr/\bpg_sequences\b|\bidgen\.(?:stats|hybrid_stats|runway)\b/;
my @internal = grep {
	$_->{code} =~ /^XX/
	  && ($_->{location} =~ $idgen_code
		|| ($_->{statement} =~ $idgen_sql && $_->{location} !~ $parser
			&& "$_->{message} ($_->{location})" !~ $builtin
			&& !($_->{message} =~ /^could not open relation with OID \d+$/
				&& $_->{location} =~ /^relation_open, relation\.c:\d+$/
				&& $_->{statement} =~ $sequences_view)))
} @errors;
my @others = grep { $_->{code} =~ /^XX/ } @errors;
diag("errors of class XX that are PostgreSQL's own (parser, built-in functions, or no idgen in the statement): "
	  . join('; ', map { "$_->{message} ($_->{location})" } grep { my $e = $_; !grep { $_ == $e } @internal } @others))
  if @others > @internal;
is(scalar(@internal), 0, 'no error of class XX in a statement that calls idgen')
  or diag(join "\n", map { "$_->{code} $_->{message} ($_->{location}): $_->{statement}" } @internal);

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$started, 'postmaster start time unchanged');
unlike($log, qr/terminated by signal|terminating any other active server processes/,
	'no backend crashed');

# What the run reached: calls of idgen's functions, once sqlsmith's backend
# has reported its counters (at exit).
my $reached = q{
SELECT coalesce(sum(s.calls), 0), count(*),
       coalesce(sum(s.calls) FILTER (WHERE p.proname IN ('next_id', 'next_id_range', 'hybrid_id', 'snowflake_id')), 0)
  FROM pg_stat_user_functions s
  JOIN pg_proc p ON p.oid = s.funcid
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = x.oid
 WHERE x.extname = 'idgen' AND s.calls > 0 AND p.proname <> 'tag_visible'};
$node->poll_query_until('postgres', $gone);
my ($calls, $functions, $generators) = split /\|/, $node->safe_psql('smith', $reached);
diag("idgen calls reached by SQLsmith: $calls, of $functions functions; "
	  . "$generators of them ID generators (behind views: "
	  . $node->safe_psql('smith',
		"SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'tag_visible'")
	  . ' calls of idgen_internal.tag_visible)');
diag("by function: "
	  . join(', ', split /\n/, $node->safe_psql('smith',
		"SELECT schemaname || '.' || funcname || ' ' || calls FROM pg_stat_user_functions ORDER BY calls DESC, 1")));
cmp_ok($generators, '>=', 50, 'the run called the ID generators at least 50 times');
cmp_ok($functions, '>=', 6, 'the run reached at least 6 functions of idgen');

$node->stop;
done_testing();
