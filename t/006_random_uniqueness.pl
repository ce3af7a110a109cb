# Randomized uniqueness test: hunts for duplicate IDs.
#
# CLIENTS (default 8) workload sessions, each its own pgbench process with one
# client, run random mixes of every generator (next_id on three segment tags,
# one of them with reclaim => false, next_id_range, hybrid_id, snowflake_id)
# in every transaction shape: plain transactions, savepoints rolled back or
# released, PL/pgSQL RETURN QUERY and cursors across a failed exception block,
# SQL cursors fetched across ROLLBACK TO SAVEPOINT, two-phase commit, DO blocks
# with exception handlers, and a churn tag that is dropped and re-created all
# the time.  Each transaction commits or rolls back at random.  Meanwhile an
# admin session (its own pgbench) alters tags (region, chunk bounds, reclaim,
# maxvalue, start just above the high-water mark) and drops and re-creates the
# churn tag above its old high-water mark, committing or rolling back at
# random, and a killer terminates a random backend every 0.5-2 s (workload,
# 2PC scripts, the admin).  Every drawn ID is inserted into ids(gen, id) under
# a unique index, so a duplicate shows up as a "duplicate key" error.
#
# Two of the segment tags are ordered ('o', and 'q' without reclaim).  A
# reader polls each of them as the README says, all along: w :=
# idgen.watermark(tag), then (a later statement) the rows with last < id <= w,
# then last := max(last, w).  At the end, every committed row of an ordered
# tag must have been read exactly once, and no row read that is not
# committed.
#
# Every EVENT_EVERY seconds the server goes through an event, in turn: a
# restart (immediate or fast shutdown, at random), a restart with the clock
# 5 to 15 minutes back (libfaketime; a plain restart where it is missing),
# and a switchover: the primary stops (fast, so that its standby has every
# commit), the standby is promoted, and a new standby is made from it.
# Prepared transactions survive all of them (each event makes one that drew
# from the ordered tags just before); the workload reconnects.
#
# pgbench clients abort on their first error (PostgreSQL 15), so pgbench runs
# in rounds of 10-20 s and a session whose pgbench ended is started again
# until DURATION is used up.  The test fails on any duplicate key, any server
# crash, and any error that is not in the whitelist below.
#
# Environment:
#   DURATION  seconds of workload (default 40); long run: DURATION=1800
#   SEED      random seed (default: random); printed as "random seed: N" at
#             the start.  It seeds Perl and, through it, every pgbench run
#             (--random-seed); replaying a seed replays the random choices,
#             not the interleaving.
#   CLIENTS   workload sessions (default 8)
#   STRESS_SCRIPTS  comma-separated workload scripts to run (default: all)
#   LEAK=0    leave out the shapes in which an ID survives a rolled-back
#             subtransaction (RETURN QUERY, cursors, a PL/pgSQL variable),
#             to look for duplicates of other causes
#   ADMIN_OPS comma-separated admin actions (default:
#             options,maxvalue,start,churn)
#   EVENTS    comma-separated events, taken in turn (default:
#             restart,clockback,promote; EVENTS= for none)
#   EVENT_EVERY  seconds between events (default: a quarter of DURATION,
#             10 to 60)
#   STRESS_DEBUG=1  print every error pgbench reported, log every statement
#
# make test runs it for 40 s.  The long run: DURATION=1800 make test (the
# environment reaches the test), or this test alone as tools/run_tests.sh
# runs it, after make install, as the server user:
#   DURATION=1800 SEED=42 PG_REGRESS=$pgxs/src/test/regress/pg_regress \
#     TESTDIR=$PWD/tmp_check/stress perl -I $pgxs/src/test/perl t/006_random_uniqueness.pl
# ($pgxs: three directories above pg_config --pgxs).  On failure the test
# prints the duplicated (gen, id) pairs, the script that drew each again and
# the script that committed it (column ids.src), the unexpected errors, and
# the rows the reader missed or read twice.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(rmtree);
use IPC::Run;
use Time::HiRes qw(time sleep);

my $duration = $ENV{DURATION} // 40;
my $seed = $ENV{SEED} // int(rand(2**31));
my $nclients = $ENV{CLIENTS} // 8;
my $debug = $ENV{STRESS_DEBUG} // 0;
my $leak = $ENV{LEAK} // 1;
my $admin_ops = $ENV{ADMIN_OPS} // 'options,maxvalue,start,churn';
die "ADMIN_OPS: unknown action"
  if grep { !/^(?:options|maxvalue|start|churn)$/ } split /,/, $admin_ops;
my @event_kinds = split /,/, ($ENV{EVENTS} // 'restart,clockback,promote');
die "EVENTS: unknown event"
  if grep { !/^(?:restart|clockback|promote)$/ } @event_kinds;
my $event_every = $ENV{EVENT_EVERY} // int($duration / 4);
$event_every = 10 if $event_every < 10;
$event_every = 60 if $event_every > 60 && !defined $ENV{EVENT_EVERY};
diag("random seed: $seed (replay with SEED=$seed DURATION=$duration)");
srand($seed);

# libfaketime, wherever the distribution put it (FAKETIME_LIB overrides)
my ($faketime_lib) = grep { -e }
  ($ENV{FAKETIME_LIB} // (), glob('/usr/lib/*/faketime/libfaketime.so.1'),
	'/usr/lib/faketime/libfaketime.so.1',
	'/usr/local/lib/faketime/libfaketime.so.1');
note('libfaketime is not installed: clock-back events are plain restarts')
  if !$faketime_lib && grep { $_ eq 'clockback' } @event_kinds;

my $promote = grep { $_ eq 'promote' } @event_kinds;
my $node = PostgreSQL::Test::Cluster->new('random_uniqueness');
$node->init(allows_streaming => $promote ? 1 : 0);
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'idgen'
max_connections = @{[ $nclients * 2 + 30 ]}
max_prepared_transactions = @{[ $nclients * 4 + 20 ]}
log_statement = @{[ $debug ? "'all'" : "'none'" ]}
});
$node->start;
# every server of the run, for the crash check at the end
my @servers = ($node);

