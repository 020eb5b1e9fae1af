# shellcheck shell=bash
# A project-local PostgreSQL per profile: data in $PGDATA, TCP on 127.0.0.1:$PG_PORT only,
# its unix socket in a folder next to the data that only root and postgres can enter.

# The socket path must fit in sun_path (107 bytes); a deep checkout would not.
# PG_SOCKET_DIR is where we connect; PG_VSOCKET_DIR the same folder as the server sees it.
pg_choose_socket_dir() {
  PG_SOCKET_DIR="$PG_DIR/socket" PG_VSOCKET_DIR="$PG_VDIR/socket"
  if (( ${#PG_SOCKET_DIR} + 20 > 107 || ${#PG_VSOCKET_DIR} + 20 > 107 )); then
    PG_SOCKET_DIR="/tmp/aftercare-pg-$(printf '%s' "$PG_DIR" | sha256sum | cut -c1-12)"
    PG_VSOCKET_DIR="$PG_SOCKET_DIR"
    path_note "$PG_DIR is too long for a unix socket path; the socket goes to $PG_SOCKET_DIR"
  fi
}

pg_running() {  # our postmaster, from its pid file (stale files after a reboot are ignored)
  local pid
  pid="$(as_root head -n1 "$PGDATA/postmaster.pid" 2>/dev/null)" || return 1
  [[ -n $pid ]] && as_root kill -0 "$pid" 2>/dev/null &&
    [[ "$(as_root cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]]
}

# Memory and WAL settings for a database that holds a brand's members, not stock ones: with
# 128 MB of shared buffers and 1 GB of WAL between checkpoints, a sweep over 1.5 million
# members evicts the pages it is about to update and writes most pages twice (a full-page
# image after every checkpoint). A quarter of the memory (at most 4 GB) for buffers; WAL
# compressed and checkpoints every 4 GB or 15 minutes. Durability settings stay stock.
pg_tuning_options() {
  local mem_mb shared_mb
  mem_mb="$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)"
  shared_mb=$(( mem_mb / 4 ))
  (( shared_mb > 4096 )) && shared_mb=4096
  (( shared_mb < 128 )) && shared_mb=128
  printf -- '-c shared_buffers=%dMB -c effective_cache_size=%dMB -c max_wal_size=4GB -c checkpoint_timeout=15min -c checkpoint_completion_target=0.9 -c wal_compression=lz4' \
    "$shared_mb" "$(( mem_mb / 2 ))"
}

pg_start() {
  as_root mkdir -p "$PG_DIR" "$PG_SOCKET_DIR"
  as_root chown postgres:postgres "$PG_DIR" "$PG_SOCKET_DIR"
  as_root chmod 700 "$PG_DIR" "$PG_SOCKET_DIR"
  if ! as_root test -f "$PGDATA/PG_VERSION"; then
    log "initialising PostgreSQL in $PGDATA"
    # Local (socket) connections are trusted: the socket folder is mode 700, so only root
    # and postgres reach it. TCP connections need a password.
    run_as postgres "$PG_BIN/initdb" -D "$PG_VDIR/data" -U postgres \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PROFILE_DIR/initdb.log" 2>&1 ||
      { cat "$PROFILE_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  if pg_running; then
    log "PostgreSQL ($PROFILE) already running on 127.0.0.1:$PG_PORT"
    return 0
  fi
  if port_open "$PG_PORT"; then die "port $PG_PORT is taken by another program; stop it first"; fi
  log "starting PostgreSQL ($PROFILE) on 127.0.0.1:$PG_PORT"
  # Settings are passed on the command line so the data folder stays a stock one.
  # pg_ctl daemonizes the server itself; it must not inherit our descriptors.
  # The test run starts about 150 tests at once, each with its services' pools and its own
  # client: 300 connections ran out (53300) and stalled fixtures. Idle slots cost little.
  local max_connections=300
  [[ $PROFILE == test ]] && max_connections=1000
  run_as_argv postgres
  without_extra_fds "${RUN_AS[@]}" "$PG_BIN/pg_ctl" start -D "$PG_VDIR/data" -l "$PG_VDIR/postgres.log" -w -t 60 \
    -o "-c port=$PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='$PG_VSOCKET_DIR' -c max_connections=$max_connections $(pg_tuning_options)" \
    </dev/null >/dev/null || { as_root tail -n 30 "$PG_LOG" >&2; die "PostgreSQL did not start (log: $PG_LOG)"; }
}

pg_stop() {
  if pg_running; then
    log "stopping PostgreSQL ($PROFILE)"
    run_as postgres "$PG_BIN/pg_ctl" stop -D "$PG_VDIR/data" -m fast -w -t 60 >/dev/null
  else
    log "PostgreSQL ($PROFILE) is not running"
  fi
}

pg_status() {
  if pg_running; then echo "PostgreSQL  running   127.0.0.1:$PG_PORT   data $PGDATA"
  else echo "PostgreSQL  stopped   (data $PGDATA)"; fi
}

# psql as the superuser over the private socket; extra args go to psql.
pg_superuser_psql() {
  as_root "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres "$@"
}

# Idempotent: roles are created when missing and their passwords (re)set from the
# credentials file every run; databases are created when missing.
pg_provision() {
  log "provisioning PostgreSQL roles and databases"
  local sql s role
  sql="$(
    echo "SET client_min_messages = warning;"
    pg_role_sql aftercare_admin "$PG_ADMIN_PASSWORD" "CREATEDB CREATEROLE"
    # Tests drop their databases WITH (FORCE), which must also end an autovacuum worker
    # that happens to be in one; only members of pg_signal_backend may.
    echo "GRANT pg_signal_backend TO aftercare_admin;"
    # The membership benchmark checkpoints after seeding, so the clearing it times does not
    # also write out the seeding (the role exists from PostgreSQL 15 on).
    echo "SELECT 'GRANT pg_checkpoint TO aftercare_admin' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_checkpoint') \\gexec"
    # Service roles connect to their own database only: not to the maintenance databases.
    echo "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;"
    echo "REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;"
    echo "GRANT CONNECT ON DATABASE postgres TO aftercare_admin;"
    for s in "${SERVICES[@]}"; do
      role="aftercare_$s"
      pg_role_sql "$role" "$(pg_password_of "$s")" "NOCREATEDB NOCREATEROLE"
      echo "SELECT 'CREATE DATABASE $role OWNER $role' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$role') \\gexec"
      echo "ALTER DATABASE $role OWNER TO $role;"
      # Only the owner may connect: a service cannot open another service's database.
      echo "REVOKE ALL ON DATABASE $role FROM PUBLIC;"
    done
  )"
  pg_superuser_psql <<<"$sql"
}

# Test profile only: the five services' own databases start empty on every run, as on a
# fresh machine. Outbox rows and timers that an earlier run left in them (the last orders of
# a fault campaign) would otherwise be published into queues this run has not declared yet,
# and the broker drops what no queue is bound for.
pg_reset_service_databases() {
  local sql s role
  sql="$(
    echo "SET client_min_messages = warning;"
    for s in "${SERVICES[@]}"; do
      role="aftercare_$s"
      echo "DROP DATABASE IF EXISTS $role WITH (FORCE);"
      echo "CREATE DATABASE $role OWNER $role;"
      echo "REVOKE ALL ON DATABASE $role FROM PUBLIC;"
    done
  )"
  pg_superuser_psql <<<"$sql" >/dev/null
  log "the services' databases start empty (${SERVICES[*]})"
}

# Drops databases whose names start with $1 (a test or benchmark run's throw-away
# databases) that an interrupted run left behind. Never forced: one still in use by a run
# going on at the same time keeps its connections and is skipped.
pg_drop_leftover_databases() {
  local prefix="$1" names name dropped=0
  names="$(pg_superuser_psql -At -c "SELECT datname FROM pg_database WHERE starts_with(datname, '${prefix}')")"
  for name in $names; do
    if pg_superuser_psql -c "DROP DATABASE \"$name\"" >/dev/null 2>&1; then dropped=$((dropped + 1)); fi
  done
  (( dropped == 0 )) || log "removed $dropped databases left by earlier runs (${prefix}*)"
}

pg_role_sql() {  # name password attributes
  echo "SELECT 'CREATE ROLE $1' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') \\gexec"
  echo "ALTER ROLE $1 WITH LOGIN NOSUPERUSER $3 PASSWORD '$2';"
}
