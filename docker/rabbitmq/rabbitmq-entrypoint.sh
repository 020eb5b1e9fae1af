#!/usr/bin/env bash
# Entry point wrapper for the rabbitmq image (see docker/compose.yaml): writes the vhost
# `aftercare`, the shared exchange, one user per service (with only its own permissions,
# see definitions.sh) and the admin user, with their passwords taken from the environment,
# into a definitions file the node imports at boot (90-aftercare.conf); then hands over to
# the image's own entrypoint. The import is an upsert, so changed passwords in docker/.env
# take effect on the next container start.
set -euo pipefail

definitions=/tmp/aftercare/definitions.json
services=(membership dispatch coupon notification feedback)

# Checked here, in the main shell: an error inside $(...) would not stop the script.
for var in RABBITMQ_DEFAULT_PASS "${services[@]/%/_AMQP_PASSWORD}"; do
  var="${var^^}"
  [[ -n ${!var:-} ]] || { echo "error: $var is not set" >&2; exit 1; }
  # URL-safe characters only: the services receive these passwords inside amqp:// URLs.
  [[ ${!var} =~ ^[A-Za-z0-9._~-]+$ ]] || { echo "error: $var may contain only letters, digits and . _ ~ -" >&2; exit 1; }
done

# shellcheck source=definitions.sh
source /aftercare/definitions.sh
password_of() { local var="${1^^}_AMQP_PASSWORD"; printf '%s' "${!var}"; }

mkdir -p "$(dirname "$definitions")"
( umask 077
  broker_definitions "$RABBITMQ_DEFAULT_PASS" /aftercare/subscriptions password_of "${services[@]}" >"$definitions" )
# The image's entrypoint drops from root to the rabbitmq user before starting the node.
if [[ $(id -u) -eq 0 ]]; then chown -R rabbitmq:rabbitmq "$(dirname "$definitions")"; fi

exec docker-entrypoint.sh "$@"
