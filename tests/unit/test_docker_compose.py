"""The production deployment (docker-compose.yml, Dockerfile, deploy/), checked statically.

No Docker engine runs where the tests do, so these read the files: the services SPEC §10
names, pinned images, secrets only from the environment, health checks, the wiring between
services (Celery on Redis, the exhub catalog on PostgreSQL, Trino on the same Iceberg
catalog) and an image built from the hash-pinned lock that does not run as root.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
EXHUB_YAML = ROOT / "deploy" / "exhub" / "exhub.yaml"
TRINO_CATALOG = ROOT / "deploy" / "trino" / "catalog" / "exhub.properties"
POSTGRES_INIT = ROOT / "deploy" / "postgres" / "init" / "10-create-databases.sh"

AIRFLOW_SERVICES = {
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
ONE_SHOTS = {"airflow-init", "minio-init"}
EXHUB_IMAGE_SERVICES = AIRFLOW_SERVICES | {"airflow-init", "exhub-portal"}
REQUIRED_SERVICES = EXHUB_IMAGE_SERVICES | {"postgres", "redis", "minio", "minio-init", "trino"}
WAREHOUSE = "/opt/exhub/warehouse"

SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN", "FERNET", "CREDENTIAL")
# ${NAME}, ${NAME:-default}, ${NAME:?message}; "$${NAME}" is an escaped, literal "${NAME}".
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?])[^}]*)?\}")
REQUIRED_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*):\?[^}]+\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    assert isinstance(environment, dict), "write environment as a mapping (KEY: value)"
    return {key: str(value) for key, value in environment.items()}


def _interpolate(text: str) -> str:
    """Compose's interpolation, with required variables set to a stand-in value."""

    def value(match: re.Match[str]) -> str:
        name, modifier = match.group(1), match.group(2) or ""
        if modifier.startswith((":-", "-")):
            return modifier.split("-", 1)[1]
        return f"<{name}>"

    return VARIABLE.sub(value, text).replace("$$", "$")


def _env_example() -> dict[str, str]:
    entries = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"deploy/.env.example: not NAME=value: {line!r}"
            entries[name.strip()] = value.strip()
    return entries


def _is_secret_name(name: str) -> bool:
    # *_FILE and *_PATH name where a secret is kept, not the secret.
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS) and not upper.endswith(("_FILE", "_PATH"))


def _properties(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            entries[key.strip()] = value.strip()
    return entries


def _dockerfile_instructions() -> list[tuple[str, str]]:
    joined, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            joined.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def _project_version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match
    return match.group(1)


def test_every_service_spec_10_names_exists(services):
    missing = REQUIRED_SERVICES - set(services)
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"
    assert services["airflow-api-server"]["command"] == ["airflow", "api-server"]
    assert services["airflow-scheduler"]["command"] == ["airflow", "scheduler"]
    assert services["airflow-dag-processor"]["command"] == ["airflow", "dag-processor"]
    assert services["airflow-triggerer"]["command"] == ["airflow", "triggerer"]
    assert services["airflow-worker"]["command"] == ["airflow", "celery", "worker"]
    assert services["exhub-portal"]["command"] == [
        "exhub", "serve", "--host", "0.0.0.0", "--port", "8080"
    ]  # fmt: skip
    init_script = ROOT / "deploy" / "airflow" / "init.sh"
    script = init_script.read_text(encoding="utf-8")
    assert "airflow db migrate" in script
    assert "python -m exhub.airflow.pools" in script
    assert any(init_script.name in volume for volume in services["airflow-init"]["volumes"])


def test_every_image_is_pinned_to_an_explicit_version(services):
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} names no image"
        assert "${" not in image, f"{name}: the image must not vary with the environment"
        repository, sep, tag = image.rpartition(":")
        assert sep and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not a version"
        assert repository


def test_exhub_services_run_the_image_built_from_the_dockerfile(services):
    expected = f"exhub:{_project_version()}"
    for name in EXHUB_IMAGE_SERVICES:
        service = services[name]
        assert service["image"] == expected, f"{name} runs {service['image']}, not {expected}"
        build = service.get("build")
        assert build == {"context": ".", "dockerfile": "Dockerfile"}, f"{name}: {build}"
    assert DOCKERFILE.is_file()
    others = {name for name, s in services.items() if s["image"] == expected}
    assert others == EXHUB_IMAGE_SERVICES


