"""Load ``sources/*.yaml`` files with errors that name the file, line and key."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from exhub.errors import ConfigError
from exhub.sources.models import SourceConfig
from exhub.sources.secrets import literal_secret_keys
from exhub.yamlfile import describe_validation_error, load_located_yaml


def load_source(path: Path) -> SourceConfig:
    """Parse and validate one source-system file.

    Raises:
        ConfigError: syntax, unknown key, bad value, literal password, or an id that does
            not match the file name.
    """
    doc = load_located_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{path}: a source file is a mapping", fix="see README 'Sources'")
    try:
        source = SourceConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise describe_validation_error(exc, doc, model=SourceConfig) from exc
    if source.id != path.stem:
        raise ConfigError(
            f"{doc.where(('id',))}: id '{source.id}' differs from the file name '{path.name}'",
            fix=f"rename the file to {source.id}.yaml or set id: {path.stem}",
            file=str(path),
            key="id",
        )
    literals = literal_secret_keys(source.options)
    if literals:
        key = literals[0]
        raise ConfigError(
            f"{doc.where(tuple(key.split('.')))}: '{key}' holds a literal secret",
            fix="replace it with ${ENV_VAR} or conn:<airflow connection id>",
            file=str(path),
            key=key,
        )
    return source


def config_hash(path: Path) -> str:
    """Hash of a source file's bytes, recorded in the catalog to notice edits."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def discover_sources(folder: Path) -> dict[str, Path]:
    """Source id → file for every ``*.yaml`` in ``folder`` (without parsing them)."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def source_path(folder: Path, source_id: str) -> Path:
    """The file of the source called ``source_id`` in ``folder``.

    Raises:
        ConfigError: no such file (the message lists the known ids).
    """
    paths = discover_sources(folder)
    if source_id not in paths:
        known = ", ".join(paths) or "none"
        raise ConfigError(
            f"no source '{source_id}' in {folder} (known: {known})",
            fix="check the id, or set sources_dir in exhub.yaml",
            key="source",
        )
    return paths[source_id]


def find_source(folder: Path, source_id: str) -> SourceConfig:
    """Load the source called ``source_id`` from ``folder``.

    Raises:
        ConfigError: no such file, or the file is invalid.
    """
    return load_source(source_path(folder, source_id))
