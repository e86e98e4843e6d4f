#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite.
#
#   scripts/pg-test.sh start   start a fresh cluster; prints its SQLAlchemy URL as the
#                              last (and only) line on stdout, e.g.
#                              postgresql+psycopg://gongkai@127.0.0.1:54329/gongkai_test
#   scripts/pg-test.sh url     print the URL of the running cluster
#   scripts/pg-test.sh stop    stop the cluster and delete its files (no-op if none)
#
# Progress and errors go to stderr, so `url=$(scripts/pg-test.sh start)` works.
# The cluster is for tests only: trust authentication, listens on 127.0.0.1 only,
# fsync/synchronous_commit/full_page_writes off. Superuser `gongkai` (it can CREATE
# DATABASE, which the fixtures do once per xdist worker); database `gongkai_test`.
#
# PostgreSQL refuses to run as root: as root the server runs as the system user
# `gongkai-pg` (created if missing); otherwise as the invoking user.
# A cluster left over from a killed run is stopped and removed by the next `start`.
#
# Environment (all optional):
#   GONGKAI_PG_STATE_DIR  where the state file lives (default /tmp/gongkai-pg-test,
#                         /tmp/gongkai-pg-test-UID for non-root); give concurrent
#                         runs on one machine different directories
#   GONGKAI_PG_PORT       first port to try (default 54329; tries 100 ports upward)
#   GONGKAI_PG_SYSUSER    system user for the server when run as root (default gongkai-pg)
set -euo pipefail

DB_USER=gongkai
DB_NAME=gongkai_test
SYS_USER="${GONGKAI_PG_SYSUSER:-gongkai-pg}"
FIRST_PORT="${GONGKAI_PG_PORT:-54329}"
LAST_PORT=$((FIRST_PORT + 99))
TMP_PREFIX=/tmp/gongkai-pg.
if [ "$(id -u)" -eq 0 ]; then
    STATE_DIR="${GONGKAI_PG_STATE_DIR:-/tmp/gongkai-pg-test}"
else
    STATE_DIR="${GONGKAI_PG_STATE_DIR:-/tmp/gongkai-pg-test-$(id -u)}"
fi
STATE_FILE="$STATE_DIR/state"

LOG_NAME=pg-test
# shellcheck source=scripts/test-server-lib.sh
. "$(dirname "$0")/test-server-lib.sh"

# --- binaries -----------------------------------------------------------------

find_bindir() {
    local d
    if [ -x /usr/local/bin/initdb ] && [ -x /usr/local/bin/pg_ctl ] \
        && [ -x /usr/local/bin/postgres ]; then
        echo /usr/local/bin
        return 0
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

resolve_binaries() {
    if ! BINDIR=$(find_bindir); then
        [ "$(id -u)" -eq 0 ] || die "PostgreSQL server binaries not found (install postgresql)"
        log "PostgreSQL not found; installing it with apt-get"
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; } >&2 \
            || die "apt-get install postgresql failed"
        BINDIR=$(find_bindir) || die "PostgreSQL server binaries still not found"
    fi
    INITDB="$BINDIR/initdb"
    PG_CTL="$BINDIR/pg_ctl"
    # Client tools: next to the real server binaries if there, else Debian's wrappers.
    local real
    real=$(dirname "$(readlink -f "$INITDB")")
    PSQL="$real/psql"
    [ -x "$PSQL" ] || PSQL=$(command -v psql || echo /usr/bin/psql)
    PG_ISREADY="$real/pg_isready"
    [ -x "$PG_ISREADY" ] || PG_ISREADY=$(command -v pg_isready || true)
}

# --- state --------------------------------------------------------------------

write_state() {
    local tmp="$STATE_FILE.tmp"
    {
        echo "BASE=$BASE"
        echo "PORT=${PORT:-}"
        echo "RUN_AS=$RUN_AS"
        echo "BINDIR=$BINDIR"
        echo "PID=${PID:-}"
    } >"$tmp"
    mv "$tmp" "$STATE_FILE"
}

# Parse the state file (key=value lines; never sourced).
read_state() {
    BASE='' PORT='' RUN_AS='' BINDIR='' PID=''
    [ -f "$STATE_FILE" ] || return 1
    local key value
    while IFS='=' read -r key value; do
        case "$key" in
            BASE) BASE=$value ;;
            PORT) PORT=$value ;;
            RUN_AS) RUN_AS=$value ;;
            BINDIR) BINDIR=$value ;;
            PID) PID=$value ;;
        esac
    done <"$STATE_FILE"
    case "$BASE" in
        "$TMP_PREFIX"*) ;;
        *) die "state file $STATE_FILE names unexpected directory '$BASE'" ;;
    esac
    case "$BASE" in */../* | */..) die "state file $STATE_FILE names '$BASE'" ;; esac
    return 0
}

url() { echo "postgresql+psycopg://$DB_USER@127.0.0.1:$PORT/$DB_NAME"; }

# --- stop ---------------------------------------------------------------------

