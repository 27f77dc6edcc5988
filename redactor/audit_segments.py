"""The archived audit log: compressed, chained JSON-lines segments in storage.

The live tail of the log is an ordered, append-only stream next to the job records
(see :mod:`redactor.service.redis_audit`); an archiver moves it out in *segments*, one
per tenant per time span or per so many events. A segment is a gzip-compressed JSON
Lines object: a header line, then one line per :class:`~redactor.audit.AuditEvent`::

    {"audit_segment": 1, "seq": 7, "tenant": "acme", "prev_sha256": "9f2c...", ...}
    {"at": "...", "by": "host:pid", "event": "deleted", "kind": "original", ...}

Segments of every tenant form one chain: each is numbered (``seq``, from 1, no gaps)
and its header holds the SHA-256 of the stored bytes of the one before (``prev_sha256``;
64 zeros for the first). Editing a segment changes its hash and breaks the link to its
successor; removing one leaves a gap; the newest is checked against the head that the
archiver keeps next to the live tail. :func:`verify_chain` checks all three. Audit
retention removes the oldest segments first, so a chain may start later than ``seq``
1: that is accepted only when the missing predecessor ended before the retention cut
(each header also holds the previous segment's last event time).

This module is pure: bytes in, bytes out, no storage and no Redis.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redactor.audit import AuditEvent
from redactor.errors import RedactorError

FORMAT_VERSION = 1
GENESIS = "0" * 64


class CorruptSegment(RedactorError):
    """A stored segment cannot be read back as a segment (altered, truncated, foreign)."""

    code = "corrupt_audit_segment"


@dataclass(frozen=True, slots=True)
class SegmentHeader:
    seq: int
    tenant: str
    #: SHA-256 (hex) of the previous segment's stored bytes; :data:`GENESIS` for seq 1.
    prev_sha256: str
    #: The previous segment's last event time (``None`` for the first segment).
    prev_last_at: datetime | None
    first_at: datetime
    last_at: datetime
    count: int
    #: The id of the last live-tail entry this segment's batch covered.
    last_entry: str

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "audit_segment": FORMAT_VERSION,
            "seq": self.seq,
            "tenant": self.tenant,
            "prev_sha256": self.prev_sha256,
            "prev_last_at": _iso(self.prev_last_at),
            "first_at": _iso(self.first_at),
            "last_at": _iso(self.last_at),
            "count": self.count,
            "last_entry": self.last_entry,
        }
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> SegmentHeader:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("audit_segment") != FORMAT_VERSION:
            raise ValueError("not an audit segment header of a known version")
        prev_last_at = data["prev_last_at"]
        return cls(
            seq=int(data["seq"]),
            tenant=str(data["tenant"]),
            prev_sha256=str(data["prev_sha256"]),
            prev_last_at=datetime.fromisoformat(prev_last_at) if prev_last_at else None,
            first_at=datetime.fromisoformat(data["first_at"]),
            last_at=datetime.fromisoformat(data["last_at"]),
            count=int(data["count"]),
            last_entry=str(data["last_entry"]),
        )


@dataclass(frozen=True, slots=True)
class ChainLink:
    """Where the chain stands: the newest segment's number, hash and last event time."""

    seq: int
    sha256: str
    last_at: datetime | None


START = ChainLink(0, GENESIS, None)


def encode_segment(
    events: Sequence[AuditEvent], *, after: ChainLink, last_entry: str
) -> tuple[bytes, ChainLink]:
    """The stored bytes of the segment that follows ``after``, and the new chain end.

    Deterministic (gzip without a timestamp): encoding the same events after the same
    link again gives the same bytes, so an archiver that died before recording its
    work writes identical segments the next time.
    """
    if not events or len({event.tenant for event in events}) != 1:
        raise ValueError("a segment holds the events of one tenant, at least one")
    header = SegmentHeader(
        seq=after.seq + 1,
        tenant=events[0].tenant,
        prev_sha256=after.sha256,
        prev_last_at=after.last_at,
        first_at=min(event.at for event in events),
        last_at=max(event.at for event in events),
        count=len(events),
        last_entry=last_entry,
    )
    lines = [header.to_json(), *(_event_json(event) for event in events)]
    data = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
    return data, ChainLink(header.seq, sha256(data), header.last_at)


def decode_segment(data: bytes) -> tuple[SegmentHeader, list[AuditEvent]]:
    """Header and events of stored bytes; :class:`CorruptSegment` if they are not that."""
    try:
        lines = gzip.decompress(data).decode().splitlines()
        header = SegmentHeader.from_json(lines[0])
        events = [AuditEvent.from_fields(json.loads(line)) for line in lines[1:]]
    except (OSError, EOFError, UnicodeError, ValueError, KeyError, IndexError, TypeError):
        raise CorruptSegment("the bytes are not a readable audit segment") from None
    if len(events) != header.count:
        raise CorruptSegment(f"segment {header.seq} holds {len(events)} events, not {header.count}")
    return header, events


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_chain(
    segments: Iterable[tuple[int, bytes]],
    head: ChainLink | None,
    *,
    retained_after: datetime,
) -> list[str]:
    """Problems found in the chain (an empty list: it verifies).

    ``segments``: each stored segment's number (from its key) and bytes, in ascending
    order. ``head``: the chain end the archiver recorded (``None`` if it recorded
    none). ``retained_after``: now minus the audit retention; a predecessor whose
    events all ended before it may have been removed by retention.
    """
    problems: list[str] = []
    previous: ChainLink | None = None
    for number, data in segments:
        try:
            header, _ = decode_segment(data)
        except CorruptSegment as exc:
            problems.append(f"segment {number}: {exc}")
            previous = None
            continue
        problems += _link_problems(number, header, previous, retained_after)
        previous = ChainLink(header.seq, sha256(data), header.last_at)
    problems += _head_problems(previous, head)
    return problems


def _link_problems(
    number: int, header: SegmentHeader, previous: ChainLink | None, retained_after: datetime
) -> list[str]:
    if header.seq != number:
        return [f"segment {number}: its header says it is segment {header.seq}"]
    if previous is None:
        if header.seq == 1 and header.prev_sha256 == GENESIS:
            return []
        expired = header.prev_last_at is not None and header.prev_last_at < retained_after
        return [] if expired else [f"segment {header.seq - 1} is missing (not by retention)"]
    if header.seq != previous.seq + 1:
        return [_missing(previous.seq + 1, header.seq - 1)]
    if header.prev_sha256 != previous.sha256:
        return [f"segment {previous.seq} was altered: segment {header.seq} holds another hash"]
    return []


def _head_problems(last: ChainLink | None, head: ChainLink | None) -> list[str]:
    if head is None or head.seq == 0:
        return []
    if last is None or last.seq < head.seq:
        seen = 0 if last is None else last.seq
        return [_missing(seen + 1, head.seq) + " (the newest the log recorded)"]
    if last.seq == head.seq and last.sha256 != head.sha256:
        return [f"segment {head.seq} was altered: the recorded head holds another hash"]
    return []


def _missing(first: int, last: int) -> str:
    return (
        f"segment {first} is missing"
        if first == last
        else f"segments {first} to {last} are missing"
    )


def _event_json(event: AuditEvent) -> str:
    return json.dumps(event.to_fields(), sort_keys=True)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