# Generators: tg(1..3) are segment tags, tg(4) the hybrid tag, tg(5)
# snowflake_id(); draw(gen) draws one ID of any of them.  The churn tag "c"
# is used only by churn_draw, which tolerates its absence.
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION idgen;
SELECT idgen.create_tag('a', region => 500, chunk_min => 1, chunk_max => 50);
-- 'b' and half the incarnations of 'c' have per-backend chunks, the
-- others locality (the default)
SELECT idgen.create_tag('b', region => 200, chunk_min => 1, chunk_max => 20,
                        locality => false);
SELECT idgen.create_tag('nr', region => 1000, chunk_min => 1, chunk_max => 50, reclaim => false);
SELECT idgen.create_tag('c', region => 300, chunk_min => 1, chunk_max => 30);
SELECT idgen.create_tag('h', kind => 'hybrid');
-- ordered tags, which the watermark reader polls
SELECT idgen.create_tag('o', region => 500, chunk_max => 50, ordered => true);
SELECT idgen.create_tag('q', region => 200, chunk_max => 10, ordered => true, reclaim => false);

-- src: which script inserted the row (diagnostics only)
CREATE TABLE ids (gen text NOT NULL, id bigint NOT NULL, src text, UNIQUE (gen, id));
CREATE TABLE admin_log (op text, tag text, detail text);
CREATE SEQUENCE admin_attempts;
CREATE SEQUENCE admin_rollbacks;
CREATE SEQUENCE churn_misses;

-- tg(1..3): segment tags (next_id_range works), tg(4..5): ordered segment
-- tags, tg(6): hybrid, tg(7): snowflake
CREATE FUNCTION tg(k int) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT (ARRAY['a', 'b', 'nr', 'o', 'q', 'h', 'snowflake'])[k] $$;

CREATE FUNCTION draw(g text) RETURNS bigint LANGUAGE sql VOLATILE
AS $$ SELECT CASE g WHEN 'snowflake' THEN snowflake_id()
                    WHEN 'h' THEN hybrid_id('h')
                    ELSE next_id(g) END $$;

-- IDs drawn by RETURN QUERY in an exception block that then fails stay in
-- the result set
CREATE FUNCTION rq_draw(g text, n int, fail boolean) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        RETURN QUERY SELECT draw(g) FROM generate_series(1, n);
        IF fail THEN
            PERFORM 1 / 0;
        END IF;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
    RETURN QUERY SELECT draw(g) FROM generate_series(1, n);
END
$$;

-- the sort draws all n IDs at the first FETCH, inside an exception block
-- that then fails; the rest are fetched after it
CREATE FUNCTION cursor_draw(g text, n int, k int, fail boolean) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    v bigint;
    i int := 0;
BEGIN
    OPEN c FOR SELECT draw(g) FROM generate_series(1, n) ORDER BY 1;
    BEGIN
        LOOP
            EXIT WHEN i >= k;
            FETCH c INTO v;
            EXIT WHEN NOT FOUND;
            RETURN NEXT v;
            i := i + 1;
        END LOOP;
        IF fail THEN
            PERFORM 1 / 0;
        END IF;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
    LOOP
        FETCH c INTO v;
        EXIT WHEN NOT FOUND;
        RETURN NEXT v;
    END LOOP;
    CLOSE c;
    RETURN QUERY SELECT draw(g) FROM generate_series(1, n);
END
$$;

-- fetch up to k rows of an SQL cursor into an array / the rest as a set
CREATE FUNCTION fetch_arr(c refcursor, k int) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    a bigint[] := '{}';
BEGIN
    FOR i IN 1 .. k LOOP
        FETCH c INTO v;
        EXIT WHEN NOT FOUND;
        a := a || v;
    END LOOP;
    RETURN a;
END
$$;

CREATE FUNCTION fetch_rest(c refcursor) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    LOOP
        FETCH c INTO v;
        EXIT WHEN NOT FOUND;
        RETURN NEXT v;
    END LOOP;
END
$$;

