# shellcheck shell=bash disable=SC2034 # the layout variables are read by the files that source this one
# Shared helpers for scripts/run-suite, scripts/run-tests and scripts/broker-ctl:
# logging, privilege handling, the per-profile layout and the generated credentials.
# Sourced, never executed; the caller has already done `set -euo pipefail`.

AFTERCARE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
SERVICES=(membership dispatch coupon notification feedback)

# Messages go to stderr so that stdout stays clean for machine-readable output
# (e.g. `eval "$(scripts/run-tests --infra-only)"`).
log()  { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

# Everything that touches the system (apt, other users' files) goes through as_root,
# so the scripts work both as root and as a sudo-capable user.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -- "$@"; fi
}

# Hex only: safe inside URLs, shell files and SQL literals without any quoting.
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# profile_init suite|test — sets every path and port of a profile. Ports are fixed per
# profile so a running suite and a test run never clash.
profile_init() {
  PROFILE="$1"
  case "$PROFILE" in
    suite) PG_PORT=55432 AMQP_PORT=55672 DIST_PORT=55682 ;;
    test)  PG_PORT=56432 AMQP_PORT=56672 DIST_PORT=56682 ;;
    *) die "unknown profile '$PROFILE' (expected suite or test)" ;;
  esac
  RMQ_NODE="aftercare-$PROFILE@localhost"
  PROFILE_DIR="$AFTERCARE_ROOT/.local/$PROFILE"   # credentials, run/, services.env
  CREDENTIALS_FILE="$PROFILE_DIR/credentials.env"
  RUN_DIR="$PROFILE_DIR/run"
  # World-traversable so the postgres/rabbitmq users can reach their data below it.
  mkdir -p "$PROFILE_DIR"
  chmod 755 "$AFTERCARE_ROOT/.local" "$PROFILE_DIR"
  choose_path_mode
  # *_DIR is where the data is on disk; *_VDIR is the same folder as the server sees it
  # (they differ only in the namespace mode below).
  PG_DIR="$DATA_ROOT/postgres" PG_VDIR="$DATA_ROOT/postgres"
  RMQ_DIR="$DATA_ROOT/rabbitmq" RMQ_VDIR="$DATA_ROOT/rabbitmq"
  if [[ $PATH_MODE == namespace ]]; then PG_VDIR="$PG_HOME" RMQ_VDIR="$RMQ_HOME"; fi
  PGDATA="$PG_DIR/data"
  PG_LOG="$PG_DIR/postgres.log"
  RMQ_CONSOLE_LOG="$PROFILE_DIR/rabbitmq-console.log"
  pg_choose_socket_dir
}

# The servers run as the `postgres` and `rabbitmq` users. When the project lives where
# they cannot traverse (e.g. under /root, mode 700), the data still stays in the project:
# each server runs in a private mount namespace in which its data folder is bind-mounted
# over its user's home (/var/lib/postgresql, /var/lib/rabbitmq). Nothing changes outside
# the project, and the mount is gone with the process. (Granting CAP_DAC_READ_SEARCH is
# not enough: Mnesia checks its folder with access(2), which ignores capabilities.)
# Without mount namespaces (e.g. an unprivileged container) the data goes under /tmp.
choose_path_mode() {
  DATA_ROOT="$PROFILE_DIR" PATH_MODE=direct
  local u blocked=""
  for u in postgres rabbitmq; do
    id "$u" >/dev/null 2>&1 || continue   # not installed yet: checked again after install
    can_enter "$u" "$PROFILE_DIR" || blocked+=" $u"
  done
  [[ -z $blocked ]] && return 0
  local why="user(s)$blocked cannot traverse $AFTERCARE_ROOT"
  PG_HOME="$(getent passwd postgres | cut -d: -f6)" RMQ_HOME="$(getent passwd rabbitmq | cut -d: -f6)"
  if can_enter postgres "$PG_HOME" && can_enter rabbitmq "$RMQ_HOME" &&
     as_root unshare --mount --propagation private -- mount --bind "$PROFILE_DIR" "$PG_HOME" 2>/dev/null; then
    PATH_MODE=namespace
    path_note "$why; the servers see their data folders in $PROFILE_DIR through private bind mounts on $PG_HOME and $RMQ_HOME"
    return 0
  fi
  local hash
  hash="$(printf '%s' "$AFTERCARE_ROOT" | sha256sum | cut -c1-12)"
  DATA_ROOT="/tmp/aftercare-$hash/$PROFILE" PATH_MODE=tmp
  path_note "$why and mount namespaces are not available; keeping the server data in $DATA_ROOT instead"
  as_root mkdir -p "$DATA_ROOT"
  as_root chmod 755 "/tmp/aftercare-$hash" "$DATA_ROOT"
}

path_note() { [[ -n ${AFTERCARE_QUIET_PATH_NOTE:-} ]] || log "note: $*"; }

