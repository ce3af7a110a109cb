# Set-up shared by the many-servers tests (t/3*.pl): servers that preload
# idgen, a root whose tags are granted to the node role idgen_node, nodes
# pointed at a root and the SQL that gives them tag orders of source root,
# pgbench started in the background, and the tally of IDs collected from
# several servers.  A test loads it with
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use IdgenServers;
#
# Nothing here asserts: the tests keep every check of their own.
package IdgenServers;

use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(init_idgen idgen_server root_setting root_sql serve_tags
  idgen_root wait_grants node_sql idgen_node pgbench_start pump_rounds ids
  count_repeats);

# init_idgen SERVER, OPTIONS: initdb a new PostgreSQL::Test::Cluster
# (init => [ARGS] are the arguments of its init) and have it preload idgen,
# with the settings of conf => TEXT after that line
sub init_idgen
{
	my ($server, %opt) = @_;
	$server->init(@{ $opt{init} // [] });
	$server->append_conf('postgresql.conf',
		"shared_preload_libraries = 'idgen'\n" . ($opt{conf} // ''));
	return $server;
}

# idgen_server NAME, OPTIONS: a new server NAME made by init_idgen with
# OPTIONS, and started unless start => 0
sub idgen_server
{
	my ($name, %opt) = @_;
	my $server = init_idgen(PostgreSQL::Test::Cluster->new($name), %opt);
	$server->start if $opt{start} // 1;
	return $server;
}

# root_setting ROOT, OPTIONS: the line of postgresql.conf that points a node
# at ROOT as idgen_node: idgen.root, a connection string to database
# db => DB of ROOT (ids), with the words extra => TEXT appended; ROOT may
# also be a connection string of its own, taken as it is
sub root_setting
{
	my ($root, %opt) = @_;
	my $conninfo =
	  ref $root
	  ? $root->connstr($opt{db} // 'ids') . ' user=idgen_node'
	  : $root;
	$conninfo .= $opt{extra} // '';
	$conninfo =~ s/'/''/g;
	return "idgen.root = '$conninfo'\n";
}

# root_sql OPTIONS: the SQL that makes a server a root: idgen installed,
# the tags of tags => [NAME => ARGS, ...] created (ARGS: create_tag's
# arguments after the name, or ''), the login role idgen_node (with
# password => PW, if given) and USAGE on the sequences of the tags of
# grant => [NAME, ...] (by default every tag) granted to it; then the SQL
# of extra => TEXT
sub root_sql
{
	my (%opt) = @_;
	my @tags = @{ $opt{tags} // [] };
	my (@names, $sql);
	$sql = "\n\tCREATE EXTENSION idgen;\n";
	while (my ($tag, $args) = splice @tags, 0, 2)
	{
		push @names, $tag;
		$sql .= "\tSELECT idgen.create_tag('$tag'"
		  . ($args ne '' ? ", $args" : '') . ");\n";
	}
	$sql .= "\tCREATE ROLE idgen_node LOGIN"
	  . (defined $opt{password} ? " PASSWORD '$opt{password}'" : '') . ";\n";
	my @grant = @{ $opt{grant} // \@names };
	$sql .= "\tGRANT USAGE ON SEQUENCE "
	  . join(', ', map { "idgen_seq.$_" } @grant)
	  . " TO idgen_node;\n"
	  if @grant;
	$sql .= $opt{extra} // '';
	return $sql;
}

# serve_tags SERVER, OPTIONS: make a started SERVER a root (root_sql with
# OPTIONS) in database db => DB (ids, created first unless it is postgres)
sub serve_tags
{
	my ($server, %opt) = @_;
	my $db = $opt{db} // 'ids';
	$server->safe_psql('postgres', "CREATE DATABASE $db") if $db ne 'postgres';
	$server->safe_psql($db, root_sql(%opt));
	return $server;
}

# idgen_root NAME, OPTIONS: a started root NAME (idgen_server's OPTIONS),
# serving its tags to idgen_node (serve_tags' OPTIONS)
sub idgen_root
{
	my ($name, %opt) = @_;
	return serve_tags(idgen_server($name, %opt), %opt);
}

# wait_grants NODE, N, OPTIONS: until NODE's runway holds N grants or more
# of tag => TAG (orders), seen in database db => DB (postgres); dies if it
# never does
sub wait_grants
{
	my ($node, $n, %opt) = @_;
	my $tag = $opt{tag} // 'orders';
	$node->poll_query_until($opt{db} // 'postgres',
		"SELECT grants_held >= $n FROM idgen.runway WHERE tag = '$tag'")
	  or die $node->name . " leased no grants of $tag";
	return $node;
}

# node_sql OPTIONS: the SQL that gives a node tag orders from its root:
# idgen installed, orders created with source root (and create_tag's
# arguments tag => ARGS after it, if given), and with table => COLUMNS the
# table orders of its IDs (COLUMNS after the column id; '' for none); then
# the SQL of extra => TEXT
sub node_sql
{
	my (%opt) = @_;
	my $sql = "\n\tCREATE EXTENSION idgen;\n"
	  . "\tSELECT idgen.create_tag('orders', source => 'root'"
	  . (defined $opt{tag} ? ", $opt{tag}" : '') . ");\n";
	$sql .=
	    "\tCREATE TABLE orders (id bigint PRIMARY KEY DEFAULT next_id('orders')"
	  . ($opt{table} ne '' ? ", $opt{table}" : '') . ");\n"
	  if defined $opt{table};
	$sql .= $opt{extra} // '';
	return $sql;
}

# idgen_node NAME, ROOT, OPTIONS: a started node NAME that leases from ROOT
# (root_setting's ROOT, with root_db => DB and root_extra => TEXT as its
# db and extra), named idgen.node_name = node_name => NODE_NAME (NAME; none
# when undef); its other settings conf => TEXT, its init init => [ARGS].
# Then it runs sql => SQL (if given) in database db => DB (postgres), and
# waits for grants => N grants of tag orders (none when 0 or not given)
sub idgen_node
{
	my ($name, $root, %opt) = @_;
	my $node_name = exists $opt{node_name} ? $opt{node_name} : $name;
	my $node = idgen_server(
		$name,
		init => $opt{init},
		start => 0,
		conf => root_setting(
			$root,
			db => $opt{root_db},
			extra => $opt{root_extra})
		  . (defined $node_name ? "idgen.node_name = '$node_name'\n" : '')
		  . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql($opt{db} // 'postgres', $opt{sql}) if defined $opt{sql};
	wait_grants($node, $opt{grants}, db => $opt{db}) if $opt{grants};
	return $node;
}

# pgbench_start NODE, DB, SCRIPT, SQL, OPTIONS...: pgbench -n with the
# options OPTIONS running SQL (written to file SCRIPT in NODE's base
# directory) on database DB of NODE, in the background; returns its
# IPC::Run harness h, and out and err, references to its output
sub pgbench_start
{
	my ($node, $db, $script, $sql, @options) = @_;
	my $file = $node->basedir . "/$script";
	open my $fh, '>', $file or die $!;
	print $fh $sql;
	close $fh;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', @options, '-f', $file, $node->connstr($db) ],
		'>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

# pump_rounds LOAD, NODES, START, DONE: keep a round of pgbench going on
# each of the servers NODES (an array): LOAD holds the round of each (name
# => what pgbench_start returned); a round that ended is finished and
# handed to DONE, and START->(NODE) starts the next
sub pump_rounds
{
	my ($load, $nodes, $start, $done) = @_;
	for my $n (@$nodes)
	{
		my $l = $load->{ $n->name };
		if ($l)
		{
			$l->{h}->pump_nb if $l->{h}->pumpable;
			next if $l->{h}->pumpable;
			$l->{h}->finish;
			$done->($l);
		}
		$load->{ $n->name } = $start->($n);
	}
	return;
}

# ids NODE, DB, QUERY: the values of QUERY's one column on NODE (by
# default the IDs of table orders in database postgres)
sub ids
{
	my ($node, $db, $query) = @_;
	return split /\n/,
	  $node->safe_psql($db // 'postgres', $query // 'SELECT id FROM orders');
}

# count_repeats SEEN, VALUES...: add VALUES to the hash SEEN (value =>
# times seen); how many of them it held already
sub count_repeats
{
	my ($seen, @values) = @_;
	my $n = 0;
	for my $v (@values)
	{
		$n++ if $seen->{$v}++;
	}
	return $n;
}

1;
