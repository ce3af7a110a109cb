# snowflake_id() and streaming replication: a hot standby refuses to issue
# IDs (as nextval does), and after the primary fails and the standby is
# promoted, every new ID is greater than every ID the primary issued.
# Replication is synchronous, so each lease extension reaches the standby
# before IDs under it are issued.
use strict;
use warnings FATAL => 'all';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('snowflake_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'idgen'");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION idgen;
	CREATE TABLE ids (id bigint PRIMARY KEY);
	INSERT INTO ids SELECT snowflake_id() FROM generate_series(1, 1000);
});
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('snowflake_standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->append_conf('postgresql.conf',
	"synchronous_standby_names = 'snowflake_standby'");
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'snowflake_standby'")
  or die 'timed out waiting for synchronous replication';

# IDs drawn on the primary after the standby started: the lease must be
# extended for them, through the synchronous standby
my $max = $primary->safe_psql('postgres', q{
	WITH d AS (INSERT INTO ids SELECT snowflake_id() FROM generate_series(1, 100000) RETURNING id)
	SELECT max(id) FROM d;
});
$max = $primary->safe_psql('postgres', q{
	SELECT max(id) FROM (SELECT snowflake_id() AS id FROM generate_series(1, 1000)) s;
});

my ($ret, $stdout, $stderr) = $standby->psql('postgres', 'SELECT snowflake_id()');
isnt($ret, 0, 'snowflake_id() fails on a hot standby');
like(
	$stderr,
	qr/cannot execute snowflake_id\(\) in a read-only transaction/,
	'the hot standby error is nextval\'s');

# the primary fails; the standby takes over
$primary->stop('immediate');
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for the promotion';
my $min = $standby->safe_psql('postgres',
	'SELECT min(id) FROM (SELECT snowflake_id() AS id FROM generate_series(1, 1000)) s');
cmp_ok($min, '>', $max,
	'after promotion, new IDs exceed every ID the old primary issued');

$standby->stop;
done_testing();
