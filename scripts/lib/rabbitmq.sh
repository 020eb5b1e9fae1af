# shellcheck shell=bash
# A project-local RabbitMQ node per profile, run from Debian's package without systemd.
# Everything the node writes lives in $RMQ_DIR, owned by the rabbitmq user; HOME points
# there too, so the node and rabbitmqctl share a project-local Erlang cookie.

# The environment of both the server and the CLI tools of this profile's node.
rmq_env() {
  RMQ_ENV=(
    LC_ALL=C.UTF-8 HOME="$RMQ_VDIR"
    RABBITMQ_NODENAME="$RMQ_NODE"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$AMQP_PORT"
    # Must be explicit: the default (AMQP port + 20000) would exceed 65535.
    RABBITMQ_DIST_PORT="$DIST_PORT"
    # Erlang distribution (used by rabbitmqctl) on loopback only, like everything else.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    # Ignore /etc/rabbitmq entirely: the system node's settings are not ours.
    RABBITMQ_CONF_ENV_FILE="$RMQ_VDIR/rabbitmq-env.conf"
    RABBITMQ_CONFIG_FILE="$RMQ_VDIR/rabbitmq.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_VDIR/advanced.config"
    RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_VDIR/enabled_plugins"
    RABBITMQ_MNESIA_BASE="$RMQ_VDIR/mnesia"
    RABBITMQ_LOG_BASE="$RMQ_VDIR/log"
    RABBITMQ_PID_FILE="$RMQ_VDIR/rabbitmq.pid"
    ERL_EPMD_ADDRESS=127.0.0.1
  )
}

rabbitmqctl_() {
  rmq_env
  run_as rabbitmq env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" "$@"
}

# True when something on the port speaks AMQP 0-9-1: we send the protocol header and
# expect the first byte of a method frame (connection.start) back.
amqp_answers() {
  # shellcheck disable=SC2016 # the inner shell expands its own arguments
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "AMQP\x00\x00\x09\x01" >&3
    [[ "$(head -c1 <&3 | od -An -tx1 | tr -d " ")" == 01 ]]' _ "$1" 2>/dev/null
}

# shellcheck disable=SC2016 # the inner shell expands its own arguments
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

rmq_pid() {
  local pid
  pid="$(as_root cat "$RMQ_DIR/rabbitmq.pid" 2>/dev/null)" || return 1
  [[ -n $pid ]] && as_root kill -0 "$pid" 2>/dev/null && [[ "$(as_root cat "/proc/$pid/comm" 2>/dev/null)" == beam* ]] &&
    printf '%s' "$pid"
}

rmq_running() { rmq_pid >/dev/null; }

rmq_prepare_dir() {
  as_root mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
  if ! as_root test -f "$RMQ_DIR/.erlang.cookie"; then
    random_hex 20 | as_root tee "$RMQ_DIR/.erlang.cookie" >/dev/null
  fi
  # Only the AMQP listener, bound by RABBITMQ_NODE_IP_ADDRESS/PORT; no plugins locally.
  printf '%s\n' '# written by scripts/lib/rabbitmq.sh' 'log.file.level = info' |
    as_root tee "$RMQ_DIR/rabbitmq.conf" >/dev/null
  echo '[].' | as_root tee "$RMQ_DIR/enabled_plugins" >/dev/null
  as_root touch "$RMQ_DIR/rabbitmq-env.conf"
  as_root chown -R rabbitmq:rabbitmq "$RMQ_DIR"
  as_root chmod 750 "$RMQ_DIR"
  as_root chmod 400 "$RMQ_DIR/.erlang.cookie"
}

# Starts the node (if not running) and returns once the AMQP port answers.
rmq_start() {
  if rmq_running; then
    rmq_wait_amqp 60
    log "RabbitMQ ($PROFILE) already running: $RMQ_NODE, amqp 127.0.0.1:$AMQP_PORT"
    return 0
  fi
  if port_open "$AMQP_PORT"; then die "port $AMQP_PORT is taken by another program; stop it first"; fi
  rmq_prepare_dir
  log "starting RabbitMQ ($PROFILE): node $RMQ_NODE, amqp 127.0.0.1:$AMQP_PORT, dist $DIST_PORT"
  # Console output goes to a file opened here (the node's own logs are in $RMQ_DIR/log).
  rmq_env
  run_as_argv rabbitmq
  detach "$RMQ_CONSOLE_LOG" "${RUN_AS[@]}" env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmq-server"
  rmq_wait_amqp 120
}

