"""Read the source on its own thread, one batch ahead of the landing writer.

A database driver parses the wire protocol while the caller asks for the next batch; if the
same thread also writes and hashes the landing file, the source sits idle during every
write. With the read on a thread of its own the two overlap, and memory grows by at most
``depth`` batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.1


def read_ahead(items: Iterator[T], *, depth: int = 1, name: str = "read-ahead") -> Iterator[T]:
    """Yield ``items`` while a thread produces the next ones (at most ``depth`` waiting).

    An exception of the producer is raised here, at the point it was reached. Stopping early
    (closing this generator) stops the producer and closes ``items`` on its own thread, so a
    connection it holds is released.
    """
    handover: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                handover.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(("error", exc))
        else:
            put(("end", None))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
    try:
        while True:
            kind, value = handover.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        producer.join()
