# shellcheck shell=bash
# Shared by the scripts of tools/ and bench/: install what is missing,
# build and install idgen, and run servers (throwaway clusters among them)
# as an unprivileged user.
# Run as root, servers run as the "postgres" OS user; run as an ordinary
# user, servers run as that user and sudo is used only to install.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# PG_CONFIG: the PostgreSQL installation to build and test against (make
# passes PG_CONFIG=...); by default the pg_config on PATH (on Debian,
# postgresql-common's, which runs the newest installed version's), or
# Debian's PostgreSQL 15 when none is installed (see choose_pg_config).
PG_CONFIG=${PG_CONFIG:-pg_config}
TOOL_PACKAGES="libipc-run-perl make gcc faketime gnuplot-nox"
# where Debian's packages put PostgreSQL N (N/bin, N/lib);
# IDGEN_PG_LIBROOT moves it, so that tools/selftest.sh can fake a machine
PG_LIBROOT=${IDGEN_PG_LIBROOT:-/usr/lib/postgresql}
# the version installed on a machine that has none
DEFAULT_PG_MAJOR=15
# the client stacks of t/401_clients.pl (see ensure_clients)
CLIENT_PACKAGES="python3-psycopg python3-psycopg2 python3-sqlalchemy python3-django libpostgresql-jdbc-java default-jdk-headless"
# node-postgres from the npm registry, at this major version
NODE_PG_VERSION=8

if [ "$(id -u)" = 0 ]; then
    SUDO=
    PGUSER_OS=postgres
else
    SUDO=sudo
    PGUSER_OS=$(id -un)
fi

# say MESSAGE: progress on stderr, so that stdout stays the result
say() { echo "== $*" >&2; }

# install_packages PACKAGE...: apt-get install whichever of them is missing
install_packages() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ] && [ -n "$SUDO" ] && ! command -v "$SUDO" >/dev/null; then
        echo "missing: ${missing[*]}; run as root, or install sudo, or install them yourself" >&2
        return 1
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
    fi
}

# ensure_packages: install what is missing of the tools, and of the
# PostgreSQL installation to build against: choose it (choose_pg_config;
# PostgreSQL 15 when there is none), install what it lacks of a Debian-
# packaged one (server_packages_missing), check that it has all that
# building idgen and running servers need (check_pg_installation), and
# set PG_CONFIG to the path of its pg_config
ensure_packages() {
    local missing
    # shellcheck disable=SC2086
    install_packages $TOOL_PACKAGES
    PG_CONFIG=$(choose_pg_config)
    if [ -z "$PG_CONFIG" ]; then
        install_packages "postgresql-$DEFAULT_PG_MAJOR" "postgresql-server-dev-$DEFAULT_PG_MAJOR"
        PG_CONFIG=$(PG_CONFIG=pg_config choose_pg_config)
    fi
    PG_CONFIG=$(command -v "$PG_CONFIG") || { echo "no pg_config: ${PG_CONFIG:-none installed}" >&2; exit 1; }
    missing=$(server_packages_missing)
    if [ -n "$missing" ]; then
        say "$PG_CONFIG lacks ${missing//$'\n'/ }"
        # shellcheck disable=SC2086
        install_packages $missing
    fi
    check_pg_installation || exit 1
    ensure_pglogical
}

# debian_major BINDIR: N when BINDIR is that of Debian's packages of
# PostgreSQL N ($PG_LIBROOT/N/bin), else nothing
debian_major() {
    local major
    case $1 in
        "$PG_LIBROOT"/*/bin)
            major=${1#"$PG_LIBROOT"/}
            major=${major%/bin}
            [[ $major =~ ^[0-9]+$ ]] && echo "$major"
            ;;
    esac
    return 0
}

# newest_debian_server: the highest N whose server Debian's packages
# installed ($PG_LIBROOT/N/bin/postgres), else nothing
newest_debian_server() {
    local f major best=
    for f in "$PG_LIBROOT"/*/bin/postgres; do
        [ -x "$f" ] || continue
        major=$(debian_major "${f%/postgres}")
        if [ -n "$major" ] && { [ -z "$best" ] || [ "$major" -gt "$best" ]; }; then
            best=$major
        fi
    done
    echo "$best"
}