-- draws of the churn tag "c" in every shape; the tag may be missing or
-- dropped under our feet, which is counted, not an error
CREATE FUNCTION churn_draw(mode int, n int, r int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        CASE mode
        WHEN 1 THEN
            INSERT INTO ids SELECT 'c', next_id('c'), 'churn_plain' FROM generate_series(1, n);
        WHEN 2 THEN
            INSERT INTO ids SELECT 'c', generate_series(lower(rg), upper(rg) - 1), 'churn_range'
              FROM next_id_range('c', n * 5) rg;
        WHEN 3 THEN
            INSERT INTO ids SELECT 'c', x, 'churn_rq' FROM rq_draw('c', n, r % 2 = 0) x;
        WHEN 4 THEN
            INSERT INTO ids SELECT 'c', x, 'churn_cursor'
              FROM cursor_draw('c', n, 1 + r % n, r % 3 <> 0) x;
        ELSE
            INSERT INTO ids SELECT 'c', next_id('c'), 'churn_block' FROM generate_series(1, n);
            BEGIN
                INSERT INTO ids SELECT 'c', next_id('c'), 'churn_block' FROM generate_series(1, n);
                IF r % 2 = 0 THEN
                    PERFORM 1 / 0;
                END IF;
            EXCEPTION WHEN division_by_zero THEN
                NULL;
            END;
            INSERT INTO ids SELECT 'c', next_id('c'), 'churn_block' FROM generate_series(1, n);
        END CASE;
    -- deadlock: see admin_step
    EXCEPTION WHEN undefined_object OR object_not_in_prerequisite_state OR deadlock_detected THEN
        PERFORM nextval('churn_misses');
    END;
END
$$;

-- one administrative action; the caller commits or rolls back.  A start
-- that a concurrent claim overtook, a lock timeout and a deadlock are
-- logged, not raised.  The deadlock: the churn step holds the sequence of
-- "c" (see below) and waits for a transaction that used "c" and waits to
-- claim from it; the admin runs with a short deadlock_timeout so that it is
-- nearly always the one that gives up.
CREATE FUNCTION admin_step(ops text[], pick int, x1 int, x2 int, x3 int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    op text := ops[1 + pick % cardinality(ops)];
    tags text[] := ARRAY['a', 'b', 'nr', 'c', 'o', 'q', 'h'];
    t text;
    what text;
    hwm bigint;
    cmax int;
BEGIN
    PERFORM nextval('admin_attempts');
    BEGIN
        CASE op
        WHEN 'options' THEN
            what := 'options';
            t := tags[1 + x1 % 6];
            cmax := 1 + x2 % 50;
            PERFORM idgen.alter_tag(t, region => 200 + x1 % 801, chunk_min => 1 + x3 % cmax,
                                    chunk_max => cmax,
                                    reclaim => CASE WHEN t IN ('nr', 'q') THEN false ELSE x3 % 3 <> 0 END);
        WHEN 'maxvalue' THEN
            what := 'maxvalue';
            t := tags[1 + x1 % 7];
            PERFORM idgen.alter_tag(t, maxvalue => CASE WHEN t = 'h' THEN 2147483647 - x2
                                                   ELSE 1000000000000 + x2::bigint * 1000 END);
        WHEN 'start' THEN
            what := 'start';
            t := tags[1 + x1 % 7];
            EXECUTE format('SELECT last_value FROM idgen_seq.%I', t) INTO hwm;
            PERFORM idgen.alter_tag(t, start => hwm + 1 + x2 % 100);
        WHEN 'churn' THEN
            what := 'churn';
            t := 'c';
            -- COMMENT takes a SHARE UPDATE EXCLUSIVE lock on the sequence,
            -- which keeps claims of the old incarnation out until we commit:
            -- without it, a claim between reading the mark and the drop
            -- would hand out IDs above the mark, legitimately.
            EXECUTE format('COMMENT ON SEQUENCE idgen_seq.%I IS %L', t, 'churning');
            EXECUTE format('SELECT last_value FROM idgen_seq.%I', t) INTO hwm;
            PERFORM idgen.drop_tag(t);
            PERFORM idgen.create_tag(t, start => hwm + 1, region => 100 + x1 % 400,
                                     chunk_min => 1, chunk_max => 1 + x2 % 30,
                                     reclaim => x3 % 4 <> 0,
                                     locality => x2 % 2 = 0);
        END CASE;
    EXCEPTION WHEN invalid_parameter_value OR lock_not_available OR deadlock_detected THEN
        what := what || ' failed';
        INSERT INTO admin_log VALUES (what, t, SQLERRM);
        RETURN what;
    END;
    INSERT INTO admin_log VALUES (what, t, hwm);
    RETURN what;
END
$$;
});