# can_enter USER DIR — can USER chdir into DIR? (A real chdir, not test -x.)
can_enter() {
  # shellcheck disable=SC2016 # $1 is the inner shell's argument
  [[ -d $2 ]] && as_root setpriv --reuid="$1" --regid="$1" --init-groups -- bash -c 'cd -- "$1"' _ "$2" 2>/dev/null
}

# run_as USER CMD... — run a server command as its system user (PostgreSQL refuses to
# run as root; Debian's RabbitMQ expects its own user), in the server's folder (and in
# the namespace mode, inside a private mount namespace). The environment is kept.
run_as_argv() {  # sets RUN_AS to the command prefix that run_as uses
  local u="$1" dir vdir
  case "$u" in
    postgres) dir="$PG_DIR" vdir="$PG_VDIR" ;;
    rabbitmq) dir="$RMQ_DIR" vdir="$RMQ_VDIR" ;;
    *) die "run_as: unknown user $u" ;;
  esac
  local drop=(setpriv --reuid="$u" --regid="$u" --init-groups --)
  if [[ $PATH_MODE == namespace ]]; then
    # shellcheck disable=SC2016 # the inner shell expands its own arguments
    RUN_AS=(unshare --mount --propagation private --
      sh -c 'mount --bind "$1" "$2" && cd "$2" && shift 2 && exec "$@"' _ "$dir" "$vdir" "${drop[@]}")
  else
    # shellcheck disable=SC2016 # the inner shell expands its own arguments
    RUN_AS=(sh -c 'cd "$1" && shift && exec "$@"' _ "$dir" "${drop[@]}")
  fi
  [[ $(id -u) -eq 0 ]] || RUN_AS=(sudo -- "${RUN_AS[@]}")
}
run_as() { run_as_argv "$1"; shift; "${RUN_AS[@]}" "$@"; }

# Servers started from here must keep only stdin/stdout/stderr: not our lock (fd 9), nor
# any pipe of whoever called us (a CI runner waits for its pipes to close, so a server
# holding one would hang it). Call only inside a subshell.
close_extra_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd="${fd##*/}"
    if (( fd > 2 )); then eval "exec $fd>&-"; fi
  done 2>/dev/null
}

without_extra_fds() { ( close_extra_fds; exec "$@" ); }

# detach LOG CMD... — start CMD in the background in a session of its own (it outlives
# this script and gets none of its signals), input from /dev/null, output appended to
# LOG. DETACHED_PID is its pid (setsid/setpriv/env exec in place, so it stays the same).
detach() {
  local logfile="$1"; shift
  ( close_extra_fds; exec setsid "$@" </dev/null >>"$logfile" 2>&1 ) &
  DETACHED_PID=$!
}

# Credentials are generated once per profile and reused, so re-runs keep working
# databases and broker users. The file is shell KEY=value (hex values, no quoting).
credentials_load() {
  local keys=(PG_ADMIN_PASSWORD AMQP_ADMIN_PASSWORD) s
  for s in "${SERVICES[@]}"; do keys+=("PG_PASSWORD_$(upper "$s")" "AMQP_PASSWORD_$(upper "$s")"); done
  local created=0 k
  ( umask 077; touch "$CREDENTIALS_FILE" )
  for k in "${keys[@]}" JWT_SECRET; do
    if ! grep -q "^$k=" "$CREDENTIALS_FILE"; then
      if [[ $k == JWT_SECRET ]]; then echo "$k=$(random_hex 48)"; else echo "$k=$(random_hex 24)"; fi >>"$CREDENTIALS_FILE"
      created=1
    fi
  done
  chmod 600 "$CREDENTIALS_FILE"
  [[ $created -eq 0 ]] || log "generated credentials in $CREDENTIALS_FILE"
  # shellcheck disable=SC1090
  source "$CREDENTIALS_FILE"
}

pg_password_of()   { local v; v="PG_PASSWORD_$(upper "$1")"; printf '%s' "${!v}"; }
amqp_password_of() { local v; v="AMQP_PASSWORD_$(upper "$1")"; printf '%s' "${!v}"; }

database_url_of() {  # the service's own role and database
  printf 'postgres://aftercare_%s:%s@127.0.0.1:%s/aftercare_%s?sslmode=disable' "$1" "$(pg_password_of "$1")" "$PG_PORT" "$1"
}
amqp_url_of() {      # the service's own broker user on vhost `aftercare`
  printf 'amqp://%s:%s@127.0.0.1:%s/aftercare' "$1" "$(amqp_password_of "$1")" "$AMQP_PORT"
}

# One profile at a time changes the infrastructure: concurrent runs wait here.
# The lock fd must never leak into the servers (see without_extra_fds).
profile_lock()   { exec 9>"$PROFILE_DIR/.lock"; flock 9; }
profile_unlock() { exec 9>&-; }
