#!/usr/bin/env bash
# Throwaway Redis for the test suite (the shared rate-limit store, issue 20).
#
#   scripts/redis-test.sh start   start a fresh server; prints its URL as the last (and
#                                 only) line on stdout, e.g. redis://127.0.0.1:56379/0
#   scripts/redis-test.sh url     print the URL of the running server
#   scripts/redis-test.sh stop    stop the server and delete its files (no-op if none)
#
# Progress and errors go to stderr, so `url=$(scripts/redis-test.sh start)` works.
# For tests only: listens on 127.0.0.1, keeps nothing on disk. As root the server runs
# as the system user `gongkai-redis` (created if missing); otherwise as the invoking
# user. A server left over from a killed run is stopped by the next `start`.
# redis-server comes from Debian's package (the Makefile's TEST_PACKAGES).
#
# Environment (all optional):
#   GONGKAI_REDIS_STATE_DIR  where the state file lives (default /tmp/gongkai-redis-test,
#                            /tmp/gongkai-redis-test-UID for non-root)
#   GONGKAI_REDIS_PORT       first port to try (default 56379; tries 100 ports upward)
#   GONGKAI_REDIS_SYSUSER    system user for the server when run as root
set -euo pipefail

SYS_USER="${GONGKAI_REDIS_SYSUSER:-gongkai-redis}"
FIRST_PORT="${GONGKAI_REDIS_PORT:-56379}"
LAST_PORT=$((FIRST_PORT + 99))
TMP_PREFIX=/tmp/gongkai-redis.
if [ "$(id -u)" -eq 0 ]; then
    STATE_DIR="${GONGKAI_REDIS_STATE_DIR:-/tmp/gongkai-redis-test}"
else
    STATE_DIR="${GONGKAI_REDIS_STATE_DIR:-/tmp/gongkai-redis-test-$(id -u)}"
fi
STATE_FILE="$STATE_DIR/state"

LOG_NAME=redis-test
# shellcheck source=scripts/test-server-lib.sh
. "$(dirname "$0")/test-server-lib.sh"

write_state() {
    printf 'BASE=%s\nPORT=%s\n' "$BASE" "${PORT:-}" >"$STATE_FILE.tmp"
    mv "$STATE_FILE.tmp" "$STATE_FILE"
}

# Parse the state file (key=value lines; never sourced).
read_state() {
    BASE='' PORT=''
    [ -f "$STATE_FILE" ] || return 1
    local key value
    while IFS='=' read -r key value; do
        case "$key" in
            BASE) BASE=$value ;;
            PORT) PORT=$value ;;
        esac
    done <"$STATE_FILE"
    case "$BASE" in
        "$TMP_PREFIX"*) ;;
        *) die "state file $STATE_FILE names unexpected directory '$BASE'" ;;
    esac
    case "$BASE" in */../* | */..) die "state file $STATE_FILE names '$BASE'" ;; esac
    return 0
}

url() { echo "redis://127.0.0.1:$PORT/0"; }

# server_pid: the pid in the server's pid file, if that process is a live redis-server.
server_pid() {
    local pid
    pid=$(cat "$BASE/redis.pid" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null || return 1
    echo "$pid"
}

stop_server() {
    read_state || return 0
    log "stopping Redis in $BASE${PORT:+ (port $PORT)}"
    local pid i
    if pid=$(server_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 50); do
            server_pid >/dev/null || break
            sleep 0.1
        done
        if server_pid >/dev/null; then
            log "redis-server $pid still running; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf -- "$BASE"
    rm -f -- "$STATE_FILE"
}

ping() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]; }

start_server() {
    stop_server # a leftover from a previous (killed) run
    command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
    command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
    if [ "$(id -u)" -eq 0 ]; then
        ensure_sys_user
        RUN_AS=$SYS_USER
    else
        RUN_AS=$(id -un)
    fi
    BASE=$(mktemp -d "${TMP_PREFIX}XXXXXX")
    PORT=''
    write_state # from here on, `stop` cleans up even if start fails half-way
    chown "$RUN_AS:" "$BASE"
    chmod 700 "$BASE"

    local port i
    for port in $(seq "$FIRST_PORT" "$LAST_PORT"); do
        port_in_use "$port" && continue
        PORT=$port
        write_state
        rm -f "$BASE/redis.log"
        as_server redis-server - >/dev/null 2>&1 <<EOF
bind 127.0.0.1
port $port
daemonize yes
pidfile $BASE/redis.pid
logfile $BASE/redis.log
dir $BASE
save ""
appendonly no
EOF
        for i in $(seq 50); do
            ping && break
            server_pid >/dev/null || [ "$i" -lt 10 ] || break
            sleep 0.1
        done
        if ping; then
            log "ready: Redis on 127.0.0.1:$PORT, files in $BASE"
            url
            return 0
        fi
        if grep -qi 'address already in use' "$BASE/redis.log" 2>/dev/null; then
            log "port $port taken meanwhile; trying the next one"
            continue
        fi
        cat "$BASE/redis.log" >&2 2>/dev/null || true
        die "redis-server did not start"
    done
    die "no free port in $FIRST_PORT-$LAST_PORT"
}

case "${1:-}" in
    start) with_lock start_server ;;
    stop) with_lock stop_server ;;
    url)
        read_state || die "no Redis running (no $STATE_FILE); run '$0 start'"
        [ -n "$PORT" ] && ping || die "Redis in $BASE is not answering"
        url
        ;;
    *)
        echo "usage: $0 start|stop|url" >&2
        exit 2
        ;;
esac
