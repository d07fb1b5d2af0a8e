"""The base of connectors that read a folder of files: globbing, opening, the file ledger.

A subclass declares its name, options model and the options a stream may override, and
implements ``read_file`` for one file. The base finds the files matching the stream's glob
in name order, skips those the ledger (``request.watermark``) says were already ingested, and
after the read reports the new ledger through ``ledger_after`` (see ``connectors.files.ledger``).
"""

from __future__ import annotations

import gzip
import logging
import zlib
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar, Generic, TypeVar

from connectors.base import Capability, Connector, ExtractBatch, ReadRequest
from connectors.files.ledger import Ledger, fingerprint
from connectors.files.options import FolderOptions, with_stream_options
from exhub.errors import ConfigError

log = logging.getLogger(__name__)

READ_ERRORS = (EOFError, OSError, zlib.error)
"""What reading a truncated or corrupt ``.gz`` file raises midway."""

OptionsT = TypeVar("OptionsT", bound=FolderOptions)


class FileConnector(Connector, Generic[OptionsT]):
    """Streams the files matching a glob under ``options.path``, in name order.

    Class attributes:
        stream_options: option names a stream may override in its own ``options``.
        gzip: whether ``<glob>.gz`` files are matched too and decompressed on the fly.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.FILE_LEDGER})
    stream_options: ClassVar[frozenset[str]] = frozenset()
    gzip: ClassVar[bool] = True

    options: OptionsT

    def __init__(self, options: OptionsT) -> None:
        super().__init__(options)
        self._ledgers: dict[str, Ledger] = {}

    @property
    def folder(self) -> Path:
        """The folder, checked to exist.

        Raises:
            ConfigError: the folder does not exist.
        """
        folder = Path(self.options.path).expanduser()
        if not folder.is_dir():
            raise ConfigError(
                f"{self.name} folder '{folder}' does not exist or is not a folder",
                fix="fix options.path, or check that the shared folder is mounted",
                key="options.path",
            )
        return folder

    def check(self) -> None:
        """Check that the folder exists.

        Raises:
            ConfigError: the folder does not exist.
        """
        _ = self.folder

    def options_for(self, request: ReadRequest) -> OptionsT:
        """The connector's options with the stream's overrides (``request.options``).

        Raises:
            ConfigError: an override is unknown, not allowed per stream, or invalid.
        """
        return with_stream_options(
            self.options,
            request.options,
            self.stream_options,
            connector=self.name,
            stream=request.source_object,
        )

    def files(self, pattern: str) -> list[Path]:
        """The files matching ``pattern`` (and ``pattern + ".gz"``), sorted by relative path.

        Args:
            pattern: a glob relative to the folder, e.g. ``"persons_*.csv"``.

        Returns:
            list[Path]: matching regular files.

        Raises:
            ConfigError: the folder does not exist or the pattern is not a relative glob.
        """
        folder = self.folder
        patterns = [pattern]
        if self.gzip and not pattern.endswith(".gz"):
            patterns.append(pattern + ".gz")
        try:
            found = {p for glob in patterns for p in folder.glob(glob) if p.is_file()}
        except (NotImplementedError, ValueError) as exc:
            raise ConfigError(
                f"source_object '{pattern}' is not a glob relative to {folder}: {exc}",
                fix="write a relative glob such as 'persons_*.csv'",
                key="source_object",
            ) from None
        return sorted(found, key=lambda p: p.relative_to(folder).as_posix())

    def read_batches(self, request: ReadRequest) -> Iterator[ExtractBatch]:
        """Yield the records of every matching file not yet ingested, per ``batch_size``.

        Args:
            request: ``source_object`` is the glob; ``watermark`` is the file ledger (None
                reads every file); ``options`` are the stream's overrides; ``cursor`` is
                ignored.

        Yields:
            ExtractBatch: string columns plus ``_source_position``; unreadable records as
            rejects. A batch never spans two files.

        Raises:
            ConfigError: the folder is missing, a file cannot be opened, or an option is wrong.
        """
        options = self.options_for(request)
        files = self.files(request.source_object)
        folder = self.folder
        where = f"{self.name} {request.source_object!r}"
        previous = Ledger.parse(request.watermark, where=where)
        self._ledgers.pop(request.source_object, None)
        after = Ledger()
        if not files:
            log.warning("no file matches %r in %s", request.source_object, self.options.path)
        skipped = 0
        for path in files:
            name = path.relative_to(folder).as_posix()
            try:
                seen = fingerprint(path)
            except OSError as exc:
                raise _unreadable(path, exc) from None
            if previous is not None and previous.is_ingested(name, seen.entry):
                after.record(name, seen.entry)
                skipped += 1
                continue
            if previous is not None and name in previous:
                change = previous.change_of(name, seen.entry)
                log.info("%s changed since it was ingested (%s): reading it again", name, change)
            yield from self.read_file(path, name, request, options)
            if seen.unchanged_on_disk(path):
                after.record(name, seen.entry)
            else:
                log.warning("%s changed while it was read: the next run reads it again", name)
        if skipped:
            log.info("%s: %d file(s) skipped, already ingested unchanged", where, skipped)
        self._ledgers[request.source_object] = after

    def ledger_after(self, request: ReadRequest) -> str:
        """The file ledger after the last complete read of ``request``, as JSON text.

        The engine stores it as the stream's watermark once the run is published, and
        passes it back as ``request.watermark`` on the next run.

        Args:
            request: the request whose read finished (matched by ``source_object``).

        Returns:
            str: ``{"files": {"<name>": {"size": ..., "sha256": ...}}}`` for every file that
            matched the glob and was skipped unchanged or read whole.

        Raises:
            RuntimeError: the read of ``request`` did not run to its end.
        """
        ledger = self._ledgers.get(request.source_object)
        if ledger is None:
            raise RuntimeError(
                f"the read of {request.source_object!r} did not finish: "
                "no ledger to report (read every batch first)"
            )
        return ledger.dumps()

    @abstractmethod
    def read_file(
        self, path: Path, name: str, request: ReadRequest, options: OptionsT
    ) -> Iterator[ExtractBatch]:
        """Yield the records of one file.

        Args:
            path: the file.
            name: its path relative to the folder (the start of every position).
            request: the request (for ``batch_size``).
            options: the connector's options with the stream's overrides.

        Yields:
            ExtractBatch: at most ``request.batch_size`` records plus rejects each.
        """


def reject_rest_of_file(batch, name: str, reader, exc: Exception) -> None:
    """Record that a truncated or corrupt file (often a cut-off .gz) ends unreadable here.

    The rows read so far are kept; the rest is one reject naming where reading stopped.
    """
    batch.reject(
        f"{name}:{reader.line + 1}@{reader.offset}",
        "",
        f"cannot read the rest of the file: {exc}",
    )


def open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing a ``.gz`` file on the fly.

    Raises:
        ConfigError: the file cannot be opened.
    """
    try:
        if path.suffix == ".gz":
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return path.open("rb")
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: OSError) -> ConfigError:
    return ConfigError(
        f"cannot open {path}: {exc.strerror or exc}",
        fix="check the file's permissions",
        key="options.path",
    )
