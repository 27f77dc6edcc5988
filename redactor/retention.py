"""Retention: how long each upload's objects are kept, and the sweep that deletes them.

Each upload has two windows (:class:`Windows`): the original's, counted from upload
whatever happens to the job, and the result's (with its report), counted from when the
job finished. Window 0 for the original means "until the job is finished". Defaults and
per-tenant maximums come from :class:`RetentionPolicy`; an upload may ask for shorter
windows, never longer ones.

Deadlines are absolute times stored on the job record; :func:`pending` derives from a
record what is still to be deleted and by when, and the job store keeps an index of those
deadlines in the same transaction as the record. The :class:`Sweeper` claims due items
from the index, deletes them with a :class:`Deleter`, and records each deletion with its
audit events in one atomic record change, so every deletion is audited exactly once even
with several sweepers, killed sweepers and retries. Nothing is deleted unless
``now >= deadline`` by the injected clock, so a clock that jumps back only delays. A
record that holds nothing any more is removed by the sweep once its grace has passed
(:func:`settled_at`).

This module is pure: no Redis, no Celery. The adapters live in :mod:`redactor.service`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from redactor import retention_defaults
from redactor.audit import (
    AuditAction,
    AuditEvent,
    AuditFilter,
    AuditLog,
    ObjectKind,
    Reason,
    max_lateness,
)
from redactor.clock import Clock
from redactor.errors import RedactorError, StorageError
from redactor.jobs import JobRecord, JobState, JobStore
from redactor.storage import Storage, keys

log = logging.getLogger(__name__)


class RetentionLimitExceeded(RedactorError):
    """An upload asked to be kept longer than its tenant's maximum (or for a negative time)."""

    code = "retention_limit"


# --- Policy ---


@dataclass(frozen=True, slots=True)
class Windows:
    #: How long the original is kept after upload; 0: until the job is finished.
    original: timedelta
    #: How long the result and its report are kept after the job finished.
    result: timedelta


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    #: Windows for uploads that do not ask for their own.
    defaults: Windows
    #: Per-tenant maximums. A tenant not listed may only shorten the defaults.
    limits: Mapping[str, Windows] = field(default_factory=dict)
    #: Window 0 only: how long an unfinished job may keep its original.
    pending_limit: timedelta = retention_defaults.PENDING_LIMIT

    def maximum(self, tenant: str) -> Windows:
        return self.limits.get(tenant, self.defaults)

    def resolve(
        self,
        tenant: str,
        original: timedelta | None = None,
        result: timedelta | None = None,
    ) -> Windows:
        """The windows for one upload: its own if given, else the defaults (capped).

        Raises :class:`RetentionLimitExceeded` for a window over the tenant's maximum.
        """
        cap = self.maximum(tenant)
        chosen = Windows(
            original=min(self.defaults.original, cap.original) if original is None else original,
            result=min(self.defaults.result, cap.result) if result is None else result,
        )
        _check("original", chosen.original, cap.original, allow_zero=True)
        _check("result", chosen.result, cap.result, allow_zero=False)
        return chosen

    def longest(self) -> Windows:
        """The longest any object may legitimately be kept: the orphan scan's threshold."""
        windows = [self.defaults, *self.limits.values()]
        return Windows(
            original=max(self.pending_limit, *(w.original for w in windows)),
            result=max(w.result for w in windows),
        )


def _check(name: str, window: timedelta, cap: timedelta, *, allow_zero: bool) -> None:
    if window < timedelta(0) or (window == timedelta(0) and not allow_zero):
        low = "0 s" if allow_zero else "more than 0 s"
        raise RetentionLimitExceeded(f"the {name} retention must be {low}")
    if window > cap:
        raise RetentionLimitExceeded(
            f"the {name} retention asked for ({window.total_seconds():g} s) is over this "
            f"tenant's maximum ({cap.total_seconds():g} s); ask for less or raise "
            "REDACTOR_TENANT_LIMITS"
        )


# --- What a record still holds, and by when it must go ---


class Target(StrEnum):
    """What one index entry stands for: the original, or the result with its report."""

    ORIGINAL = "original"
    RESULT = "result"


@dataclass(frozen=True, slots=True)
class DueItem:
    target: Target
    job_id: str


def pending(record: JobRecord) -> dict[Target, datetime]:
    """Each target the record still holds, with the moment it must be gone.

    An erasure makes everything due at once, unless it was due even earlier.
    """
    deadlines = {
        Target.ORIGINAL: None if record.original_deleted_at else _original_deadline(record),
        Target.RESULT: None if record.result_deleted_at else _result_deadline(record),
    }
    erased_at = record.timestamps.get(JobState.ERASED)
    return {
        target: deadline if erased_at is None else min(deadline, erased_at)
        for target, deadline in deadlines.items()
        if deadline is not None
    }


def _original_deadline(record: JobRecord) -> datetime:
    if record.original_until_finished and record.finished_at is not None:
        return min(record.original_deadline, record.finished_at)
    return record.original_deadline


