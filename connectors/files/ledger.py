"""The file ledger: which files of a stream were already ingested, so each is read once.

A file is known by its path relative to the folder, its size and its SHA-256. The ledger is
JSON text, kept by the engine in the stream's watermark slot (the connector never touches the
catalog)::

    {"files": {"persons_20240301.csv": {"size": 1234, "sha256": "9f86d0..."}}}

A read given a ledger skips the files whose size and checksum are unchanged and reads again
a file whose content changed (same name, new bytes). After the read, ``ledger_after``
returns the ledger to store once the run is published: one entry per file that matched the
stream's glob and was skipped or read whole. A file that changed while it was being read is
left out, so the next run reads it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from connectors.base import ReadRequest

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


@runtime_checkable
class LedgerReader(Protocol):
    """A connector with ``Capability.FILE_LEDGER``: it reports the ledger after a read."""

    def ledger_after(self, request: ReadRequest) -> str:
        """The ledger JSON to store as the stream's watermark after a published run."""
        ...


@dataclass(frozen=True)
class FileEntry:
    """What the ledger remembers of one file.

    Attributes:
        size: bytes on disk.
        sha256: hex digest of those bytes.
    """

    size: int
    sha256: str


@dataclass(frozen=True)
class Fingerprint:
    """A file's entry plus the ``stat`` seen before it was hashed (to detect writers)."""

    entry: FileEntry
    mtime_ns: int

    def unchanged_on_disk(self, path: Path) -> bool:
        """Whether ``path`` still has the size and modification time it had when hashed."""
        try:
            stat = path.stat()
        except OSError:
            return False
        return stat.st_size == self.entry.size and stat.st_mtime_ns == self.mtime_ns


def fingerprint(path: Path) -> Fingerprint:
    """Size and SHA-256 of ``path``, read in chunks.

    Raises:
        OSError: the file cannot be read.
    """
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return Fingerprint(FileEntry(stat.st_size, digest.hexdigest()), stat.st_mtime_ns)


class Ledger:
    """The files already ingested, by path relative to the stream's folder."""

    def __init__(self, files: dict[str, FileEntry] | None = None) -> None:
        self.files: dict[str, FileEntry] = dict(files or {})

    @classmethod
    def parse(cls, text: str | None, *, where: str) -> Ledger | None:
        """Read a ledger from a stream's watermark.

        Args:
            text: the watermark; None means a full read (no ledger).
            where: the stream, for the log line when ``text`` is not a ledger.

        Returns:
            Ledger | None: the ledger, or None to read every file (no watermark, or a
            watermark that is not a ledger, e.g. written by an older version: reading
            every file again is safe, publishing merges on the key).
        """
        if text is None:
            return None
        try:
            data: Any = json.loads(text)
            files = {
                str(name): FileEntry(int(entry["size"]), str(entry["sha256"]))
                for name, entry in data["files"].items()
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("%s: the watermark is not a file ledger; reading every file", where)
            return None
        return cls(files)

    def dumps(self) -> str:
        """The ledger as compact JSON text, files in name order."""
        files = {
            name: {"size": entry.size, "sha256": entry.sha256}
            for name, entry in sorted(self.files.items())
        }
        return json.dumps({"files": files}, ensure_ascii=False, separators=(",", ":"))

    def __contains__(self, name: object) -> bool:
        return name in self.files

    def is_ingested(self, name: str, entry: FileEntry) -> bool:
        """Whether ``name`` was ingested with exactly this size and checksum."""
        return self.files.get(name) == entry

    def change_of(self, name: str, entry: FileEntry) -> str:
        """How ``name`` differs from when it was ingested, for a log line."""
        old = self.files[name]
        if old.size != entry.size:
            return f"size {old.size} → {entry.size} bytes"
        return f"same size, checksum {old.sha256[:12]}… → {entry.sha256[:12]}…"

    def record(self, name: str, entry: FileEntry) -> None:
        """Remember that ``name`` was ingested (or skipped) with this entry."""
        self.files[name] = entry
