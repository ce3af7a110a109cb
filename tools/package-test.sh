#!/usr/bin/env bash
# package-test.sh [--build-only]: build the Debian packages of idgen
# (debian/) from the committed tree, one postgresql-N-idgen for each
# PostgreSQL N whose postgresql-server-dev-N is installed (debian/control
# generated for them by "pg_buildext updatecontrol"), check what each
# package holds, run lintian on them (errors and warnings fail), then, for
# each N whose server is installed too: install the package, run the
# pg_regress and isolation suites with "make installcheck" against a
# throwaway cluster of N that preloads it, and remove the package again;
# when idgen had been installed into N with "make install" before, it is
# installed again from the checkout, so that the system is left as it was.
# --build-only stops after lintian (no package is installed).  Run as root
# (CI: .ci/run), or as a user with sudo.  Prints the verdicts; the last
# line is "N passed, N failed", counted as tools/run_tests.sh counts; the
# exit status is non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"

# the installation ensure_packages completes (Debian's 15, as in CI);
# packages are built for every version with its -dev package installed
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
# what ensure_packages installs when missing: what dpkg-buildpackage and
# pg_buildext need (debian/control's Build-Depends), and lintian
TOOL_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-server-dev-all
    debhelper dpkg-dev fakeroot build-essential git make lintian"

build_only=0
[ "${1:-}" = --build-only ] && build_only=1
work=
package=
package_installed=0
reinstall=0

# fail MESSAGE: a failure that stops the run (the EXIT trap cleans up)
fail() {
    echo "package-test: $*" >&2
    failed=$((failed + 1))
    exit 1
}

# check STATUS NAME: one verdict of the package test, counted
check() {
    if [ "$1" -eq 0 ]; then
        echo "ok - $2"
        passed=$((passed + 1))
    else
        echo "not ok - $2"
        failed=$((failed + 1))
    fi
}