# choose_pg_config: the pg_config to build with: PG_CONFIG when one was
# given; else the one on PATH, unless it is of a Debian-packaged version
# whose server is not installed (a newer client's, libpq-dev's) while
# another version's is: then that newest server's; nothing when there is
# neither
choose_pg_config() {
    local found bindir major newest
    if [ "$PG_CONFIG" != pg_config ]; then
        echo "$PG_CONFIG"
        return 0
    fi
    newest=$(newest_debian_server)
    # postgresql-common's pg_config fails when no version is installed
    if found=$(command -v pg_config) && bindir=$("$found" --bindir 2>/dev/null); then
        major=$(debian_major "$bindir")
        if [ -z "$major" ] || [ -x "$bindir/postgres" ] || [ -z "$newest" ]; then
            echo "$found"
            return 0
        fi
    fi
    if [ -n "$newest" ]; then
        echo "$PG_LIBROOT/$newest/bin/pg_config"
    fi
    return 0
}

# server_packages_missing: the Debian packages that the installation of
# $PG_CONFIG, when it is Debian's PostgreSQL N, lacks to build idgen and
# run servers: postgresql-N (the server) and postgresql-server-dev-N (its
# headers: postgres.h in pg_config --includedir-server); one a line
server_packages_missing() {
    local bindir major
    bindir=$("$PG_CONFIG" --bindir) || return 0
    major=$(debian_major "$bindir")
    [ -n "$major" ] || return 0
    [ -x "$bindir/postgres" ] || echo "postgresql-$major"
    [ -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ] || echo "postgresql-server-dev-$major"
    return 0
}

# check_pg_installation: whether the installation of $PG_CONFIG has what
# building idgen (its PGXS and server headers) and running servers
# (postgres, initdb, pg_ctl, psql) need; says what it lacks otherwise
check_pg_installation() {
    local bindir inc pgxs f
    if ! bindir=$("$PG_CONFIG" --bindir) || ! inc=$("$PG_CONFIG" --includedir-server) ||
        ! pgxs=$("$PG_CONFIG" --pgxs); then
        echo "$PG_CONFIG does not run" >&2
        return 1
    fi
    for f in "$inc/postgres.h" "$pgxs" "$bindir/postgres" "$bindir/initdb" "$bindir/pg_ctl" "$bindir/psql"; do
        if [ ! -e "$f" ]; then
            echo "the PostgreSQL of $PG_CONFIG has no $f: install its server and server headers" \
                "(postgresql-N and postgresql-server-dev-N on Debian), or name another with PG_CONFIG=" >&2
            return 1
        fi
    done
}

# ensure_pglogical: t/304 replicates two nodes to each other, natively from
# PostgreSQL 16 on, with pglogical before: install Debian's package of it
# for a Debian-packaged server older than 16, where there is one
ensure_pglogical() {
    local bindir major
    bindir=$("$PG_CONFIG" --bindir)
    major=$(debian_major "$bindir")
    [ -n "$major" ] || return 0
    if [ "$major" -lt 16 ] && apt-cache show "postgresql-$major-pglogical" >/dev/null 2>&1; then
        install_packages "postgresql-$major-pglogical"
    fi
    return 0
}

# ensure_clients: install what is missing of the client stacks that
# t/401_clients.pl runs: Debian's Python, Java and JDBC packages, Node.js
# (Debian's, when none is on PATH) and node-postgres from the npm registry
# into a cache outside the checkout (IDGEN_CLIENT_CACHE; by default
# /var/cache/idgen-clients as root, ~/.cache/idgen-clients otherwise).
# Exports IDGEN_NODE_MODULES for the test, and IDGEN_CLIENTS_REQUIRED=1 so
# that a stack missing after all this fails rather than skips.
ensure_clients() {
    local cache
    # shellcheck disable=SC2086
    install_packages $CLIENT_PACKAGES
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        install_packages nodejs npm
    fi
    if [ "$(id -u)" = 0 ]; then
        cache=${IDGEN_CLIENT_CACHE:-/var/cache/idgen-clients}
    else
        cache=${IDGEN_CLIENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/idgen-clients}
    fi
    if [ ! -e "$cache/node_modules/pg/package.json" ]; then
        say "installing pg@$NODE_PG_VERSION from the npm registry into $cache"
        mkdir -p "$cache"
        npm install --prefix "$cache" --no-audit --no-fund --no-save --loglevel=error \
            "pg@$NODE_PG_VERSION" >&2
    fi
    export IDGEN_NODE_MODULES="$cache/node_modules"
    export IDGEN_CLIENTS_REQUIRED=1
}

