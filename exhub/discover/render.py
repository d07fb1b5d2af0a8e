"""Write the proposed source file: valid YAML whose comments carry every piece of evidence.

The text is built line by line (a YAML library would drop the comments). Scalars are quoted
whenever YAML would read them as anything but the same string. The database password never
reaches the file: the URL is rewritten with ``${EXHUB_<ID>_PASSWORD}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from sqlalchemy.engine import URL

from exhub.discover.introspect import SourceSample, source_id_from
from exhub.discover.matcher import MAX_CODES, StreamProposal, Suggestion, Unmapped
from exhub.discover.vocabulary import DELETION_FLAGS

_PLAIN = re.compile(r"[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff./*-]*")
_SENSITIVE = ("password", "passwd", "pwd", "secret", "token", "key")
_SENTINEL = "EXHUBSECRETPLACEHOLDER{}"


@dataclass(frozen=True)
class Header:
    """What the file says about the system itself."""

    source_id: str
    department: str
    system: str


def scalar(value: object) -> str:
    """``value`` as a YAML scalar that reads back as the same string."""
    text = str(value)
    if _PLAIN.fullmatch(text):
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _option(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else scalar(value)


def _comment(text: str) -> str:
    return " ".join(text.split())


def env_name(source_id: str, what: str) -> str:
    """The environment variable a secret of this source is read from."""
    return f"EXHUB_{source_id.upper()}_{re.sub(r'[^A-Z0-9]+', '_', what.upper()).strip('_')}"


def url_with_references(url: URL, source_id: str) -> tuple[str, list[str]]:
    """The URL text with its password (and password-like query values) as ``${VAR}``.

    Returns:
        The text to write and the variables it references.
    """
    replacements: dict[str, str] = {}
    if url.password:
        sentinel = _SENTINEL.format(0)
        replacements[sentinel] = env_name(source_id, "password")
        url = url.set(password=sentinel)
    query = dict(url.query)
    for index, key in enumerate(sorted(query), start=1):
        if any(word in key.lower() for word in _SENSITIVE):
            sentinel = _SENTINEL.format(index)
            replacements[sentinel] = env_name(source_id, key)
            query[key] = sentinel
    text = url.set(query=query).render_as_string(hide_password=False)
    for sentinel, name in replacements.items():
        text = text.replace(sentinel, "${" + name + "}")
    return text, list(replacements.values())


def stream_names(proposals: Sequence[StreamProposal]) -> list[str]:
    """A unique, valid stream name per proposal, from its table name or file glob."""
    names: list[str] = []
    for proposal in proposals:
        base = re.split(r"[*.]", proposal.table.source_object, maxsplit=1)[0]
        name = source_id_from(base) if base.strip("_- ") else proposal.contract.name
        if name == "discovered":
            name = proposal.contract.name
        candidate, n = name, 2
        while candidate in names:
            candidate, n = f"{name}_{n}", n + 1
        names.append(candidate)
    return names


def _evidence(suggestion: Suggestion) -> str:
    return _comment(f"{suggestion.confidence:.2f}: {', '.join(suggestion.evidence)}")


def _mapping_lines(suggestion: Suggestion) -> list[str]:
    pad = " " * 6
    if not suggestion.code_map and not suggestion.unknown_codes:
        return [f"{pad}{suggestion.field}: {scalar(suggestion.column)}  # {_evidence(suggestion)}"]
    lines = [f"{pad}{suggestion.field}:  # {_evidence(suggestion)}"]
    lines.append(f"{pad}  from: {scalar(suggestion.column)}")
    if suggestion.code_map:
        pairs = ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in suggestion.code_map.items())
        lines.append(f"{pad}  map: {{{pairs}}}")
        line = f"{pad}  map_unmapped: reject"
        if suggestion.unknown_codes:
            unknown = ", ".join(f"{value} ({count}x)" for value, count in suggestion.unknown_codes)
            line += f"  # not recognised, rejected unless mapped: {_comment(unknown)}"
        lines.append(line)
    elif suggestion.unknown_codes:
        unknown = ", ".join(f"{value} ({count}x)" for value, count in suggestion.unknown_codes)
        lines.append(f"{pad}  # TODO: values not in the field's value set: {_comment(unknown)}")
    return lines


def _describe_column(item: Unmapped) -> str:
    column = item.column
    kind = column.source_type or str(column.arrow_type)
    if not column.present:
        shape = "empty in the sample"
    elif column.distinct <= MAX_CODES and column.distinct * 2 <= column.present:
        # Only repeating values (codes) are shown: a unique value may be personal data.
        shape = "values " + ", ".join(column.examples(5))
    else:
        shape = f"{column.distinct} distinct values"
    text = f"{column.name} ({kind}): {shape}"
    flag = DELETION_FLAGS.get(column.name.strip().upper())
    if flag:
        text += f"; a deletion flag ({flag})? rows it flags are deleted in the source"
    elif item.hint:
        text += f"; best guess {item.hint}"
    return _comment(text)


def _stream_lines(proposal: StreamProposal, name: str) -> list[str]:
    table, contract = proposal.table, proposal.contract
    rows = f"{table.row_count} rows" if table.row_count is not None else "rows not counted"
    why = f"{contract.ref} ({contract.title.zh}) scored {proposal.score:.2f}"
    if proposal.runner_up:
        why += f", next {proposal.runner_up[0]} {proposal.runner_up[1]:.2f}"
    lines = [f"  # {_comment(f'{table.name}: {rows}, {len(table.columns)} columns; {why}')}"]
    for note in table.notes:
        lines.append(f"  # {_comment(note)}")
    if table.rejects:
        lines.append(f"  # {table.rejects} record(s) could not be read: a sync quarantines them")
    lines += [
        f"  - name: {scalar(name)}",
        f"    source: {scalar(table.source_object)}",
        f"    target: {contract.ref}",
    ]
    if table.options:
        pairs = ", ".join(f"{k}: {_option(v)}" for k, v in table.options.items())
        lines.append(f"    options: {{{pairs}}}")
    if proposal.cursor is not None:
        lines.append(
            f"    cursor: {scalar(proposal.cursor.column)}  # {_evidence(proposal.cursor)}"
        )
    if proposal.suggestions:
        lines.append("    mapping:")
        for suggestion in proposal.suggestions:
            lines += _mapping_lines(suggestion)
    else:
        lines.append("    mapping: {}  # TODO: no column matched a field of this schema")
    if proposal.missing_required:
        missing = ", ".join(proposal.missing_required)
        lines.append(f"    # TODO: required fields no column fills: {missing}")
    if proposal.unmapped:
        lines.append("    # unmapped columns:")
        lines += [f"    #   {_describe_column(item)}" for item in proposal.unmapped]
    return lines


def render_source(sample: SourceSample, proposals: Sequence[StreamProposal], header: Header) -> str:
    """The proposed ``sources/<id>.yaml`` text.

    Args:
        sample: the introspected system (its URL may hold a password: it is replaced).
        proposals: one per proposed stream.
        header: id, department and system name.

    Returns:
        YAML text that ``exhub.sources.load_source`` accepts once saved as ``<id>.yaml``.
    """
    today = dt.date.today().isoformat()
    lines = [
        f"# Proposed by `exhub sources discover` on {today} from {_comment(sample.display)}.",
        "# Each mapping line ends with its confidence (0-1) and the evidence. Review every",
        "# line and the TODOs, then run `exhub sources check <id>` before the first sync.",
        f"id: {header.source_id}",
        f"department: {{id: {scalar(header.department)}, name: {scalar(header.department)}}}"
        "  # TODO: the owning department's official name, e.g. 合肥市公安局",
        f"system: {scalar(header.system)}  # TODO: the system's name, e.g. 人口户籍管理系统",
        f"connector: {sample.connector}",
        "options:",
    ]
    if sample.url is not None:
        text, variables = url_with_references(sample.url, header.source_id)
        note = ""
        if variables:
            note = f"  # export {', '.join(variables)} (URL-encoded) before syncing"
        lines.append(f"  url: {scalar(text)}{note}")
    for key, value in sample.options.items():
        evidence = sample.notes.get(key)
        suffix = f"  # {_comment(evidence)}" if evidence else ""
        rendered = _option(value)
        lines.append(f"  {key}: {rendered}{suffix}")
    for key, evidence in sample.notes.items():
        if key not in sample.options:
            lines.append(f"  # {key}: default; {_comment(evidence)}")
    lines += [
        'schedule: "@daily"  # TODO: when the owner allows reads',
        "max_connections: 1  # legacy systems tolerate few connections",
        "streams:",
    ]
    for proposal, name in zip(proposals, stream_names(proposals), strict=True):
        lines += _stream_lines(proposal, name)
    if sample.left_out:
        lines.append("# not proposed:")
        lines += [f"#   {_comment(item)}" for item in sample.left_out]
    return "\n".join(lines) + "\n"


def summary_rows(proposals: Sequence[StreamProposal]) -> list[dict]:
    """One row per proposed stream, for the table (or JSON) printed after discovery."""
    rows = []
    for proposal, name in zip(proposals, stream_names(proposals), strict=True):
        rows.append(
            {
                "stream": name,
                "source": proposal.table.source_object,
                "rows": proposal.table.row_count,
                "target": proposal.contract.ref,
                "score": proposal.score,
                "cursor": proposal.cursor.column if proposal.cursor else None,
                "mapped": {
                    s.field: {"from": s.column, "confidence": s.confidence}
                    for s in proposal.suggestions
                },
                "missing_required": proposal.missing_required,
                "unmapped": [item.column.name for item in proposal.unmapped],
            }
        )
    return rows
