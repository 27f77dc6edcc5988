"""The Redis-backed retention parts, built once from settings at an entry point.

The sweep task, the retention CLI commands and the HTTP API all need the same set: the
job store, the retention index, the audit log and its archiver, and storage, over one
Redis connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from redactor.audit import default_actor
from redactor.clock import Clock, utcnow
from redactor.retention import Deleter, RetentionPolicy, Sweeper
from redactor.service.redis_audit import AuditArchiver, RedisAuditLog
from redactor.service.redis_jobs import RedisJobStore, connect
from redactor.service.redis_retention import RedisRetentionIndex
from redactor.service.settings import ServiceSettings
from redactor.storage import Storage


@dataclass
class Retention:
    jobs: RedisJobStore
    index: RedisRetentionIndex
    audit: RedisAuditLog
    archiver: AuditArchiver
    storage: Storage
    policy: RetentionPolicy
    #: A claim lasts this long before another sweeper may take the item over.
    lease: timedelta
    #: Unfinished storage writes older than this are dead (their writer was killed).
    partial_after: timedelta
    #: Records that hold nothing any more are removed this long after their last deletion.
    tombstone_grace: timedelta
    #: Archived audit segments are deleted this long after they were written.
    audit_retention: timedelta
    clock: Clock = utcnow
    actor: str = field(default_factory=default_actor)

    def deleter(self) -> Deleter:
        return Deleter(self.storage, self.jobs, self.clock, self.actor)

    def sweeper(self) -> Sweeper:
        return Sweeper(
            deleter=self.deleter(),
            index=self.index,
            audit=self.audit,
            policy=self.policy,
            lease=self.lease,
            partial_after=self.partial_after,
            tombstone_grace=self.tombstone_grace,
        )

    def sweep(self, *, orphans: bool = False) -> dict[str, int]:
        """One sweep, then the audit tail archived; with ``orphans``, the backstop scan
        and the expiry of audit segments past their retention too."""
        summary = self.sweeper().sweep(orphans=orphans).as_dict()
        summary["audit_segments"] = self.archiver.archive()
        if orphans:
            summary["audit_segments_expired"] = self.archiver.expire(
                self.clock(), self.audit_retention
            )
        return summary


def open_retention(
    settings: ServiceSettings, *, clock: Clock = utcnow, actor: str | None = None
) -> Retention:
    client = connect(settings.redis_url, outage_seconds=settings.redis_outage_seconds)
    storage = settings.build_storage()
    return Retention(
        jobs=RedisJobStore(client, result_retention=settings.result_retention, clock=clock),
        index=RedisRetentionIndex(client),
        audit=RedisAuditLog(client, storage),
        archiver=AuditArchiver(
            client,
            storage,
            segment_events=settings.audit_segment_events,
            segment_span=settings.audit_segment_span,
        ),
        storage=storage,
        policy=settings.retention_policy(),
        lease=timedelta(seconds=settings.sweep_lease),
        # Past the task hard limit no worker is still writing; clients get ten minutes.
        partial_after=timedelta(seconds=max(settings.task_time_limit, 600)),
        tombstone_grace=settings.tombstone_grace,
        audit_retention=settings.audit_retention,
        clock=clock,
        actor=actor or default_actor(),
    )
