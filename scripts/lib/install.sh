# shellcheck shell=bash
# Installs what the scripts need from the distribution's packages, and finds Swift.

# Commands the scripts call, and the package that brings each one.
AFTERCARE_PACKAGES=(
  postgresql rabbitmq-server librabbitmq-dev pkg-config libssl-dev
  curl ca-certificates procps util-linux mount coreutils python3 python3-venv shellcheck
)

package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_packages() {
  local missing=() p
  for p in "${AFTERCARE_PACKAGES[@]}"; do package_installed "$p" || missing+=("$p"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    log "installing: ${missing[*]}"
    # Keep the packages' own system services (postgresql@15-main, rabbitmq-server) from
    # starting during the install: we never use them, and they would take ports 5432/5672.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
      as_root chmod 755 "$policy"
      added_policy=1
    fi
    local rc=0
    {
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    } </dev/null >&2 || rc=$?
    [[ $added_policy -eq 0 ]] || as_root rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get failed (exit $rc) installing: ${missing[*]}"
  fi
  locate_servers
  [[ -x $PG_BIN/pg_ctl ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
  [[ -x $RMQ_BIN/rabbitmq-server ]] || die "RabbitMQ not found under $RMQ_BIN"
}

# Where the distribution put the server programs (newest PostgreSQL if several).
locate_servers() {
  # shellcheck disable=SC2012 # the paths are the distribution's, version numbers only
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  RMQ_BIN=/usr/lib/rabbitmq/bin
}

# Swift does not come from apt: it must be installed already (PATH or /opt/swift).
locate_swift() {
  if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  fi
  command -v swift >/dev/null || die "Swift 6.x is required but was not found on PATH or in /opt/swift/usr/bin.
Install a Swift 6 toolchain from swift.org (it is not available from apt) and run this again."
  local version
  version="$(swift --version 2>&1 | grep -o -m1 'Swift version [0-9.]*' || true)"
  [[ $version == "Swift version 6."* ]] || die "Swift 6.x is required, found: ${version:-unknown} ($(command -v swift))"
  log "using $version ($(command -v swift))"
}
