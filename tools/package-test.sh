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
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PACKAGE=postgresql-15-idgen
# what ensure_packages installs when missing: the server, and what
# dpkg-buildpackage and pg_buildext need (debian/control's Build-Depends)
TOOL_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-server-dev-all
    debhelper dpkg-dev fakeroot build-essential git make"

work=
package_installed=0
reinstall=0

# fail MESSAGE: a failure that stops the run (the EXIT trap cleans up)
fail() {
    echo "package-test: $*" >&2
    failed=$((failed + 1))
    exit 1
}

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

# finish: on any exit, stop the cluster, remove the package, make install
# idgen again when it was installed so before, and print the totals
finish() {
    local status=$?
    trap - EXIT
    set +e
    server_stop || failed=$((failed + 1))
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

server_start "$work" "$work/check/tools/test.conf" || fail "no server to test against"

# both suites against the one server, as a packager runs them
server_installcheck regress "$work/check" "$work/check/regression.diffs" \
    ISOLATION= TAP_TESTS=
server_installcheck isolation "$work/check" "$work/check/output_iso/regression.diffs" \
    REGRESS= TAP_TESTS=
