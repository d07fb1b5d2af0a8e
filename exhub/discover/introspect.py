"""Read what a legacy system holds: tables or files, their columns and a sample of rows.

Both readers go through the real connectors, so discovery sees the columns and Arrow types a
sync will see, and the connectors' rules about secrets and unreachable systems apply: a
database that cannot be reached raises ``SourceUnreachableError`` (exit 3) and no message
ever carries the password.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from connectors import POSITION_COLUMN, Connector, ReadRequest, load_connector
from connectors.sql.options import safe_url, scrub
from exhub.discover.profile import ColumnProfile, TableSample
from exhub.errors import ConfigError, SourceUnreachableError

SAMPLE_ROWS = 1000
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030", "gbk")
"""Candidates, in order of preference when they decode equally well (GBK ⊂ GB18030)."""
SNIFF_BYTES = 8 * 1024 * 1024
DELIMITERS = ",\t;|"
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
_DATE_RUN = re.compile(r"\d{4}(?:[-_.]?\d{2}){2}(?:[-_T]?\d{2,6})?|\d{4,}")
_STARS = re.compile(r"\*(?:[-_.]?\*)+")


@dataclass
class SourceSample:
    """What one legacy system holds, ready for matching.

    Attributes:
        connector: the connector name (``sql``, ``csv``).
        options: the connector options to propose (secrets already replaced by the caller).
        display: a description safe to print (no password).
        default_id: a source id derived from the database or folder name.
        tables: one sample per table or group of files.
        notes: evidence about the whole source (encoding, delimiter ...), per option key.
        left_out: tables or files not proposed, with the reason.
        url: the parsed database URL (SQL only; holds the password: never print it).
    """

    connector: str
    options: dict[str, Any]
    display: str
    default_id: str
    tables: list[TableSample]
    notes: dict[str, str] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    url: URL | None = None


def source_id_from(text: str) -> str:
    """A valid source id (``^[a-z][a-z0-9_]*$``) made from a file or database name."""
    ident = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not ident:
        return "discovered"
    return ident if ident[0].isalpha() else f"src_{ident}"


def _profiles(batch: pa.RecordBatch | None, source_types: dict[str, str]) -> list[ColumnProfile]:
    if batch is None:
        return []
    return [
        ColumnProfile(
            name, batch.schema.field(name).type, batch.column(name), source_types.get(name)
        )
        for name in batch.schema.names
        if name != POSITION_COLUMN
    ]


def first_rows(connector: Connector, request: ReadRequest) -> tuple[pa.RecordBatch | None, int]:
    """The first ``request.batch_size`` rows of a read as one batch, and how many were rejects.

    Connectors may start with smaller batches (``ramping_batch_sizes``): the sample is read
    across as many as it takes, then the read is closed.
    """
    sample = _Sample(request.batch_size)
    batches = connector.read_batches(request)
    try:
        for batch in batches:
            if not sample.add(batch):
                break
    finally:
        batches.close()  # type: ignore[attr-defined]
    return sample.batch(), sample.rejects


def sample_and_count(
    connector: Connector, request: ReadRequest
) -> tuple[pa.RecordBatch | None, int, int]:
    """``first_rows``' sample of a read, and the whole read's records and rejects, in one pass.

    Memory holds the sample and one batch, however long the read.
    """
    sample = _Sample(request.batch_size)
    records = rejects = 0
    for batch in connector.read_batches(request):
        sample.add(batch)
        records += batch.records.num_rows
        rejects += _rejected(batch)
    return sample.batch(), records, rejects


def _rejected(batch) -> int:
    return batch.rejects.num_rows if batch.rejects is not None else 0


class _Sample:
    """The first ``wanted`` rows of a read (rejects count against it), batch by batch."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.read: list[pa.RecordBatch] = []
        self.rejects = self.seen = 0

    def add(self, batch) -> bool:
        """Take what the sample still wants of ``batch``; whether it wants more."""
        if self.seen < self.wanted:
            rejected = _rejected(batch)
            self.read.append(batch.records.slice(0, max(0, self.wanted - self.seen - rejected)))
            self.rejects += rejected
            self.seen += batch.records.num_rows + rejected
        return self.seen < self.wanted

    def batch(self) -> pa.RecordBatch | None:
        """The sample as one batch (None when the read had no rows)."""
        return pa.concat_batches(self.read) if self.read else None


# --- SQL ------------------------------------------------------------------------------