def _result_deadline(record: JobRecord) -> datetime | None:
    """Set when the job finished; with nothing held (a failure without a report), none."""
    if not objects_for(record, Target.RESULT):
        return None
    if record.result_deadline is None:
        return record.timestamps.get(JobState.ERASED)
    return record.result_deadline


def settled_at(record: JobRecord) -> datetime | None:
    """When a finished record stopped holding anything (its last deletion, or the end of
    the job); ``None`` while it holds something or runs. It is kept for a grace period
    (404/410 answers, support), then removed: ids are never reused, so that is final."""
    if not record.finished or pending(record):
        return None
    moments = (
        record.original_deleted_at,
        record.result_deleted_at,
        record.finished_at,
        record.timestamps.get(JobState.ERASED),
    )
    return max(moment for moment in moments if moment is not None)


def objects_for(record: JobRecord, target: Target) -> list[tuple[ObjectKind, str]]:
    """The objects behind a target, with their storage keys."""
    if target is Target.ORIGINAL:
        return [(ObjectKind.ORIGINAL, record.original_key)]
    held: list[tuple[ObjectKind, str]] = []
    if record.result_key is not None:
        held.append((ObjectKind.RESULT, record.result_key))
    if record.report_key is not None:
        held.append((ObjectKind.REPORT, record.report_key))
    return held


def reason_for(record: JobRecord, target: Target) -> Reason:
    if record.state is JobState.ERASED:
        return Reason.ERASURE
    if target is Target.ORIGINAL and record.original_until_finished:
        if record.state is JobState.DONE:
            return Reason.WINDOW_0
        if record.state is JobState.FAILED:
            return Reason.FAILED_JOB
    return Reason.RETENTION


def apply_deletion(record: JobRecord, target: Target, at: datetime) -> JobRecord:
    """The record once a target's objects are gone."""
    if target is Target.ORIGINAL:
        return replace(record, original_deleted_at=at)
    return replace(record, result_deleted_at=at)


# --- Deleting one due item ---


class Outcome(StrEnum):
    DELETED = "deleted"
    #: Its deadline has not come (by this clock); nothing was touched.
    NOT_DUE = "not_due"
    #: Already deleted (by another sweeper, the worker or an erasure), or nothing held.
    NOTHING = "nothing"
    #: No record: the index entry was stale.
    GONE = "gone"


@dataclass
class Deleter:
    """Deletes one target of one job if, and only if, its deadline has come."""

    storage: Storage
    records: JobStore
    clock: Clock
    #: Who is deleting, for the audit log (``host:pid``).
    actor: str

    def delete_if_due(self, item: DueItem) -> Outcome:
        """Delete, verify and record; safe to repeat and to run in several processes.

        Storage errors propagate (the caller retries later); the record is then
        unchanged, so the item stays due.
        """
        record = self.records.get(item.job_id)
        if record is None:
            return Outcome.GONE
        deadline = pending(record).get(item.target)
        if deadline is None:
            return Outcome.NOTHING
        if self.clock() < deadline:
            return Outcome.NOT_DUE
        deleted = objects_for(record, item.target)
        for _, key in deleted:
            self.storage.delete(key)  # verified gone; False if it already was
        at = self.clock()
        recorded = self.records.update_audited(
            item.job_id, lambda fresh: self._record(fresh, item.target, deleted, at)
        )
        return Outcome.DELETED if recorded is not None else Outcome.NOTHING

    def _record(
        self,
        fresh: JobRecord,
        target: Target,
        deleted: Sequence[tuple[ObjectKind, str]],
        at: datetime,
    ) -> tuple[JobRecord, list[AuditEvent]] | None:
        """The change to commit, checked against the freshest record.

        ``None`` if someone else recorded it first, or if the record now names objects
        this deletion did not cover (it stays due and is done again).
        """
        deadline = pending(fresh).get(target)
        if deadline is None or at < deadline or objects_for(fresh, target) != list(deleted):
            return None
        reason = reason_for(fresh, target)
        events = [
            AuditEvent(
                event=AuditAction.DELETED,
                upload_id=fresh.job_id,
                tenant=fresh.tenant,
                kind=kind,
                reason=reason,
                at=at,
                by=self.actor,
                deadline=deadline,
            )
            for kind, _ in deleted
        ]
        return apply_deletion(fresh, target, at), events


# --- The sweep ---


class RetentionIndex(Protocol):
    """Due dates of every target still held, with atomic claims for the sweepers.

    Entries are written by the job store with the records; the sweepers only move them.
    """

    def claim_due(self, now: datetime, *, limit: int, lease_until: datetime) -> list[DueItem]:
        """Atomically take up to ``limit`` items due at ``now``; each is leased to the
        caller until ``lease_until`` and is offered to no one else meanwhile."""
        ...

    def requeue_expired(self, now: datetime) -> int:
        """Offer again the items whose lease ended (their sweeper died); their count."""
        ...

    def count_due(self, now: datetime) -> int:
        """Items past their deadline at ``now``, claimed or not."""
        ...

    def peek_due(self, now: datetime, *, limit: int) -> list[DueItem]:
        """Items due at ``now`` (not claimed), without claiming them."""
        ...


