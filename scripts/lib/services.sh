# shellcheck shell=bash
# The five service executables of the suite profile: build, start, wait, stop, status.

product_of() {
  case "$1" in
    membership) echo MembershipService ;;   dispatch) echo DispatchService ;;
    coupon) echo CouponService ;;           notification) echo NotificationService ;;
    feedback) echo FeedbackService ;;       *) die "unknown service $1" ;;
  esac
}
port_of() {
  case "$1" in
    membership) echo 8081 ;; dispatch) echo 8082 ;; coupon) echo 8083 ;;
    notification) echo 8084 ;; feedback) echo 8085 ;; *) die "unknown service $1" ;;
  esac
}

# The environment contract of a service process (see the README): one line per variable.
service_env() {
  local s="$1"
  echo "HTTP_HOST=127.0.0.1"
  echo "HTTP_PORT=$(port_of "$s")"
  echo "DATABASE_URL=$(database_url_of "$s")"
  echo "AMQP_URL=$(amqp_url_of "$s")"
  echo "JWT_SECRET=$JWT_SECRET"
  echo "LOG_LEVEL=${LOG_LEVEL:-info}"
}

build_services() {
  local config="${AFTERCARE_BUILD_CONFIGURATION:-release}"
  log "building the services (swift build -c $config)"
  (cd "$AFTERCARE_ROOT" && swift build -c "$config" >&2)
  BIN_DIR="$(cd "$AFTERCARE_ROOT" && swift build -c "$config" --show-bin-path)"
}

service_pid() {  # prints the pid when the service runs (and the pid is really ours)
  local pid
  pid="$(cat "$RUN_DIR/$1.pid" 2>/dev/null)" || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "/$(product_of "$1")\b" && printf '%s' "$pid"
}

service_ready() { [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$(port_of "$1")/health/ready")" == 200 ]]; }

start_service() {
  local s="$1" product log pid
  product="$(product_of "$s")"; log="$RUN_DIR/$s.log"
  if pid="$(service_pid "$s")"; then
    log "$product already running (pid $pid)"
    return 0
  fi
  if port_open "$(port_of "$s")"; then die "port $(port_of "$s") for $product is taken by another program"; fi
  [[ -x $BIN_DIR/$product ]] || die "$BIN_DIR/$product not found: did the build succeed?"
  local vars=()
  mapfile -t vars < <(service_env "$s")
  printf '\n===== %s starting %s =====\n' "$(date -Is)" "$product" >>"$log"
  # Detached: the service outlives this script; its output goes only to its log file.
  detach "$log" env "${vars[@]}" "$BIN_DIR/$product"
  echo "$DETACHED_PID" >"$RUN_DIR/$s.pid"
  log "$product started (pid $DETACHED_PID, port $(port_of "$s"), log $log)"
}

# Waits until every service answers 200 on /health/ready; fails with the log tail of the
# first one that died or was still not ready at the deadline.
wait_services_ready() {
  local timeout="${AFTERCARE_READY_TIMEOUT:-120}" deadline s pending
  deadline=$((SECONDS + timeout))
  while :; do
    pending=()
    for s in "${SERVICES[@]}"; do
      service_ready "$s" && continue
      if ! service_pid "$s" >/dev/null; then
        tail -n 40 "$RUN_DIR/$s.log" >&2 || true
        die "$(product_of "$s") exited before becoming ready (log: $RUN_DIR/$s.log); the others are left running: scripts/run-suite stop"
      fi
      pending+=("$s")
    done
    [[ ${#pending[@]} -eq 0 ]] && return 0
    if (( SECONDS >= deadline )); then
      s="${pending[0]}"
      tail -n 40 "$RUN_DIR/$s.log" >&2 || true
      die "$(product_of "$s") not ready after ${timeout}s (pending: ${pending[*]}; log: $RUN_DIR/$s.log); stop everything with: scripts/run-suite stop"
    fi
    sleep 1
  done
}

# SIGTERM to every running service at once (they drain in parallel), then SIGKILL for
# any still running after AFTERCARE_STOP_TIMEOUT seconds (default 20).
stop_services() {
  # Longer than the services' own bound (SHUTDOWN_TIMEOUT_SECONDS, 30 s), so that they end by
  # themselves and their last log lines say what was still running.
  local s pid pids=() names=() timeout="${AFTERCARE_STOP_TIMEOUT:-40}"
  for s in "${SERVICES[@]}"; do
    if pid="$(service_pid "$s")"; then
      log "stopping $(product_of "$s") (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$(product_of "$s")")
    fi
  done
  local deadline=$((SECONDS + timeout)) i alive
  while :; do
    alive=0
    for i in "${!pids[@]}"; do kill -0 "${pids[$i]}" 2>/dev/null && alive=1; done
    (( alive )) || break
    if (( SECONDS >= deadline )); then
      for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
          warn "${names[$i]} did not stop within ${timeout}s; sending SIGKILL"
          kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
      done
      break
    fi
    sleep 0.5
  done
  for s in "${SERVICES[@]}"; do rm -f "$RUN_DIR/$s.pid"; done
}

services_status() {
  local s pid state
  for s in "${SERVICES[@]}"; do
    if pid="$(service_pid "$s")"; then
      if service_ready "$s"; then state="ready"; else state="running (not ready)"; fi
      printf '%-20s %-20s pid %-7s http://127.0.0.1:%s   log %s\n' "$(product_of "$s")" "$state" "$pid" "$(port_of "$s")" "$RUN_DIR/$s.log"
    else
      printf '%-20s %-20s\n' "$(product_of "$s")" "stopped"
    fi
  done
}
