"""The audit trail of deletions and erasures: what went, why, when, and who did it.

An :class:`AuditEvent` holds ids, kinds, reason codes, times and the name of the process
that acted: never object keys beyond those ids, file names, client addresses, text or
pixels, so the trail itself is safe to keep for as long as the deletions must be proven.

Events are only ever appended. A backend must keep them in order and durably: the Redis
stream in :mod:`redactor.service.redis_audit` does both with ``appendfsync always``, and
archives them to storage in chained segments (:mod:`redactor.audit_segments`).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol


class AuditAction(StrEnum):
    #: An object is verifiably gone from storage.
    DELETED = "deleted"
    #: An upload was erased on request; its record is now a tombstone.
    ERASED = "erased"


class ObjectKind(StrEnum):
    ORIGINAL = "original"
    RESULT = "result"
    REPORT = "report"
    #: The job record (for erasures: what remains is the tombstone).
    RECORD = "record"


class Reason(StrEnum):
    #: The object's retention window ended.
    RETENTION = "retention"
    #: The customer asked for the upload to be erased.
    ERASURE = "erasure"
    #: Window 0: the job failed, so the original had no more use.
    FAILED_JOB = "failed_job"
    #: Window 0: the result was stored, so the original had no more use.
    WINDOW_0 = "window_0"
    #: Found in storage without a record tracking it, older than the longest window.
    ORPHAN = "orphan"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    event: AuditAction
    upload_id: str
    tenant: str
    kind: ObjectKind
    reason: Reason
    #: When it happened (for deletions: after the object was verified gone).
    at: datetime
    #: The process that did it: ``host:pid``.
    by: str
    #: The deadline the deletion enforced; ``at - deadline`` is its lateness.
    deadline: datetime | None = None

    @property
    def lateness(self) -> timedelta | None:
        return None if self.deadline is None else self.at - self.deadline

    def to_fields(self) -> dict[str, str]:
        """Flat ``str -> str`` fields (a Redis stream entry, a JSON line)."""
        fields = {
            "event": self.event.value,
            "upload_id": self.upload_id,
            "tenant": self.tenant,
            "kind": self.kind.value,
            "reason": self.reason.value,
            "at": _iso(self.at),
            "by": self.by,
        }
        if self.deadline is not None:
            fields["deadline"] = _iso(self.deadline)
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> AuditEvent:
        deadline = fields.get("deadline")
        return cls(
            event=AuditAction(fields["event"]),
            upload_id=fields["upload_id"],
            tenant=fields["tenant"],
            kind=ObjectKind(fields["kind"]),
            reason=Reason(fields["reason"]),
            at=datetime.fromisoformat(fields["at"]),
            by=fields["by"],
            deadline=datetime.fromisoformat(deadline) if deadline else None,
        )

    def to_json(self) -> str:
        data: dict[str, Any] = dict(self.to_fields())
        if (lateness := self.lateness) is not None:
            data["lateness_seconds"] = round(lateness.total_seconds(), 3)
        return json.dumps(data, sort_keys=True)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events to read; every criterion left ``None`` matches everything."""

    tenant: str | None = None
    upload_id: str | None = None
    #: Events at or after this time.
    since: datetime | None = None
    #: Events before this time.
    until: datetime | None = None

    def matches(self, event: AuditEvent) -> bool:
        return (
            (self.tenant is None or event.tenant == self.tenant)
            and (self.upload_id is None or event.upload_id == self.upload_id)
            and (self.since is None or event.at >= self.since)
            and (self.until is None or event.at < self.until)
        )


class AuditLog(Protocol):
    """An append-only, ordered, durable log of :class:`AuditEvent`."""

    def append(self, event: AuditEvent) -> None: ...

    def read(self, where: AuditFilter | None = None) -> Iterator[AuditEvent]:
        """Matching events (all if ``where`` is ``None``), oldest first."""
        ...


def max_lateness(events: Iterable[AuditEvent]) -> timedelta | None:
    """The latest any deletion among ``events`` happened after its deadline.

    ``None`` if none of them had a deadline. Negative would mean a deletion before its
    deadline, which the sweeper never does; it is reported as it is, not clamped.
    """
    latenesses = [e.lateness for e in events if e.lateness is not None]
    return max(latenesses, default=None)


def default_actor() -> str:
    """``host:pid``: enough to find the process's logs, nothing about any user."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
