# shellcheck shell=bash
# The broker's definitions for the suite, written in one place for the local scripts
# (scripts/lib/rabbitmq.sh) and the container's entrypoint: the vhost `aftercare`, the shared
# topic exchange, the admin user and one user per service. A service's user may
#   configure  only names that start with "<service>." (its queues and its direct exchange);
#   write      aftercare.events and its own names, and on aftercare.events (topic permission)
#              only routing keys that start with "<service>.": its own events;
#   read       aftercare.events (to bind) and its own names, and bind on aftercare.events only
#              the event types listed for it in the subscriptions file.
# Nothing else: not the default exchange (which reaches every queue), not another
# service's queues.

# broker_definitions ADMIN_PASSWORD SUBSCRIPTIONS_FILE PASSWORD_FUNCTION SERVICE...
# prints the definitions JSON; PASSWORD_FUNCTION SERVICE prints that service's password.
broker_definitions() {
  local admin_password=$1 subscriptions=$2 password_of=$3 s users permissions topics
  shift 3
  users="$(printf '{"name":"aftercare_admin","password":"%s","tags":["administrator"]}' "$admin_password")"
  permissions='{"user":"aftercare_admin","vhost":"aftercare","configure":".*","write":".*","read":".*"}'
  topics=""
  for s in "$@"; do
    users+=",$(printf '{"name":"%s","password":"%s","tags":[]}' "$s" "$("$password_of" "$s")")"
    permissions+=",$(printf '{"user":"%s","vhost":"aftercare","configure":"^%s\\\\.","write":"^(aftercare\\\\.events|%s\\\\..*)$","read":"^(aftercare\\\\.events|%s\\\\..*)$"}' "$s" "$s" "$s" "$s")"
    topics+="${topics:+,}$(printf '{"user":"%s","vhost":"aftercare","exchange":"aftercare.events","write":"^%s\\\\.","read":"^(%s)$"}' \
      "$s" "$s" "$(broker_binding_keys "$subscriptions" "$s")")"
  done
  printf '{"vhosts":[{"name":"aftercare"}],"users":[%s],"permissions":[%s],"topic_permissions":[%s],' "$users" "$permissions" "$topics"
  printf '"exchanges":[{"name":"aftercare.events","vhost":"aftercare","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}]}\n'
}

# The event types SERVICE consumes, as a regex alternation with escaped dots (JSON-escaped).
broker_binding_keys() {
  local file=$1 service=$2 name type keys=""
  while read -r name type; do
    [[ $name == "$service" && -n $type ]] || continue
    keys+="${keys:+|}${type//./\\\\.}"
  done < <(grep -v '^[[:space:]]*#' "$file")
  printf '%s' "$keys"
}
