#!/bin/sh
# airflow-init (docker-compose.yml): the one-shot every other Airflow service waits for.
set -eu

# Airflow's metadata database: create or upgrade its tables (idempotent).
airflow db migrate

# One pool per source system, sized by its max_connections (SPEC §8); resizes pools of edited
# sources. Reads sources/*.yaml from $EXHUB_HOME only.
python -m exhub.airflow.pools

# The simple auth manager's password file, written from the environment so that Airflow never
# generates a password and prints it to the logs. Readable by the exhub user only.
umask 077
python - <<'PY'
import json
import os

path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
user = os.environ["AIRFLOW_ADMIN_USERNAME"]
password = os.environ["AIRFLOW_ADMIN_PASSWORD"]
if len(password) < 16:
    raise SystemExit("AIRFLOW_ADMIN_PASSWORD is shorter than 16 characters: use a long random one")
with open(path + ".tmp", "w", encoding="utf-8") as handle:
    json.dump({user: password}, handle)
os.replace(path + ".tmp", path)
print(f"airflow-init: password of Airflow user '{user}' set from AIRFLOW_ADMIN_PASSWORD")
PY
