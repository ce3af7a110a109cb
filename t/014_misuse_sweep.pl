# Misuse sweep: every function of the extension, read from the catalog
# (pg_proc through pg_depend, so that a function added later is swept
# without anyone listing it), is called with NULL, empty, oversized and
# boundary values of its argument types, in every context a user can call
# it from: autocommit, a read-only transaction, a prepared transaction, a
# rolled-back subtransaction, a procedure that commits, a parallel worker
# (a wrapper wrongly marked PARALLEL SAFE), a trigger, a role without
# privileges, a hot standby, a server that does not preload the library,
# and after DROP EXTENSION in another database of the server (an ordinary
# one, then the snowflake lease's).  No call may get an error of class XX
# or crash a server, and a rejected call leaves the catalog (tags, their
# privileges, the ledger, converted columns and their sequences) as it was.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('sweep_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
	'postgresql.conf', qq(
shared_preload_libraries = 'idgen'
max_prepared_transactions = 10
# lease_grant waits out the grace period after a start
idgen.grant_grace = 0
log_error_verbosity = verbose
));
$primary->start;

my $plain = PostgreSQL::Test::Cluster->new('sweep_not_preloaded');
$plain->init;
$plain->append_conf('postgresql.conf', 'max_prepared_transactions = 10');
$plain->start;

# What every swept database has: the extension, tags of each kind, tables
# to convert and revert, a role without privileges, and the wrappers the
# contexts call through.  sweep_repair() puts back what a successful call
# took away (a dropped tag, a converted column, an exhausted tag), so that
# every case finds the same objects; sweep_fp() is the catalog's
# fingerprint.
my $setup = <<'EOSQL';
CREATE EXTENSION idgen;
SET client_min_messages = warning;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sweep_nobody') THEN
        CREATE ROLE sweep_nobody;
    END IF;
END $$;
CREATE TABLE sweep_rows AS SELECT g FROM generate_series(1, 1000) g;
ANALYZE sweep_rows;
CREATE FUNCTION sweep_repair() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('sw_seg', 'segment', false, NULL::bigint),
                                   ('sw_hyb', 'hybrid', false, NULL),
                                   ('sw_ord', 'segment', true, NULL),
                                   ('sw_small', 'segment', false, 5)) v(tag, kind, ordered, maxvalue)
    LOOP
        -- a tag raised to the end of its space is of no more use
        IF EXISTS (SELECT FROM pg_class c WHERE c.relname = t.tag
                      AND c.relnamespace = 'idgen_seq'::regnamespace)
           AND (SELECT last_value > 4611686018427387904 FROM pg_sequences
                 WHERE schemaname = 'idgen_seq' AND sequencename = t.tag) THEN
            PERFORM idgen.drop_tag(t.tag);
        END IF;
        IF NOT EXISTS (SELECT FROM idgen.tags x WHERE x.tag = t.tag) THEN
            PERFORM idgen.create_tag(t.tag, kind => t.kind, ordered => t.ordered,
                                     maxvalue => t.maxvalue, region => 10,
                                     chunk_min => 1, chunk_max => 5);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_attrdef d
                    WHERE d.adrelid = to_regclass('sweep_serial')
                      AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') THEN
        DROP TABLE IF EXISTS sweep_serial;
        CREATE TABLE sweep_serial (id serial PRIMARY KEY, v text);
        INSERT INTO sweep_serial (v) VALUES ('a'), ('b');
        GRANT INSERT ON sweep_serial TO sweep_nobody;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_attrdef d
                    WHERE d.adrelid = to_regclass('sweep_conv')
                      AND pg_get_expr(d.adbin, d.adrelid) LIKE '%next_id(''sw_seg''%') THEN
        DROP TABLE IF EXISTS sweep_conv;
        CREATE TABLE sweep_conv (id bigint PRIMARY KEY DEFAULT next_id('sw_seg'), v text);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = to_regclass('sweep_ident')
                      AND a.attname = 'id' AND a.attidentity = 'a') THEN
        DROP TABLE IF EXISTS sweep_ident;
        CREATE TABLE sweep_ident (id int GENERATED ALWAYS AS IDENTITY, v text);
    END IF;
