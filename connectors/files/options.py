"""Options shared by the file connectors, and per-stream overrides of a connector's options.

A source file gives a connector's options once; a stream may override some of them in its
own ``options`` (a folder holding two layouts, a workbook with one sheet per stream, an
endpoint with its own ``records_path``). Secrets are never overridable per stream: only the
source's options are secret-resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exhub.errors import ConfigError

Encoding = Literal["utf-8", "utf-8-sig", "gbk", "gb18030"]

M = TypeVar("M", bound=BaseModel)


class FolderOptions(BaseModel):
    """A folder of files dropped by a legacy system.

    Attributes:
        path: folder holding the files; a stream's ``source_object`` is a glob under it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Folder holding the files")


def with_stream_options(
    options: M,
    overrides: Mapping[str, Any],
    allowed: frozenset[str],
    *,
    connector: str,
    stream: str,
) -> M:
    """``options`` with a stream's overrides applied and validated again.

    Args:
        options: the connector's validated options.
        overrides: the stream's ``options`` (not secret-resolved).
        allowed: the option names a stream may override.
        connector: the connector's name, for messages.
        stream: the stream's ``source_object``, for messages.

    Returns:
        The options to read this stream with (``options`` itself when nothing is overridden).

    Raises:
        ConfigError: an override is not allowed per stream, or is invalid (names the key;
            never echoes the value).
    """
    if not overrides:
        return options
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ConfigError(
            f"stream '{stream}': option '{unknown[0]}' cannot be set per stream "
            f"for the '{connector}' connector",
            fix=f"per-stream options are: {', '.join(sorted(allowed))}; "
            "move the others to the source's options",
            key=f"streams.options.{unknown[0]}",
        )
    merged = {**options.model_dump(by_alias=True), **overrides}
    try:
        return type(options).model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        label = f"option '{key}'" if key else "options"
        raise ConfigError(
            f"stream '{stream}': connector '{connector}' {label}: {err['msg']}",
            fix=f"see the options of the '{connector}' connector in README",
            key=f"streams.options.{key}" if key else "streams.options",
        ) from None
