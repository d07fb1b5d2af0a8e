"""Hub settings: ``exhub.yaml`` (or ``$EXHUB_HOME/exhub.yaml``) plus ``EXHUB_<KEY>`` overrides."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from exhub.errors import ConfigError
from exhub.yamlfile import LocatedYaml, describe_validation_error, load_located_yaml

SETTINGS_FILE = "exhub.yaml"
ENV_PREFIX = "EXHUB_"
_PACKAGE = Path(__file__).resolve().parent
# A wheel ships the schemas inside the package (pyproject: force-include); a checkout or an
# editable install has them at the repository's top level.
SHIPPED_SCHEMAS = next(
    (p for p in (_PACKAGE / "_shipped_schemas", _PACKAGE.parent / "schemas") if p.is_dir()),
    _PACKAGE.parent / "schemas",
)


class Settings(BaseModel):
    """One frozen, typed view of the hub configuration.

    Relative paths are resolved against ``home``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Field(description="Folder holding exhub.yaml, sources/ and .exhub/")
    catalog: str = Field(
        default="sqlite:///.exhub/catalog.db",
        description="SQLAlchemy URL of the catalog (runs, grants, Iceberg SQL catalog)",
    )
    warehouse: str = Field(default=".exhub/warehouse", description="Warehouse folder or URI")
    sources_dir: str = Field(default="sources", description="Folder of source-system YAML files")
    schemas_dir: str = Field(default=str(SHIPPED_SCHEMAS), description="Shared schemas folder")
    batch_size: int = Field(default=50_000, gt=0, le=10_000_000, description="Rows per batch")
    timezone: str = Field(default="Asia/Shanghai", description="Default zone of naive timestamps")
    gx_max_rows: int = Field(
        default=50_000, ge=0, description="Rows per run handed to Great Expectations"
    )
    log_level: str = Field(default="WARNING", description="Python log level")
    snapshot_retention_days: int = Field(
        default=30, ge=1, description="Snapshots older than this are expired (tags are kept)"
    )
    orphan_guard_hours: int = Field(
        default=24, ge=1, description="Unreferenced files younger than this are never deleted"
    )
    landing_retention_days: int = Field(
        default=30, ge=1, description="Landing (raw extracts, for replay) is kept this long"
    )
    compact_min_files: int = Field(
        default=8, ge=2, description="A source partition with more data files is compacted"
    )
    query_memory_limit: str = Field(
        default="2GB",
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="Most memory one query may take in DuckDB (beyond it, the query fails)",
    )
    departments: dict[str, str] = Field(
        default_factory=dict,
        description="Departments that read data without a source system of their own (id: name)",
    )
    serve_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="Who may use `exhub serve` (operator, auditor or a department id), each "
        "with a reference ${ENV_VAR} to its access token",
    )

    serve_https: bool = Field(
        default=False,
        description="`exhub serve` is reached over HTTPS (directly or through a TLS proxy): "
        "its sign-in cookie is then never sent over plain HTTP",
    )

    @field_validator("departments", "serve_tokens", mode="before")
    @classmethod
    def _mapping_from_text(cls, value: Any) -> Any:
        # EXHUB_DEPARTMENTS="civil_affairs=民政局,health=卫健委"
        if isinstance(value, str):
            pairs = [item.partition("=") for item in value.split(",") if item.strip()]
            return {key.strip(): (name.strip() or key.strip()) for key, _, name in pairs}
        return value

    @field_validator("departments", "serve_tokens")
    @classmethod
    def _department_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ValueError(f"'{key}' must be lower_snake_case (a department id)")
        return value

    @field_validator("serve_tokens")
    @classmethod
    def _token_references(cls, value: dict[str, str]) -> dict[str, str]:
        for key, reference in value.items():
            if not re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*\}", reference):
                raise ValueError(
                    f"the token of '{key}' must be a reference like ${{EXHUB_TOKEN_"
                    f"{key.upper()}}}, never the token itself"
                )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.home / path

    @property
    def catalog_url(self) -> str:
        """Catalog URL with a relative SQLite path anchored at ``home``."""
        prefix = "sqlite:///"
        if self.catalog.startswith(prefix) and not self.catalog.startswith(prefix + "/"):
            return prefix + str(self._resolve(self.catalog[len(prefix) :]))
        return self.catalog

    @property
    def warehouse_path(self) -> Path:
        """Local warehouse folder."""
        return self._resolve(self.warehouse)

    @property
    def sources_path(self) -> Path:
        """Folder of ``sources/*.yaml``."""
        return self._resolve(self.sources_dir)

    @property
    def schemas_path(self) -> Path:
        """Folder of shared schema contracts."""
        return self._resolve(self.schemas_dir)

    @property
    def state_path(self) -> Path:
        """The hub's working folder (``.exhub``)."""
        return self.home / ".exhub"


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    overrides = {}
    for name in Settings.model_fields:
        if name == "home":
            continue
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            overrides[name] = environ[env_name]
    return overrides


def load_settings(home: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read ``exhub.yaml`` from ``home`` (default ``$EXHUB_HOME`` or the cwd) and env overrides.

    Raises:
        ConfigError: the file is not valid YAML, has an unknown key or a bad value;
            the message names the file, line and key.
    """
    environ = dict(os.environ) if environ is None else environ
    home = (home or Path(environ.get("EXHUB_HOME") or Path.cwd())).resolve()
    file = home / SETTINGS_FILE
    doc = load_located_yaml(file) if file.exists() else LocatedYaml(file, {}, {})
    if not isinstance(doc.data, dict):
        raise ConfigError(
            f"{file}: expected a mapping of keys, found {type(doc.data).__name__}",
            fix="write one 'key: value' per line, e.g. 'catalog: sqlite:///.exhub/catalog.db'",
            file=str(file),
        )
    if "home" in doc.data:
        raise ConfigError(
            f"{doc.where(('home',))}: 'home' cannot be set in the file",
            fix="remove it; use the EXHUB_HOME environment variable to choose the folder",
            file=str(file),
            key="home",
        )
    values = {**doc.data, **_env_overrides(environ), "home": home}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        env_keys = {e["loc"][0] for e in exc.errors() if e["loc"]} & set(_env_overrides(environ))
        if env_keys:
            key = sorted(env_keys)[0]
            raise ConfigError(
                f"environment variable {ENV_PREFIX}{str(key).upper()}: {exc.errors()[0]['msg']}",
                fix=f"correct or unset {ENV_PREFIX}{str(key).upper()}",
                key=key,
            ) from exc
        raise describe_validation_error(exc, doc, model=Settings) from exc