# Workload scripts: one transaction shape each.  :r decides commit (80%) or
# rollback; every ID drawn is inserted into ids.
my $commit_or_rollback = q{
\if :r <= 20
ROLLBACK;
\else
COMMIT;
\endif
};
my %scripts = (
	plain => q{
\set r random(1, 100)
\set t random(1, 7)
\set u random(1, 7)
\set n random(1, 5)
BEGIN;
INSERT INTO ids SELECT tg(:t), draw(tg(:t)), 'plain' FROM generate_series(1, :n);
INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'plain' FROM generate_series(1, :n);
INSERT INTO ids VALUES ('snowflake', snowflake_id(), 'plain'), ('h', hybrid_id('h'), 'plain');
} . $commit_or_rollback,
	savepoint => q{
\set r random(1, 100)
\set s1 random(1, 100)
\set s2 random(1, 100)
\set t random(1, 7)
\set u random(1, 5)
\set n random(1, 8)
BEGIN;
INSERT INTO ids SELECT tg(:t), draw(tg(:t)), 'savepoint' FROM generate_series(1, :n);
SAVEPOINT s1;
INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'savepoint' FROM generate_series(1, :n);
INSERT INTO ids VALUES ('h', hybrid_id('h'), 'savepoint'), ('snowflake', snowflake_id(), 'savepoint');
\if :s1 <= 40
ROLLBACK TO SAVEPOINT s1;
\else
RELEASE SAVEPOINT s1;
\endif
INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'savepoint' FROM generate_series(1, :n);
SAVEPOINT s2;
INSERT INTO ids SELECT tg(:t), draw(tg(:t)), 'savepoint' FROM generate_series(1, :n);
SAVEPOINT s3;
INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'savepoint' FROM generate_series(1, :n);
\if :s2 <= 50
ROLLBACK TO SAVEPOINT s2;
\else
RELEASE SAVEPOINT s2;
\endif
INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'savepoint' FROM generate_series(1, :n);
} . $commit_or_rollback,
	return_query => q{
\set r random(1, 100)
\set f random(1, 100)
\set t random(1, 7)
\set n random(1, 10)
BEGIN;
INSERT INTO ids SELECT tg(:t), x, 'return_query' FROM rq_draw(tg(:t), :n, :f <= 70) x;
INSERT INTO ids SELECT tg(:t), draw(tg(:t)), 'return_query' FROM generate_series(1, :n);
} . $commit_or_rollback,
	cursor_plpgsql => q{
\set r random(1, 100)
\set f random(1, 100)
\set t random(1, 7)
\set n random(1, 20)
\set k random(1, :n)
BEGIN;
INSERT INTO ids SELECT tg(:t), x, 'cursor_plpgsql' FROM cursor_draw(tg(:t), :n, :k, :f <= 70) x;
} . $commit_or_rollback,
	cursor_sql => q{
\set r random(1, 100)
\set s random(1, 100)
\set t random(1, 5)
\set n random(1, 20)
\set k random(1, :n)
BEGIN;
DECLARE cur CURSOR FOR SELECT next_id(tg(:t)) FROM generate_series(1, :n) ORDER BY 1;
SAVEPOINT s;
SELECT fetch_arr('cur', :k) AS arr \gset
\if :s <= 70
ROLLBACK TO SAVEPOINT s;
\else
RELEASE SAVEPOINT s;
\endif
INSERT INTO ids SELECT tg(:t), unnest(':arr'::bigint[]), 'cursor_sql';
INSERT INTO ids SELECT tg(:t), x, 'cursor_sql' FROM fetch_rest('cur') x;
INSERT INTO ids SELECT tg(:t), next_id(tg(:t)), 'cursor_sql' FROM generate_series(1, :n);
} . $commit_or_rollback,
	twophase => q{
\set r random(1, 100)
\set s random(1, 100)
\set t random(1, 7)
\set u random(1, 5)
\set n random(1, 5)
\set g random(1, 1000000000)
SET application_name = 'w2pc';
BEGIN;
INSERT INTO ids SELECT tg(:t), draw(tg(:t)), 'twophase' FROM generate_series(1, :n);
SAVEPOINT s;
INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'twophase' FROM generate_series(1, :n);
\if :s <= 50
ROLLBACK TO SAVEPOINT s;
\endif
INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'twophase' FROM generate_series(1, :n);
PREPARE TRANSACTION 'p-:proc-:client_id-:g';
\if :r <= 30
ROLLBACK PREPARED 'p-:proc-:client_id-:g';
\else
COMMIT PREPARED 'p-:proc-:client_id-:g';
\endif
SET application_name = 'pgbench';
},
	range => q{
\set r random(1, 100)
\set t random(1, 3)
\set n random_exponential(1, 1000, 10.0)
BEGIN;
INSERT INTO ids SELECT g, generate_series(lower(rg), upper(rg) - 1), 'range'
  FROM (SELECT tg(:t) AS g, next_id_range(tg(:t), :n) AS rg OFFSET 0) s;
INSERT INTO ids SELECT tg(:t), next_id(tg(:t)), 'range' FROM generate_series(1, 3);
} . $commit_or_rollback,
	do_block => q{
\set r random(1, 100)
\set e random(1, 100)
\set t random(1, 7)
\set u random(1, 7)
\set n random(1, 8)
BEGIN;
DO $$
DECLARE
    v bigint;
BEGIN
    INSERT INTO ids SELECT tg(:t), draw(tg(:t)), 'do_block' FROM generate_series(1, :n);
    BEGIN
        INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'do_block' FROM generate_series(1, :n);
        v := draw(tg(:u));
        IF :e <= 50 THEN
            RAISE EXCEPTION 'inner failure' USING ERRCODE = 'data_exception';
        END IF;
    EXCEPTION WHEN data_exception THEN
        NULL;
    END;
    INSERT INTO ids SELECT tg(:u), draw(tg(:u)), 'do_block' FROM generate_series(1, :n);
    IF v IS NOT NULL AND :leak = 1 THEN
        INSERT INTO ids VALUES (tg(:u), v, 'do_block_var');
    END IF;
END
$$;
} . $commit_or_rollback,
	churn => q{
\set r random(1, 100)
\set m random(1, 5)
\set n random(1, 20)
\if :leak = 0 AND (:m = 3 OR :m = 4)
\set m 5
\endif
BEGIN;
SELECT churn_draw(:m, :n, :r);
SELECT churn_draw(CASE WHEN :leak = 0 THEN 1 ELSE :r % 5 + 1 END, :n, :r);
} . $commit_or_rollback,);
my %weights = (
	plain => 3,
	savepoint => 3,
	return_query => 2,
	cursor_plpgsql => 2,
	cursor_sql => 2,
	twophase => 2,
	range => 1,
	do_block => 2,
	churn => 2);
