# shellcheck shell=bash
# The API check of the test run: each service's OpenAPI document is validated, then
# schemathesis sends it generated requests (NUL characters, huge numbers, missing fields,
# wrong types) with tokens for the roles that use it, and fails on any 5xx and on any answer
# the document does not describe. The five services run for it on throw-away databases of
# their own (fuzz_<service>), so nothing it creates reaches the databases other tests or a
# running suite use; they are dropped afterwards.

APICHECK_TOOLS="schemathesis==4.32.5 openapi-spec-validator==0.9.0"
APICHECK_EXAMPLES="${AFTERCARE_APICHECK_EXAMPLES:-12}"

# The roles whose tokens each service's document is exercised with.
apicheck_roles() {
  case "$1" in
    membership) echo "hq_admin guide member service" ;;
    feedback) echo "hq_admin guide member" ;;
    notification) echo "hq_admin member service" ;;
    dispatch) echo "hq_admin member technician" ;;
    coupon) echo "hq_admin guide member" ;;
    *) echo "hq_admin" ;;
  esac
}

# A virtual environment under .local/tools with the two tools, from PyPI.
apicheck_install() {
  APICHECK_VENV="$AFTERCARE_ROOT/.local/tools/venv"
  # grep reads the whole list (no -q): under pipefail, pip cut off by an early exit would fail it.
  if [[ -x $APICHECK_VENV/bin/st ]] && "$APICHECK_VENV/bin/pip" freeze 2>/dev/null | grep -x 'schemathesis==4.32.5' >/dev/null; then return 0; fi
  log "installing schemathesis and openapi-spec-validator into $APICHECK_VENV (from PyPI)"
  python3 -m venv "$APICHECK_VENV"
  # shellcheck disable=SC2086 # the list is word-split on purpose
  "$APICHECK_VENV/bin/pip" install -q --disable-pip-version-check $APICHECK_TOOLS >&2
}

apicheck_database_url() {  # the service's own role on its throw-away database
  printf 'postgres://aftercare_%s:%s@127.0.0.1:%s/fuzz_%s?sslmode=disable' "$1" "$(pg_password_of "$1")" "$PG_PORT" "$1"
}

apicheck_databases() {  # create | drop
  local s sql="SET client_min_messages = warning;"$'\n'
  for s in "${SERVICES[@]}"; do
    sql+="DROP DATABASE IF EXISTS fuzz_$s WITH (FORCE);"$'\n'
    [[ $1 == create ]] && sql+="CREATE DATABASE fuzz_$s OWNER aftercare_$s;"$'\n'"REVOKE ALL ON DATABASE fuzz_$s FROM PUBLIC;"$'\n'
  done
  pg_superuser_psql <<<"$sql"
}

# Runs the check against the binaries in $1 (the test build). Returns non-zero when any
# document is invalid or any operation failed a check; the reports are in .local/test/apicheck.
api_check() {
  local bin=$1 dir="$AFTERCARE_ROOT/.local/test/apicheck" s port pids=() failed=0
  apicheck_install
  rm -rf "$dir" && mkdir -p "$dir"
  apicheck_databases create
  declare -A ports
  for s in "${SERVICES[@]}"; do
    port="$(free_port)"
    ports[$s]=$port
    detach "$dir/$s.log" env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" DATABASE_URL="$(apicheck_database_url "$s")" \
      AMQP_URL="$(amqp_url_of "$s")" JWT_SECRET="$JWT_SECRET" LOG_LEVEL=warning LOG_FORMAT=json "$bin/$(product_of "$s")"
    pids+=("$DETACHED_PID")
  done
  for s in "${SERVICES[@]}"; do
    wait_http_ok "http://127.0.0.1:${ports[$s]}/health/ready" 60 || { tail -n 20 "$dir/$s.log" >&2; failed=1; }
  done
  if [[ $failed -eq 0 ]]; then
    local checks=() check
    for s in "${SERVICES[@]}"; do
      apicheck_service "$s" "${ports[$s]}" "$bin" "$dir" &
      checks+=($!)
    done
    for check in "${checks[@]}"; do wait "$check" || failed=1; done
  fi
  kill -TERM "${pids[@]}" 2>/dev/null || true
  sleep 1
  apicheck_databases drop
  if [[ $failed -ne 0 ]]; then
    log "the API check failed; what schemathesis found:"
    grep -h -A12 -E '^_+ |FAILURES|Failed checks|ERROR' "$dir"/*.out 2>/dev/null | head -200 >&2 || true
  else
    log "API check passed: every document is valid and no generated request got a server error or an undocumented answer"
  fi
  return "$failed"
}

apicheck_service() {
  local s=$1 port=$2 bin=$3 dir=$4 role token rc=0 url="http://127.0.0.1:$2/openapi.json"
  curl -fsS -m 10 -o "$dir/$s.json" "$url" || { echo "$s: no document at $url" >"$dir/$s.out"; return 1; }
  "$APICHECK_VENV/bin/openapi-spec-validator" --schema 3.1 "$dir/$s.json" >"$dir/$s-document.out" 2>&1 ||
    { cat "$dir/$s-document.out" >"$dir/$s.out"; return 1; }
  for role in $(apicheck_roles "$s"); do
    token="$(JWT_SECRET="$JWT_SECRET" "$bin/aftercare-token" --role "$role" --subject "$(apicheck_subject "$role")" --dealer d-fuzz --store s-fuzz)"
    ( cd "$dir" && HYPOTHESIS_STORAGE_DIRECTORY="$dir/.hypothesis" timeout 300 "$APICHECK_VENV/bin/st" run "$url" \
        -H "Authorization: Bearer $token" \
        -c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        -n "$APICHECK_EXAMPLES" --request-timeout 10 --workers 1 --seed 1 --generation-deterministic \
        --exclude-path /metrics --no-color ) >"$dir/$s-$role.out" 2>&1 || rc=1
    cat "$dir/$s-$role.out" >>"$dir/$s.out"
  done
  return "$rc"
}

apicheck_subject() {  # a member token's subject is a member id; staff ids are codes
  if [[ $1 == member ]]; then echo 00000000-0000-4000-8000-00000000f022; else echo "$1-fuzz"; fi
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_http_ok() {  # url seconds
  local deadline=$((SECONDS + $2))
  until [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1")" == 200 ]]; do
    (( SECONDS < deadline )) || return 1
    sleep 0.5
  done
}
