# Shared by tools/test.sh, tools/demo.sh and bench/run.sh: install what is
# missing, build and install idgen, and run servers as an unprivileged user.
# Run as root, servers run as the "postgres" OS user; run as an ordinary
# user, servers run as that user and sudo is used only to install.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=15
PACKAGES="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-contrib libipc-run-perl make gcc faketime gnuplot-nox"

if [ "$(id -u)" = 0 ]; then
    SUDO=
    PGUSER_OS=postgres
else
    SUDO=sudo
    PGUSER_OS=$(id -un)
fi

# say MESSAGE: progress on stderr, so that stdout stays the result
say() { echo "== $*" >&2; }

# ensure_packages: apt-get install whatever of $PACKAGES is missing
ensure_packages() {
    local missing=()
    local p
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
    fi
}

# pg_bindir: the server binaries of $PG_MAJOR
pg_bindir() { echo "/usr/lib/postgresql/$PG_MAJOR/bin"; }

# build_install: build idgen against $PG_MAJOR and install it
build_install() {
    local pgc
    pgc="$(pg_bindir)/pg_config"
    say "building and installing idgen"
    make -C "$REPO" -s PG_CONFIG="$pgc" >&2
    $SUDO make -C "$REPO" -s PG_CONFIG="$pgc" install >&2
}

# prepare: install what is missing, then build and install idgen holding
# the install lock (fd 9) until the calling script ends.  The extension
# installs server-wide, so builds and the runs that use them take turns.
prepare() {
    ensure_packages
    exec 9>/tmp/idgen-install.lock
    flock 9
    build_install
}

# as_pguser CMD...: run CMD as the unprivileged user that owns servers.
# CMD does not inherit fd 9, the install lock (tools/test.sh), so that a
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

# stage_sources DIR: copy what the server user needs to read into DIR
stage_sources() {
    cp -r "$REPO/sql" "$REPO/expected" "$REPO/specs" "$REPO/t" "$REPO/tools" "$REPO/bench" "$1/"
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
