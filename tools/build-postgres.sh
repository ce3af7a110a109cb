#!/usr/bin/env bash
# tools/build-postgres.sh MAJOR: build PostgreSQL MAJOR (15 or later) from the
# upstream tarball of Debian's source package postgresql-MAJOR (suites sid and
# trixie, fetched with a private apt configuration that leaves the machine's
# own apt sources alone), with assertions, debug symbols and TAP tests, and
# install it with pgstattuple, pg_regress, the isolation tester and the Perl
# test modules into ${IDGEN_PG_CACHE:-/var/cache/idgen-pg}/pgMAJOR.  An
# existing install there is reused.  Progress goes to stderr (the build's
# own output to $CACHE/logs/pgMAJOR.log); the last line on stdout is the
# path of the installed pg_config.  Run as root, or as a user with sudo.
#
# Environment: IDGEN_PG_CACHE (cache directory), IDGEN_PG_SUITES (Debian
# suites to look in, default "sid trixie"), IDGEN_PG_MIRROR (Debian mirror,
# default the one this machine's apt uses), IDGEN_PG_KEEP_BUILD=1 (keep the
# build tree).

set -euo pipefail
umask 022

MAJOR=${1:-}
CACHE=${IDGEN_PG_CACHE:-/var/cache/idgen-pg}
SUITES=${IDGEN_PG_SUITES:-sid trixie}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES="bison flex gcc make perl libreadline-dev zlib1g-dev libicu-dev pkg-config libipc-run-perl bzip2 xz-utils debian-archive-keyring"

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# die MESSAGE: report MESSAGE and stop
die() {
    echo "build-postgres.sh: $*" >&2
    exit 1
}

# logged CMD...: run CMD with its output appended to $LOG; on failure show
# the end of the log and stop
logged() {
    if ! "$@" >>"$LOG" 2>&1; then
        tail -n 40 "$LOG" >&2
        die "failed: $* (full log: $LOG)"
    fi
}

# debian_mirror: the Debian archive URL this machine's apt already uses
debian_mirror() {
    local url
    url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -v '^[[:space:]]*#' | grep -oE '(https?|ftp)://[^[:space:]]+/debian/?([[:space:]]|$)' | head -n 1 |
        tr -d '[:space:]' || true)
    echo "${IDGEN_PG_MIRROR:-${url:-http://deb.debian.org/debian}}"
}

# make_cache: create $CACHE (with sudo if need be) writable by the caller
make_cache() {
    if [ ! -d "$CACHE" ] && ! mkdir -p "$CACHE" 2>/dev/null; then
        $SUDO install -d -m 755 "$CACHE"
    fi
    if [ ! -w "$CACHE" ]; then
        $SUDO chown -R "$(id -u):$(id -g)" "$CACHE"
    fi
    mkdir -p "$CACHE/logs"
}

# fetch_source: download postgresql-$MAJOR's source package into $SRC with
# a private apt configuration under $CACHE/apt; sets TARBALL to its upstream
# tarball
fetch_source() {
    local apt="$CACHE/apt"
    local suite f
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
    : >"$apt/sources.list"
    # sid and trixie are signed by the keys of debian-archive-keyring
    for suite in $SUITES; do
        echo "deb-src [signed-by=$KEYRING] $(debian_mirror) $suite main" >>"$apt/sources.list"
    done
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
    # as root, apt downloads as the user _apt, which must be able to write there
    if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
        chown -R _apt "$apt/lists/partial" "$apt/cache/archives/partial"
    fi
    say "apt-get update ($SUITES)"
    logged apt-get -q "${opts[@]}" update
    rm -rf "$SRC"
    mkdir -p "$SRC"
    [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$SRC"
    say "downloading the source package postgresql-$MAJOR"
    cd "$SRC"
    logged apt-get -q "${opts[@]}" source --download-only "postgresql-$MAJOR"
    cd "$CACHE"
    [ "$(id -u)" = 0 ] && chown -R 0:0 "$SRC"
    for f in "$SRC"/postgresql-"$MAJOR"_*.orig.tar.{gz,bz2,xz}; do
        if [ -f "$f" ]; then
            TARBALL=$f
            return 0
        fi
    done
    die "no upstream tarball of postgresql-$MAJOR in $SRC"
}

# build_install: configure, build and install $TARBALL into $PREFIX,
# staged under $STAGE and moved into place whole
build_install() {
    local build="$CACHE/build/pg$MAJOR"
    local f lib share
    rm -rf "$build" "$STAGE"
    mkdir -p "$build"
    say "unpacking $(basename "$TARBALL")"
    tar -xf "$TARBALL" -C "$build" --strip-components=1
    cd "$build"
    say "configure (log: $LOG)"
    logged ./configure --prefix="$PREFIX" --enable-tap-tests --enable-cassert --enable-debug --without-llvm
    say "make -j$(nproc)"
    logged make -j"$(nproc)"
    say "make install"
    logged make install DESTDIR="$STAGE"
    logged make -C contrib/pgstattuple install DESTDIR="$STAGE"
    # what PGXS tests use: make install puts these in place in 16 and later
    logged make -C src/test/regress install DESTDIR="$STAGE"
    logged make -C src/test/isolation install DESTDIR="$STAGE"
    logged make -C src/test/perl install DESTDIR="$STAGE"
    # pg_config (relocatable) tells where they went: lib/postgresql and
    # share/postgresql, as the prefix does not contain "postgres"
    lib=$("$STAGE$PREFIX/bin/pg_config" --pkglibdir)
    share=$("$STAGE$PREFIX/bin/pg_config" --sharedir)
    for f in "$lib"/pgxs/src/test/regress/pg_regress "$lib"/pgxs/src/test/isolation/pg_isolation_regress \
        "$lib"/pgxs/src/test/isolation/isolationtester "$lib"/pgxs/src/test/perl/PostgreSQL/Test/Cluster.pm \
        "$lib"/pgstattuple.so "$share"/extension/pgstattuple.control; do
        [ -e "$f" ] || die "missing after install: ${f#"$STAGE"}"
    done
    cd "$CACHE"
    chmod -R a+rX "$STAGE$PREFIX"
    rm -rf "$PREFIX"
    mv "$STAGE$PREFIX" "$PREFIX"
    rm -rf "$STAGE"
    [ "${IDGEN_PG_KEEP_BUILD:-}" = 1 ] || rm -rf "$build"
}

# main: build and install PostgreSQL $MAJOR unless it already is
main() {
    make_cache
    exec 8>"$CACHE/.pg$MAJOR.lock"
    flock 8
    [ -x "$PREFIX/bin/pg_config" ] && return 0
    # shellcheck disable=SC2086
    install_packages $PACKAGES
    : >"$LOG"
    fetch_source
    build_install
    say "installed PostgreSQL $("$PREFIX/bin/pg_config" --version) in $PREFIX"
}

if ! [[ "$MAJOR" =~ ^[0-9]+$ ]] || [ "$MAJOR" -lt 15 ]; then
    die "usage: $0 MAJOR (15 or later)"
fi
PREFIX="$CACHE/pg$MAJOR"
SRC="$CACHE/src/pg$MAJOR"
STAGE="$CACHE/stage/pg$MAJOR"
LOG="$CACHE/logs/pg$MAJOR.log"
if [ ! -x "$PREFIX/bin/pg_config" ]; then
    main >&2
fi
echo "$PREFIX/bin/pg_config"
