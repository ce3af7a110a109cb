#!/usr/bin/env bash
# tools/selftest.sh: tests of the tools and of the release files, which need
# no server, as TAP ("ok N - ...", "not ok N - ...", "1..N"); make test runs
# it (tools/test.sh) and counts its verdicts.
#
#  - the set-up of tools/common.sh on faked machines (a fake pg_config on
#    PATH and a fake /usr/lib/postgresql in a temporary directory, apt-get
#    replaced by a function that records what it would install and fakes
#    the installation): no PostgreSQL, libpq-dev's pg_config alone, a
#    server without its headers, a second version, a newer client alone,
#    source builds, an ordinary user with and without sudo;
#  - that make demo and make test run where PGXS is missing;
#  - META.json against the PGXN Meta Spec (tools/check-meta.py), and that
#    the check catches what it is for;
#  - debian/control as "pg_buildext updatecontrol" generates it, and one
#    package per PostgreSQL version it is generated for;
#  - "make dist": what the archive holds, and that it builds (against
#    PG_CONFIG, when that has server headers).
#
# A part whose tool is missing (git, pg_buildext, python3) is skipped with
# the reason.  The exit status is non-zero when a test failed.
# shellcheck disable=SC2031 # the subshells that source common.sh set REPO and PG_CONFIG for themselves
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d /tmp/idgen-selftest.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
n=0
failures=0

# ok CONDITION_STATUS NAME [DIAGNOSTIC]: one verdict, with a diagnostic on
# failure
ok() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        # shellcheck disable=SC2001 # a prefix on every line
        [ -z "${3:-}" ] || sed 's/^/#   /' <<<"$3"
        failures=$((failures + 1))
    fi
}

# is GOT WANT NAME: GOT equals WANT
is() {
    local status=0
    [ "$1" = "$2" ] || status=1
    ok "$status" "$3" "got:  $1
want: $2"
}

# skip REASON COUNT: COUNT tests skipped
skip() {
    local left=$2
    while [ "$left" -gt 0 ]; do
        n=$((n + 1))
        left=$((left - 1))
        echo "ok $n # skip $1"
    done
}

# ---------------------------------------------------------------------------
# Faked machines for tools/common.sh
# ---------------------------------------------------------------------------

# new_machine: an empty fake machine in $m: $m/lib is its
# /usr/lib/postgresql, $m/bin the only directory on its PATH (with the
# few system commands the set-up and the fakes use), $m/log what was
# installed
new_machine() {
    local c
    m="$tmp/machine$n"
    rm -rf "$m"
    mkdir -p "$m/lib" "$m/bin" "$m/include"
    : > "$m/log"
    for c in sh bash id cat ls sort tail head cut grep sed mkdir touch chmod env dirname basename; do
        ln -s "$(command -v "$c")" "$m/bin/$c"
    done
}

# fake_pg_config FILE BINDIR INCLUDEDIR PGXS MAJOR: a pg_config that
# describes an installation
fake_pg_config() {
    mkdir -p "$(dirname "$1")"
    cat > "$1" <<EOF
#!/bin/sh
for a in "\$@"; do
    case \$a in
        --bindir) echo "$2" ;;
        --includedir-server) echo "$3" ;;
        --pgxs) echo "$4" ;;
        --version) echo "PostgreSQL $5.0" ;;
        *) echo "fake pg_config: \$a" >&2; exit 1 ;;
    esac
done
EOF
    chmod +x "$1"
}

# fake_install PACKAGE: what installing one of Debian's packages of
# PostgreSQL puts on the fake machine: postgresql-common's pg_config on
# PATH (the newest version's, else libpq-dev's), a version's client
# (pg_config, psql, PGXS), server (postgres, initdb, pg_ctl) or headers
fake_install() {
    local major
    case $1 in
        postgresql-common)
            cat > "$m/bin/pg_config" <<EOF
