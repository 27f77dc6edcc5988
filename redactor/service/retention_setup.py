"""The Redis-backed retention parts, built once from settings at an entry point.

The sweep task, the retention CLI commands and the HTTP API all need the same set: the
job store, the retention index, the audit log and storage, over one Redis connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from redactor.audit import default_actor
from redactor.clock import Clock, utcnow
from redactor.retention import Deleter, RetentionPolicy, Sweeper
from redactor.service.redis_audit import RedisAuditLog
from redactor.service.redis_jobs import RedisJobStore, connect
from redactor.service.redis_retention import RedisRetentionIndex
from redactor.service.settings import ServiceSettings
from redactor.storage import Storage


@dataclass
class Retention:
    jobs: RedisJobStore
    index: RedisRetentionIndex
    audit: RedisAuditLog
    storage: Storage
    policy: RetentionPolicy
    #: A claim lasts this long before another sweeper may take the item over.
    lease: timedelta
    #: Unfinished storage writes older than this are dead (their writer was killed).
    partial_after: timedelta
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
        )


def open_retention(
    settings: ServiceSettings, *, clock: Clock = utcnow, actor: str | None = None
) -> Retention:
    client = connect(settings.redis_url, outage_seconds=settings.redis_outage_seconds)
    return Retention(
        jobs=RedisJobStore(client, result_retention=settings.result_retention, clock=clock),
        index=RedisRetentionIndex(client),
        audit=RedisAuditLog(client),
        storage=settings.build_storage(),
        policy=settings.retention_policy(),
        lease=timedelta(seconds=settings.sweep_lease),
        # Past the task hard limit no worker is still writing; clients get ten minutes.
        partial_after=timedelta(seconds=max(settings.task_time_limit, 600)),
        clock=clock,
        actor=actor or default_actor(),
    )
