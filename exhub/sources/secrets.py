"""Secret references in source options: ``${ENV_VAR}`` or ``conn:<airflow connection id>``.

Source files never hold literal passwords. References resolve only when a connector is
built, into ``pydantic.SecretStr`` values that print as ``**********``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from exhub.errors import ConfigError

ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
CONNECTION_PREFIX = "conn:"


def resolve_references(value: Any, *, where: str, environ: dict[str, str] | None = None) -> Any:
    """Replace ``${VAR}`` references inside strings (recursively through dicts and lists).

    Raises:
        ConfigError: a referenced variable is not set (names the variable, never its value).
    """
    environ = os.environ if environ is None else environ
    if isinstance(value, dict):
        return {
            k: resolve_references(v, where=f"{where}.{k}", environ=environ)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            resolve_references(v, where=f"{where}[{i}]", environ=environ)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(
                f"{where}: environment variable {name} is not set",
                fix=f"export {name}=... before running (the value is never logged)",
                key=where,
            )
        return environ[name]

    if value.startswith(CONNECTION_PREFIX):
        return airflow_connection_uri(value[len(CONNECTION_PREFIX) :], where=where)
    return ENV_REFERENCE.sub(substitute, value)


def airflow_connection_uri(conn_id: str, *, where: str) -> str:
    """The URI of an Airflow connection, read through Airflow's own secrets backends."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # pragma: no cover - airflow is a core dependency
        from airflow.hooks.base import BaseHook
    try:
        return BaseHook.get_connection(conn_id).get_uri()
    except Exception as exc:
        raise ConfigError(
            f"{where}: Airflow connection '{conn_id}' could not be read ({type(exc).__name__})",
            fix=f"create it: airflow connections add {conn_id} --conn-uri ...",
            key=where,
        ) from None


def literal_secret_keys(options: dict[str, Any], prefix: str = "options") -> list[str]:
    """Option keys that look like literal passwords (to refuse them at load time)."""
    found = []
    for key, value in options.items():
        path = f"{prefix}.{key}"
        if isinstance(value, dict):
            found += literal_secret_keys(value, path)
        elif isinstance(value, str) and not value.startswith(CONNECTION_PREFIX):
            lowered = key.lower()
            secretish = any(w in lowered for w in ("password", "secret", "token", "api_key"))
            if secretish and not ENV_REFERENCE.fullmatch(value):
                found.append(path)
            if "://" in value and re.search(r"://[^/@:]+:([^@]+)@", value):
                password = re.search(r"://[^/@:]+:([^@]+)@", value).group(1)
                if not ENV_REFERENCE.fullmatch(password):
                    found.append(path)
    return found