def is_database_url(target: str) -> bool:
    """Whether ``target`` looks like a SQLAlchemy URL rather than a path."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+]*://", target) is not None


@contextmanager
def _engine(url: URL) -> Iterator[sa.Engine]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        yield engine
    except sa_exc.DBAPIError as exc:
        detail = scrub(str(exc.orig), url).strip().splitlines()
        message = detail[0] if detail else type(exc).__name__
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            raise SourceUnreachableError(
                f"cannot introspect {safe_url(url)}: {message}",
                fix="check that the database is up and reachable from this host",
            ) from None
        raise ConfigError(
            f"{safe_url(url)}: introspection was refused: {message}",
            fix="check that the user may read the catalog and SELECT the tables",
            key="url",
        ) from None
    finally:
        engine.dispose()


def introspect_sql(target: str, *, sample_rows: int = SAMPLE_ROWS) -> SourceSample:
    """Sample every table and view of a database.

    Args:
        target: a SQLAlchemy URL (may hold a password; it is never printed).
        sample_rows: rows read per table.

    Raises:
        ConfigError: the URL is invalid or the credentials were refused.
        SourceUnreachableError: the database cannot be reached.
    """
    try:
        url = make_url(target)
    except sa_exc.ArgumentError:
        raise ConfigError(
            "the argument is not a SQLAlchemy URL (nor an existing path)",
            fix="write it like postgresql+psycopg2://user:pw@host:5432/db or sqlite:///file.db",
            key="url",
        ) from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    rendered = url.render_as_string(hide_password=False)
    connector = load_connector("sql").from_options({"url": rendered}, where="discover")
    tables: list[TableSample] = []
    with connector, _engine(url) as engine:
        connector.check()
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
            for name in names:
                types = {c["name"]: str(c["type"]) for c in inspector.get_columns(name)}
                count = conn.execute(
                    sa.select(sa.func.count()).select_from(sa.table(name))
                ).scalar_one()
                request = ReadRequest(source_object=name, batch_size=sample_rows)
                batch, rejects = first_rows(connector, request)
                profiles = _profiles(batch, types) or [
                    ColumnProfile(n, pa.string(), pa.array([], pa.string()), t)
                    for n, t in types.items()
                ]
                tables.append(TableSample(name, name, profiles, count, rejects))
    database = Path(url.database).stem if url.get_backend_name() == "sqlite" else url.database
    return SourceSample(
        connector="sql",
        options={},
        display=safe_url(url),
        default_id=source_id_from(database or url.host or "database"),
        tables=tables,
        url=url,
    )


# --- CSV ------------------------------------------------------------------------------


def detect_encoding(path: Path, limit: int = SNIFF_BYTES) -> tuple[str, str]:
    """The candidate encoding that strictly decodes the most lines of a file's start.

    Returns:
        The encoding and the evidence, e.g. ``gb18030: 72 of 75 lines decode strictly``.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        head = handle.read(limit)
    lines = head.split(b"\n")
    if len(head) == limit and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle of a character
    candidates = list(ENCODINGS)
    if not head.startswith(codecs.BOM_UTF8):
        candidates.remove("utf-8-sig")
    else:
        candidates.remove("utf-8")
        lines[0] = lines[0][len(codecs.BOM_UTF8) :]
    lines = [line for line in lines if line.strip()]
    scores = {}
    for encoding in candidates:
        codec = "utf-8" if encoding == "utf-8-sig" else encoding
        ok = 0
        for line in lines:
            try:
                line.decode(codec)
                ok += 1
            except UnicodeDecodeError:
                pass
        scores[encoding] = ok
    best = max(candidates, key=lambda e: (scores[e], -candidates.index(e)))
    evidence = f"{scores[best]} of {len(lines)} lines decode strictly"
    ties = [e for e in candidates if e != best and scores[e] == scores[best]]
    if ties:
        evidence += f" (so would {', '.join(ties)})"
    if best == "gb18030" and "gbk" in ties:
        evidence += "; GB18030 is the superset"
    return best, f"{best}: {evidence}"