END
$$;
SELECT sweep_repair();
CREATE FUNCTION sweep_fp() RETURNS text LANGUAGE sql AS $$
SELECT md5(concat_ws('|',
    (SELECT string_agg(t::text, ',' ORDER BY t.tag) FROM idgen.tags t),
    (SELECT string_agg(c.relname || '=' || coalesce(c.relacl::text, ''), ',' ORDER BY c.relname)
       FROM pg_class c WHERE c.relnamespace = 'idgen_seq'::regnamespace),
    (SELECT string_agg(c.oid::regclass::text || '=' || coalesce(c.relacl::text, ''), ','
                       ORDER BY c.oid::regclass::text)
       FROM pg_class c WHERE c.relkind = 'S'),
    (SELECT string_agg(format('%s.%s=%s/%s', a.attrelid::regclass, a.attname,
                              pg_get_expr(d.adbin, d.adrelid), a.attidentity), ','
                       ORDER BY a.attrelid::regclass::text, a.attnum)
       FROM pg_attribute a
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped
        AND a.attrelid IN (SELECT oid FROM pg_class WHERE relname LIKE 'sweep%' AND relkind = 'r')),
    (SELECT string_agg(g::text, ',' ORDER BY g::text) FROM idgen.grants g),
    (SELECT string_agg(l::text, ',' ORDER BY l::text) FROM idgen.leases l),
    (SELECT string_agg(n::text, ',' ORDER BY n::text) FROM idgen.nodes n),
    (SELECT string_agg(m::text, ',' ORDER BY m::text) FROM idgen.node_marks m)))
$$;
-- the contexts' wrappers
CREATE PROCEDURE sweep_proc(q text) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    COMMIT;
    EXECUTE q;
END
$$;
CREATE FUNCTION sweep_par(g int, q text) RETURNS int LANGUAGE plpgsql PARALLEL SAFE AS $$
BEGIN
    EXECUTE q;
    RETURN g;
END
$$;
CREATE TABLE sweep_trigger_calls (q text);
CREATE FUNCTION sweep_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE NEW.q;
    RETURN NULL;
END
$$;
CREATE TRIGGER sweep_trigger BEFORE INSERT ON sweep_trigger_calls
    FOR EACH ROW EXECUTE FUNCTION sweep_trigger();
GRANT INSERT ON sweep_trigger_calls TO sweep_nobody;
EOSQL

# the snowflake lease lives in postgres; the sweep runs in its own database
$primary->safe_psql('postgres', 'CREATE EXTENSION idgen');
$primary->safe_psql('postgres', 'CREATE DATABASE sweep');
$primary->safe_psql('sweep', $setup);
$plain->safe_psql('postgres', 'CREATE DATABASE sweep');
$plain->safe_psql('sweep', $setup);
# an ordinary database whose extension is dropped later
$primary->safe_psql('postgres', 'CREATE DATABASE sweep_other');
$primary->safe_psql('sweep_other',
	"CREATE EXTENSION idgen; SELECT idgen.create_tag('sw_seg'), idgen.create_tag('sw_hyb', kind => 'hybrid')"
);

$primary->backup('sweep_backup');
my $standby = PostgreSQL::Test::Cluster->new('sweep_standby');
$standby->init_from_backup($primary, 'sweep_backup', has_streaming => 1);
$standby->start;

my %started = map { $_->name => $_->safe_psql('postgres', 'SELECT pg_postmaster_start_time()') }
  ($primary, $plain, $standby);

# The functions, from the catalog: name, kind, argument names and types.
my @functions;
foreach my $row (
	split /\n/,
	$primary->safe_psql(
		'sweep', q{
SELECT n.nspname || '.' || p.proname, p.prokind,
       array_to_string(ARRAY(SELECT coalesce(nullif(p.proargnames[i], ''), '$' || i)
                               FROM generate_series(1, p.pronargs) i), ','),
       array_to_string(ARRAY(SELECT format_type(p.proargtypes[i - 1], NULL)
                               FROM generate_series(1, p.pronargs) i), ',')
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = x.oid
 WHERE x.extname = 'idgen'
 ORDER BY 1, p.oid}))
{
	my ($name, $kind, $argnames, $argtypes) = split /\|/, $row, -1;
	push @functions,
	  {
		name => $name,
		kind => $kind,
		argnames => [ split /,/, $argnames ],
		argtypes => [ split /,/, $argtypes ]
	  };
}
ok(@functions >= 20, scalar(@functions) . ' functions of the extension found in the catalog');