# scripts whose IDs leave a rolled-back subtransaction (RETURN QUERY,
# cursors, a PL/pgSQL variable): LEAK=0 leaves them out, to hunt for other
# causes of duplicates
my %leaky = map { $_ => 1 } qw(return_query cursor_plpgsql cursor_sql);
my @script_names =
  $ENV{STRESS_SCRIPTS}
  ? split(/,/, $ENV{STRESS_SCRIPTS})
  : grep { $leak || !$leaky{$_} } sort keys %scripts;
die "unknown script in STRESS_SCRIPTS" if grep { !$scripts{$_} } @script_names;

my $admin_script = q{
\set r random(1, 100)
\set two random(1, 100)
\set p1 random(0, 1000)
\set p2 random(0, 1000)
\set x1 random(1, 1000000)
\set x2 random(1, 1000000)
\set x3 random(1, 1000000)
\set pause random(20, 200)
BEGIN;
SELECT admin_step('{:ops}', :p1, :x1, :x2, :x3);
\if :two <= 30
SELECT admin_step('{:ops}', :p2, :x2, :x3, :x1);
\endif
\if :r <= 30
SELECT nextval('admin_rollbacks');
ROLLBACK;
\else
COMMIT;
\endif
\sleep :pause ms
};

# the scripts outlive every server (a switchover removes the old one)
my $dir = PostgreSQL::Test::Utils::tempdir;
for my $name (@script_names)
{
	PostgreSQL::Test::Utils::append_to_file("$dir/$name.sql", $scripts{$name});
}
PostgreSQL::Test::Utils::append_to_file("$dir/admin.sql", $admin_script);

# Errors a pgbench client may die of without anything being wrong.
my @whitelist = (
	[ terminated => qr/terminating connection due to administrator command/ ],
	[   connection_lost =>
		  qr/server closed the connection unexpectedly|perhaps the backend died while processing|connection to server was lost|could not send data to server|no connection to the server/
	],
	[   restart =>
		  qr/terminating connection due to immediate shutdown command|the database system is (?:shutting down|starting up|not yet accepting connections|in recovery mode)|connection to server .* failed/
	],
	[ tag_missing => qr/tag "[^"]*" (?:does not exist|was dropped)/ ],
	[ lock_timeout => qr/canceling statement due to lock timeout/ ],
	[   prepared_resolved_elsewhere =>
		  qr/prepared transaction with identifier "[^"]*" does not exist/
	],);

my %errors;        # error kind => count
my %dup_by_script; # script name => duplicate key errors
my @duplicates;    # [script, gen, id, message]
my @unexpected;    # messages
my %script_xacts;  # script name => transactions
my ($rounds, $admin_rounds, $total_xacts, $admin_xacts) = (0, 0, 0, 0);

