#!/usr/bin/env bash
# package-test.sh: build the Debian package of idgen (debian/) from the
# committed tree, install it into Debian's PostgreSQL 15, run the
# pg_regress and isolation suites with "make installcheck" against a
# throwaway cluster that preloads it, then remove the package and, when
# idgen had been installed with "make install" before, install it again
# from the checkout, so that the system is left as it was.  Run as root
# (CI: .ci/run), or as a user with sudo.  Prints the pg_regress verdicts;
# the last line is "N passed, N failed", counted as tools/run_tests.sh
# counts; the exit status is non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PACKAGE=postgresql-15-idgen
# what ensure_packages installs when missing: the server, and what
# dpkg-buildpackage and pg_buildext need (debian/control's Build-Depends)
TOOL_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-server-dev-all
    debhelper dpkg-dev fakeroot build-essential git make"

passed=0
failed=0
work=
data=
sockdir=
server_up=0
package_installed=0
reinstall=0

# fail MESSAGE: a failure that stops the run (the EXIT trap cleans up)
fail() {
    echo "package-test: $*" >&2
    failed=$((failed + 1))
    exit 1
}

# count LOG STATUS: add a suite's verdicts ("test x ... ok" up to
# PostgreSQL 15, "ok 1 - x" from 16 on) to the totals, as run_tests.sh
# does; a suite that failed without a failed test counts as one failure
count() {
    local ok bad
    ok=$(grep -E '\.\.\. ok|^ok [0-9]' "$1" | grep -vic '# skip' || true)
    bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]' "$1" || true)
    if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# pg_ctl_as ARGS...: pg_ctl of PostgreSQL 15 on the throwaway cluster
pg_ctl_as() { as_pguser "$(pg_bindir)/pg_ctl" -D "$data" "$@"; }

