"""Job records in Redis: one hash per job, one sorted set of job ids per tenant.

Transitions use optimistic locking (WATCH the job's hash, read it, apply the pure rule
from :mod:`redactor.jobs`, write it back in MULTI/EXEC). If another client changes the
hash in between, EXEC fails and the rule runs again on the fresh record, which then
raises :class:`~redactor.jobs.TransitionConflict` if the expected state is gone. We chose
this over a Lua script so the state machine exists once, in tested Python, instead of
twice; contention is one job's few workers, so optimistic retries are rare and cheap.

Every record write also writes the retention index (:mod:`.redis_retention`), the
per-state counters (``redactor:jobs:count``, a hash ``state -> jobs``, read by the
``redactor_jobs`` metric) and the index of settled records (``redactor:jobs:settled``,
job id -> when its last object was deleted) in the same transaction, and
:meth:`RedisJobStore.update_audited` adds audit events to it too. A settled record is
removed, with its place in the tenant's index, by :meth:`RedisJobStore.purge_settled`
once its grace has passed (the sweeper calls it), so Redis holds nothing for ever.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.client import Pipeline
from redis.retry import Retry
from redis.typing import EncodableT

from redactor.clock import Clock, utcnow
from redactor.jobs import (
    AuditedChange,
    Failure,
    JobNotFound,
    JobRecord,
    JobResult,
    JobState,
    Position,
    RecordPage,
    apply_result,
    apply_transition,
)
from redactor.retention import settled_at
from redactor.service.redis_audit import add_event
from redactor.service.redis_fields import from_fields, to_fields
from redactor.service.redis_retention import drop_index, write_index

KEY_PREFIX = "redactor"
#: Index entries read per round trip when paging.
_BATCH = 100


def job_key(job_id: str) -> str:
    return f"{KEY_PREFIX}:job:{job_id}"


def tenant_index_key(tenant: str) -> str:
    return f"{KEY_PREFIX}:tenant:{tenant}:jobs"


def connect(url: str, *, outage_seconds: float = 30.0) -> redis.Redis:
    """A client that rides out a Redis restart of up to about ``outage_seconds``."""
    retries = max(1, int(outage_seconds))  # backoff is capped at 1 s per try
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=10,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries),
    )


UNFINISHED_KEY = "redactor:jobs:unfinished"
COUNTS_KEY = f"{KEY_PREFIX}:jobs:count"
SETTLED_KEY = f"{KEY_PREFIX}:jobs:settled"


def count_by_state(client: redis.Redis) -> dict[JobState, int]:
    """Job records by state, from the counters every record write keeps (one HGETALL)."""
    counts = _strings(client.hgetall(COUNTS_KEY))
    return {state: int(counts.get(state.value, 0)) for state in JobState}


def write_unfinished_index(pipe: Pipeline, record: JobRecord) -> None:
    """Index unfinished jobs by when they entered their state (see :mod:`requeue`)."""
    if not record.finished and record.state is not JobState.ERASED:
        since = record.timestamps.get(record.state)
        score = since.timestamp() if since else 0.0
        pipe.zadd(UNFINISHED_KEY, {record.job_id: score})
    else:
        pipe.zrem(UNFINISHED_KEY, record.job_id)


class RedisJobStore:
    def __init__(
        self, client: redis.Redis, *, result_retention: timedelta, clock: Clock = utcnow
    ) -> None:
        self.client = client
        #: How long a result stays after the job finished, for records without their own.
        self.result_retention = result_retention
        self.clock = clock

    def create(self, record: JobRecord) -> bool:
        created = False

        def write(pipe: Pipeline) -> None:
            nonlocal created
            created = not pipe.exists(job_key(record.job_id))
            if created:
                pipe.multi()
                self._write(pipe, record, None)
                pipe.zadd(
                    tenant_index_key(record.tenant),
                    {record.job_id: record.timestamps[JobState.RECEIVED].timestamp()},
                )

        self.client.transaction(write, job_key(record.job_id))
        return created

    def get(self, job_id: str) -> JobRecord | None:
        fields = _strings(self.client.hgetall(job_key(job_id)))
        return from_fields(fields) if fields else None

    def transition(
        self,
        job_id: str,
        to: JobState,
        *,
        expected: Collection[JobState],
        attempt: int | None = None,
        failure: Failure | None = None,
    ) -> JobRecord:
        return self._update(
            job_id,
            lambda record: apply_transition(
                record,
                to,
                expected=expected,
                attempt=attempt,
                failure=failure,
                now=self.clock(),
                result_retention=self._result_window(record),
            ),
        )

    def set_result(self, job_id: str, result: JobResult, *, attempt: int) -> JobRecord:
        return self._update(
            job_id,
            lambda record: apply_result(
                record,
                result,
                attempt=attempt,
                now=self.clock(),
                result_retention=self._result_window(record),
            ),
        )

    def list_by_tenant(self, tenant: str, *, limit: int | None = 100) -> list[JobRecord]:
        last = -1 if limit is None else limit - 1
        job_ids = self.client.zrange(tenant_index_key(tenant), 0, last, desc=True)
        pipe = self.client.pipeline(transaction=False)
        for job_id in cast(list[str], job_ids):
            pipe.hgetall(job_key(job_id))
        return [from_fields(_strings(fields)) for fields in pipe.execute() if fields]

    def page(self, tenant: str, *, limit: int, after: Position | None = None) -> RecordPage:
        found: list[tuple[float, JobRecord]] = []
        for submitted, job_id in self._index_after(tenant, after):
            record = self.get(job_id)
            if record is not None and record.state is not JobState.ERASED:
                found.append((submitted, record))
                if len(found) > limit:
                    break
        page = found[:limit]
        more = len(found) > limit
        return RecordPage(
            [record for _, record in page],
            Position(page[-1][0], page[-1][1].job_id) if more else None,
        )

    def _index_after(self, tenant: str, after: Position | None) -> Iterator[tuple[float, str]]:
        """``(score, job_id)`` from the tenant's index, newest first, strictly after ``after``.

        Equal scores come in descending id order (Redis orders ties by member), so among
        ties "after" means a smaller id.
        """
        top: float | str = "+inf" if after is None else after.submitted
        offset = 0
        while True:
            batch = cast(
                list[tuple[str, float]],
                self.client.zrevrangebyscore(
                    tenant_index_key(tenant), top, "-inf", start=offset, num=_BATCH, withscores=True
                ),
            )
            for job_id, score in batch:
                if after is None or score < after.submitted or job_id < after.job_id:
                    yield score, job_id
            if len(batch) < _BATCH:
                return
            offset += len(batch)

    def update_audited(self, job_id: str, change: AuditedChange) -> JobRecord | None:
        updated: JobRecord | None = None

        def apply(pipe: Pipeline) -> None:
            nonlocal updated
            fields = _strings(pipe.hgetall(job_key(job_id)))
            if not fields:
                raise JobNotFound(f"no job {job_id}")
            previous = from_fields(fields)
            outcome = change(previous)
            updated = None if outcome is None else outcome[0]
            if outcome is None:
                return
            pipe.multi()
            self._write(pipe, outcome[0], previous)
            for event in outcome[1]:
                add_event(pipe, event)

        self.client.transaction(apply, job_key(job_id))
        return updated

    def reindex(self, job_id: str) -> None:
        def apply(pipe: Pipeline) -> None:
            fields = _strings(pipe.hgetall(job_key(job_id)))
            pipe.multi()
            if fields:
                write_index(pipe, from_fields(fields))
            else:
                drop_index(pipe, job_id)

        self.client.transaction(apply, job_key(job_id))

    def _result_window(self, record: JobRecord) -> timedelta:
        own = record.result_retention
        return own if own is not None else self.result_retention

    def _update(self, job_id: str, change: Callable[[JobRecord], JobRecord]) -> JobRecord:
        updated = self.update_audited(job_id, lambda record: (change(record), []))
        assert updated is not None
        return updated

    def purge_settled(self, before: datetime, *, batch: int = 500) -> int:
        """Remove records settled at or before ``before`` (see :func:`settled_at`); their count.

        Each is checked again on its fresh hash inside its transaction, so a record
        that changed meanwhile stays (and is indexed again as it now is).
        """
        purged = 0
        while job_ids := cast(
            list[str], self.client.zrangebyscore(SETTLED_KEY, "-inf", before.timestamp(), 0, batch)
        ):
            purged += sum(self._purge(job_id, before) for job_id in job_ids)
            if len(job_ids) < batch:
                break
        return purged

    def _purge(self, job_id: str, before: datetime) -> bool:
        purged = False

        def apply(pipe: Pipeline) -> None:
            nonlocal purged
            fields = _strings(pipe.hgetall(job_key(job_id)))
            record = from_fields(fields) if fields else None
            settled = settled_at(record) if record else None
            pipe.multi()
            if record is None or settled is None or settled > before:
                pipe.zrem(SETTLED_KEY, job_id)
                if record is not None:
                    _write_settled(pipe, record)
                return
            pipe.delete(job_key(job_id))
            pipe.zrem(tenant_index_key(record.tenant), job_id)
            pipe.zrem(SETTLED_KEY, job_id)
            pipe.hincrby(COUNTS_KEY, record.state.value, -1)
            purged = True

        self.client.transaction(apply, job_key(job_id))
        return purged

    @staticmethod
    def _write(pipe: Pipeline, record: JobRecord, previous: JobRecord | None) -> None:
        """Replace the whole hash, so fields that became empty do not linger; index and
        count it."""
        fields: dict[EncodableT, EncodableT] = {k: v for k, v in to_fields(record).items()}
        pipe.delete(job_key(record.job_id))
        pipe.hset(job_key(record.job_id), mapping=fields)
        write_index(pipe, record)
        write_unfinished_index(pipe, record)
        _write_settled(pipe, record)
        if previous is None or previous.state is not record.state:
            pipe.hincrby(COUNTS_KEY, record.state.value, 1)
            if previous is not None:
                pipe.hincrby(COUNTS_KEY, previous.state.value, -1)


def _write_settled(pipe: Pipeline, record: JobRecord) -> None:
    settled = settled_at(record)
    if settled is None:
        pipe.zrem(SETTLED_KEY, record.job_id)
    else:
        pipe.zadd(SETTLED_KEY, {record.job_id: settled.timestamp()})


def _strings(reply: Any) -> dict[str, str]:
    """A hash as ``str -> str`` (the client decodes responses)."""
    return cast(dict[str, str], reply)
