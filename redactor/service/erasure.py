"""Erasure and export for one tenant's uploads: the calls behind the client, CLI and HTTP API.

Both work on the protocols only (a job store, a storage), so any front door can call
them with what it already holds.

**Erasure order.** The record becomes a tombstone first, in one transaction with its
``erased`` audit event and with every remaining object made due *now* in the retention
index. Only then are the objects deleted, each deletion recorded like any other (reason
``erasure``). From the moment of the tombstone no worker can publish (its
compare-and-set fails and it deletes what it wrote), and if this process dies half-way
the sweeper finishes the deletions from the index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redactor.audit import AuditAction, AuditEvent, ObjectKind, Reason, default_actor
from redactor.clock import Clock, utcnow
from redactor.jobs import JobNotFound, JobRecord, JobState, JobStore, apply_transition
from redactor.retention import (
    Deleter,
    DueItem,
    Outcome,
    RetentionPolicy,
    Target,
    pending,
)
from redactor.storage import Storage, StoredObject, keys

_NOT_ERASED = frozenset(JobState) - {JobState.ERASED}


@dataclass(frozen=True, slots=True)
class ErasureReport:
    upload_id: str
    tenant: str
    #: ``False`` if the upload had already been erased (this call only re-checked it).
    erased_now: bool
    #: Targets whose deletion this call recorded (``original``, ``result``).
    deleted: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "tenant": self.tenant,
            "erased_now": self.erased_now,
            "deleted": list(self.deleted),
        }


def erase(
    jobs: JobStore,
    storage: Storage,
    tenant: str,
    upload_id: str,
    *,
    clock: Clock = utcnow,
    actor: str | None = None,
) -> ErasureReport:
    """Erase one upload now: original, result, report and the record's personal parts.

    Idempotent: erasing again finishes whatever a crashed erasure left. Raises
    :class:`JobNotFound` if the tenant has no such upload (another tenant's upload is
    "not found" too, so ids cannot be probed across tenants). Storage errors propagate;
    the sweeper retries the deletions meanwhile.
    """
    actor = actor or default_actor()
    record = jobs.get(keys.validate_upload_id(upload_id))
    if record is None or record.tenant != keys.validate_tenant(tenant):
        raise JobNotFound(f"tenant {tenant} has no upload {upload_id}")
    tombstoned = jobs.update_audited(upload_id, lambda fresh: _tombstone(fresh, clock(), actor))
    deleter = Deleter(storage, jobs, clock, actor)
    deleted = tuple(
        target.value
        for target in Target
        if deleter.delete_if_due(DueItem(target, upload_id)) is Outcome.DELETED
    )
    return ErasureReport(upload_id, tenant, tombstoned is not None, deleted)


def _tombstone(
    record: JobRecord, now: datetime, actor: str
) -> tuple[JobRecord, list[AuditEvent]] | None:
    if record.state is JobState.ERASED:
        return None
    erased = apply_transition(record, JobState.ERASED, expected=_NOT_ERASED, now=now)
    event = AuditEvent(
        event=AuditAction.ERASED,
        upload_id=record.job_id,
        tenant=record.tenant,
        kind=ObjectKind.RECORD,
        reason=Reason.ERASURE,
        at=now,
        by=actor,
    )
    return erased, [event]


def export(
    jobs: JobStore,
    storage: Storage,
    tenant: str,
    *,
    policy: RetentionPolicy,
    clock: Clock = utcnow,
) -> dict[str, Any]:
    """Everything held for ``tenant``, for access and portability requests, as JSON data.

    Per upload: its id, state and creation time, and each object still held (from
    storage listings, so objects no record tracks show up too) with when it was stored
    and when it will be deleted. Ids, kinds and times only: no content, no file names.
    """
    tenant = keys.validate_tenant(tenant)
    records = {record.job_id: record for record in jobs.list_by_tenant(tenant, limit=None)}
    uploads: dict[str, dict[str, Any]] = {
        job_id: _upload_entry(record) for job_id, record in records.items()
    }
    longest = policy.longest()
    for stored in _stored_objects(storage, tenant):
        parts = keys.parse_key(stored.key)
        record = records.get(parts.upload_id)
        window = longest.original if parts.kind == ObjectKind.ORIGINAL else longest.result
        deadline = _deadline(record, parts.kind) or stored.mtime + window
        entry = uploads.setdefault(parts.upload_id, _untracked_entry(parts.upload_id))
        entry["objects"].append(
            {"kind": parts.kind, "stored_at": _iso(stored.mtime), "delete_by": _iso(deadline)}
        )
    return {
        "tenant": tenant,
        "generated_at": _iso(clock()),
        "uploads": sorted(uploads.values(), key=lambda u: (u["created_at"] or "", u["upload_id"])),
    }


def _stored_objects(storage: Storage, tenant: str) -> Iterator[StoredObject]:
    for prefix in (keys.ORIGINALS, keys.RESULTS, keys.REPORTS):
        yield from storage.list(f"{prefix}/{tenant}/")


def _upload_entry(record: JobRecord) -> dict[str, Any]:
    return {
        "upload_id": record.job_id,
        "state": record.state.value,
        "created_at": _iso(record.timestamps[JobState.RECEIVED]),
        "objects": [],
    }


def _untracked_entry(upload_id: str) -> dict[str, Any]:
    return {"upload_id": upload_id, "state": None, "created_at": None, "objects": []}


def _deadline(record: JobRecord | None, kind: str) -> datetime | None:
    if record is None:
        return None
    return pending(record).get(Target.ORIGINAL if kind == ObjectKind.ORIGINAL else Target.RESULT)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
