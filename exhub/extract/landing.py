"""Extract stage: stream a connector's batches into the landing zone, with a manifest.

Nothing the source sent is lost: every batch lands as Parquet (records and rejects apart)
with rows, bytes, checksum and source positions, so a run can be replayed without the
legacy system. The manifest is written last; its presence means extraction completed.

Where a connector's positions are built from the key columns alone (``KeyPositions``), the
parts store the key columns without the position strings, the manifest records the rule,
and ``iter_landed`` rebuilds the same positions on reading.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.base import POSITION_COLUMN, REJECT_SCHEMA, Connector, KeyPositions, ReadRequest
from exhub.extract.read_ahead import read_ahead
from exhub.files import replace_text
from exhub.parquet import writer_options

MANIFEST = "_manifest.json"
POSITION_FIELD = pa.field(POSITION_COLUMN, pa.string(), nullable=False)  # as connectors emit it
# Landed parts are written once, read once or twice (validation, a replay) and deleted after the
# retention period: lz4 encodes them with about half zstd's CPU (2.2 of the 3.3 CPU-s a 5M-row
# landing took went to zstd) for parts about 1.6x larger. Data files stay zstd: they are kept.
LANDING_OPTIONS = {"compression": "lz4", "use_dictionary": False, "write_statistics": False}


@dataclass(frozen=True)
class LandedPart:
    """One landed Parquet file."""

    file: str
    rows: int
    bytes: int
    sha256: str
    first_position: str | None
    last_position: str | None


@dataclass
class LandingManifest:
    """Everything one run extracted."""

    run_id: str
    source_id: str
    stream: str
    source_object: str
    started_at: str
    parts: list[LandedPart] = field(default_factory=list)
    rejects: list[LandedPart] = field(default_factory=list)
    cursor_column: str | None = None
    cursor_max: str | None = None
    ledger: str | None = None
    completed_at: str | None = None
    # The rule that rebuilds positions left out of the parts (``KeyPositions.as_dict``).
    key_positions: dict | None = None

    @property
    def record_rows(self) -> int:
        """Rows that parsed."""
        return sum(p.rows for p in self.parts)

    @property
    def rejected_rows(self) -> int:
        """Rows the connector could not parse (they go to quarantine)."""
        return sum(p.rows for p in self.rejects)

    @property
    def extracted_rows(self) -> int:
        """Everything the source sent."""
        return self.record_rows + self.rejected_rows

    @property
    def bytes(self) -> int:
        """Bytes landed."""
        return sum(p.bytes for p in self.parts) + sum(p.bytes for p in self.rejects)

    def save(self, folder: Path) -> None:
        """Write the manifest atomically."""
        replace_text(folder / MANIFEST, json.dumps(asdict(self), ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, folder: Path) -> LandingManifest:
        """Read a completed manifest."""
        data = json.loads((folder / MANIFEST).read_text())
        data["parts"] = [LandedPart(**p) for p in data["parts"]]
        data["rejects"] = [LandedPart(**p) for p in data["rejects"]]
        return cls(**data)


def landing_folder(warehouse: Path, source_id: str, stream: str, run_id: str) -> Path:
    """Landing folder of one run."""
    return warehouse / "landing" / source_id / stream / run_id


def _write_part(
    table: pa.Table, path: Path, options: dict, positions: pa.ChunkedArray | None = None
) -> LandedPart:
    """Land ``table``; ``positions`` are its rows' positions when it leaves them out.

    The part is encoded in memory, then hashed and written in one piece each: a Python file
    object would be called back, GIL and all, for every page the writer flushes (about 40 a
    part), which stalls the landing thread behind the conform thread. One part's encoded
    bytes are a few MB.
    """
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **options)
    encoded = sink.getvalue()
    digest = hashlib.sha256(encoded)
    with path.open("wb") as handle:
        handle.write(encoded)
    if positions is None:
        positions = table.column(POSITION_COLUMN)
    return LandedPart(
        file=path.name,
        rows=table.num_rows,
        bytes=path.stat().st_size,
        sha256=digest.hexdigest(),
        first_position=positions[0].as_py() if table.num_rows else None,
        last_position=positions[-1].as_py() if table.num_rows else None,
    )


def _cursor_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def extract_to_landing(
    connector: Connector,
    request: ReadRequest,
    folder: Path,
    *,
    run_id: str,
    source_id: str,
    stream: str,
    on_rows: Callable[[int], None] | None = None,
    ledger_after: Callable[[ReadRequest], str] | None = None,
    on_part: Callable[[pa.Table], None] | None = None,
    started_at: str | None = None,
) -> LandingManifest:
    """Read every batch of the stream into ``folder`` and write its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.parquet"):
        stale.unlink()  # a crashed attempt of the same run: start the landing over
    manifest = LandingManifest(
        run_id=run_id,
        source_id=source_id,
        stream=stream,
        source_object=request.source_object,
        started_at=started_at or datetime.now(UTC).isoformat(),
        cursor_column=request.cursor,
    )
    rule = connector.key_positions(request)
    if rule is not None:
        manifest.key_positions = rule.as_dict()
    cursor_max = None
    for index, batch in enumerate(read_ahead(connector.read_batches(request), name="source-read")):
        records = pa.Table.from_batches([batch.records])
        if records.num_rows:
            # Landing parts are only ever read back whole and once: no statistics, and no
            # dictionaries (zstd packs repeated codes nearly as well: 5% larger parts for 12%
            # less encoding work).
            landed = records if rule is None else records.drop_columns([POSITION_COLUMN])
            path = folder / f"part-{index:06d}.parquet"
            positions = records.column(POSITION_COLUMN)
            manifest.parts.append(_write_part(landed, path, LANDING_OPTIONS, positions))
            if on_part is not None:
                on_part(records)  # landed first: what validation sees is already safe
            if request.cursor and request.cursor in records.column_names:
                batch_max = pc.max(records.column(request.cursor)).as_py()
                if batch_max is not None and (cursor_max is None or batch_max > cursor_max):
                    cursor_max = batch_max
        if batch.rejects is not None and batch.rejects.num_rows:
            rejects = batch.rejects.cast(REJECT_SCHEMA)
            path = folder / f"rejects-{index:06d}.parquet"
            manifest.rejects.append(_write_part(rejects, path, writer_options(rejects)))
        if on_rows:
            on_rows(records.num_rows + (batch.rejects.num_rows if batch.rejects else 0))
    manifest.cursor_max = _cursor_text(cursor_max)
    if ledger_after is not None:
        # Saved with the landing so a retry that replays it still advances the ledger.
        manifest.ledger = ledger_after(request)
    manifest.completed_at = datetime.now(UTC).isoformat()
    manifest.save(folder)
    return manifest


def iter_landed(folder: Path, manifest: LandingManifest) -> Iterator[pa.RecordBatch]:
    """Landed record batches, one part at a time (memory bounded by batch size)."""
    rule = KeyPositions.from_dict(manifest.key_positions) if manifest.key_positions else None
    for part in manifest.parts:
        table = pq.read_table(folder / part.file)
        if rule is not None:
            table = table.append_column(POSITION_FIELD, rule.of(table))
        yield from table.to_batches()


def iter_rejects(folder: Path, manifest: LandingManifest) -> Iterator[pa.Table]:
    """Landed reject tables."""
    for part in manifest.rejects:
        yield pq.read_table(folder / part.file)
