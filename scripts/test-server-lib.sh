# Shared by scripts/pg-test.sh and scripts/redis-test.sh (sourced, not run): logging, the
# state directory's lock, running as the server user, the port probe. The sourcing script
# sets LOG_NAME, STATE_DIR, SYS_USER, and RUN_AS and BASE before as_server.

log() { printf '%s: %s\n' "$LOG_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# as_server CMD...: run CMD as $RUN_AS, from a directory that user can enter, without
# the lock's file descriptor (a server inheriting it would hold the lock forever).
as_server() {
    if [ "$RUN_AS" = "$(id -un)" ]; then
        (cd "$BASE" && exec "$@") 9>&-
    elif command -v runuser >/dev/null; then
        (cd "$BASE" && exec runuser -u "$RUN_AS" -- "$@") 9>&-
    else
        (cd "$BASE" && exec su -s /bin/sh "$RUN_AS" -c "$(printf '%q ' "$@")") 9>&-
    fi
}

ensure_sys_user() {
    id -u "$SYS_USER" >/dev/null 2>&1 && return 0
    log "creating system user $SYS_USER"
    useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$SYS_USER" \
        || id -u "$SYS_USER" >/dev/null 2>&1 \
        || die "could not create user $SYS_USER"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

prepare_state_dir() {
    mkdir -p "$STATE_DIR"
    chmod 700 "$STATE_DIR"
    [ -O "$STATE_DIR" ] || die "$STATE_DIR is not owned by $(id -un)"
}

# with_lock CMD...: one start or stop at a time per state directory.
with_lock() {
    prepare_state_dir
    if command -v flock >/dev/null; then
        exec 9>"$STATE_DIR/lock"
        flock -w 120 9 || die "could not lock $STATE_DIR/lock"
    fi
    "$@"
}
