# One image for every exhub process in production (docker-compose.yml): the Airflow 3.3.2
# components (api-server, scheduler, dag-processor, triggerer, Celery workers), the one-shot
# airflow-init, and the portal (`exhub serve`). One image means the engine the workers run is
# byte for byte the engine the portal queries with, and there is one thing to build and scan.
#
#   docker compose --env-file deploy/.env build
#
# Needs BuildKit (Docker's default builder since 23.0) for the RUN --mount below; no syntax
# directive, so no unpinned Dockerfile frontend image is pulled.
#
# No secret is baked in: every password, key and token arrives at run time through the
# environment (see deploy/.env.example). Source-system files are not baked in either:
# sources/ is mounted from the host, so adding a legacy system needs no rebuild.

# A full version tag, not `3.11-slim`: a rebuild next month gets the same interpreter.
# Bookworm (Debian 12) is the glibc the locked manylinux wheels are built for.
FROM python:3.11.13-slim-bookworm

# No .pyc writes at run time (pip compiles what it installs, at build time); logs unbuffered
# so `docker compose logs` shows them as they happen; pip keeps no cache in the image (and
# installs as root at build time on purpose: the packages must not be writable at run time).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The user everything runs as: not root. uid 50000 is the official Airflow image's, so
# volumes and host folders prepared for that image keep working.
ARG EXHUB_UID=50000
RUN groupadd --gid "${EXHUB_UID}" exhub \
 && useradd --uid "${EXHUB_UID}" --gid exhub --home-dir /opt/exhub/home --no-create-home \
        --shell /usr/sbin/nologin exhub

# Dependencies first, in their own layer: it is rebuilt only when a lock changes, not on every
# code edit. Exactly the committed hash-pinned image lock: the runtime dependencies and the
# `celery` extra (the Celery executor's provider, celery, kombu, the redis client, asyncpg)
# plus hatchling to build exhub below, at the very versions and hashes of requirements.lock
# (the one `make test` builds .venv from; `make lock` writes both), without its dev and bench
# extras (pytest, playwright, dlt, matplotlib, ...). --require-hashes: a package whose bytes
# differ from the lock fails the build. --no-deps: nothing outside the lock.
# Every locked package ships a manylinux wheel, so no compiler is installed.
COPY requirements-image.lock /tmp/locks/requirements-image.lock
RUN pip install --no-deps --require-hashes -r /tmp/locks/requirements-image.lock \
 && rm -rf /tmp/locks

# The project itself, built from a bind mount of the build context (nothing of the source
# tree stays in a layer) with the locked hatchling (--no-build-isolation: no unpinned build
# backend is fetched).
RUN --mount=type=bind,target=/tmp/src,rw \
    pip install --no-deps --no-build-isolation /tmp/src

# DAG files and the shipped shared schemas, root-owned: the processes read them, never write.
# The schemas get their own folder because an installed exhub (not an editable one) does not
# find the repository's schemas/ next to its package (EXHUB_SCHEMAS_DIR below points here).
COPY dags /opt/exhub/dags
COPY schemas /opt/exhub/schemas

# Folders the processes write, owned by the exhub user. Named volumes mounted here start with
# this ownership (Docker copies it into an empty volume), so the warehouse, Airflow's logs and
# the simple auth manager's password file are writable without running as root.
RUN mkdir -p /opt/exhub/home/sources /opt/exhub/warehouse /opt/airflow/logs /opt/airflow/auth \
 && chown -R exhub:exhub /opt/exhub/home /opt/exhub/warehouse /opt/airflow

# Where things are (the same paths docker-compose.yml mounts volumes at):
#  - AIRFLOW_HOME: Airflow's home (logs; no airflow.cfg: configuration is AIRFLOW__* env);
#  - EXHUB_HOME: exhub.yaml and sources/ (both mounted from the host);
#  - EXHUB_WAREHOUSE: the Iceberg warehouse, a local folder (a shared named volume);
#  - EXHUB_SCHEMAS_DIR: the shipped shared schemas.
ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/exhub/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    EXHUB_HOME=/opt/exhub/home \
    EXHUB_WAREHOUSE=/opt/exhub/warehouse \
    EXHUB_SCHEMAS_DIR=/opt/exhub/schemas

USER exhub
WORKDIR /opt/exhub/home
# The Airflow API server and the portal both listen on 8080 (each in its own container).
EXPOSE 8080
# docker-compose.yml gives every service its command; alone, the image explains itself.
CMD ["exhub", "--help"]