# Values of each argument type: NULL, empty, oversized, boundaries, and
# values that name the fixtures.  A type without an entry gets NULL and a
# note, so that a new type is seen.
my $long = 'x' x 64;
my %values = (
	'text' => [
		'NULL', "''", "'$long'", "'" . ('é' x 32) . "'",
		"'sw_seg'", "'sw_hyb'", "'sw_ord'", "'sw_small'", "'nosuch'",
		q{'q"''uote'}
	],
	'name' => [ 'NULL', "''", "'$long'", "'id'", "'v'", "'nosuch'" ],
	'bigint' => [
		'NULL', '0', '-1', '1', '2147483648', '9223372036854775807',
		'(-9223372036854775807 - 1)'
	],
	'integer' => [ 'NULL', '0', '-1', '1', '2147483647', '(-2147483647 - 1)' ],
	'smallint' => [ 'NULL', '0', '-1', '1', '32767' ],
	'boolean' => [ 'NULL', 'true', 'false' ],
	'double precision' =>
	  [ 'NULL', '0', '-1', '1e308', "'NaN'", "'Infinity'", "'-Infinity'" ],
	'oid' => [
		'NULL', '0', '4294967295', "'idgen_seq.sw_seg'::regclass::oid",
		"'sweep_serial'::regclass::oid"
	],
	'regclass' => [
		'NULL', "'sweep_serial'", "'sweep_conv'", "'sweep_ident'",
		"'sweep_rows'", "'idgen.tags'", "'idgen_seq.sw_seg'", "'pg_class'",
		'0', '4294967295'
	],
	'timestamp with time zone' => [
		'NULL', "'-infinity'", "'infinity'", "'4714-11-24 00:00:00+00 BC'",
		"'294276-12-31 23:59:59+00'", "'1970-01-01 00:00:00+00'", 'now()'
	],
	'int8range' => [
		'NULL', "'empty'", "'(,)'", "'[1,2)'", "'[-5,0)'",
		"'[9223372036854775806,)'", "'[1,9223372036854775807)'"
	],
	'int8range[]' => [
		'NULL', "'{}'", "'{NULL}'", "'{empty}'", "'{\"(,)\"}'",
		"'{\"[1,10)\",\"[5,20)\"}'"
	],
	'text[]' => [
		'NULL', "'{}'", "'{NULL}'", "'{\"\"}'", "ARRAY[repeat('p', 10000)]",
		"'{a,b,c}'"
	],);

# The value every other argument has while one varies, by argument name,
# so that a call gets past its first check.
my %good = (
	tag => "'sw_seg'",
	kind => "'segment'",
	source => "'local'",
	generator => "'next_id'",
	identity => "'always'",
	node => "'sweep-node'",
	instance => "'sweep-instance'",
	incarnation => "''",
	fn => "'idgen.convert_column'",
	tbl => "'sweep_serial'",
	col => "'id'",
	seq => "'idgen_seq.sw_seg'::regclass",
	start => '1',
	maxvalue => 'NULL',
	region => '100',
	chunk_min => 'NULL',
	chunk_max => 'NULL',
	grant_size => '1000',
	n => '3',
	above => '100',
	id => '4294967296',
	ts => "'2026-01-01 00:00:00+00'",
	attnum => '1',
	adoid => '0',);
my %good_by_type = (
	'text' => "'sw_seg'",
	'name' => "'id'",
	'bigint' => '1',
	'integer' => '1',
	'smallint' => '1',
	'boolean' => 'NULL',
	'double precision' => '0',
	'oid' => '0',
	'regclass' => "'sweep_serial'",
	'timestamp with time zone' => 'now()',
	'int8range' => "'empty'",
	'int8range[]' => "'{}'",
	'text[]' => "'{}'",);