rmq_wait_amqp() {  # seconds
  local deadline=$((SECONDS + $1))
  until amqp_answers "$AMQP_PORT"; do
    # Fail fast when the node died while booting (bad config, port taken, ...): its pid
    # file is written within a few seconds of the start.
    if (( SECONDS > deadline - $1 + 15 )) && ! rmq_running; then
      tail -n 40 "$RMQ_CONSOLE_LOG" >&2 || true
      die "RabbitMQ ($PROFILE) stopped while starting (logs: $RMQ_CONSOLE_LOG, $RMQ_DIR/log)"
    fi
    if (( SECONDS >= deadline )); then
      tail -n 40 "$RMQ_CONSOLE_LOG" >&2 || true
      die "RabbitMQ ($PROFILE) did not answer on 127.0.0.1:$AMQP_PORT within $1 s (logs: $RMQ_DIR/log)"
    fi
    sleep 0.5
  done
}

rmq_stop() {
  local pid
  if ! pid="$(rmq_pid)"; then log "RabbitMQ ($PROFILE) is not running"; return 0; fi
  log "stopping RabbitMQ ($PROFILE)"
  # `shutdown` waits until the node's OS process has exited.
  rabbitmqctl_ shutdown >/dev/null 2>&1 || { warn "rabbitmqctl shutdown failed; sending SIGTERM"; as_root kill -TERM "$pid" || true; }
  local deadline=$((SECONDS + 30))
  while as_root kill -0 "$pid" 2>/dev/null; do
    (( SECONDS < deadline )) || { as_root kill -KILL "$pid" || true; break; }
    sleep 0.5
  done
}

rmq_status() {
  if rmq_running; then echo "RabbitMQ    running   amqp 127.0.0.1:$AMQP_PORT   node $RMQ_NODE   data $RMQ_DIR"
  else echo "RabbitMQ    stopped   (node $RMQ_NODE, data $RMQ_DIR)"; fi
}

# Idempotent: definitions are upserted (vhost, the shared exchange, users with their
# passwords, permissions), so every run re-syncs the broker with the credentials file and
# docker/rabbitmq/subscriptions. Passwords go through stdin. What each user may do is
# written in docker/rabbitmq/definitions.sh.
rmq_provision() {
  log "provisioning RabbitMQ vhost 'aftercare', exchange 'aftercare.events' and users"
  # shellcheck source=../../docker/rabbitmq/definitions.sh
  source "$AFTERCARE_ROOT/docker/rabbitmq/definitions.sh"
  broker_definitions "$AMQP_ADMIN_PASSWORD" "$AFTERCARE_ROOT/docker/rabbitmq/subscriptions" amqp_password_of "${SERVICES[@]}" |
    rabbitmqctl_ -q import_definitions --format json >/dev/null
  if rabbitmqctl_ -q list_users --no-table-headers | grep -q '^guest[[:space:]]'; then
    rabbitmqctl_ -q delete_user guest >/dev/null
  fi
}

# Test profile only: queues that a killed test run left behind keep a copy of every later
# event (a run that is cut short never deletes its own), which slows the broker for every
# later run and benchmark. If any are there, the vhost is dropped and provisioned afresh.
rmq_reset_test_vhost() {
  local count
  count="$( { rabbitmqctl_ -q list_queues -p aftercare name --no-table-headers 2>/dev/null || true; } | wc -l)"
  (( count > 0 )) || return 0
  log "removing $count queues left on the test broker by earlier runs"
  rabbitmqctl_ -q delete_vhost aftercare >/dev/null 2>&1 || warn "could not delete the vhost 'aftercare'"
  rmq_provision
}