#!/bin/sh
latest=\$(ls -v "$m"/lib/*/bin/pg_config 2>/dev/null | tail -n 1)
[ -n "\$latest" ] && exec "\$latest" "\$@"
[ -x "$m/libpq-dev/pg_config" ] && exec "$m/libpq-dev/pg_config" "\$@"
echo "You need to install postgresql-server-dev-NN or libpq-dev" >&2
exit 1
EOF
            chmod +x "$m/bin/pg_config"
            ;;
        libpq-dev)
            fake_pg_config "$m/libpq-dev/pg_config" "$m/lib/15/bin" "$m/include/15/server" \
                "$m/lib/15/lib/pgxs/src/makefiles/pgxs.mk" 15
            [ -e "$m/bin/pg_config" ] || ln -s "$m/libpq-dev/pg_config" "$m/bin/pg_config"
            ;;
        postgresql-client-*)
            major=${1#postgresql-client-}
            fake_pg_config "$m/lib/$major/bin/pg_config" "$m/lib/$major/bin" "$m/include/$major/server" \
                "$m/lib/$major/lib/pgxs/src/makefiles/pgxs.mk" "$major"
            mkdir -p "$m/lib/$major/lib/pgxs/src/makefiles"
            touch "$m/lib/$major/lib/pgxs/src/makefiles/pgxs.mk" "$m/lib/$major/bin/psql"
            chmod +x "$m/lib/$major/bin/psql"
            fake_install postgresql-common
            ;;
        postgresql-server-dev-*)
            major=${1#postgresql-server-dev-}
            mkdir -p "$m/include/$major/server"
            touch "$m/include/$major/server/postgres.h"
            fake_install "postgresql-client-$major"
            ;;
        postgresql-[0-9]*)
            major=${1#postgresql-}
            mkdir -p "$m/lib/$major/bin"
            touch "$m/lib/$major/bin/postgres" "$m/lib/$major/bin/initdb" "$m/lib/$major/bin/pg_ctl"
            chmod +x "$m/lib/$major/bin/postgres" "$m/lib/$major/bin/initdb" "$m/lib/$major/bin/pg_ctl"
            fake_install "postgresql-client-$major"
            ;;
        *) ;;
    esac
}

# source_build DIR HEADERS: a PostgreSQL built from source under DIR
# (not Debian's layout), with its server headers when HEADERS is 1
source_build() {
    fake_pg_config "$1/bin/pg_config" "$1/bin" "$1/include/server" "$1/lib/pgxs/src/makefiles/pgxs.mk" 16
    mkdir -p "$1/include/server" "$1/lib/pgxs/src/makefiles"
    touch "$1/bin/postgres" "$1/bin/initdb" "$1/bin/pg_ctl" "$1/bin/psql" "$1/lib/pgxs/src/makefiles/pgxs.mk"
    chmod +x "$1/bin/postgres" "$1/bin/initdb" "$1/bin/pg_ctl" "$1/bin/psql"
    [ "$2" = 1 ] && touch "$1/include/server/postgres.h"
    return 0
}

# setup [PG_CONFIG]: run ensure_packages of tools/common.sh on the fake
# machine, as root, with apt-get replaced by fake_install; prints the
# pg_config chosen and "status N"; what it installed is in $m/log
setup() {
    (
        # shellcheck source=tools/common.sh
        source "$REPO/tools/common.sh"
        # install_packages PACKAGE...: record, then fake the installation
        install_packages() {
            local p
            for p in "$@"; do
                echo "$p" >> "$m/log"
                fake_install "$p"
            done
        }
        TOOL_PACKAGES=
        PG_LIBROOT=$m/lib
        PG_CONFIG=${1:-pg_config}
        PATH=$m/bin
        set +e
        (ensure_packages && echo "pg_config $PG_CONFIG") 2>"$m/stderr"
        echo "status $?"
    )
}

# installed: what the last setup installed, on one line
installed() { tr '\n' ' ' < "$m/log" | sed 's/ $//'; }

new_machine
out=$(setup)
is "$(installed)" "postgresql-15 postgresql-server-dev-15" "no PostgreSQL: installs Debian's 15 and its headers"
is "$out" "pg_config $m/bin/pg_config
status 0" "no PostgreSQL: builds with postgresql-common's pg_config"

new_machine
fake_install libpq-dev
out=$(setup)
is "$(installed)" "postgresql-15 postgresql-server-dev-15" "libpq-dev's pg_config alone: installs the server and its headers"
is "$out" "pg_config $m/bin/pg_config
status 0" "libpq-dev's pg_config alone: then builds with it"

new_machine
fake_install libpq-dev
fake_install postgresql-15
out=$(setup)
is "$(installed)" "postgresql-server-dev-15" "a server without its headers: installs postgresql-server-dev-15"
is "$out" "pg_config $m/bin/pg_config
status 0" "a server without its headers: then builds"

new_machine
fake_install postgresql-15
fake_install postgresql-server-dev-15
out=$(setup)
is "$(installed)" "" "a server with its headers: installs nothing"

new_machine
fake_install postgresql-15
fake_install postgresql-server-dev-15
fake_install postgresql-16
out=$(setup)
is "$(installed)" "postgresql-server-dev-16" "a second server without headers: the newest is built for, and gets its headers"
is "$("$m/bin/pg_config" --bindir)" "$m/lib/16/bin" "a second server: pg_config on PATH is the newest's"

new_machine
fake_install postgresql-15
fake_install postgresql-client-17
out=$(setup)
is "$(installed)" "postgresql-server-dev-15" "a newer client alone: builds for the installed server, and gets its headers"
is "$out" "pg_config $m/lib/15/bin/pg_config
status 0" "a newer client alone: builds with the server's pg_config"

new_machine
fake_install postgresql-15
source_build "$m/src" 0
out=$(setup "$m/src/bin/pg_config")
is "$(installed)" "" "PG_CONFIG= of a source build without headers: installs nothing"
ok "$(grep -q "status 1" <<<"$out" && grep -q "postgres.h" "$m/stderr"; echo $?)" \
    "PG_CONFIG= of a source build without headers: fails, naming postgres.h" "$out
$(cat "$m/stderr")"

new_machine
source_build "$m/src" 1
out=$(setup "$m/src/bin/pg_config")
is "$(installed) $out" " pg_config $m/src/bin/pg_config
status 0" "PG_CONFIG= of a complete source build: installs nothing, builds"

new_machine
fake_install postgresql-15
out=$(setup "$m/lib/15/bin/pg_config")
is "$(installed)" "postgresql-server-dev-15" "PG_CONFIG= of Debian's 15 without headers: installs them"

# install_packages as an ordinary user: through sudo, or saying what to do
# without it
new_machine
printf '#!/bin/sh\nexit 1\n' > "$m/bin/dpkg-query"
printf '#!/bin/sh\necho "sudo $*" >> "%s/log"\n' "$m" > "$m/bin/sudo"
chmod +x "$m/bin/dpkg-query" "$m/bin/sudo"
out=$(
    source "$REPO/tools/common.sh"
    SUDO=sudo PATH=$m/bin
    install_packages make 2>&1 && echo "status 0"
)
is "$(grep -c 'apt-get install -y -q make' "$m/log")" 1 "an ordinary user with sudo: apt-get install through sudo"
rm "$m/bin/sudo"
out=$(
    source "$REPO/tools/common.sh"
    SUDO=sudo PATH=$m/bin
    set +e
    install_packages make 2>&1
    echo "status $?"
)
ok "$(grep -q 'install sudo' <<<"$out" && grep -q 'status 1' <<<"$out"; echo $?)" \
    "an ordinary user without sudo: fails, saying what to do" "$out"

# check_test_tools: a source build without the isolation tester
new_machine
source_build "$m/src" 1
mkdir -p "$m/src/lib/pgxs/src/test/regress" "$m/src/lib/pgxs/src/test/perl/PostgreSQL/Test"
touch "$m/src/lib/pgxs/src/test/regress/pg_regress" "$m/src/lib/pgxs/src/test/perl/PostgreSQL/Test/Cluster.pm"
echo "enable_tap_tests	= yes" > "$m/src/lib/pgxs/src/Makefile.global"
out=$(
    source "$REPO/tools/common.sh"
    PG_CONFIG=$m/src/bin/pg_config
    set +e
    check_test_tools 2>&1
    echo "status $?"
)
ok "$(grep -q 'src/test/isolation install' <<<"$out" && grep -q 'status 1' <<<"$out"; echo $?)" \
    "make test against a build without the isolation tester: fails, saying what to install" "$out"

# make demo and make test run (they install PGXS when it is missing) where
# pg_config names a PGXS that is not there: libpq-dev's alone
new_machine
fake_install libpq-dev
for goal in demo test; do
    out=$(make -C "$REPO" -n "$goal" PG_CONFIG="$m/libpq-dev/pg_config" 2>&1) && status=0 || status=$?
    ok "$status" "make -n $goal where PGXS is missing" "$out"
done

# ---------------------------------------------------------------------------
# META.json
# ---------------------------------------------------------------------------

if [ -x /usr/bin/python3 ]; then
    out=$(/usr/bin/python3 "$REPO/tools/check-meta.py" "$REPO" 2>&1) && status=0 || status=$?
    ok "$status" "META.json passes the PGXN Meta Spec and agrees with the tree" "$out"
    # check_meta_broken NAME PYTHON: the check must reject META.json changed
    # by the Python statement (on m, the parsed META.json)
    check_meta_broken() {
        local dir="$tmp/meta-broken"
        rm -rf "$dir"
        mkdir -p "$dir"
        cp "$REPO/idgen.control" "$REPO/README.md" "$REPO/idgen--1.0.sql" "$dir/"
        /usr/bin/python3 - "$REPO/META.json" "$dir/META.json" <<EOF
import json, sys
m = json.load(open(sys.argv[1]))
$2
json.dump(m, open(sys.argv[2], "w"))
EOF
        if /usr/bin/python3 "$REPO/tools/check-meta.py" "$dir" > "$dir/out" 2>&1; then
            ok 1 "check-meta.py rejects $1"
        else
            ok 0 "check-meta.py rejects $1"
        fi
    }
    check_meta_broken "an extension version that is not semantic" 'm["provides"]["idgen"]["version"] = "1.1"'
    check_meta_broken "a maintainer without an address" 'm["maintainer"] = ["idgen authors"]'
    check_meta_broken "a maintainer on localhost" 'm["maintainer"] = ["idgen <idgen@localhost>"]'
    check_meta_broken "resources without a repository" 'del m["resources"]["repository"]'
    check_meta_broken "resources without a bug tracker" 'del m["resources"]["bugtracker"]'
    check_meta_broken "a version that does not extend default_version" 'm["version"] = "2.0.0"'
    check_meta_broken "a missing extension file" 'm["provides"]["idgen"]["file"] = "idgen--9.9.sql"'
    check_meta_broken "an unknown licence" 'm["license"] = "postgres"'
else
    skip "/usr/bin/python3 is not installed" 9
fi

# ---------------------------------------------------------------------------
# debian/control
# ---------------------------------------------------------------------------

if command -v pg_buildext > /dev/null && [ -d "$REPO/debian" ]; then
    # generated DIR VERSIONS: debian/control as pg_buildext updatecontrol
    # generates it in a copy, for those PostgreSQL versions
    generated() {
        rm -rf "$tmp/deb"
        mkdir -p "$tmp/deb"
        cp -r "$REPO/debian" "$tmp/deb/"
        (cd "$tmp/deb" && PG_SUPPORTED_VERSIONS=$1 pg_buildext updatecontrol) > /dev/null
        cat "$tmp/deb/debian/control"
    }
    out=$(diff -u "$REPO/debian/control" <(generated 15) 2>&1) && status=0 || status=$?
    ok "$status" "debian/control is pg_buildext updatecontrol's for Debian 12's PostgreSQL 15" "$out"
    is "$(generated "14 15 18" | sed -n 's/^Package: //p' | tr '\n' ' ')" \
        "postgresql-15-idgen postgresql-18-idgen " "debian/control.in: one package per version from 15 on"
else
    skip "no pg_buildext (postgresql-common) or no debian/" 2
fi

# ---------------------------------------------------------------------------
# make dist
# ---------------------------------------------------------------------------

if git -C "$REPO" rev-parse --verify -q HEAD > /dev/null 2>&1 && [ -x /usr/bin/python3 ]; then
    version=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$REPO/META.json")
    rm -rf "$tmp/dist"
    mkdir -p "$tmp/dist"
    # make dist writes into the checkout: work on a clone of HEAD
    git clone -q --no-local "$REPO" "$tmp/dist/clone" 2>/dev/null || git clone -q "$REPO" "$tmp/dist/clone"
    out=$(make -C "$tmp/dist/clone" -s dist 2>&1) && status=0 || status=$?
    zip="$tmp/dist/clone/idgen-$version.zip"
    ok "$status" "make dist makes idgen-$version.zip" "$out"
    /usr/bin/python3 -m zipfile -e "$zip" "$tmp/dist/unpacked" 2>/dev/null || true
    top="$tmp/dist/unpacked/idgen-$version"
    files=$( (cd "$top" 2>/dev/null && find . -type f | sed 's|^\./||' | sort) || true)
    is "$(grep -E '^(\.ci/|debian/|bench/README\.md|bench/chart\.png|tools/package-test\.sh|\.git)' <<<"$files" || true)" "" \
        "the archive leaves out CI, Debian packaging and published benchmark results"
    missing=
    for f in Makefile idgen.control META.json README.md LICENSE CHANGELOG.md idgen--1.0.sql idgen--1.0--1.1.sql \
        src/idgen.c tools/test.conf tools/test.sh tools/demo.sh bench/run.sh sql/segment.sql t/001_not_preloaded.pl \
        t/lib/IdgenServers.pm; do
        grep -qx "$f" <<<"$files" || missing="$missing $f"
    done
    is "$missing" "" "the archive holds what building, installing and testing idgen need"
    out=$(/usr/bin/python3 "$REPO/tools/check-meta.py" "$top" 2>&1) && status=0 || status=$?
    ok "$status" "the archive's META.json names files it holds" "$out"
    pgc=${PG_CONFIG:-}
    if [ -n "$pgc" ] && [ "$pgc" != pg_config ] && [ -f "$("$pgc" --includedir-server 2>/dev/null)/postgres.h" ]; then
        out=$(make -C "$top" -s -j2 PG_CONFIG="$pgc" 2>&1) && status=0 || status=$?
        ok "$status" "the archive builds against $("$pgc" --version)" "$(tail -n 20 <<<"$out")"
    else
        skip "no PG_CONFIG with server headers to build the archive against" 1
    fi
else
    skip "not a git checkout (make dist archives HEAD), or no /usr/bin/python3" 5
fi

echo "1..$n"
[ "$failures" -eq 0 ]
