#!/bin/sh
# One database and one role per service; each role owns only its database.
set -e
for svc in passport eligibility enrolment payment; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE $svc LOGIN PASSWORD '$(cat /run/secrets/db_password)';
CREATE DATABASE $svc OWNER $svc;
REVOKE CONNECT ON DATABASE $svc FROM PUBLIC;
SQL
done