# build_package: dpkg-buildpackage -b in a copy of HEAD, with the work
# tree's debian/ over it (so that packaging can be tried before it is
# committed; in CI they are the same); prints the path of the .deb
build_package() {
    local src="$work/idgen" version deb
    git -C "$REPO" archive --prefix=idgen/ HEAD | tar -x -C "$work"
    if [ -d "$REPO/debian" ]; then
        rm -rf "$src/debian"
        cp -r "$REPO/debian" "$src/debian"
    fi
    [ -f "$src/debian/control" ] || fail "no debian/ in $REPO"
    say "building the Debian package in $src"
    if ! (cd "$src" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1; then
        tail -n 40 "$work/build.log" >&2
        fail "dpkg-buildpackage failed (log: $work/build.log)"
    fi
    version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
    deb="$work/${PACKAGE}_${version}_$(dpkg --print-architecture).deb"
    [ -f "$deb" ] || fail "dpkg-buildpackage made no $deb"
    say "built $(basename "$deb"), $(stat -c %s "$deb") bytes"
    echo "$deb"
}

# stage_tests DIR: what "make installcheck" needs, from the same tree as
# the package, readable and writable by the server user
stage_tests() {
    mkdir -p "$1"
    cp -r "$work/idgen/Makefile" "$work/idgen/idgen.control" "$work/idgen/sql" \
        "$work/idgen/expected" "$work/idgen/specs" "$work/idgen/tools" "$1/"
    [ "$(id -u)" = 0 ] && chown -R "$PGUSER_OS" "$1"
    return 0
}

# start_cluster PORT: initdb and start a cluster preloading idgen, with
# the settings of tools/test.conf, on a socket in its own directory only
start_cluster() {
    if [ -z "$sockdir" ]; then
        sockdir=$(mktemp -d /tmp/idgen-pkgtest.XXXXXX)
        [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$sockdir"
    fi
    data="$work/data"
    as_pguser "$(pg_bindir)/initdb" -D "$data" --auth=trust --no-sync > "$work/initdb.log" 2>&1 ||
        { cat "$work/initdb.log" >&2; fail "initdb failed"; }
    {
        echo "port = $1"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$sockdir'"
        cat "$work/check/tools/test.conf"
    } | as_pguser tee -a "$data/postgresql.conf" > /dev/null
    pg_ctl_as -l "$work/server.log" -w start > /dev/null ||
        { tail -n 20 "$work/server.log" >&2; fail "the server did not start"; }
    server_up=1
}

# installcheck NAME DIFFS MAKE_ARGS...: one suite of the staged copy, run
# as the server user against the throwaway cluster; prints and counts its
# verdicts, and its diffs when it failed
installcheck() {
    local name=$1 diffs=$2 status=0
    shift 2
    echo "== $name"
    as_pguser env PATH="$(pg_bindir):$PATH" PGHOST="$sockdir" PGPORT="$port" \
        make -C "$work/check" -s PG_CONFIG="$PG_CONFIG" installcheck "$@" \
        > "$work/$name.log" 2>&1 || status=$?
    cat "$work/$name.log"
    count "$work/$name.log" "$status"
    if [ "$status" -ne 0 ] && [ -f "$diffs" ]; then
        cat "$diffs"
    fi
}

# finish: on any exit, stop the cluster, remove the package, make install
# idgen again when it was installed so before, and print the totals
finish() {
    local status=$?
    trap - EXIT
    set +e
    if [ "$server_up" = 1 ]; then
        pg_ctl_as -m fast -w stop > /dev/null || failed=$((failed + 1))
    fi
    [ -n "$sockdir" ] && rm -rf "$sockdir"
    if [ "$package_installed" = 1 ]; then
        say "removing $PACKAGE"
        $SUDO dpkg -r "$PACKAGE" > "$work/remove.log" 2>&1 ||
            { cat "$work/remove.log" >&2; failed=$((failed + 1)); }
    fi
    if [ "$reinstall" = 1 ]; then
        restore_make_install || { say "make install of idgen failed"; failed=$((failed + 1)); }
    fi
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && exit 0
    exit 1
}

# restore_make_install: build and install idgen from the checkout, under
# the checkout's build lock (fd 8), as prepare() does
restore_make_install() {
    local key
    key=$(printf '%s' "$REPO" | md5sum | cut -c1-12)
    exec 8>"/tmp/idgen-build-$key.lock"
    flock 8
    build_install
    exec 8>&-
}

trap finish EXIT
trap 'exit 130' INT TERM

ensure_packages
work=$(make_workdir package-test)
deb=$(build_package)
stage_tests "$work/check"

# The installation's lock, with the key of prepare() (fd 9), held until
# this script ends: no other run uses PostgreSQL 15 while the package is in
key=$(pg_bindir | md5sum | cut -c1-12)
exec 9>"/tmp/idgen-install-$key.lock"
if ! flock -n 9; then
    say "waiting for the lock of $(pg_bindir)"
    flock 9
fi

# idgen.so of a "make install" (owned by no package) is put back at the end
so="$("$PG_CONFIG" --pkglibdir)/idgen.so"
if [ -e "$so" ] && ! dpkg -S "$so" > /dev/null 2>&1; then
    reinstall=1
fi
say "installing $(basename "$deb")"
package_installed=1
$SUDO dpkg -i "$deb" > "$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "dpkg -i failed"; }
dpkg -S "$so" > /dev/null 2>&1 || fail "$so is not from $PACKAGE"

port=$(free_port)
start_cluster "$port"
say "cluster of $(pg_version) on port $port, socket in $sockdir"

installcheck regress "$work/check/regression.diffs" ISOLATION= TAP_TESTS=
# each suite on a fresh cluster, as on its own temporary instance in "make
# test": the snowflake lease keeper stays connected to the database the
# regress suite created, which the isolation suite would drop first
pg_ctl_as -m fast -w stop > /dev/null || fail "the server did not stop"
server_up=0
rm -rf "$data"
start_cluster "$port"
installcheck isolation "$work/check/output_iso/regression.diffs" REGRESS= TAP_TESTS=