def test_no_literal_secret_in_any_environment(services):
    checked = 0
    for name, service in services.items():
        for key, value in _env(service).items():
            if _is_secret_name(key):
                checked += 1
                assert REQUIRED_REFERENCE.fullmatch(value), (
                    f"{name}: {key} must be exactly ${{VAR:?message}} (from deploy/.env), "
                    f"not {value!r}"
                )
            credentials = re.search(r"://([^:/@]*):([^@]*)@", value)
            if credentials:
                assert REQUIRED_REFERENCE.fullmatch(credentials.group(2)), (
                    f"{name}: the password in {key} must be a ${{VAR:?message}} reference"
                )
    assert checked >= 10  # the passwords, Fernet key, JWT secret, MinIO and portal tokens


def _strings(node: Any) -> list[str]:
    """Every key and value of a parsed YAML document (comments are not interpolated)."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(k) + _strings(v)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def test_every_variable_used_is_listed_in_the_env_example_with_secrets_left_empty(compose):
    used = {m.group(1) for text in _strings(compose) for m in VARIABLE.finditer(text)}
    listed = _env_example()
    assert not used - set(listed), f"add to deploy/.env.example: {sorted(used - set(listed))}"
    assert not set(listed) - used, f"unused in docker-compose.yml: {sorted(set(listed) - used)}"
    secrets = {name for name in listed if _is_secret_name(name)}
    assert {"POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET"} <= secrets
    assert {"MINIO_ROOT_PASSWORD", "EXHUB_TOKEN_OPERATOR", "EXHUB_TOKEN_AUDITOR"} <= secrets
    # Left empty, a forgotten secret stops `docker compose up` instead of running with a
    # well-known value; the comment above each says how to generate it.
    filled = {name: listed[name] for name in secrets if listed[name]}
    assert not filled, f"deploy/.env.example must not carry secret values: {sorted(filled)}"
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for name in secrets:
        comment = text.split(f"\n{name}=", 1)[0].rsplit("\n# ---", 1)[-1]
        assert re.search(r"openssl rand|secrets\.token|Fernet", comment), f"how to make {name}?"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        one_shot = service.get("restart") == "no"
        assert one_shot == (name in ONE_SHOTS), f"{name}: restart {service.get('restart')!r}"
        if one_shot:
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no healthcheck"
        test = check["test"]
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1
        assert service.get("restart") == "unless-stopped", f"{name} is not restarted"


def test_depends_on_names_existing_services_with_conditions_they_can_meet(services):
    graph = {}
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        graph[name] = set(depends_on)
        for target, spec in depends_on.items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            else:
                assert condition == "service_completed_successfully", f"{name}: {condition}"
                assert target in ONE_SHOTS, f"{target} never completes"
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["airflow-worker"]["depends_on"]["airflow-api-server"] == {
        "condition": "service_healthy"
    }

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    cycles = [name for name in graph if reaches(name, name)]
    assert not cycles, f"depends_on cycles through {cycles}"


def test_airflow_runs_the_celery_executor_on_the_redis_service(services):
    for name in AIRFLOW_SERVICES | {"airflow-init"}:
        env = _env(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/exhub/dags", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name
        broker = sa.engine.make_url(_interpolate(env["AIRFLOW__CELERY__BROKER_URL"]))
        assert (broker.drivername, broker.host, broker.port) == ("redis", "redis", 6379)
        assert broker.password == "<REDIS_PASSWORD>"
        backend = sa.engine.make_url(
            _interpolate(env["AIRFLOW__CELERY__RESULT_BACKEND"]).removeprefix("db+")
        )
        metadata = sa.engine.make_url(_interpolate(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
        for url in (backend, metadata):
            assert (url.host, url.database, url.username) == ("postgres", "airflow", "airflow")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-api-server:8080/execution/"
        )
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
        assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")
    assert "redis-server" in str(services["redis"]["command"])
    assert "requirepass" in str(services["redis"]["command"])


def test_the_exhub_catalog_is_the_exhub_database_on_the_postgres_service(services):
    urls = set()
    for name in EXHUB_IMAGE_SERVICES:
        env = _env(services[name])
        url = sa.engine.make_url(_interpolate(env["EXHUB_CATALOG"]))
        assert url.drivername == "postgresql+psycopg2", name
        assert (url.host, url.port, url.database, url.username) == (
            "postgres", 5432, "exhub", "exhub"
        ), name  # fmt: skip
        assert url.password == "<EXHUB_DB_PASSWORD>"
        assert env["EXHUB_WAREHOUSE"] == WAREHOUSE
        assert env["EXHUB_HOME"] == "/opt/exhub/home"
        urls.add(str(url))
    assert len(urls) == 1
    script = POSTGRES_INIT.read_text(encoding="utf-8")
    assert "CREATE DATABASE exhub OWNER exhub" in script
    assert "CREATE DATABASE airflow OWNER airflow" in script
    postgres_env = _env(services["postgres"])
    for variable in re.findall(r'"\$([A-Z_]+_PASSWORD)"', script):
        assert variable in postgres_env, f"the init script reads {variable}"


def test_the_warehouse_is_one_volume_at_one_path_for_workers_portal_and_trino(compose, services):
    def warehouse_mount(name: str) -> str | None:
        found = [v for v in services[name].get("volumes", []) if v.split(":")[1] == WAREHOUSE]
        return found[0] if found else None

    assert warehouse_mount("airflow-worker") == f"warehouse:{WAREHOUSE}"
    assert warehouse_mount("exhub-portal") == f"warehouse:{WAREHOUSE}"
    assert warehouse_mount("trino") == f"warehouse:{WAREHOUSE}:ro"
    assert "warehouse" in compose["volumes"]
    text = COMPOSE.read_text(encoding="utf-8")
    assert "exhub does not write to S3 yet" in text


def test_volume_mounts_name_files_that_exist_and_declared_volumes(compose, services):
    declared = set(compose.get("volumes") or {})
    bind_sources = set()
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                bind_sources.add(source)
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"
    # sources/ is the deployment's own folder (SPEC §3), created by whoever deploys.
    repo_files = bind_sources - {"./sources"}
    assert {"./deploy/postgres/init", "./deploy/trino/catalog/exhub.properties"} <= repo_files
    for source in repo_files:
        assert (ROOT / source).exists(), f"{source} is mounted but missing"


def test_only_the_ui_and_the_portal_may_be_published_beyond_this_host(services):
    for name in ("postgres", "redis", "airflow-worker", "airflow-scheduler"):
        assert "ports" not in services[name], f"{name} must not be published"
    for name in ("trino", "minio"):
        for port in services[name]["ports"]:
            assert port.startswith("127.0.0.1:"), f"{name} is published beyond localhost"
    for name in ("airflow-api-server", "exhub-portal"):
        for port in services[name]["ports"]:
            assert port.startswith("${EXHUB_BIND_ADDRESS:-127.0.0.1}:"), name


def test_the_portal_gets_the_tokens_exhub_yaml_references_and_no_one_else_does(services, tmp_path):
    from exhub.settings import load_settings

    (tmp_path / "exhub.yaml").write_text(EXHUB_YAML.read_text(encoding="utf-8"))
    settings = load_settings(tmp_path, environ={})
    references = settings.serve_tokens
    assert {"operator", "auditor"} <= set(references)
    portal = _env(services["exhub-portal"])
    for reference in references.values():
        variable = reference.removeprefix("${").removesuffix("}")
        assert portal[variable] == f"${{{variable}:?set {variable} in deploy/.env}}"
        for name in set(services) - {"exhub-portal"}:
            assert variable not in _env(services[name]), f"{name} receives {variable}"
    assert any(str(EXHUB_YAML.relative_to(ROOT)) in v for v in services["exhub-portal"]["volumes"])


def test_trino_reads_the_same_iceberg_catalog_read_only(services, tmp_path):
    from exhub.publish.tables import open_catalog

    catalog = _properties(TRINO_CATALOG)
    pyiceberg = open_catalog(f"sqlite:///{tmp_path / 'c.db'}", str(tmp_path / "warehouse"))
    assert catalog["connector.name"] == "iceberg"
    assert catalog["iceberg.catalog.type"] == "jdbc"
    assert catalog["iceberg.jdbc-catalog.catalog-name"] == pyiceberg.name
    exhub = sa.engine.make_url(_interpolate(_env(services["exhub-portal"])["EXHUB_CATALOG"]))
    assert catalog["iceberg.jdbc-catalog.connection-url"] == (
        f"jdbc:postgresql://{exhub.host}:{exhub.port}/{exhub.database}"
    )
    assert catalog["iceberg.security"] == "read_only"
    password = re.fullmatch(
        r"\$\{ENV:([A-Z_]+)\}", catalog["iceberg.jdbc-catalog.connection-password"]
    )
    assert password, "Trino's JDBC password must come from ${ENV:...}"
    assert password.group(1) in _env(services["trino"])
    assert f"ROLE {catalog['iceberg.jdbc-catalog.connection-user']} LOGIN" in (
        POSTGRES_INIT.read_text(encoding="utf-8")
    )
    assert catalog["iceberg.jdbc-catalog.default-warehouse-dir"] == f"file://{WAREHOUSE}"
    # Hadoop's local file system reads the tables' file:// locations as absolute paths.
    assert catalog["fs.hadoop.enabled"] == "true"
    assert catalog["fs.native-local.enabled"] == "false"


def test_the_dockerfile_installs_the_hash_pinned_lock_and_does_not_run_as_root():
    instructions = _dockerfile_instructions()
    froms = [args for op, args in instructions if op == "FROM"]
    assert len(froms) == 1 and re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", froms[0])
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert re.search(r"pip install --no-deps --require-hashes -r \S*requirements-image\.lock", runs)
    assert re.search(r"pip install --no-deps --no-build-isolation /tmp/src", runs)
    users = [args.split(":")[0] for op, args in instructions if op == "USER"]
    assert users and users[-1] not in {"root", "0"}, "the image must not run as root"
    assert instructions[-1][0] in {"CMD", "ENTRYPOINT", "EXPOSE", "USER"}
    envs = " ".join(args for op, args in instructions if op in {"ENV", "ARG"})
    for assignment in re.findall(r"([A-Z_][A-Z0-9_]*)=", envs):
        assert not _is_secret_name(assignment), f"the image bakes in {assignment}"
    assert "AIRFLOW_HOME=/opt/airflow" in envs
    assert "EXHUB_HOME=/opt/exhub/home" in envs
    assert f"EXHUB_WAREHOUSE={WAREHOUSE}" in envs
    for op, args in instructions:
        if op == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                if not source.startswith("--"):
                    assert (ROOT / source).exists(), f"COPY {source}: missing"


def test_the_build_context_leaves_out_environments_caches_and_secrets():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".exhub", "deploy/.env", "docs/benchmarks.*", "tests"} <= ignored
    assert {".pytest_cache", ".ruff_cache", ".hypothesis", "**/__pycache__"} <= ignored
    needed = {"requirements-image.lock", "pyproject.toml", "exhub", "dags", "schemas", "deploy"}
    assert not needed & ignored


def _pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Package → (version, hashes) of a hash-pinned lock."""
    found: dict[str, tuple[str, set[str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)", line)
        if match:
            current = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            found[current] = (match.group(3), set())
        elif current and "--hash=sha256:" in line:
            found[current][1].update(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return {name: (version, frozenset(hashes)) for name, (version, hashes) in found.items()}


def test_the_lock_holds_the_celery_executor_with_hashes():
    locked = _pins(ROOT / "requirements.lock")
    needed = {"apache-airflow-providers-celery", "celery", "kombu", "redis", "asyncpg"}
    assert needed <= set(locked), f"missing from requirements.lock: {needed - set(locked)}"
    assert all(locked[name][1] for name in needed), "every package needs its hashes"


def test_the_image_lock_is_the_runtime_part_of_the_lock_pin_for_pin():
    full, image = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-image.lock")
    differing = {name for name in image if image[name] != full.get(name)}
    assert not differing, f"requirements-image.lock differs from requirements.lock: {differing}"
    runtime = {"apache-airflow", "pyiceberg", "great-expectations", "duckdb", "celery", "asyncpg"}
    assert runtime | {"hatchling"} <= set(image)
    assert all(hashes for _, hashes in image.values()), "every package needs its hashes"
    development = {
        "pytest",
        "pytest-xdist",
        "hypothesis",
        "ruff",
        "playwright",
        "dlt",
        "matplotlib",
    }
    assert not development & set(image), "the image must not carry the dev and bench extras"


def test_airflow_workers_load_celery_settings_that_preload_the_exhub_stack(services):
    env = _env(services["airflow-worker"])
    module, _, attribute = env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"].rpartition(".")
    # A module the image carries, whose attribute Airflow reads as its Celery settings.
    assert (ROOT / (module.replace(".", "/") + ".py")).is_file()
    assert attribute == "CELERY_CONFIG"
