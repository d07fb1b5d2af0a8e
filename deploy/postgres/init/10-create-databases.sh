#!/bin/sh
# Run once by the postgres image (docker-entrypoint-initdb.d), when the postgres service starts
# on an empty data volume:
#  - `airflow`: Airflow's metadata database, owned by the role airflow;
#  - `exhub`: the exhub catalog (runs, grants, audit log) and, in the same database, the
#    Iceberg JDBC catalog that exhub's pyiceberg SqlCatalog writes and Trino reads; owned by
#    the role exhub, which creates all its tables;
#  - `trino_reader`: may read the exhub database's tables, nothing else (Trino's catalog is
#    read-only too).
# The passwords come from the service's environment (deploy/.env); psql quotes them itself
# (:'name'), so any character is safe. This script does not run again: to change a password
# later, `docker compose exec postgres psql -U postgres -c "ALTER ROLE exhub PASSWORD '...'"`.
#
# The postgres entrypoint sources a script that is not executable; the subshell keeps `set`
# from leaking into it either way.
(
  set -eu
  psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set airflow_password="$AIRFLOW_DB_PASSWORD" \
    --set exhub_password="$EXHUB_DB_PASSWORD" \
    --set trino_password="$TRINO_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
REVOKE ALL ON DATABASE airflow FROM PUBLIC;

CREATE ROLE exhub LOGIN PASSWORD :'exhub_password';
CREATE DATABASE exhub OWNER exhub;
REVOKE ALL ON DATABASE exhub FROM PUBLIC;

CREATE ROLE trino_reader LOGIN PASSWORD :'trino_password';
GRANT CONNECT ON DATABASE exhub TO trino_reader;

\connect exhub
GRANT USAGE ON SCHEMA public TO trino_reader;
-- exhub (pyiceberg) creates iceberg_tables and iceberg_namespace_properties on first use:
-- whatever the role exhub creates here, trino_reader may SELECT.
ALTER DEFAULT PRIVILEGES FOR ROLE exhub IN SCHEMA public GRANT SELECT ON TABLES TO trino_reader;
SQL
)