# classify pgbench's stderr; $names maps script index to script name
sub classify_errors
{
	my ($err, $names) = @_;
	# warnings and notices the server sent along are not errors
	$err =~ s/^(?:WARNING|NOTICE|DETAIL|HINT|CONTEXT):.*\n//mg;
	my @blocks = split /^(?=pgbench: )/m, $err;
	for my $block (@blocks)
	{
		next if $block =~ /^\s*$/;
		next if $block =~ /^pgbench: error: Run was aborted/;
		next if $block =~ /^pgbench: setting random seed/;
		# follows the message of a lost connection
		next if $block =~ /^pgbench: error: perhaps the backend died while processing/;
		diag("pgbench: $block") if $debug;
		my ($script, $msg);
		if ($block =~
			/client \d+ script (\d+) aborted in command \d+ query \d+: (.*)/s
			|| $block =~ /client \d+ aborted in command \d+ \(\S+\) of script (\d+); (.*)/s)
		{
			($script, $msg) = ($names->[$1] // "script $1", $2);
		}
		else
		{
			($script, $msg) = ('?', $block);
		}
		if ($msg =~ /duplicate key value violates unique constraint/)
		{
			my ($gen, $id) = $msg =~ /Key \(gen, id\)=\(([^,]*), (-?\d+)\)/;
			$errors{duplicate_key}++;
			$dup_by_script{$script}++;
			push @duplicates, [ $script, $gen // '?', $id // '?', $msg ];
			next;
		}
		my $kind;
		for my $w (@whitelist)
		{
			if ($msg =~ $w->[1])
			{
				$kind = $w->[0];
				last;
			}
		}
		# a crash restart terminates everyone with its own message
		undef $kind if $msg =~ /crash of another server process/;
		if (defined $kind)
		{
			$errors{$kind}++;
		}
		else
		{
			$errors{unexpected}++;
			push @unexpected, "[$script] $msg";
		}
	}
}

# one pgbench process: a workload session or the admin
my @sessions;
for my $i (1 .. $nclients)
{
	push @sessions, { proc => $i, admin => 0 };
}
push @sessions, { proc => 0, admin => 1 };

# Events (see the header); $standby follows the primary for switchovers.
my %events;
my $nevents = 0;
my $standby;
my $nstandby = 0;

sub make_standby
{
	my $name = 'standby' . ++$nstandby;
	$node->backup("bk_$name");
	$standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($node, "bk_$name", has_streaming => 1);
	$standby->start;
	# the standby has its copy: keep the disk use of a long run bounded
	rmtree($node->backup_dir . "/bk_$name");
	push @servers, $standby;
	return;
}

sub event
{
	my ($kind) = @_;
	$kind = 'restart' if $kind eq 'clockback' && !$faketime_lib;
	diag("event: $kind") if $debug;
	# a prepared transaction that drew from the ordered tags goes through
	# the event; the janitor commits it afterwards
	sql(qq{
		BEGIN;
		INSERT INTO ids SELECT tg(k), next_id(tg(k)), 'event_2pc' FROM generate_series(4, 5) k;
		PREPARE TRANSACTION 'event-$nevents';
	});
	if ($kind eq 'restart')
	{
		$node->stop(rand() < 0.5 ? 'immediate' : 'fast');
		$node->start;
	}
	elsif ($kind eq 'clockback')
	{
		$node->stop('immediate');
		local $ENV{LD_PRELOAD} = $faketime_lib;
		local $ENV{FAKETIME} = '-' . (5 + int(rand(11))) . 'm';
		local $ENV{FAKETIME_DONT_FAKE_MONOTONIC} = '1';
		$node->start;
	}
	else
	{
		# a switchover: the standby has every commit of a fast shutdown
		my $old = $node;

		$old->stop('fast');
		$standby->promote;
		$node = $standby;
		make_standby();
		# its log stays for the crash check, its data is of no more use
		$old->clean_node;
	}
	$events{$kind}++;
	return;
}
make_standby() if $promote;

my $t0 = time;
my $deadline = $t0 + $duration;

sub start_round
{
	my ($s) = @_;
	my $left = $deadline - time;
	return 0 if $left < 2;
	my $T = int(10 + rand(11));
	$T = int($left) if $T > $left;
	my @cmd = (
		'pgbench', '-n', '-c', '1', '-j', '1', '-T', $T,
		'--random-seed', int(rand(2**31)),
		'-h', $node->host, '-p', $node->port, '-D', "proc=$s->{proc}", '-D', "leak=$leak");
	my @env;
	if ($s->{admin})
	{
		push @cmd, '-f', "$dir/admin.sql", '-D', "ops=$admin_ops";
		@env = (
			'PGAPPNAME=idgen_admin',
			'PGOPTIONS=-c client_min_messages=warning -c lock_timeout=2s -c deadlock_timeout=100ms');
		$s->{names} = ['admin'];
	}
	else
	{
		push @cmd, '-f', "$dir/$_.sql\@$weights{$_}" for @script_names;
		@env = ('PGAPPNAME=pgbench', 'PGOPTIONS=-c client_min_messages=warning');
		$s->{names} = \@script_names;
	}
	push @cmd, 'postgres';
	$s->{out} = '';
	$s->{err} = '';
	$s->{h} = IPC::Run::start([ 'env', @env, @cmd ],
		'<', \undef, '>', \$s->{out}, '2>', \$s->{err});
	return 1;
}

sub finish_round
{
	my ($s) = @_;
	$s->{h}->finish;
	delete $s->{h};
	my ($n) = $s->{out} =~ /number of transactions actually processed: (\d+)/;
	$n //= 0;
	if ($s->{admin})
	{
		$admin_rounds++;
		$admin_xacts += $n;
	}
	else
	{
		$rounds++;
		$total_xacts += $n;
		if (@script_names == 1)
		{
			$script_xacts{ $script_names[0] } += $n;
		}
		else
		{
			while ($s->{out} =~
				/^SQL script (\d+): .*\n - weight: .*\n - (\d+) transactions/mg)
			{
				$script_xacts{ $script_names[ $1 - 1 ] } += $2;
			}
		}
	}
	classify_errors($s->{err}, $s->{names});
	return;
}

# psql returning its output, never dying
sub sql
{
	my ($query) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', $query, stdout => \$out, stderr => \$err);
	return $out;
}

my %kills;
my $next_kill = $t0 + 1;
my $next_janitor = $t0 + 2;
my $next_read = $t0 + 0.3;
my $next_event = $t0 + $event_every;
my $orphans_resolved = 0;

# resolve prepared transactions whose client is gone (older than $age s)
# (ages are counted from when the janitor first saw them, not from their
# "prepared" time: the server's clock may have been set back)
my %first_seen;

sub janitor
{
	my ($age) = @_;
	my $now = time;
	my @gids = split /\n/,
	  sql("SELECT gid FROM pg_prepared_xacts WHERE database = 'postgres'");
	my %present = map { $_ => 1 } @gids;
	delete $first_seen{$_} for grep { !$present{$_} } keys %first_seen;
	for my $gid (@gids)
	{
		$first_seen{$gid} //= $now;
		next if $now - $first_seen{$gid} < $age;
		# an event's (see event) commits: its rows must be read
		my $verb = $gid =~ /^event-/ || rand() < 0.5 ? 'COMMIT' : 'ROLLBACK';
		sql("$verb PREPARED '$gid'");
		$orphans_resolved++;
	}
	return;
}

# The watermark reader: one round over the ordered tags.  A round that
# fails (the server restarting) reads nothing and keeps the cursor.
my @ordered = qw(o q);
my %cursor = map { $_ => 0 } @ordered;
my %reads = map { $_ => {} } @ordered;    # tag => id => times read
my ($reader_polls, $reader_failed) = (0, 0);

sub read_ordered
{
	for my $g (@ordered)
	{
		my ($out, $err) = ('', '');
		my $ret = $node->psql(
			'postgres', qq{
SELECT idgen.watermark('$g') AS w \\gset
SELECT :w || '|' || coalesce(string_agg(id::text, ','), '') FROM ids
 WHERE gen = '$g' AND id > $cursor{$g} AND id <= :w;
},
			stdout => \$out,
			stderr => \$err);
		if ($ret != 0 || $out !~ /^(\d+)\|([\d,]*)$/)
		{
			$reader_failed++;
			diag("reader: $err") if $debug;
			next;
		}
		my ($w, $rows) = ($1, $2);
		$reads{$g}{$_}++ for split /,/, $rows;
		$cursor{$g} = $w if $w > $cursor{$g};
		$reader_polls++;
	}
	return;
}

sub kill_one
{
	my @rows = map { [ split /\|/ ] } split /\n/,
	  sql("SELECT pid, application_name FROM pg_stat_activity "
		  . "WHERE backend_type = 'client backend' "
		  . "AND application_name IN ('pgbench', 'w2pc', 'idgen_admin')");
	diag('kill candidates: ' . join(' ', map { join(':', @$_) } @rows)) if $debug;
	return unless @rows;
	my $dice = rand();
	my $want = $dice < 0.1 ? 'idgen_admin' : $dice < 0.3 ? 'w2pc' : 'pgbench';
	my @pick = grep { $_->[1] eq $want } @rows;
	@pick = grep { $_->[1] ne 'idgen_admin' } @rows unless @pick;
	return unless @pick;
	my $victim = $pick[ int(rand(@pick)) ];
	my $res = sql("SELECT pg_terminate_backend($victim->[0])");
	diag("kill $victim->[0] ($victim->[1]): $res") if $debug;
	if ($res eq 't')
	{
		$kills{ $victim->[1] eq 'pgbench' ? 'workload' : $victim->[1] eq 'w2pc' ? 'twophase' : 'admin' }++;
	}
	return;
}

start_round($_) for @sessions;
my $hard_deadline = $deadline + 120;
while (1)
{
	my $running = 0;
	for my $s (@sessions)
	{
		next unless $s->{h};
		$s->{h}->pump_nb if $s->{h}->pumpable;
		if ($s->{h}->pumpable)
		{
			$running++;
		}
		else
		{
			finish_round($s);
			$running++ if start_round($s);
		}
	}
	last unless $running;
	my $now = time;
	if ($now > $hard_deadline)
	{
		diag("pgbench did not finish in time; killing it");
		$_->{h} && $_->{h}->kill_kill for @sessions;
		$errors{unexpected}++;
		push @unexpected, 'pgbench runs hung past DURATION + 120 s';
		last;
	}
	if ($now < $deadline && $now >= $next_kill)
	{
		kill_one();
		$next_kill = time + 0.5 + rand(1.5);
	}
	if ($now >= $next_janitor)
	{
		janitor(5);
		$next_janitor = time + 2;
	}
	if ($now >= $next_read)
	{
		read_ordered();
		$next_read = time + 0.3;
	}
	if (@event_kinds && $now < $deadline - 5 && $now >= $next_event)
	{
		event($event_kinds[ $nevents++ % @event_kinds ]);
		$next_event += $event_every;
	}
	sleep(0.05);
}

# every session has ended: wait for the backends, then resolve what is
# still prepared
$node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_stat_activity
	   WHERE application_name IN ('pgbench', 'w2pc', 'idgen_admin')})
  or die "pgbench backends did not exit";
