"""The audit log: a live tail in a Redis stream, archived to storage in chained segments.

**The live tail** (``redactor:audit``) is where events are written. Entries are only
appended (``XADD``), in order, and with the append-only file and ``appendfsync always``
an acknowledged entry survives a crash. It lives in the Redis that holds the records,
so a deletion's events are written in the same MULTI/EXEC as the record change that
marks the object deleted (:meth:`RedisJobStore.update_audited`): the record and the
trail cannot disagree, and an event is never written twice.

**The archive** (:mod:`redactor.audit_segments`) is where events stay. The
:class:`AuditArchiver` (run after every sweep) takes the oldest entries of the tail in
batches: everything of one time span (``REDACTOR_AUDIT_SEGMENT_SPAN``, by the entries'
Redis timestamps) once that span is over, or ``REDACTOR_AUDIT_SEGMENT_EVENTS`` entries as
soon as there are that many. Each batch becomes one segment per tenant, written
atomically to storage; only once all of them are durable does one transaction record
the new chain head (``redactor:audit:head``) and trim the batch from the stream
(``XTRIM MINID``). An archiver that dies in between leaves the entries in the stream
and writes the same segments, byte for byte, next time; two archivers at once are kept
apart by a short lock and by the head's compare-and-set, so no event is archived twice
or lost. The tail therefore holds about one span of events, whatever the log's age.

Reading (:meth:`RedisAuditLog.read`) yields the archived segments up to the recorded
head, then the tail after it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import cast

import redis
from redis.client import Pipeline
from redis.typing import EncodableT

from redactor.audit import AuditEvent, AuditFilter
from redactor.audit_segments import (
    START,
    ChainLink,
    decode_segment,
    encode_segment,
    verify_chain,
)
from redactor.storage import Storage, StoredObject, keys

AUDIT_STREAM = "redactor:audit"
HEAD_KEY = "redactor:audit:head"
_LOCK_KEY = "redactor:audit:archiver"
#: Defaults: a segment is cut at this many events, or at the end of a span of this long.
SEGMENT_EVENTS = 10_000
SEGMENT_SPAN = timedelta(hours=1)
_PAGE = 500


def add_event(pipe: Pipeline | redis.Redis, event: AuditEvent) -> None:
    """``XADD`` one event (inside the caller's transaction when given a pipeline)."""
    fields: dict[EncodableT, EncodableT] = {k: v for k, v in event.to_fields().items()}
    pipe.xadd(AUDIT_STREAM, fields)


@dataclass(frozen=True, slots=True)
class Head:
    """What the archive holds: its chain end and the last tail entry it covers."""

    link: ChainLink
    #: ``0-0`` before anything was archived.
    last_entry: str

    @classmethod
    def read(cls, client: redis.Redis | Pipeline) -> Head:
        fields = cast(dict[str, str], client.hgetall(HEAD_KEY))
        if not fields:
            return cls(START, "0-0")
        last_at = fields.get("last_at")
        link = ChainLink(
            int(fields["seq"]),
            fields["sha256"],
            datetime.fromisoformat(last_at) if last_at else None,
        )
        return cls(link, fields["last_entry"])

    def fields(self) -> dict[EncodableT, EncodableT]:
        last_at = self.link.last_at
        return {
            "seq": self.link.seq,
            "sha256": self.link.sha256,
            "last_at": last_at.isoformat() if last_at else "",
            "last_entry": self.last_entry,
        }


class AuditTail:
    """The live tail alone: about the last segment span of events, cheap enough to read
    on every metrics scrape."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def append(self, event: AuditEvent) -> None:
        add_event(self.client, event)

    def read(self, where: AuditFilter | None = None) -> Iterator[AuditEvent]:
        where = where or AuditFilter()
        for _, fields in _entries(self.client, after=Head.read(self.client).last_entry):
            event = AuditEvent.from_fields(fields)
            if where.matches(event):
                yield event


class RedisAuditLog(AuditTail):
    """The audit log as a whole: archived segments in ``storage``, then the live tail."""

    def __init__(self, client: redis.Redis, storage: Storage) -> None:
        super().__init__(client)
        self.storage = storage

    def tail(self) -> AuditTail:
        return AuditTail(self.client)

    def read(self, where: AuditFilter | None = None) -> Iterator[AuditEvent]:
        """Matching events, oldest first: segments up to the head, then the tail.

        The head is read after the tail, so entries an archiver trimmed meanwhile are
        read from their segment instead of being missed.
        """
        where = where or AuditFilter()
        first = Head.read(self.client)
        tail = list(_entries(self.client, after=first.last_entry))
        head = Head.read(self.client)
        for stored in self._segments(where.tenant, since=where.since):
            if keys.segment_number(stored.key) <= head.link.seq:
                _, events = decode_segment(self.storage.get(stored.key))
                yield from (event for event in events if where.matches(event))
        for entry_id, fields in tail:
            event = AuditEvent.from_fields(fields)
            if _entry_after(entry_id, head.last_entry) and where.matches(event):
                yield event

    def verify(self, now: datetime, retention: timedelta) -> list[str]:
        """Problems in the archived chain (an empty list: it verifies)."""
        numbered = sorted(
            (keys.segment_number(stored.key), stored.key) for stored in self._segments(None)
        )
        segments = ((number, self.storage.get(key)) for number, key in numbered)
        return verify_chain(segments, Head.read(self.client).link, retained_after=now - retention)

    def _segments(
        self, tenant: str | None, since: datetime | None = None
    ) -> Iterator[StoredObject]:
        """Stored segments (one tenant's, or all), oldest first by number.

        A segment stored before ``since`` holds only earlier events and is skipped.
        """
        prefix = f"{keys.AUDIT}/{tenant}/" if tenant else f"{keys.AUDIT}/"
        found = [s for s in self.storage.list(prefix) if since is None or s.mtime >= since]
        yield from sorted(found, key=lambda stored: keys.segment_number(stored.key))


@dataclass
class AuditArchiver:
    """Moves the live tail into chained segments in storage, and expires old segments."""

    client: redis.Redis
    storage: Storage
    #: A batch is cut at this many events, or at the end of a span.
    segment_events: int = SEGMENT_EVENTS
    segment_span: timedelta = SEGMENT_SPAN
    #: How long a lock held by a dead archiver keeps others out.
    lock_for: timedelta = timedelta(minutes=5)
    _token: str = field(default_factory=lambda: secrets.token_hex(8))

    def archive(self) -> int:
        """Archive every complete batch of the tail now; the number of segments written."""
        if not self.client.set(_LOCK_KEY, self._token, nx=True, px=self._lock_ms()):
            return 0
        try:
            written = 0
            while (batch := self._next_batch()) is not None:
                written += self._archive(batch)
            return written
        finally:
            self._unlock()

    def expire(self, now: datetime, retention: timedelta) -> int:
        """Delete the oldest segments stored before ``now - retention``, oldest first and
        stopping at the first younger one, so what is left is still one chain."""
        cut = now - retention
        stored = sorted(
            self.storage.list(f"{keys.AUDIT}/"), key=lambda s: keys.segment_number(s.key)
        )
        removed = 0
        for segment in stored:
            if segment.mtime >= cut:
                break
            removed += self.storage.delete(segment.key)
        return removed

    def _next_batch(self) -> list[tuple[str, dict[str, str]]] | None:
        """The oldest tail entries that make a complete batch, or ``None`` if none does."""
        entries = cast(
            list[tuple[str, dict[str, str]]],
            self.client.xrange(AUDIT_STREAM, count=self.segment_events),
        )
        if not entries:
            return None
        span = self._span_of(entries[0][0])
        batch = [entry for entry in entries if self._span_of(entry[0]) == span]
        if len(batch) == self.segment_events or len(batch) < len(entries):
            return batch
        seconds, micros = self.client.time()
        return batch if self._span_of(f"{seconds * 1000 + micros // 1000}-0") > span else None

    def _archive(self, batch: list[tuple[str, dict[str, str]]]) -> int:
        head = Head.read(self.client)
        link, last_entry = head.link, batch[-1][0]
        events = sorted((AuditEvent.from_fields(fields) for _, fields in batch), key=_tenant)
        written = 0
        for tenant, of_tenant in groupby(events, key=_tenant):
            data, link = encode_segment(list(of_tenant), after=link, last_entry=last_entry)
            self.storage.put(keys.segment_key(tenant, link.seq), data)
            written += 1
        self._commit(head, Head(link, last_entry))
        return written

    def _commit(self, before: Head, after: Head) -> None:
        """Record the new head and trim the archived entries, unless someone else did."""

        def apply(pipe: Pipeline) -> None:
            if Head.read(pipe) != before:
                raise _Overtaken
            pipe.multi()
            pipe.hset(HEAD_KEY, mapping=after.fields())
            pipe.xtrim(AUDIT_STREAM, minid=_next_entry(after.last_entry), approximate=False)

        # If another archiver got there first, it wrote these same segments and recorded them.
        with contextlib.suppress(_Overtaken):
            self.client.transaction(apply, HEAD_KEY)

    def _span_of(self, entry_id: str) -> int:
        milliseconds = int(entry_id.split("-", 1)[0])
        return milliseconds // max(1, int(self.segment_span.total_seconds() * 1000))

    def _lock_ms(self) -> int:
        return int(self.lock_for.total_seconds() * 1000)

    def _unlock(self) -> None:
        def apply(pipe: Pipeline) -> None:
            if pipe.get(_LOCK_KEY) == self._token:
                pipe.multi()
                pipe.delete(_LOCK_KEY)

        self.client.transaction(apply, _LOCK_KEY)


class _Overtaken(Exception):
    pass


def _entries(client: redis.Redis, *, after: str) -> Iterator[tuple[str, dict[str, str]]]:
    start = f"({after}"
    while page := cast(
        list[tuple[str, dict[str, str]]],
        client.xrange(AUDIT_STREAM, min=start, count=_PAGE),
    ):
        yield from page
        start = f"({page[-1][0]}"


def _entry_after(entry_id: str, last: str) -> bool:
    return _parts(entry_id) > _parts(last)


def _next_entry(entry_id: str) -> str:
    milliseconds, sequence = _parts(entry_id)
    return f"{milliseconds}-{sequence + 1}"


def _parts(entry_id: str) -> tuple[int, int]:
    milliseconds, sequence = entry_id.split("-", 1)
    return int(milliseconds), int(sequence)


def _tenant(event: AuditEvent) -> str:
    return event.tenant