# ensure_sqlsmith: install Debian's sqlsmith, the random query generator
# t/013_sqlsmith.pl runs, when it is missing and the package can be had.
# Exports IDGEN_SQLSMITH_REQUIRED=1 once it is there, so that the test fails
# rather than skips; where the package cannot be had, says so loudly and
# leaves the test to skip.
ensure_sqlsmith() {
    command -v sqlsmith >/dev/null || install_packages sqlsmith || true
    if command -v sqlsmith >/dev/null; then
        export IDGEN_SQLSMITH_REQUIRED=1
    else
        say "WARNING: Debian's package sqlsmith cannot be installed here: t/013_sqlsmith.pl will be skipped"
    fi
    return 0
}

# ensure_patroni: install what is missing of what t/309_patroni_root.pl
# runs (Debian's patroni, etcd-server and curl), and export
# IDGEN_PATRONI_REQUIRED=1 so that a missing one fails rather than skips.
# Debian starts no etcd of its own on a machine without systemd; the test
# starts its own on free ports.
ensure_patroni() {
    install_packages patroni etcd-server curl
    export IDGEN_PATRONI_REQUIRED=1
}

# check_test_tools: whether the installation of $PG_CONFIG has what
# make test runs: pg_regress, the isolation tester and the TAP test
# modules of PGXS, and TAP tests enabled (else PGXS skips them, saying
# so, and nothing would count them as failed); says what it lacks
check_test_tools() {
    local pgxs f
    pgxs=$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")
    for f in test/regress/pg_regress test/isolation/pg_isolation_regress \
        test/perl/PostgreSQL/Test/Cluster.pm; do
        if [ ! -e "$pgxs/$f" ]; then
            echo "the PostgreSQL of $PG_CONFIG has no $pgxs/$f: install it (in its source tree," \
                "make -C src/$(cut -d/ -f1-2 <<<"$f") install; on Debian, postgresql-client-N)" >&2
            return 1
        fi
    done
    if ! grep -Eq '^enable_tap_tests[[:space:]]*=[[:space:]]*yes' "$pgxs/Makefile.global"; then
        echo "the PostgreSQL of $PG_CONFIG was configured without --enable-tap-tests" >&2
        return 1
    fi
}

# ensure_pgbouncer: install Debian's pgbouncer, which t/402_pgbouncer.pl
# puts in front of its cluster, and export IDGEN_PGBOUNCER_REQUIRED=1 so
# that a missing one fails rather than skips.  The test starts its own on
# a free port (on a machine with systemd, Debian's package also starts one
# on port 6432, which the test does not use).
ensure_pgbouncer() {
    install_packages pgbouncer
    export IDGEN_PGBOUNCER_REQUIRED=1
}

# pg_bindir: the server binaries of $PG_CONFIG
pg_bindir() { "$PG_CONFIG" --bindir; }

# pg_version: "PostgreSQL 15.20" and the like
pg_version() { "$PG_CONFIG" --version | awk '{ print $1, $2 }'; }

