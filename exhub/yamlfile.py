"""YAML loading that remembers where every key stands, so config errors can name the line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from exhub.errors import ConfigError

# libyaml's loader when available: DAG parsing reads every source file, and the pure-Python
# loader dominated that time.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class LocatedYaml:
    """A parsed YAML document and the line of each key path in it."""

    path: Path
    data: Any
    lines: dict[tuple[str | int, ...], int]

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Line (1-based) of the deepest known prefix of ``loc``."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return None

    def where(self, loc: Sequence[str | int]) -> str:
        """``file:line`` for a key path, for error messages."""
        line = self.line_of(loc)
        return f"{self.path}:{line}" if line else str(self.path)


def _collect_lines(
    node: yaml.Node, prefix: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            out[key] = key_node.start_mark.line + 1
            _collect_lines(value_node, key, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = (*prefix, index)
            out[key] = item.start_mark.line + 1
            _collect_lines(item, key, out)


def load_located_yaml(path: Path) -> LocatedYaml:
    """Parse a YAML file, raising ``ConfigError`` with the line of any syntax error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found", fix="check the path", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid UTF-8 (byte {exc.start})",
            fix="save the file as UTF-8",
            file=str(path),
        ) from exc
    loader = LOADER(text)
    try:
        # One parse gives both the node tree (for line numbers) and the data.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(
            f"{path}:{line}: invalid YAML: {exc.problem}",
            fix="fix the YAML syntax at that line (indentation, quotes, colons)",
            file=str(path),
            line=line,
        ) from exc
    finally:
        loader.dispose()
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return LocatedYaml(path=path, data=data if data is not None else {}, lines=lines)


def describe_validation_error(
    exc: ValidationError,
    doc: LocatedYaml,
    *,
    model: type[BaseModel] | None = None,
    guide: str = "README 'Configuration'",
) -> ConfigError:
    """Turn pydantic's error into one ConfigError naming file, line, key and a fix."""
    problems = []
    first_key = None
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ValueError) and hasattr(cause, "loc"):
            loc = loc + tuple(cause.loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        first_key = first_key or key
        if err["type"] == "extra_forbidden":
            allowed = ""
            if model is not None and len(loc) == 1:
                allowed = f"; known keys: {', '.join(sorted(model.model_fields))}"
            msg = f"unknown key '{key}'{allowed}"
        elif err["type"] == "missing":
            msg = f"missing required key '{key}'"
        else:
            msg = f"key '{key}': {err['msg']}"
        problems.append(f"{doc.where(loc)}: {msg}")
    return ConfigError(
        "\n".join(problems),
        fix=f"correct the key named above (see {guide})",
        file=str(doc.path),
        key=first_key,
    )
