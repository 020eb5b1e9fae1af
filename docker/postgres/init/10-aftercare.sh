#!/usr/bin/env bash
# Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d):
# one role and one database per service, named aftercare_<service>, the role owning its
# database and only it allowed to connect (to no other database, the maintenance ones
# included). Passwords come from <SERVICE>_DB_PASSWORD.
# Safe to run again by hand: roles/databases are created only when missing.
set -euo pipefail

psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SQL

for service in membership dispatch coupon notification feedback; do
  var="${service^^}_DB_PASSWORD"
  password="${!var:-}"
  [[ -n $password ]] || { echo "error: $var is not set" >&2; exit 1; }
  # psql variables (:'name') are quoted by psql itself; format() quotes identifiers and
  # literals, so no value is ever pasted into SQL unquoted.
  psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --dbname postgres \
       --set=role="aftercare_$service" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'role', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'role') \gexec
SQL
  echo "aftercare: role and database aftercare_$service ready"
done
