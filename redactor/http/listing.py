"""Pages of a tenant's uploads, newest first, with an opaque cursor.

The cursor is the last item's position in the tenant's index (its submission time and
id), not an offset, so uploads arriving between two requests shift nothing: the next
page starts strictly after the last item seen. Erased uploads are left out.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import redis

from redactor.jobs import JobRecord, JobState, JobStore
from redactor.service.redis_jobs import tenant_index_key
from redactor.storage import keys

_BATCH = 100


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    score: float
    job_id: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.score!r} {self.job_id}".encode()).decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            score, job_id = base64.urlsafe_b64decode(text.encode("ascii")).decode().split(" ")
            cursor = cls(float(score), job_id)
        except (ValueError, UnicodeError, binascii.Error):
            raise InvalidCursor("cursor is not one this API returned") from None
        if not keys.UPLOAD_ID_PATTERN.fullmatch(job_id) or cursor.score != cursor.score:
            raise InvalidCursor("cursor is not one this API returned")
        return cursor


@dataclass(frozen=True, slots=True)
class Page:
    records: list[JobRecord]
    next_cursor: Cursor | None


def tenant_page(
    client: redis.Redis, jobs: JobStore, tenant: str, *, limit: int, after: Cursor | None
) -> Page:
    found: list[tuple[float, JobRecord]] = []
    for score, job_id in _index_after(client, tenant, after):
        record = jobs.get(job_id)
        if record is not None and record.state is not JobState.ERASED:
            found.append((score, record))
            if len(found) > limit:
                break
    page = found[:limit]
    more = len(found) > limit
    next_cursor = Cursor(page[-1][0], page[-1][1].job_id) if more else None
    return Page([record for _, record in page], next_cursor)


def _index_after(
    client: redis.Redis, tenant: str, after: Cursor | None
) -> Iterator[tuple[float, str]]:
    """``(score, job_id)`` from the tenant's index, newest first, strictly after ``after``.

    Equal scores come in descending id order (Redis orders ties by member), so among
    ties "after" means a smaller id.
    """
    top: float | str = "+inf" if after is None else after.score
    offset = 0
    while True:
        batch = cast(
            list[tuple[str, float]],
            client.zrevrangebyscore(
                tenant_index_key(tenant), top, "-inf", start=offset, num=_BATCH, withscores=True
            ),
        )
        for job_id, score in batch:
            if after is None or score < after.score or job_id < after.job_id:
                yield score, job_id
        if len(batch) < _BATCH:
            return
        offset += len(batch)
