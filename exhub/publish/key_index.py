"""Key indexes of data files: a merge finds the rows a run replaces without reading keys.

An incremental merge must find, among every live row of the source, those whose primary key
the run brings again or deletes. Reading the key columns of every live file and hash-joining
their text with the run's keys took 0.17-0.2 s of a 1.0 s incremental round at 5M rows, on
the round's critical path. A data file never changes once written, so its keys are hashed
once, sorted and kept beside it; a merge binary-searches the run's hashed keys in each file's
index (integers: no text to decode or hash), and builds the index of a file that has none
while the run is still extracting.

An index row holds a 64-bit hash of the key (DuckDB's ``hash`` of the key columns as text)
and, packed with the row's position, the upper 32 bits of a second hash (of the key's text
reversed): a row matches a key only if all 96 bits agree. Among 5M rows and a run of 50k
keys a false match has a probability of about 10^-18. Rows whose key has a NULL are left out,
as a join leaves them out. The file's name carries a fingerprint of DuckDB's hash function
(an upgrade that changes it makes old indexes unused, not wrong) and its first row the data
file's row count, checked on every use; an index is written under a temporary name and
renamed, so a crash leaves a whole index or none. 16 bytes a row: ~80 MB for 5M rows, about
40% of the data files; ``exhub maintain`` deletes those of data files no snapshot references.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from exhub import duck
from exhub.publish.deletes import local_path

FOLDER = "key_index"
SUFFIX = ".npy"
_MAGIC = 0x65786875624B4931  # "exhubKI1": the header row's first word
_POSITION_MASK = (1 << 32) - 1
_SECOND_HASH_MASK = ((1 << 64) - 1) ^ _POSITION_MASK
_SEPARATOR = "chr(31)"  # between the texts of composite key columns (unit separator)


def digest_sql(key: Sequence[str]) -> tuple[str, str, str]:
    """SQL for the two hashes of ``key``'s columns, and the condition that none is NULL.

    Both hashes are of the columns' text, so keys typed differently on either side (a 32-bit
    and a 64-bit integer, two kinds of string) hash alike wherever a join would match them.
    """
    texts = [f'CAST("{k}" AS VARCHAR)' for k in key]
    first = f"hash({', '.join(texts)})"
    second = (
        f"(hash(reverse(concat_ws({_SEPARATOR}, {', '.join(texts)}))) "
        f"& {_SECOND_HASH_MASK}::UBIGINT)"
    )
    complete = " AND ".join(f'"{k}" IS NOT NULL' for k in key)
    return first, second, complete


@cache
def fingerprint() -> str:
    """Eight hex digits that change when DuckDB's hashes of a key's text change."""
    con = duck.connect()
    try:
        first, second = con.execute(
            "SELECT hash('exhub key index', '340104198001010011'), "
            f"hash(reverse(concat_ws({_SEPARATOR}, 'exhub key index', '340104198001010011')))"
        ).fetchone()
    finally:
        con.close()
    return f"{(first ^ (second >> 17)) & 0xFFFFFFFF:08x}"


def index_path(table_location: str, data_path: str) -> Path | None:
    """Where the index of a data file lives (None: the file is not under the table's folder)."""
    root = Path(local_path(table_location))
    try:
        relative = Path(data_path).relative_to(root)
    except ValueError:
        return None
    return root / FOLDER / relative.parent / f"{relative.name}.{fingerprint()}{SUFFIX}"


def data_path_of(index: Path, table_location: str) -> Path:
    """The data file an index file belongs to (the inverse of ``index_path``)."""
    root = Path(local_path(table_location))
    relative = index.relative_to(root / FOLDER)
    return root / relative.parent / relative.name.rsplit(".", 2)[0]  # less ".<print>.npy"


def load(path: Path, record_count: int) -> np.ndarray | None:
    """The index rows (2 × n: first hash; second hash | position), if the file is sound."""
    try:
        index = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    if index.ndim != 2 or index.shape[0] != 2 or index.shape[1] < 1 or index.dtype != np.uint64:
        return None
    if int(index[0, 0]) != _MAGIC or int(index[1, 0]) != record_count:
        return None  # another file's index, or a file rewritten under the same name
    return index[:, 1:]


def build(con: duckdb.DuckDBPyConnection, data_path: str, key: Sequence[str]) -> np.ndarray:
    """Hash and sort one data file's keys (memory: one file's keys, not the table's)."""
    first, second, complete = digest_sql(key)
    found = con.execute(
        f"SELECT {first} AS h1, ({second} | file_row_number::UBIGINT) AS w2, "
        "file_row_number AS pos "
        "FROM read_parquet(?, file_row_number=true, hive_partitioning=false) "
        f"WHERE {complete} ORDER BY h1",
        [data_path],
    ).fetchnumpy()
    positions = np.asarray(found["pos"], np.int64)
    if positions.size and int(positions.max()) > _POSITION_MASK:
        raise ValueError(f"{data_path}: more rows than a key index can address")
    index = np.empty((2, positions.size), np.uint64)
    index[0] = np.asarray(found["h1"], np.uint64)
    index[1] = np.asarray(found["w2"], np.uint64)
    return index


def save(index: np.ndarray, path: Path, record_count: int) -> None:
    """Write the index with its header row, atomically (a crash leaves no partial index)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = np.array([[_MAGIC], [record_count]], np.uint64)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            np.save(handle, np.concatenate([header, index], axis=1))
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def ensure(
    con: duckdb.DuckDBPyConnection,
    table_location: str,
    data_path: str,
    record_count: int,
    key: Sequence[str],
) -> np.ndarray:
    """The data file's index: the one kept beside it, else built now (and kept if it can be)."""
    path = index_path(table_location, data_path)
    if path is not None:
        kept = load(path, record_count)
        if kept is not None:
            return kept
    index = build(con, data_path, key)
    if path is not None:
        save(index, path, record_count)
    return index


@dataclass(frozen=True)
class Wanted:
    """The run's keys, hashed: sorted by the first hash, with what each key does."""

    first: np.ndarray  # uint64, sorted
    second: np.ndarray  # uint64: the second hash's upper 32 bits (lower bits zero)
    replaced: np.ndarray  # bool: the run brings the key again (False: deletes it)


def wanted(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    key: Sequence[str],
    replaced: str = "_exhub_replaced",
) -> Wanted:
    """Hash the keys of ``relation``; ``replaced`` (SQL) tells whether the run brings each."""
    first, second, complete = digest_sql(key)
    found = con.execute(
        f"SELECT {first} AS h1, {second} AS h2, {replaced} AS again FROM {relation} "
        f"WHERE {complete} ORDER BY h1"
    ).fetchnumpy()
    return Wanted(
        np.asarray(found["h1"], np.uint64),
        np.asarray(found["h2"], np.uint64),
        np.asarray(found["again"], bool),
    )


def wanted_keys(
    con: duckdb.DuckDBPyConnection, keys: pa.Table, key: Sequence[str], *, replaced: bool
) -> Wanted:
    """Hash an Arrow table of key columns that the run brings again (or deletes)."""
    con.register("_exhub_keys", keys)
    try:
        return wanted(con, "_exhub_keys", key, "true" if replaced else "false")
    finally:
        con.unregister("_exhub_keys")


def match(index: np.ndarray, keys: Wanted) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions of the index's rows whose key is wanted, and which are replaced.

    A binary search per wanted key (sorted, so each search starts where the last ended).
    """
    hashes, packed = index[0], index[1]
    if hashes.size == 0 or keys.first.size == 0:
        return np.empty(0, np.int64), np.empty(0, bool)
    low = np.searchsorted(hashes, keys.first, side="left")
    inside = np.minimum(low, hashes.size - 1)
    hit = hashes[inside] == keys.first
    after = np.minimum(low + 1, hashes.size - 1)
    if (hit & (low + 1 < hashes.size) & (hashes[after] == keys.first)).any():
        # A first hash the file holds more than once (a repeated key, or two keys whose
        # 64-bit hashes collide): every row of the run is a candidate.
        high = np.searchsorted(hashes, keys.first, side="right")
        counts = np.where(hit, high - low, 0)
    else:
        counts = hit.astype(np.int64)
    which = np.repeat(np.arange(keys.first.size), counts)
    starts = np.repeat(low, counts)
    offsets = np.arange(which.size) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = np.asarray(packed[starts + offsets])
    same = (rows & np.uint64(_SECOND_HASH_MASK)) == keys.second[which]
    positions = (rows[same] & np.uint64(_POSITION_MASK)).astype(np.int64)
    replaced = keys.replaced[which[same]]
    order = np.argsort(positions, kind="stable")
    positions, replaced = positions[order], replaced[order]
    first = np.ones(positions.size, bool)  # a row once, even if two wanted keys hash alike
    first[1:] = positions[1:] != positions[:-1]
    return positions[first], replaced[first]