@dataclass
class SweepReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    #: Leases that had expired and were offered again.
    requeued: int = 0
    #: Items whose deletion failed; they are due again at the next sweep.
    failed: int = 0
    orphans: int = 0
    partial_writes: int = 0
    #: Settled records removed at the end of their grace.
    expired_records: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            **{outcome.value: self.outcomes[outcome.value] for outcome in Outcome},
            "requeued": self.requeued,
            "failed": self.failed,
            "orphans": self.orphans,
            "partial_writes": self.partial_writes,
            "expired_records": self.expired_records,
        }


@dataclass
class Sweeper:
    deleter: Deleter
    index: RetentionIndex
    audit: AuditLog
    policy: RetentionPolicy
    #: How long a claim holds before another sweeper may take the item over.
    lease: timedelta = timedelta(minutes=5)
    batch: int = 50
    #: Unfinished writes older than this are dead (the writer was killed).
    partial_after: timedelta = timedelta(minutes=10)
    #: How long a record that holds nothing any more is kept (see :func:`settled_at`).
    tombstone_grace: timedelta = retention_defaults.TOMBSTONE_GRACE

    def sweep(self, *, orphans: bool = False) -> SweepReport:
        """Delete everything due now; with ``orphans``, also run the backstop scan."""
        now = self.deleter.clock()
        report = SweepReport(requeued=self.index.requeue_expired(now))
        unsettled: list[DueItem] = []
        while claimed := self.index.claim_due(now, limit=self.batch, lease_until=now + self.lease):
            for item in claimed:
                outcome = self._settle(item, report)
                if outcome is not Outcome.DELETED:
                    unsettled.append(item)
        # Put back what was not deleted only now, so this sweep cannot claim it again.
        for item in unsettled:
            self.deleter.records.reindex(item.job_id)
        report.expired_records = self.deleter.records.purge_settled(now - self.tombstone_grace)
        if orphans:
            report.orphans = self.scan_orphans(now)
            report.partial_writes = self.deleter.storage.purge_partial_writes(
                now - self.partial_after
            )
        log.info("sweep: %s", report.as_dict())
        return report

    def _settle(self, item: DueItem, report: SweepReport) -> Outcome | None:
        try:
            outcome = self.deleter.delete_if_due(item)
        except StorageError as exc:
            log.warning("could not delete the %s of job %s: %s", item.target, item.job_id, exc)
            report.failed += 1
            return None
        report.outcomes[outcome.value] += 1
        return outcome

    def scan_orphans(self, now: datetime) -> int:
        """Delete stored objects no record tracks, once older than the longest window.

        Catches what the index cannot know: a crash between writing an object and
        recording it, a producer that wrote an original and never sent its task, output
        written after its job was erased. Each is audited by the one process whose
        delete removed it.
        """
        longest = self.policy.longest()
        windows = {
            keys.ORIGINALS: longest.original,
            keys.RESULTS: longest.result,
            keys.REPORTS: longest.result,
        }
        deleted = 0
        for prefix, window in windows.items():
            for stored in self.deleter.storage.list(f"{prefix}/", older_than=now - window):
                deleted += self._delete_orphan(stored.key, stored.mtime + window)
        return deleted

    def _delete_orphan(self, key: str, deadline: datetime) -> int:
        parts = keys.parse_key(key)
        if _tracks(self.deleter.records.get(parts.upload_id), key):
            return 0
        if not self.deleter.storage.delete(key):
            return 0
        self.audit.append(
            AuditEvent(
                event=AuditAction.DELETED,
                upload_id=parts.upload_id,
                tenant=parts.tenant,
                kind=ObjectKind(parts.kind),
                reason=Reason.ORPHAN,
                at=self.deleter.clock(),
                by=self.deleter.actor,
                deadline=deadline,
            )
        )
        return 1


def _tracks(record: JobRecord | None, key: str) -> bool:
    """Whether a record still answers for this object (then the index deletes it).

    A result written by an attempt that never published, or anything of a target
    already recorded as deleted, is nobody's.
    """
    if record is None:
        return False
    return any(key == held for target in pending(record) for _, held in objects_for(record, target))


# --- Metrics ---


def overdue_count(index: RetentionIndex, now: datetime) -> int:
    """How many items are past their deadline right now (each sweep brings it to 0)."""
    return index.count_due(now)


def max_deletion_lateness(audit: AuditLog, since: datetime) -> float | None:
    """The most seconds any deletion since ``since`` came after its deadline."""
    lateness = max_lateness(_deletions(audit.read(AuditFilter(since=since))))
    return None if lateness is None else lateness.total_seconds()


def _deletions(events: Iterator[AuditEvent]) -> Iterator[AuditEvent]:
    return (event for event in events if event.event is AuditAction.DELETED)
