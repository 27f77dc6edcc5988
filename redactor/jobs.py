"""Job records, their state machine, and the protocol of the store that keeps them.

A job is one uploaded image on its way through the queue::

    received --> queued --> processing --> done
        |           |         |    ^
        |           |         +----+  re-claim (a redelivered task)
        +-----------+---------+-------> failed
    any state but erased -------------> erased

``processing -> processing`` is a re-claim: the broker redelivers a task whose worker
died, and the new attempt takes the job over (``attempts`` goes up by one). Every change
is a compare-and-set on the state and, for workers, on the attempt number, so two
workers can never both move one job, and a stale attempt can never publish.

The rules live here as pure functions; a :class:`JobStore` only has to apply them
atomically. Records hold only what serving and deleting need: ids, keys, states, times,
deadlines, counts of findings by kind and reason codes; the options only while the job
is unfinished (a lost task is sent again with them). The report is an object in
storage, never in the record, and nothing is image bytes, OCR'd text or client file
names. Erasure turns a record into a tombstone: ids, keys (made of ids only), states
and times.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from redactor import retention_defaults
from redactor.audit import AuditEvent
from redactor.errors import RedactorError
from redactor.options import PipelineOptions
from redactor.storage import keys


class JobState(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    ERASED = "erased"


#: States a job never leaves except by erasure.
FINISHED = frozenset({JobState.DONE, JobState.FAILED, JobState.ERASED})

ALLOWED: Mapping[JobState, frozenset[JobState]] = {
    JobState.RECEIVED: frozenset({JobState.QUEUED, JobState.FAILED, JobState.ERASED}),
    JobState.QUEUED: frozenset({JobState.PROCESSING, JobState.FAILED, JobState.ERASED}),
    JobState.PROCESSING: frozenset(
        {JobState.PROCESSING, JobState.DONE, JobState.FAILED, JobState.ERASED}
    ),
    JobState.DONE: frozenset({JobState.ERASED}),
    JobState.FAILED: frozenset({JobState.ERASED}),
    JobState.ERASED: frozenset(),
}


class JobNotFound(RedactorError):
    code = "job_not_found"


class IllegalTransition(RedactorError):
    """The state machine has no such move (a bug in the caller, never retried)."""

    code = "illegal_transition"


class TransitionConflict(RedactorError):
    """The job is not in the state (or attempt) the caller expected: someone else moved it."""

    code = "transition_conflict"

    def __init__(self, message: str, current: JobRecord) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True, slots=True)
class Failure:
    #: Stable machine-readable reason, e.g. ``corrupt_image`` or ``missing_upload``.
    code: str
    message: str
    #: Where the pipeline's report was stored when the pipeline itself failed.
    report_key: str | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    result_key: str
    report_key: str
    output_format: str
    #: Findings by kind (the report's ``counts``).
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobRecord:
    job_id: str
    tenant: str
    state: JobState
    original_key: str
    #: The :class:`PipelineOptions` the job runs with, as JSON-ready data; dropped
    #: (``{}``) once the job is finished.
    options: dict[str, Any]
    #: When the original must be deleted (retention), UTC.
    original_deadline: datetime
    #: When the job entered each state it has been in (the latest time for re-claims).
    timestamps: dict[JobState, datetime] = field(default_factory=dict)
    attempts: int = 0
    #: When the result and report must be deleted; set when the job is done.
    result_deadline: datetime | None = None
    result_key: str | None = None
    report_key: str | None = None
    output_format: str | None = None
    #: Findings by kind, from the report, once the job is done.
    counts: dict[str, int] = field(default_factory=dict)
    failure_code: str | None = None
    failure_message: str | None = None
    #: This upload's result window; ``None``: the store's default, applied when it finishes.
    result_retention: timedelta | None = None
    #: Window 0: the original goes as soon as the job is finished; ``original_deadline``
    #: then only bounds how long a job that never finishes keeps it.
    original_until_finished: bool = False
    #: When the original was verifiably deleted (retention or erasure).
    original_deleted_at: datetime | None = None
    #: When the result and the report were verifiably deleted.
    result_deleted_at: datetime | None = None

    @classmethod
    def new(
        cls,
        job_id: str,
        tenant: str,
        options: PipelineOptions,
        *,
        now: datetime,
        original_retention: timedelta,
        result_retention: timedelta | None = None,
        pending_limit: timedelta = retention_defaults.PENDING_LIMIT,
    ) -> JobRecord:
        """A fresh ``received`` record whose original lives at the layout's key.

        The original's deadline counts from now (the upload), whatever later happens to
        the job; with window 0 it is ``pending_limit`` away, and moves to the moment the
        job finishes.
        """
        until_finished = original_retention == timedelta(0)
        return cls(
            job_id=keys.validate_upload_id(job_id),
            tenant=keys.validate_tenant(tenant),
            state=JobState.RECEIVED,
            original_key=keys.original_key(tenant, job_id),
            options=options.model_dump(mode="json"),
            original_deadline=now + (pending_limit if until_finished else original_retention),
            timestamps={JobState.RECEIVED: now},
            result_retention=result_retention,
            original_until_finished=until_finished,
        )

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def finished_at(self) -> datetime | None:
        """When the job reached ``done`` or ``failed`` (``None`` if it has not)."""
        return self.timestamps.get(JobState.DONE) or self.timestamps.get(JobState.FAILED)


def apply_transition(
    record: JobRecord,
    to: JobState,
    *,
    expected: Collection[JobState],
    now: datetime,
    attempt: int | None = None,
    failure: Failure | None = None,
    result_retention: timedelta | None = None,
) -> JobRecord:
    """The record after moving to ``to``, if the record is as the caller expected.

    Raises :class:`TransitionConflict` if the state is not one of ``expected`` or the
    attempt differs, :class:`IllegalTransition` if the table has no such move. A failure
    that stored a report keeps it for ``result_retention`` (like a result's report).
    A finished job drops its options; moving to ``erased`` leaves a tombstone (see
    :func:`tombstone`).
    """
    _expect(record, expected, attempt)
    if to not in ALLOWED[record.state]:
        raise IllegalTransition(f"a job cannot go from {record.state} to {to}")
    if (to is JobState.FAILED) != (failure is not None):
        raise IllegalTransition("a failure reason is required for, and only for, 'failed'")
    moved = replace(
        record,
        state=to,
        timestamps={**record.timestamps, to: now},
        attempts=record.attempts + 1 if to is JobState.PROCESSING else record.attempts,
        options={} if to in FINISHED else record.options,
    )
    if to is JobState.ERASED:
        return tombstone(moved)
    if failure is None:
        return moved
    failed = replace(
        moved,
        failure_code=failure.code,
        failure_message=failure.message,
        report_key=failure.report_key,
    )
    if failure.report_key is not None and result_retention is not None:
        return replace(failed, result_deadline=now + result_retention)
    return failed


def tombstone(record: JobRecord) -> JobRecord:
    """What is left of an erased job: ids, keys made of ids, state, counts and times.

    Options (they may name deny terms), the counts and the failure message go. The keys
    stay so that deleting the objects can be finished and verified after a crash.
    """
    return replace(
        record,
        options={},
        counts={},
        output_format=None,
        failure_code=None,
        failure_message=None,
    )


def apply_result(
    record: JobRecord,
    result: JobResult,
    *,
    attempt: int,
    now: datetime,
    result_retention: timedelta,
) -> JobRecord:
    """Publish a finished result: ``processing`` (this attempt) -> ``done``."""
    done = apply_transition(
        record, JobState.DONE, expected={JobState.PROCESSING}, attempt=attempt, now=now
    )
    return replace(
        done,
        result_key=result.result_key,
        report_key=result.report_key,
        output_format=result.output_format,
        counts=dict(result.counts),
        result_deadline=now + result_retention,
    )


def _expect(record: JobRecord, expected: Collection[JobState], attempt: int | None) -> None:
    if record.state not in expected:
        raise TransitionConflict(f"job is {record.state}, expected {sorted(expected)}", record)
    if attempt is not None and record.attempts != attempt:
        raise TransitionConflict(
            f"job is at attempt {record.attempts}, expected attempt {attempt}", record
        )


class JobStore(Protocol):
    """Where job records live. Every method is atomic; transitions are compare-and-set."""

    def create(self, record: JobRecord) -> bool:
        """Store a new record; ``False`` (and no change) if the job id already exists."""
        ...

    def get(self, job_id: str) -> JobRecord | None: ...

    def transition(
        self,
        job_id: str,
        to: JobState,
        *,
        expected: Collection[JobState],
        attempt: int | None = None,
        failure: Failure | None = None,
    ) -> JobRecord:
        """Apply :func:`apply_transition` atomically; raises :class:`JobNotFound` too."""
        ...

    def set_result(self, job_id: str, result: JobResult, *, attempt: int) -> JobRecord:
        """Apply :func:`apply_result` atomically: the moment a result becomes visible."""
        ...

    def list_by_tenant(self, tenant: str, *, limit: int | None = 100) -> list[JobRecord]:
        """The tenant's most recent jobs, newest first (all of them if ``limit`` is None)."""
        ...

    def page(self, tenant: str, *, limit: int, after: Position | None = None) -> RecordPage:
        """Up to ``limit`` of the tenant's jobs that are not erased, newest first, strictly
        after ``after``; the page says where the next one starts."""
        ...

    def update_audited(self, job_id: str, change: AuditedChange) -> JobRecord | None:
        """Apply ``change`` to the current record and append its events, all atomically.

        ``change`` may run more than once (on the freshest record each time) and returns
        ``None`` when there is nothing to do; then nothing is written and ``None`` returned.
        Because the events commit with the record, each one is recorded exactly once.
        """
        ...

    def reindex(self, job_id: str) -> None:
        """Make the retention index agree with the record (or drop the job if it is gone)."""
        ...

    def purge_settled(self, before: datetime) -> int:
        """Remove the records that hold nothing any more since ``before`` or earlier, with
        their place in the tenant's listing; how many went."""
        ...


#: A record change with the audit events it causes, or ``None`` for "nothing to do".
AuditedChange = Callable[[JobRecord], tuple[JobRecord, Sequence[AuditEvent]] | None]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a listing of one tenant's jobs stopped: a job's submission time and id.

    Not an offset, so jobs submitted between two pages shift nothing.
    """

    #: When the job was received, epoch seconds.
    submitted: float
    job_id: str


@dataclass(frozen=True, slots=True)
class RecordPage:
    records: list[JobRecord]
    #: Where the next (older) page starts; ``None`` on the last page.
    next: Position | None