# The calls: all arguments at their good value, all NULL, and each argument
# in turn over every value of its type.
my @calls;
my %untyped;
foreach my $f (@functions)
{
	my @types = @{ $f->{argtypes} };
	my @names = @{ $f->{argnames} };
	my @base;
	for my $i (0 .. $#types)
	{
		my $t = $types[$i];
		$untyped{$t} = 1 unless exists $values{$t};
		push @base, $good{ $names[$i] } // $good_by_type{$t} // 'NULL';
	}
	my $render = sub {
		my @args = @_;
		my $list = join ', ',
		  map { "$args[$_]::$types[$_]" } 0 .. $#args;
		return $f->{kind} eq 'p'
		  ? "CALL $f->{name}($list)"
		  : "SELECT * FROM $f->{name}($list)";
	};
	my %seen;
	for my $args ([@base], [ map { 'NULL' } @types ])
	{
		my $c = $render->(@$args);
		push @calls, $c unless $seen{$c}++;
	}
	for my $i (0 .. $#types)
	{
		foreach my $v (@{ $values{ $types[$i] } // ['NULL'] })
		{
			my @args = @base;
			$args[$i] = $v;
			my $c = $render->(@args);
			push @calls, $c unless $seen{$c}++;
		}
	}
}
note("argument type without values (called with NULL only): $_")
  foreach sort keys %untyped;
ok(@calls > 500, scalar(@calls) . ' calls generated');

# Contexts: how a case runs a call, as psql lines.  %c is the call, %n the
# case number; "STATE" lines report the SQLSTATE of a statement.
my $par_settings =
  "SET parallel_setup_cost = 0;\nSET parallel_tuple_cost = 0;\n"
  . "SET min_parallel_table_scan_size = 0;\nSET parallel_leader_participation = off;\n";
my @contexts = (
	{ name => 'autocommit', run => "%c;\n\\echo STATE %n call :SQLSTATE\n" },
	{
		name => 'read-only transaction',
		run => "BEGIN READ ONLY;\n%c;\n\\echo STATE %n call :SQLSTATE\nROLLBACK;\n"
	},
	{
		name => 'prepared transaction',
		run => "BEGIN;\n%c;\n\\echo STATE %n call :SQLSTATE\n"
		  . "PREPARE TRANSACTION 'sweep';\n\\echo STATE %n prepare :SQLSTATE\n"
		  . "SELECT count(*) > 0 AS prepared FROM pg_prepared_xacts WHERE gid = 'sweep' \\gset\n"
		  . "\\if :prepared\nCOMMIT PREPARED 'sweep';\n\\echo STATE %n commit_prepared :SQLSTATE\n\\endif\n"
	},
	{
		name => 'rolled-back subtransaction',
		run => "BEGIN;\nSAVEPOINT s;\n%c;\n\\echo STATE %n call :SQLSTATE\n"
		  . "ROLLBACK TO SAVEPOINT s;\n%c;\n\\echo STATE %n again :SQLSTATE\n"
		  . "COMMIT;\n"
	},
	{
		name => 'procedure that commits',
		# the procedure commits what its first call did before the second
		commits => 1,
		run => "CALL sweep_proc(\$sweep\$%c\$sweep\$);\n\\echo STATE %n call :SQLSTATE\n"
	},
	{
		name => 'parallel worker',
		setup => $par_settings,
		run => "SELECT count(sweep_par(g, \$sweep\$%c\$sweep\$)) FROM sweep_rows;\n"
		  . "\\echo STATE %n call :SQLSTATE\n"
	},
	{
		name => 'trigger',
		run => "INSERT INTO sweep_trigger_calls VALUES (\$sweep\$%c\$sweep\$);\n"
		  . "\\echo STATE %n call :SQLSTATE\n"
	},
	{
		name => 'role without privileges',
		run => "SET ROLE sweep_nobody;\n%c;\n\\echo STATE %n call :SQLSTATE\nRESET ROLE;\n"
	},
	{
		name => 'hot standby',
		node => $standby,
		readonly => 1,
		run => "%c;\n\\echo STATE %n call :SQLSTATE\n"
	},
	{
		name => 'not preloaded',
		node => $plain,
		run => "%c;\n\\echo STATE %n call :SQLSTATE\n"
	},
	{
		name => 'after DROP EXTENSION in another database',
		before => sub {
			$primary->safe_psql('sweep_other', "SELECT next_id('sw_seg'), hybrid_id('sw_hyb'), snowflake_id()");
			$primary->safe_psql('sweep_other', 'DROP EXTENSION idgen CASCADE');
		},
		run => "%c;\n\\echo STATE %n call :SQLSTATE\n"
	},
	{
		name => 'after DROP EXTENSION in the snowflake database',
		before => sub {
			$primary->safe_psql('postgres', 'DROP EXTENSION idgen CASCADE');
		},
		run => "%c;\n\\echo STATE %n call :SQLSTATE\n"
	},);

my %by_class;
my %by_state;
my $cases = 0;
my @internal;
my @changed;
foreach my $ctx (@contexts)
{
	my $node = $ctx->{node} // $primary;
	$ctx->{before}->() if $ctx->{before};
	my $script = "\\set VERBOSITY verbose\n" . ($ctx->{setup} // '');
	my $n = 0;
	foreach my $call (@calls)
	{
		$n++;
		my $run = $ctx->{run};
		$run =~ s/%c/$call/g;
		$run =~ s/%n/$n/g;
		$script .= "SELECT sweep_repair();\n" unless $ctx->{readonly};
		$script .= "SELECT sweep_fp() AS fp \\gset\n\\echo FP $n before :fp\n"
		  . $run
		  . "SELECT sweep_fp() AS fp \\gset\n\\echo FP $n after :fp\n";
	}
	my ($stdout, $stderr);
	$node->psql(
		'sweep', $script,
		stdout => \$stdout,
		stderr => \$stderr,
		on_error_stop => 0);
	my (%state, %fp);
	foreach my $line (split /\n/, $stdout)
	{
		if ($line =~ /^STATE (\d+) (\w+) (\w+)$/)
		{
			$state{$1}{$2} = $3;
		}
		elsif ($line =~ /^FP (\d+) (\w+) (\S+)$/)
		{
			$fp{$1}{$2} = $3;
		}
	}
	my $seen = 0;
	for my $i (1 .. $n)
	{
		next unless exists $state{$i}{call};
		$seen++;
		$cases++;
		foreach my $step (sort keys %{ $state{$i} })
		{
			my $code = $state{$i}{$step};
			$by_state{$code}++;
			$by_class{ substr($code, 0, 2) }++;
			push @internal, "$ctx->{name}: $calls[$i - 1] ($step): $code"
			  if $code =~ /^XX/;
		}
		push @changed, "$ctx->{name}: $calls[$i - 1] ($state{$i}{call})"
		  if $state{$i}{call} ne '00000'
		  && !$ctx->{commits}
		  && ($fp{$i}{before} // '') ne ($fp{$i}{after} // '');
	}
	is($seen, $n, "$ctx->{name}: every call ran ($n)");
	# the log names each internal error's source, for whoever mends it
	if (grep { /^\Q$ctx->{name}\E:/ } @internal)
	{
		diag($_) foreach grep { /XX\d\d\d/ } split /\n/, $stderr;
	}
}

diag("cases: $cases (" . scalar(@calls) . ' calls in ' . scalar(@contexts) . ' contexts)');
diag("SQLSTATEs by class: "
	  . join(', ', map { "$_: $by_class{$_}" } sort keys %by_class));
diag("SQLSTATEs: " . join(', ', map { "$_: $by_state{$_}" } sort keys %by_state));
is(scalar(@internal), 0, 'no call got an error of class XX')
  or diag(join "\n", @internal);
is(scalar(@changed), 0, 'no rejected call changed the catalog')
  or diag(join "\n", @changed);

# no crash: every server runs since it started, and none restarted its
# backends after one died
foreach my $node ($primary, $plain, $standby)
{
	is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
		$started{ $node->name }, $node->name . ': postmaster start time unchanged');
	my $log = slurp_file($node->logfile);
	unlike(
		$log,
		qr/terminated by signal|terminating any other active server processes/,
		$node->name . ': no backend crashed');
}

$standby->stop;
$plain->stop;
$primary->stop;
done_testing();
