# shellcheck shell=bash
# The house rules the test run holds the code to: every Swift file formatted as the
# repository's .swift-format says (line length 150, the Hummingbird projects' settings), and
# every shell script clean under shellcheck.

# The Swift the formatter covers, and the shell scripts shellcheck reads.
SWIFT_SOURCES=(Package.swift Services Shared Tests Tools Benchmarks)
shell_scripts() {
  printf '%s\n' scripts/run-suite scripts/run-tests scripts/run-bench scripts/broker-ctl scripts/database-ctl \
    scripts/lib/*.sh docker/rabbitmq/*.sh docker/postgres/init/* .ci/run
}

house_check() {
  local status=0 scripts
  cd "$AFTERCARE_ROOT" || return 1
  log "checking the formatting (swift format lint --strict) and the scripts (shellcheck)"
  swift format lint --strict --parallel --recursive "${SWIFT_SOURCES[@]}" || status=1
  mapfile -t scripts < <(shell_scripts)
  shellcheck "${scripts[@]}" || status=1
  if [[ $status -ne 0 ]]; then
    log "the findings above fail the run; swift format --in-place --parallel --recursive ${SWIFT_SOURCES[*]} fixes the formatting"
  fi
  return "$status"
}
