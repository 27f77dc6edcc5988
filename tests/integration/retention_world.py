"""The retention world the retention and erasure tests share: a real redis-server, the
client, the processor with a stand-in pipeline and the sweepers in this process, and a
clock the tests move."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import redis

from redactor.audit import AuditEvent, AuditFilter
from redactor.clock import utcnow
from redactor.jobs import JobState
from redactor.pipeline import RedactionResult
from redactor.report import Report
from redactor.retention import (
    SweepReport,
    Target,
    pending,
)
from redactor.service.client import RedactorClient
from redactor.service.processor import PipelineCache, Processor
from redactor.service.redis_retention import LEASES, due_key
from redactor.service.retention_setup import Retention, open_retention
from redactor.service.settings import ServiceSettings
from redactor.storage import LocalStorage, keys
from redactor.task_message import TaskMessage
from testkit.services import FAST_OPTIONS, QueueEnv

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
UPLOAD = b"uploaded image bytes (the stand-in pipeline never decodes them)"
TENANT_LIMITS = {"capped": {"original": "PT2H", "result": "P1D"}}
#: Fields a tombstone may keep: ids, keys made of ids, state, counts, times.
TOMBSTONE_FIELDS = {
    "job_id",
    "tenant",
    "state",
    "attempts",
    "options",
    "original_key",
    "result_key",
    "report_key",
    "original_deadline",
    "result_deadline",
    "result_retention",
    "original_until_finished",
    "original_deleted_at",
    "result_deleted_at",
    *(f"at_{state.value}" for state in JobState),
}


class FakeClock:
    """Starts at the real time (so file mtimes make sense) and moves only when told."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class FakePipeline:
    def __init__(self, result: RedactionResult, during_run: Callable[[], None] = lambda: None):
        self.result, self.during_run = result, during_run

    def run(self, data: bytes) -> RedactionResult:
        self.during_run()
        return self.result


REDACTED = RedactionResult(Report(status="redacted"), output=b"redacted bytes", output_format="png")
FAILED = RedactionResult(
    Report(status="failed", error_code="corrupt_image", error="truncated"), None, None
)


@dataclass
class World:
    env: QueueEnv
    clock: FakeClock = field(default_factory=FakeClock)

    def __post_init__(self) -> None:
        self.settings = ServiceSettings(
            **self.env.fields(),  # type: ignore[arg-type]
            pipeline=FAST_OPTIONS,
            tenant_limits=TENANT_LIMITS,
        )
        self.client = RedactorClient(self.settings, clock=self.clock)
        self.retention = self.open_retention("sweeper-test:1")
        self.storage = self.client.storage
        self.raw = redis.Redis.from_url(self.env.redis_url, decode_responses=True)

    def open_retention(self, actor: str) -> Retention:
        return open_retention(self.settings, clock=self.clock, actor=actor)

    def upload(self, tenant: str = "acme", **windows: timedelta) -> str:
        return self.client.submit(UPLOAD, tenant=tenant, options=FAST_OPTIONS, **windows)

    def processor(self, pipeline: FakePipeline, storage: LocalStorage | None = None) -> Processor:
        return Processor(
            storage=storage or self.storage,
            jobs=self.retention.jobs,
            pipelines=PipelineCache(lambda options: pipeline),
            default_options=FAST_OPTIONS,
            original_retention=self.settings.original_retention,
            scratch_dir=self.env.root / "scratch" / "test",
            policy=self.settings.retention_policy(),
            clock=self.clock,
            actor="worker-test:1",
        )

    def run(self, job_id: str, pipeline: FakePipeline | None = None) -> str:
        record = self.client.status(job_id)
        message = TaskMessage.for_job(job_id, record.tenant, FAST_OPTIONS).model_dump_json()
        return self.processor(pipeline or FakePipeline(REDACTED)).process(message)

    def sweep(self, *, orphans: bool = False) -> SweepReport:
        return self.retention.sweeper().sweep(orphans=orphans)

    def events(self, upload_id: str | None = None) -> list[AuditEvent]:
        return list(self.retention.audit.read(AuditFilter(upload_id=upload_id)))

    def held(self, tenant: str = "acme") -> list[str]:
        return [
            item.key
            for prefix in (keys.ORIGINALS, keys.RESULTS, keys.REPORTS)
            for item in self.storage.list(f"{prefix}/{tenant}/")
        ]

    def indexed(self, job_id: str) -> dict[str, float | None]:
        """Where the job stands in the index: a deadline per target, and leases."""
        found: dict[str, float | None] = {
            target.value: self.raw.zscore(due_key(target), job_id) for target in Target
        }
        found["leases"] = sum(
            self.raw.zscore(LEASES, f"{target.value}:{job_id}") is not None for target in Target
        )
        return found


@pytest.fixture
def world(fresh_env: Callable[..., QueueEnv]) -> Iterator[World]:
    """A world on a fresh Redis and folder, closed afterwards. Test modules take it by
    name (``world = retention_world.world``)."""
    made = World(fresh_env())
    yield made
    made.client.close()


def summary(events: list[AuditEvent]) -> list[tuple[str, str, str]]:
    return [(e.event.value, e.kind.value, e.reason.value) for e in events]


def assert_index_matches_record(world: World, job_id: str) -> None:
    record = world.client.status(job_id)
    due = pending(record)
    expected = {t.value: due[t].timestamp() if t in due else None for t in Target}
    assert world.indexed(job_id) == {**expected, "leases": 0}


def due_uploads(world: World, count: int) -> list[str]:
    """``count`` uploads whose originals are due now (the clock moved past them)."""
    job_ids = [world.upload(original_retention=HOUR) for _ in range(count)]
    world.clock.advance(HOUR)
    return job_ids
