"""The audit log as a Redis stream (``redactor:audit``).

Why a stream: entries are only ever appended (``XADD``; nothing here trims or edits
them), they are ordered, and with the append-only file and ``appendfsync always`` an
acknowledged entry survives a crash. It lives in the Redis that already holds the
records, so a deletion's events are written in the same MULTI/EXEC as the record change
that marks the object deleted (:meth:`RedisJobStore.update_audited`): the record and the
trail cannot disagree, and an event is never written twice. A JSONL file per host would
need its own fsync discipline, could not be written atomically with the record, and
would scatter one upload's history over hosts.

Reading scans the stream in pages and filters in Python: fine for millions of entries.
Archiving old entries (``XTRIM MINID`` after copying them elsewhere) is the operator's
decision, never the application's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import redis
from redis.client import Pipeline
from redis.typing import EncodableT

from redactor.audit import AuditEvent, AuditFilter

AUDIT_STREAM = "redactor:audit"
_PAGE = 500


def add_event(pipe: Pipeline | redis.Redis, event: AuditEvent) -> None:
    """``XADD`` one event (inside the caller's transaction when given a pipeline)."""
    fields: dict[EncodableT, EncodableT] = {k: v for k, v in event.to_fields().items()}
    pipe.xadd(AUDIT_STREAM, fields)


class RedisAuditLog:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def append(self, event: AuditEvent) -> None:
        add_event(self.client, event)

    def read(self, where: AuditFilter | None = None) -> Iterator[AuditEvent]:
        where = where or AuditFilter()
        for fields in self._entries():
            event = AuditEvent.from_fields(fields)
            if where.matches(event):
                yield event

    def _entries(self) -> Iterator[dict[str, str]]:
        start = "-"
        while page := cast(
            list[tuple[str, dict[str, str]]],
            self.client.xrange(AUDIT_STREAM, min=start, count=_PAGE),
        ):
            for _, fields in page:
                yield fields
            start = f"({page[-1][0]}"