janitor(0);
my $wall = sprintf('%.0f', time - $t0);

# nothing is in flight any more: the reader catches up with every row
my %top = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres',
	"SELECT gen, max(id) FROM ids WHERE gen IN ('o', 'q') GROUP BY gen");
for my $try (1 .. 100)
{
	read_ordered();
	last unless grep { $cursor{$_} < ($top{$_} // 0) } @ordered;
	sleep(0.2);
}

# no server crashed: no crash, no PANIC, no assertion failure
my @crashes;
for my $server (@servers)
{
	push @crashes, slurp_file($server->logfile) =~
	  /^.*(?:terminated by signal|was terminated by exception|PANIC:|TRAP:).*$/mg;
}
is(scalar(@crashes), 0, 'no server process crashed')
  or diag(join("\n", @crashes[ 0 .. ($#crashes < 9 ? $#crashes : 9) ]));
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server is up');

# error report
note("errors pgbench clients died of: "
	  . (join(', ', map { "$_ $errors{$_}" } sort keys %errors) || 'none'));
my %pairs;
my %dup_ids;
for my $d (@duplicates)
{
	my ($script, $gen, $id, $msg) = @$d;
	my $first = '(not committed)';
	if ($id =~ /^-?\d+$/)
	{
		(my $g = $gen) =~ s/'/''/g;
		$first = sql("SELECT coalesce(string_agg(src, ','), '(not committed)') "
			  . "FROM ids WHERE gen = '$g' AND id = $id");
	}
	diag("duplicate ($gen, $id): drawn again by script $script, committed by $first")
	  if $dup_ids{"$gen $id"}++ == 0 && keys(%dup_ids) <= 15;
	$pairs{"$script vs $first"}++;
}
diag(scalar(@duplicates) . " duplicate key errors on "
	  . scalar(keys %dup_ids) . " distinct IDs; by (script that failed vs script of the committed row): "
	  . join(', ', map { "$_: $pairs{$_}" } sort { $pairs{$b} <=> $pairs{$a} } keys %pairs))
  if @duplicates;
is($errors{duplicate_key} // 0, 0, 'no duplicate key error')
  or diag('duplicate key errors by script: '
	  . join(', ', map { "$_ $dup_by_script{$_}" } sort keys %dup_by_script));
is($errors{unexpected} // 0, 0, 'no unexpected error')
  or diag(join("\n", @unexpected[ 0 .. ($#unexpected < 19 ? $#unexpected : 19) ]));

# invariants of the committed IDs
is( $node->safe_psql(
		'postgres', 'SELECT count(*) - count(DISTINCT (gen, id)) FROM ids'),
	'0',
	'no (gen, id) is committed twice');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ids WHERE id <= 0'),
	'0', 'no ID <= 0');
my $above = $node->safe_psql(
	'postgres', q{
	SELECT coalesce(string_agg(format('%s: %s > %s', i.gen, i.top, m.maxvalue), ', '), '')
	  FROM (SELECT gen, max(CASE WHEN gen = 'h' THEN (idgen.hybrid_parse(id)).slab ELSE id END) AS top
	          FROM ids WHERE gen <> 'snowflake' GROUP BY gen) i
	  JOIN idgen.tags m ON m.tag = i.gen
	 WHERE i.top > m.maxvalue});
is($above, '', 'no ID (hybrid: slab) above its tag\'s maxvalue');

# the watermark reader: every committed row of an ordered tag read exactly
# once, none that is not committed
my %reader_rows;
for my $g (@ordered)
{
	my %committed = map { split /\|/ } split /\n/,
	  $node->safe_psql('postgres', "SELECT id, src FROM ids WHERE gen = '$g'");
	my @missed = sort { $a <=> $b } grep { !$reads{$g}{$_} } keys %committed;
	my @twice = sort { $a <=> $b } grep { $reads{$g}{$_} > 1 } keys %{ $reads{$g} };
	my @phantom = sort { $a <=> $b } grep { !exists $committed{$_} } keys %{ $reads{$g} };
	$reader_rows{$g} = scalar(keys %{ $reads{$g} });
	is(scalar(@missed), 0, "the reader missed no committed row of ordered tag $g")
	  or diag("missed ($g, id, script): "
		  . join(' ', map { "$_:$committed{$_}" } @missed[ 0 .. ($#missed < 19 ? $#missed : 19) ]));
	is(scalar(@twice), 0, "the reader read no row of $g twice")
	  or diag("read twice: @twice[0 .. ($#twice < 19 ? $#twice : 19)]");
	is(scalar(@phantom), 0, "the reader read no row of $g that is not committed")
	  or diag("not committed: @phantom[0 .. ($#phantom < 19 ? $#phantom : 19)]");
	cmp_ok($reader_rows{$g}, '>', 0, "the reader read rows of $g");
}

my %per_gen = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres', 'SELECT gen, count(*) FROM ids GROUP BY gen');
my @gens = qw(a b nr o q h snowflake);
push @gens, 'c' if grep { $_ eq 'churn' } @script_names;
for my $gen (@gens)
{
	cmp_ok($per_gen{$gen} // 0, '>', 0, "committed IDs of $gen");
}
my %per_src = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres', 'SELECT src, count(*) FROM ids GROUP BY src');
for my $name (@script_names)
{
	cmp_ok($script_xacts{$name} // 0, '>', 0, "script $name ran transactions");
}

my ($attempts, $rollbacks, $misses) = split /\|/,
  $node->safe_psql(
	'postgres', q{SELECT
	  (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM admin_attempts),
	  (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM admin_rollbacks),
	  (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM churn_misses)});
my %admin = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres', 'SELECT op, count(*) FROM admin_log GROUP BY op');
my $admin_committed = 0;
$admin_committed += $_ for values %admin;
my $nkills = 0;
$nkills += $_ for values %kills;

note("seed $seed, $duration s of workload ($wall s wall), $nclients sessions, "
	  . "$rounds workload rounds + $admin_rounds admin rounds, "
	  . "$total_xacts workload transactions + $admin_xacts admin transactions");
note("transactions per script: "
	  . join(', ', map { "$_ " . ($script_xacts{$_} // 0) } @script_names));
note("committed IDs per gen: "
	  . join(', ', map { "$_ $per_gen{$_}" } sort keys %per_gen));
note("committed IDs per script: "
	  . join(', ', map { "$_ $per_src{$_}" } sort keys %per_src));
note("terminations: $nkills ("
	  . join(', ', map { "$_ $kills{$_}" } sort keys %kills)
	  . "), orphaned prepared transactions resolved: $orphans_resolved");
note("admin steps: $attempts attempted, $admin_committed committed ("
	  . join(', ', map { "$_ $admin{$_}" } sort keys %admin)
	  . "), $rollbacks transactions rolled back; churn tag missing $misses times");
note("watermark reader: $reader_polls polls ($reader_failed failed), rows read once: "
	  . join(', ', map { "$_ $reader_rows{$_}" } @ordered));
note("events: " . (join(', ', map { "$_ $events{$_}" } sort keys %events) || 'none'));

cmp_ok($total_xacts, '>', 0, 'workload transactions ran');
cmp_ok($nkills, '>', 0, 'backends were terminated');
cmp_ok($admin_committed, '>', 0, 'admin steps committed');
cmp_ok($rollbacks, '>', 0, 'admin transactions rolled back');
cmp_ok($admin{churn} // 0, '>', 0, 'the churn tag was dropped and re-created')
  if $admin_ops =~ /churn/;
# each kind of event happened, where the run was long enough for all
if ($duration - 5 >= $event_every * @event_kinds)
{
	for my $kind (@event_kinds)
	{
		$kind = 'restart' if $kind eq 'clockback' && !$faketime_lib;
		cmp_ok($events{$kind} // 0, '>', 0, "event $kind happened");
	}
}

$standby->stop('fast') if $standby;
$node->stop('fast');
done_testing();