# build_packages: in a copy of HEAD, with the work tree's debian/ over it
# (so that packaging can be tried before it is committed; in CI they are
# the same), generate debian/control for the PostgreSQL versions whose
# server headers are installed and dpkg-buildpackage -b; sets VERSIONS to
# those versions
build_packages() {
    local src="$work/idgen"
    git -C "$REPO" archive --prefix=idgen/ HEAD | tar -x -C "$work"
    if [ -d "$REPO/debian" ]; then
        rm -rf "$src/debian"
        cp -r "$REPO/debian" "$src/debian"
    fi
    [ -f "$src/debian/control.in" ] || fail "no debian/ in $REPO"
    # what debian/rules builds (pg_buildext supported-versions) and what
    # debian/control lists must agree: both are the installed versions
    export PG_SUPPORTED_VERSIONS=installed
    (cd "$src" && pg_buildext updatecontrol) || fail "pg_buildext updatecontrol failed"
    VERSIONS=$(sed -n 's/^Package: postgresql-\([0-9]*\)-idgen$/\1/p' "$src/debian/control" | tr '\n' ' ' | sed 's/ $//')
    [ -n "$VERSIONS" ] || fail "debian/control lists no package (is a postgresql-server-dev-N of 15 or later installed?)"
    say "building the Debian packages for PostgreSQL $VERSIONS in $src"
    if ! (cd "$src" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1; then
        tail -n 40 "$work/build.log" >&2
        fail "dpkg-buildpackage failed (log: $work/build.log)"
    fi
    DEB_VERSION=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
}

# deb_of N: the path of the package built for PostgreSQL N
deb_of() { echo "$work/postgresql-$1-idgen_${DEB_VERSION}_$(dpkg --print-architecture).deb"; }

# check_contents N: the package of N holds idgen's module and scripts for
# N, and nothing for another version
check_contents() {
    local deb files f missing=
    deb=$(deb_of "$1")
    if [ ! -f "$deb" ]; then
        check 1 "a package for PostgreSQL $1: $(basename "$deb") was not built"
        return 0
    fi
    files=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
    for f in "usr/lib/postgresql/$1/lib/idgen.so" "usr/share/postgresql/$1/extension/idgen.control" \
        "usr/share/postgresql/$1/extension/idgen--1.0.sql" "usr/share/postgresql/$1/extension/idgen--1.0--1.1.sql"; do
        grep -qx "\./$f" <<<"$files" || missing="$missing $f"
    done
    grep -E '^\./usr/(lib|share)/postgresql/[0-9]+/' <<<"$files" | grep -vqE "^\./usr/(lib|share)/postgresql/$1/" &&
        missing="$missing (files of another version)"
    local status=0
    [ -z "$missing" ] || status=1
    check $status "$(basename "$deb"): idgen for PostgreSQL $1 and nothing else${missing:+; wrong:$missing}"
}

# run_lintian: lintian on what was built, at its default level (errors and
# warnings fail), as the server user when root (lintian warns of root)
run_lintian() {
    local changes out status=0
    changes=$(ls "$work"/idgen_"${DEB_VERSION}"_*.changes)
    [ "$(id -u)" = 0 ] && chown -R "$PGUSER_OS" "$work"
    out=$(as_pguser lintian --fail-on error,warning "$changes" 2>&1) || status=$?
    echo "lintian $(lintian --version | awk '{ print $2 }') on $(basename "$changes"):"
    # shellcheck disable=SC2001 # an indent on every line
    echo "${out:-(no tags)}" | sed 's/^/  /'
    check $status "lintian: no error, no warning"
}

# stage_tests DIR: what "make installcheck" needs, from the same tree as
# the packages, readable and writable by the server user
stage_tests() {
    mkdir -p "$1"
    cp -r "$work/idgen/Makefile" "$work/idgen/idgen.control" "$work/idgen/sql" \
        "$work/idgen/expected" "$work/idgen/specs" "$work/idgen/tools" "$1/"
    [ "$(id -u)" = 0 ] && chown -R "$PGUSER_OS" "$1"
    return 0
}

# untest_version: stop the server of the version under test, remove its
# package, and make install idgen again when it was installed so before
untest_version() {
    local status=0
    server_stop || status=1
    if [ "$package_installed" = 1 ]; then
        say "removing $package"
        $SUDO dpkg -r "$package" > "$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; status=1; }
        package_installed=0
    fi
    if [ "$reinstall" = 1 ]; then
        restore_make_install || { say "make install of idgen failed"; status=1; }
        reinstall=0
    fi
    # the installation's lock (fd 9), taken by test_version
    exec 9>&-
    return $status
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

# test_version N: install the package of N, run both suites against a
# server of N that preloads it, as a packager runs them, and undo it all
test_version() {
    local key so
    PG_CONFIG=/usr/lib/postgresql/$1/bin/pg_config
    package=postgresql-$1-idgen
    # the installation's lock, with the key of prepare() (fd 9): no other
    # run uses this PostgreSQL while its package is in
    key=$(pg_bindir | md5sum | cut -c1-12)
    exec 9>"/tmp/idgen-install-$key.lock"
    if ! flock -n 9; then
        say "waiting for the lock of $(pg_bindir)"
        flock 9
    fi
    # idgen.so of a "make install" (owned by no package) is put back
    so="$("$PG_CONFIG" --pkglibdir)/idgen.so"
    if [ -e "$so" ] && ! dpkg -S "$so" > /dev/null 2>&1; then
        reinstall=1
    fi
    say "installing $(basename "$(deb_of "$1")")"
    package_installed=1
    $SUDO dpkg -i "$(deb_of "$1")" > "$work/install.log" 2>&1 ||
        { cat "$work/install.log" >&2; fail "dpkg -i failed"; }
    dpkg -S "$so" > /dev/null 2>&1 || fail "$so is not from $package"
    rm -rf "$work/check-$1"
    stage_tests "$work/check-$1"
    server_start "$work/check-$1" "$work/check-$1/tools/test.conf" || fail "no server of PostgreSQL $1 to test against"
    server_installcheck "regress-$1" "$work/check-$1" "$work/check-$1/regression.diffs" ISOLATION= TAP_TESTS=
    server_installcheck "isolation-$1" "$work/check-$1" "$work/check-$1/output_iso/regression.diffs" \
        REGRESS= TAP_TESTS=
    untest_version || fail "could not undo the installation of $package"
}

# on any exit: clean up the version under test and print the totals
trap 'finish_totals untest_version' EXIT
trap 'exit 130' INT TERM

ensure_packages
work=$(make_workdir package-test)
build_packages
echo "== packages for PostgreSQL $VERSIONS (the versions whose postgresql-server-dev-N is installed)"
for v in $VERSIONS; do
    check_contents "$v"
done
run_lintian
[ "$build_only" = 1 ] && exit 0
for v in $VERSIONS; do
    if [ -x "/usr/lib/postgresql/$v/bin/postgres" ]; then
        echo "== the package for PostgreSQL $v, installed"
        test_version "$v"
    else
        say "PostgreSQL $v's server is not installed: its package is built and checked, not installed"
    fi
done
