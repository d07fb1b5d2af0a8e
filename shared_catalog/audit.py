"""The audit log's hash chain: what an entry's hash covers, and checking a whole log.

Each entry's hash is SHA-256 over a canonical JSON of its sequence number, time, actor,
action, target, purpose, detail and the previous entry's hash. Changing any stored field
changes the entry's hash; removing or reordering entries breaks a ``prev_hash`` link or the
gap-free numbering. Truncating the newest entries leaves a valid shorter chain, which is why
:func:`verify_chain` reports the head (last number and hash) for auditors to keep elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
"""``prev_hash`` of the first entry."""


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    purpose: str | None,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one entry, chained to ``prev_hash``."""
    content = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "purpose": purpose,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainVerdict:
    """The result of checking an audit log from its first entry to its last."""

    entries: int
    head_seq: int | None
    head_hash: str | None
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """True when every entry matches its hash and follows the one before."""
        return self.broken_at is None


def verify_chain(entries: Iterable[Any]) -> ChainVerdict:
    """Check entries in ``seq`` order (records with the :class:`AuditEntry` fields).

    Stops at the first problem and names the entry where the chain breaks; the head is then
    the last entry that checked out.
    """
    count, head_seq, head_hash = 0, 0, GENESIS
    for entry in entries:
        problem = _problem(entry, head_seq, head_hash)
        if problem is not None:
            return ChainVerdict(
                count,
                head_seq or None,
                head_hash if head_seq else None,
                broken_at=entry.seq,
                problem=problem,
            )
        count, head_seq, head_hash = count + 1, entry.seq, entry.hash
    return ChainVerdict(count, head_seq or None, head_hash if head_seq else None)


def _problem(entry: Any, prev_seq: int, prev_hash: str) -> str | None:
    if entry.seq != prev_seq + 1:
        if entry.seq == prev_seq + 2:
            return f"entry {prev_seq + 1} before it is missing"
        return f"entries {prev_seq + 1}–{entry.seq - 1} before it are missing"
    if entry.prev_hash != prev_hash:
        follows = f"entry {prev_seq}" if prev_seq else "the start of the log"
        return f"it does not follow {follows} (its prev_hash is not that entry's hash)"
    expected = entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        purpose=entry.purpose,
        detail=entry.detail,
        prev_hash=entry.prev_hash,
    )
    if entry.hash != expected:
        return "its content was changed after it was written (its hash does not match)"
    return None