def sniff_dialect(path: Path, encoding: str) -> tuple[str, bool, str]:
    """Delimiter and header of a delimited file, via ``csv.Sniffer``.

    Returns:
        The delimiter, whether the first record is a header, and the evidence.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    codec = "utf-8-sig" if encoding == "utf-8-sig" else encoding
    with opener(path, "rt", encoding=codec, errors="replace", newline="") as handle:
        text = "".join(line for _, line in zip(range(50), handle, strict=False))
    sniffer = csv.Sniffer()
    try:
        delimiter = sniffer.sniff(text, delimiters=DELIMITERS).delimiter
        evidence = f"csv.Sniffer found {delimiter!r}"
    except csv.Error:
        delimiter, evidence = ",", "csv.Sniffer could not decide; ',' assumed"
    first = next(csv.reader(text.splitlines()[:1], delimiter=delimiter), [])
    plain = [f.strip() for f in first]
    looks_like_names = bool(plain) and all(
        f and not re.fullmatch(r"[\d.\-/: +]+", f) for f in plain
    )
    header = looks_like_names and len(set(plain)) == len(plain)
    if not header:
        try:
            header = sniffer.has_header(text)
        except csv.Error:
            header = False
    return delimiter, header, evidence


@dataclass(frozen=True)
class _Dialect:
    encoding: str
    delimiter: str
    header: bool
    encoding_note: str
    delimiter_note: str

    def differences(self, other: _Dialect) -> dict[str, Any]:
        """The options this file group needs that ``other`` (the source's) does not give."""
        own = {"encoding": self.encoding, "delimiter": self.delimiter, "header": self.header}
        base = {"encoding": other.encoding, "delimiter": other.delimiter, "header": other.header}
        return {k: v for k, v in own.items() if base[k] != v}


def _dialect(path: Path) -> _Dialect:
    encoding, encoding_note = detect_encoding(path)
    delimiter, header, delimiter_note = sniff_dialect(path, encoding)
    return _Dialect(encoding, delimiter, header, encoding_note, delimiter_note)


def _groups(folder: Path, files: list[Path]) -> dict[str, list[Path]]:
    """Files grouped by their name with date-like digit runs replaced by ``*``."""
    groups: dict[str, list[Path]] = {}
    for path in files:
        pattern = _STARS.sub("*", _DATE_RUN.sub("*", path.relative_to(folder).as_posix()))
        pattern = pattern.removesuffix(".gz")
        groups.setdefault(pattern, []).append(path)
    return groups


def introspect_files(target: Path, *, sample_rows: int = SAMPLE_ROWS) -> SourceSample:
    """Sample a folder (or one file) of delimited text exports.

    Files whose names differ only in date-like digit runs (``HYDJ_20261125.csv``) form one
    stream read through the glob (``HYDJ_*.csv``). The first group's encoding and delimiter
    become the source's options; a group that needs others gets them as stream options when
    the connector allows that, and is left out (listed in the YAML) when it does not.

    Raises:
        ConfigError: the path holds no delimited text file.
    """
    target = target.expanduser().resolve()
    folder = target if target.is_dir() else target.parent
    if target.is_dir():
        files = sorted(p for p in folder.iterdir() if p.name.lower().endswith(CSV_SUFFIXES))
    else:
        files = [target]
    if not files:
        raise ConfigError(
            f"{folder} holds no .csv, .tsv or .txt file",
            fix="point discover at the folder the legacy system exports into, or at one file",
            key="path",
        )
    groups = _groups(folder, files)
    dialects = {pattern: _dialect(paths[0]) for pattern, paths in groups.items()}
    first = next(iter(dialects.values()))
    options: dict[str, Any] = {"path": str(folder), "encoding": first.encoding}
    if first.delimiter != ",":
        options["delimiter"] = first.delimiter
    if not first.header:
        options["header"] = False
    connector_class = load_connector("csv")
    per_stream = frozenset(getattr(connector_class, "stream_options", ()))
    connector = connector_class.from_options(options, where="discover")
    sample = SourceSample(
        connector="csv",
        options=options,
        display=f"csv files in {folder}",
        default_id=source_id_from(folder.name),
        tables=[],
        notes={"encoding": first.encoding_note, "delimiter": first.delimiter_note},
    )
    with connector:
        for pattern, paths in groups.items():
            dialect = dialects[pattern]
            own = dialect.differences(first)
            if not set(own) <= per_stream:
                sample.left_out.append(
                    f"{pattern}: needs its own source file ({dialect.encoding_note}; "
                    f"delimiter {dialect.delimiter!r})"
                )
                continue
            request = ReadRequest(source_object=pattern, batch_size=sample_rows, options=own)
            batch, rows, rejects = sample_and_count(connector, request)
            # Every file was read to count its records: rejects are the whole files' count.
            table = TableSample(pattern, pattern, _profiles(batch, {}), rows + rejects, rejects)
            table.notes.append(f"{len(paths)} file(s): {', '.join(p.name for p in paths[:3])}")
            if own:
                table.options = own
                table.notes.append(
                    f"own options: {dialect.encoding_note}; {dialect.delimiter_note}"
                )
            sample.tables.append(table)
    return sample