# is_postgres_pid PID: a live (not zombie) postgres process?
is_postgres_pid() {
    local pid=$1 stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    if [ -d /proc ] && [ -r /proc/self/stat ]; then
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
        # "pid (comm) state ...": comm may contain spaces; the state follows the last ')'
        case "${stat##*) }" in Z* | X*) return 1 ;; esac
        case "$stat" in *"(postgres"* | *"(postmaster"*) return 0 ;; esac
        return 1
    fi
    kill -0 "$pid" 2>/dev/null
}

# wait_gone PID TENTHS: wait up to TENTHS/10 s for the process to end.
wait_gone() {
    local i
    for i in $(seq "$2"); do
        is_postgres_pid "$1" || return 0
        sleep 0.1
    done
    ! is_postgres_pid "$1"
}

stop_cluster() {
    read_state || return 0
    log "stopping cluster in $BASE${PORT:+ (port $PORT)}"
    local data="$BASE/data" pid="$PID"
    if [ -f "$data/postmaster.pid" ]; then
        pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || echo "$PID")
    fi
    if is_postgres_pid "$pid"; then
        if [ -n "$BINDIR" ] && [ -x "$BINDIR/pg_ctl" ] && id -u "$RUN_AS" >/dev/null 2>&1; then
            as_server "$BINDIR/pg_ctl" -D "$data" -m fast -w -t 30 stop >&2 2>/dev/null \
                || as_server "$BINDIR/pg_ctl" -D "$data" -m immediate -w -t 10 stop >&2 2>/dev/null \
                || true
        fi
    fi
    # Last resort: the postmaster is still alive (e.g. the data dir was damaged).
    if ! wait_gone "$pid" 50; then
        log "postmaster $pid still running; sending SIGQUIT"
        kill -QUIT "$pid" 2>/dev/null || true
        wait_gone "$pid" 50 || { log "sending SIGKILL to $pid"; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -rf -- "$BASE"
    rm -f -- "$STATE_FILE"
}

# --- start --------------------------------------------------------------------

wait_ready() {
    local i
    for i in $(seq 60); do
        if [ -n "$PG_ISREADY" ]; then
            "$PG_ISREADY" -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres && return 0
        else
            "$PSQL" -X -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -c 'SELECT 1' \
                >/dev/null 2>&1 && return 0
        fi
        sleep 0.5
    done
    return 1
}

start_cluster() {
    stop_cluster # a leftover from a previous (killed) run
    resolve_binaries

    if [ "$(id -u)" -eq 0 ]; then
        ensure_sys_user
        RUN_AS=$SYS_USER
    else
        RUN_AS=$(id -un)
    fi

    BASE=$(mktemp -d "${TMP_PREFIX}XXXXXX")
    PORT='' PID=''
    write_state # from here on, `stop` cleans up even if start fails half-way
    chown "$RUN_AS:" "$BASE"
    chmod 700 "$BASE"

    local locale_opt=(--no-locale)
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale_opt=(--locale=C.UTF-8)
    fi
    log "initdb $BASE/data (server user $RUN_AS, $("$BINDIR/postgres" --version))"
    as_server "$INITDB" -D "$BASE/data" -A trust -U "$DB_USER" --encoding=UTF8 \
        "${locale_opt[@]}" --no-sync >"$BASE/initdb.log" 2>&1 \
        || { cat "$BASE/initdb.log" >&2; die "initdb failed"; }

    cat >>"$BASE/data/postgresql.conf" <<EOF

# --- gongkai throwaway test cluster (scripts/pg-test.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$BASE'
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF

    local port started=''
    for port in $(seq "$FIRST_PORT" "$LAST_PORT"); do
        port_in_use "$port" && continue
        PORT=$port
        write_state
        : >"$BASE/postgres.log"
        chown "$RUN_AS:" "$BASE/postgres.log"
        if as_server "$PG_CTL" -D "$BASE/data" -l "$BASE/postgres.log" -o "-p $port" \
            -w -t 60 start >/dev/null 2>&1; then
            started=yes
            break
        fi
        if grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' \
            "$BASE/postgres.log"; then
            log "port $port taken meanwhile; trying the next one"
            continue
        fi
        cat "$BASE/postgres.log" >&2
        die "postgres did not start"
    done
    [ -n "$started" ] || die "no free port in $FIRST_PORT-$LAST_PORT"

    PID=$(head -n 1 "$BASE/data/postmaster.pid")
    write_state
    wait_ready || { cat "$BASE/postgres.log" >&2; die "server not ready on port $PORT"; }

    "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres \
        -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >&2 \
        || die "could not create database $DB_NAME"
    log "ready: PostgreSQL on 127.0.0.1:$PORT, data in $BASE"
    url
}

# --- main ---------------------------------------------------------------------

case "${1:-}" in
    start) with_lock start_cluster ;;
    stop) with_lock stop_cluster ;;
    url)
        read_state || die "no cluster running (no $STATE_FILE); run '$0 start'"
        [ -n "$PORT" ] && [ -n "$PID" ] || die "cluster in $BASE did not finish starting"
        is_postgres_pid "$PID" || die "cluster on port $PORT is not running (pid $PID)"
        url
        ;;
    *)
        echo "usage: $0 start|stop|url" >&2
        exit 2
        ;;
esac
