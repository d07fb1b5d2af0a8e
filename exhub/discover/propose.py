"""``exhub sources discover``: introspect a legacy system and propose its source file."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exhub.contracts import Contract
from exhub.discover.introspect import (
    SAMPLE_ROWS,
    SourceSample,
    introspect_files,
    introspect_sql,
    is_database_url,
)
from exhub.discover.matcher import StreamProposal, propose_stream
from exhub.discover.render import Header, render_source, summary_rows
from exhub.errors import ConfigError, ExhubError, TerminalError
from exhub.sources import load_source
from exhub.sources.models import SOURCE_ID

MIN_STREAM_SCORE = 2.0
"""A table whose best contract scores less (and whose key is unmapped) is not proposed."""
DEFAULT_DEPARTMENT = "unassigned"


@dataclass
class Discovery:
    """The outcome: what was found, what is proposed, and the YAML text."""

    sample: SourceSample
    proposals: list[StreamProposal]
    header: Header
    text: str

    @property
    def rows(self) -> list[dict]:
        """One summary row per proposed stream."""
        return summary_rows(self.proposals)


def _valid_id(value: str, option: str) -> str:
    if not re.fullmatch(SOURCE_ID, value):
        raise ConfigError(
            f"{option} '{value}' is not a valid id",
            fix="use lower-case letters, digits and '_', starting with a letter",
            key=option,
        )
    return value


def resolve_source_id(source_id: str | None, output: Path | None, default: str) -> str:
    """The id to write: ``--id``, else the output file's name, else one made from the source.

    Raises:
        ConfigError: the id is invalid or differs from the output file name (load_source
            insists they agree).
    """
    if source_id is not None:
        _valid_id(source_id, "--id")
        if output is not None and output.stem != source_id:
            raise ConfigError(
                f"--id '{source_id}' differs from the output file name '{output.name}'",
                fix=f"write to {source_id}.yaml, or drop --id",
                key="--id",
            )
        return source_id
    if output is not None:
        return _valid_id(output.stem, "--output file name")
    return default


def _select(proposals: list[StreamProposal], sample: SourceSample) -> list[StreamProposal]:
    kept = [p for p in proposals if p.key_filled or p.score >= MIN_STREAM_SCORE]
    for proposal in proposals:
        if proposal in kept:
            continue
        reason = "no column matches any shared schema"
        if proposal.score > 0:
            reason = (
                f"no shared schema fits (best {proposal.contract.ref} scored "
                f"{proposal.score:.2f} without its primary key)"
            )
        sample.left_out.append(f"{proposal.table.name}: {reason}")
    return kept or proposals


def _validate(text: str, source_id: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{source_id}.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_source(path)
        except ExhubError as exc:
            raise TerminalError(
                f"the proposed source file does not load: {exc.message}",
                fix="this is a bug in exhub sources discover; please report it",
            ) from None


def discover(
    target: str,
    contracts: Sequence[Contract],
    *,
    source_id: str | None = None,
    output: Path | None = None,
    department: str | None = None,
    sample_rows: int = SAMPLE_ROWS,
) -> Discovery:
    """Introspect ``target`` and propose a source file mapped to ``contracts``.

    Args:
        target: a SQLAlchemy URL, or a folder or file of delimited text exports.
        contracts: the shared schemas to map to.
        source_id: id of the proposed source (default: from ``output`` or the source).
        output: where the caller will write the file (its name must be ``<id>.yaml``).
        department: id of the owning department (default ``unassigned``, a TODO).
        sample_rows: rows sampled per table.

    Returns:
        The discovery; ``text`` is YAML that ``load_source`` accepts.

    Raises:
        ConfigError: bad arguments, an invalid URL or a path holding no file.
        SourceUnreachableError: the database cannot be reached.
    """
    if department is not None:
        _valid_id(department, "--department")
    if is_database_url(target):
        sample = introspect_sql(target, sample_rows=sample_rows)
    elif Path(target).expanduser().exists():
        sample = introspect_files(Path(target), sample_rows=sample_rows)
    else:
        # Never echo the argument: a URL typed without its scheme may hold a password.
        raise ConfigError(
            "the argument is neither a database URL nor an existing file or folder",
            fix="give a SQLAlchemy URL (postgresql+psycopg2://user:pw@host/db, sqlite:///x.db) "
            "or the path of a folder of CSV exports",
            key="target",
        )
    if not sample.tables:
        raise ConfigError(
            f"{sample.display} holds no table or readable file to propose",
            fix="check the database/schema or the folder",
            key="target",
        )
    incremental = sample.connector == "sql"
    proposals = [propose_stream(t, contracts, incremental=incremental) for t in sample.tables]
    proposals = _select(proposals, sample)
    sid = resolve_source_id(source_id, output, sample.default_id)
    header = Header(sid, department or DEFAULT_DEPARTMENT, sample.default_id)
    text = render_source(sample, proposals, header)
    _validate(text, sid)
    return Discovery(sample, proposals, header, text)