# build_install: build idgen against $PG_CONFIG and install it; objects
# built against another installation are cleaned first
build_install() {
    local stamp="$REPO/src/.built-for"
    say "building and installing idgen for $(pg_version)"
    # objects of another installation, or of a build by hand since (plain
    # make, which writes no stamp): built again
    if [ "$(cat "$stamp" 2>/dev/null)" != "$PG_CONFIG" ] || [ "$REPO/idgen.so" -nt "$stamp" ]; then
        rm -f "$REPO"/src/*.o "$REPO"/src/*.bc "$REPO"/idgen.so
    fi
    make -C "$REPO" -s PG_CONFIG="$PG_CONFIG" >&2
    echo "$PG_CONFIG" > "$stamp"
    remove_stale_scripts
    $SUDO make -C "$REPO" -s PG_CONFIG="$PG_CONFIG" install >&2
}

# remove_stale_scripts: remove idgen's install scripts that the checkout no
# longer has from the installation (make install only adds), so that
# CREATE EXTENSION cannot pick an old full script over the upgrade path
remove_stale_scripts() {
    local f
    for f in "$("$PG_CONFIG" --sharedir)"/extension/idgen--*.sql; do
        [ -e "$f" ] && [ ! -e "$REPO/$(basename "$f")" ] && $SUDO rm -f "$f"
    done
    return 0
}

# prepare: install what is missing, then build and install idgen.  Runs
# that use one PostgreSQL installation take turns: the lock of the
# installation (fd 9) is held until the calling script ends.  The build in
# the checkout is shared by every installation: its lock (fd 8) is held
# while building and installing.  Locks are taken in that order.
prepare() {
    local key
    ensure_packages
    key=$(pg_bindir | md5sum | cut -c1-12)
    exec 9>"/tmp/idgen-install-$key.lock"
    flock 9
    key=$(printf '%s' "$REPO" | md5sum | cut -c1-12)
    exec 8>"/tmp/idgen-build-$key.lock"
    flock 8
    build_install
    exec 8>&-
}

# as_pguser CMD...: run CMD as the unprivileged user that owns servers.
# CMD does not inherit fd 9, the installation's lock (prepare), so that a
# server it starts cannot keep the lock after the script ends.
as_pguser() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PGUSER_OS" -- "$@" 9>&-
    else
        "$@" 9>&-
    fi
}

# make_workdir NAME: a fresh directory NAME under tmp_check/ (ignored by
# git), owned by the server user; falls back to /tmp when the server user
# cannot reach the checkout.  Prints its path.
make_workdir() {
    local dir="$REPO/tmp_check/$1"
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown "$PGUSER_OS" "$REPO/tmp_check" "$dir"
        if ! runuser -u "$PGUSER_OS" -- test -w "$dir"; then
            rm -rf "$dir"
            dir=$(mktemp -d "/tmp/idgen-$1.XXXXXX")
            chown "$PGUSER_OS" "$dir"
        fi
    fi
    echo "$dir"
}

# stage_sources DIR: copy what the server user needs to read into DIR:
# the Makefile (whose test targets tools/run_tests.sh runs), the tests, the
# sources (t/013 tells idgen's errors by their files), and the README (whose
# tables and snippets tests check)
stage_sources() {
    cp -r "$REPO/Makefile" "$REPO/idgen.control" "$REPO/README.md" "$REPO/sql" "$REPO/expected" \
        "$REPO/specs" "$REPO/t" "$REPO/tools" "$REPO/bench" "$REPO/src" "$1/"
    [ "$(id -u)" = 0 ] && chown -R "$PGUSER_OS" "$1"
    return 0
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on
free_port() {
    local port
    for port in $(shuf -i 20000-60000 -n 200); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# init_cluster DATA PORT SOCKDIR: initdb DATA as the server user (trust,
# no fsync), listening on PORT on a socket in SOCKDIR only (no TCP); the
# settings on stdin follow in its postgresql.conf.  Says why and returns
# non-zero when initdb fails.
init_cluster() {
    local data=$1 port=$2 sockdir=$3 out
    if ! out=$(as_pguser "$(pg_bindir)/initdb" -D "$data" -A trust --no-sync 2>&1); then
        echo "$out" >&2
        echo "initdb failed" >&2
        return 1
    fi
    {
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$sockdir'"
        cat
    } | as_pguser tee -a "$data/postgresql.conf" > /dev/null
}

# start_cluster DATA LOG: start the cluster of DATA as the server user,
# its log in LOG, and wait until it accepts connections; says why and
# returns non-zero when it does not start
start_cluster() {
    if ! as_pguser "$(pg_bindir)/pg_ctl" -D "$1" -l "$2" -w start > /dev/null; then
        tail -n 20 "$2" >&2
        echo "the server did not start" >&2
        return 1
    fi
}

# start_server DIR NAME SETTINGS: a throwaway cluster DIR/NAME that
# preloads idgen, with the lines SETTINGS besides, listening on a free port
# on a socket in DIR only, its log DIR/NAME.log; prints its port
start_server() {
    local dir=$1 name=$2 port
    port=$(free_port) || return 1
    printf "shared_preload_libraries = 'idgen'\n%s\n" "$3" |
        init_cluster "$dir/$name" "$port" "$dir" || return 1
    start_cluster "$dir/$name" "$dir/$name.log" || return 1
    echo "$port"
}

# stop_servers DIR: stop (fast) every cluster DIR/* that runs; for an
# EXIT trap, as start_server runs in a command substitution, where its
# callers cannot keep a list of what it started
stop_servers() {
    local pid
    for pid in "$1"/*/postmaster.pid; do
        [ -f "$pid" ] || continue
        as_pguser "$(pg_bindir)/pg_ctl" -D "$(dirname "$pid")" -m fast -w stop > /dev/null 2>&1 || true
    done
}
