"""Retention and erasure against a real redis-server, with a clock the tests move.

The client, the processor (with a stand-in pipeline) and the sweepers run in this
process, except where a test needs a real process to die: a sweeper killed mid-sweep,
and a retention worker clearing its scratch folder at start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from redactor.audit import AuditAction, AuditEvent, AuditFilter, Reason
from redactor.cli.main import cli
from redactor.clock import utcnow
from redactor.errors import StorageError
from redactor.jobs import JobState
from redactor.pipeline import RedactionResult
from redactor.report import Report
from redactor.retention import (
    RetentionLimitExceeded,
    SweepReport,
    Target,
    max_deletion_lateness,
    overdue_count,
    pending,
)
from redactor.service.client import JobNotDone, RedactorClient
from redactor.service.processor import PipelineCache, Processor
from redactor.service.redis_jobs import job_key
from redactor.service.redis_retention import LEASES, due_key
from redactor.service.retention_setup import Retention, open_retention
from redactor.service.settings import ServiceSettings
from redactor.storage import LocalStorage, keys
from redactor.task_message import TaskMessage
from testkit.services import FAST_OPTIONS, QueueEnv
from tests.support import shared_image

pytestmark = [pytest.mark.redis]

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


# --- windows end: original, then result and report ---


def test_given_windows_pass_then_original_then_result_and_report_are_deleted_and_audited(
    world: World,
) -> None:
    job_id = world.upload(original_retention=HOUR, result_retention=2 * HOUR)
    assert world.run(job_id) == "done"
    record = world.client.status(job_id)
    assert_index_matches_record(world, job_id)

    world.clock.advance(HOUR - timedelta(seconds=1))
    assert world.sweep().as_dict()["deleted"] == 0
    world.clock.advance(timedelta(seconds=1))
    assert world.sweep().as_dict()["deleted"] == 1

    assert world.held() == [record.result_key, record.report_key]
    assert world.client.result(job_id) == b"redacted bytes"
    assert summary(world.events(job_id)) == [("deleted", "original", "retention")]

    world.clock.advance(2 * HOUR)
    world.sweep()

    assert world.held() == []
    with pytest.raises(JobNotDone, match="deleted"):
        world.client.result(job_id)
    with pytest.raises(JobNotDone, match="deleted"):
        world.client.report(job_id)
    assert summary(world.events(job_id)) == [
        ("deleted", "original", "retention"),
        ("deleted", "result", "retention"),
        ("deleted", "report", "retention"),
    ]
    events = world.events(job_id)
    assert events[0].deadline == record.original_deadline
    assert events[1].deadline == record.result_deadline
    assert all(e.by == "sweeper-test:1" and e.tenant == "acme" for e in events)
    assert_index_matches_record(world, job_id)
    assert world.indexed(job_id) == {"original": None, "result": None, "leases": 0}


# --- window 0 ---


def test_given_window_0_then_original_is_gone_as_soon_as_the_result_is_stored(
    world: World,
) -> None:
    job_id = world.upload(original_retention=timedelta(0))
    assert world.held() == [keys.original_key("acme", job_id)]

    assert world.run(job_id) == "done"

    assert world.held() == [
        keys.result_key("acme", job_id, "png"),
        keys.report_key("acme", job_id),
    ]
    assert summary(world.events(job_id)) == [("deleted", "original", "window_0")]
    assert world.events(job_id)[0].by == "worker-test:1"
    assert_index_matches_record(world, job_id)


def test_given_window_0_and_failed_job_then_original_goes_at_once_and_its_report_later(
    world: World,
) -> None:
    job_id = world.upload(original_retention=timedelta(0), result_retention=HOUR)

    assert world.run(job_id, FakePipeline(FAILED)) == "failed"

    assert world.held() == [keys.report_key("acme", job_id)]
    assert world.client.report(job_id)["error_code"] == "corrupt_image"
    world.clock.advance(HOUR)
    world.sweep()
    assert world.held() == []
    with pytest.raises(JobNotDone, match="deleted"):
        world.client.report(job_id)
    assert summary(world.events(job_id)) == [
        ("deleted", "original", "failed_job"),
        ("deleted", "report", "retention"),
    ]


def test_given_jobs_that_never_finish_then_originals_still_go_at_their_deadline(
    world: World,
) -> None:
    """The window counts from upload: a stuck job keeps nothing alive, window 0 neither."""
    stuck = world.upload(original_retention=3 * HOUR)
    stuck_window_0 = world.upload(original_retention=timedelta(0))
    world.client.jobs.transition(stuck, JobState.PROCESSING, expected={JobState.QUEUED})

    world.clock.advance(world.settings.original_pending_limit)
    world.sweep()
    assert world.held() == [keys.original_key("acme", stuck)]
    world.clock.advance(3 * HOUR)
    world.sweep()

    assert world.held() == []
    assert summary(world.events(stuck)) == [("deleted", "original", "retention")]
    assert summary(world.events(stuck_window_0)) == [("deleted", "original", "retention")]
    assert world.client.status(stuck).state is JobState.PROCESSING  # still stuck, but empty


# --- erasure ---


def assert_nothing_remains(world: World, job_id: str) -> None:
    """In storage nothing; in Redis only the tombstone and its audit trail."""
    assert world.held() == []
    fields = world.raw.hgetall(job_key(job_id))
    assert fields["state"] == "erased"
    assert set(fields) <= TOMBSTONE_FIELDS
    assert "options" not in fields and "counts" not in fields
    assert world.indexed(job_id) == {"original": None, "result": None, "leases": 0}
    assert not list((world.env.root / "scratch").rglob("*-*"))  # no task scratch folder


def test_given_erasure_while_queued_then_the_worker_later_brings_nothing_back(
    world: World,
) -> None:
    job_id = world.upload()

    report = world.client.erase(job_id)
    outcome = world.run(job_id)

    assert (report.erased_now, report.deleted, outcome) == (True, ("original",), "skipped")
    assert_nothing_remains(world, job_id)
    assert summary(world.events(job_id)) == [
        ("erased", "record", "erasure"),
        ("deleted", "original", "erasure"),
    ]


def test_given_erasure_while_processing_then_no_output_is_written(world: World) -> None:
    holder: dict[str, str] = {}
    pipeline = FakePipeline(REDACTED, during_run=lambda: world.client.erase(holder["job"]))
    holder["job"] = world.upload()

    assert world.run(holder["job"], pipeline) == "skipped"

    assert_nothing_remains(world, holder["job"])


class EraseAfterWrites(LocalStorage):
    """Erases the upload right after the worker wrote its report, before it publishes."""

    def __init__(self, root: Path, erase: Callable[[], object]) -> None:
        super().__init__(root)
        self.erase = erase

    def put(self, key: str, data: bytes) -> None:
        super().put(key, data)
        if key.startswith(keys.REPORTS):
            self.erase()


def test_given_erasure_after_output_is_written_then_the_worker_deletes_it(
    world: World,
) -> None:
    job_id = world.upload()
    storage = EraseAfterWrites(world.storage.root, lambda: world.client.erase(job_id))
    message = TaskMessage.for_job(job_id, "acme", FAST_OPTIONS).model_dump_json()

    assert world.processor(FakePipeline(REDACTED), storage).process(message) == "skipped"

    assert_nothing_remains(world, job_id)


def test_given_done_upload_erased_twice_then_everything_goes_and_is_audited_once(
    world: World,
) -> None:
    job_id = world.upload()
    world.run(job_id)

    first, second = world.client.erase(job_id), world.client.erase(job_id)

    assert (first.erased_now, first.deleted) == (True, ("original", "result"))
    assert (second.erased_now, second.deleted) == (False, ())
    assert_nothing_remains(world, job_id)
    assert Counter(summary(world.events(job_id))) == Counter(
        [
            ("erased", "record", "erasure"),
            ("deleted", "original", "erasure"),
            ("deleted", "result", "erasure"),
            ("deleted", "report", "erasure"),
        ]
    )


def test_given_eraser_died_after_the_tombstone_then_the_sweeper_finishes_it(
    world: World,
) -> None:
    """Erased by a bare transition (the deletions never ran): all objects are due now."""
    job_id = world.upload()
    world.run(job_id)

    world.client.jobs.transition(job_id, JobState.ERASED, expected={JobState.DONE})
    assert world.sweep().as_dict()["deleted"] == 2

    assert_nothing_remains(world, job_id)
    assert {e.reason for e in world.events(job_id)} == {Reason.ERASURE}


def test_given_another_tenants_upload_then_erasure_says_not_found(world: World) -> None:
    from redactor.jobs import JobNotFound
    from redactor.service.erasure import erase

    job_id = world.upload()
    with pytest.raises(JobNotFound, match="no upload"):
        erase(world.retention.jobs, world.storage, "intruder", job_id)
    assert world.client.status(job_id).state is JobState.QUEUED


# --- the backstop scan ---


def age(storage: LocalStorage, key: str, by: timedelta) -> None:
    path = storage.root / key
    when = path.stat().st_mtime - by.total_seconds()
    os.utime(path, (when, when))


def test_given_orphans_then_the_backstop_deletes_old_untracked_ones_only(world: World) -> None:
    longest = world.settings.retention_policy().longest()
    old_orphan = keys.original_key("acme", keys.new_upload_id())
    young_orphan = keys.original_key("acme", keys.new_upload_id())
    old_result_orphan = keys.result_key("acme", keys.new_upload_id(), "png")
    for key in (old_orphan, young_orphan, old_result_orphan):
        world.storage.put(key, b"bytes nobody recorded")
    age(world.storage, old_orphan, longest.original + HOUR)
    age(world.storage, young_orphan, longest.original - HOUR)
    age(world.storage, old_result_orphan, longest.result + HOUR)
    tracked = world.upload()  # a record answers for it: the index deletes it, not the scan
    age(world.storage, keys.original_key("acme", tracked), longest.original + HOUR)
    failed = world.upload()  # failed, but a dead earlier attempt had written a result
    world.run(failed, FakePipeline(FAILED))
    stray_result = keys.result_key("acme", failed, "png")
    world.storage.put(stray_result, b"output of an attempt that never published")
    age(world.storage, stray_result, longest.result + HOUR)
    partial = world.storage.root / "originals" / "acme" / ".tmp-0123456789abcdef"
    partial.write_bytes(b"half an image")
    os.utime(partial, (time.time() - 3600, time.time() - 3600))

    report = world.sweep(orphans=True)

    assert (report.orphans, report.partial_writes) == (3, 1)
    assert sorted(world.held()) == sorted(
        [
            young_orphan,
            keys.original_key("acme", tracked),
            keys.original_key("acme", failed),
            keys.report_key("acme", failed),  # the failed pipeline's report, held as usual
        ]
    )
    assert not partial.exists()
    orphans = [e for e in world.events() if e.reason is Reason.ORPHAN]
    assert sorted((e.upload_id, e.kind.value) for e in orphans) == sorted(
        [
            (keys.parse_key(old_orphan).upload_id, "original"),
            (keys.parse_key(old_result_orphan).upload_id, "result"),
            (failed, "result"),
        ]
    )


# --- several sweepers, and sweepers that die ---


def due_uploads(world: World, count: int) -> list[str]:
    job_ids = [world.upload(original_retention=HOUR) for _ in range(count)]
    world.clock.advance(HOUR)
    return job_ids


def assert_each_deleted_once(world: World, job_ids: list[str]) -> None:
    deletions = Counter(e.upload_id for e in world.events() if e.event is AuditAction.DELETED)
    assert deletions == Counter(job_ids)
    assert world.held() == []
    assert overdue_count(world.retention.index, world.clock()) == 0


@pytest.mark.timeout(120)
def test_given_four_sweepers_at_once_then_every_due_object_is_deleted_exactly_once(
    world: World,
) -> None:
    job_ids = due_uploads(world, 160)
    sweepers = [world.open_retention(f"sweeper-{n}:1").sweeper() for n in range(4)]
    for sweeper in sweepers:
        sweeper.batch = 3
    start = threading.Barrier(len(sweepers))
    reports: list[SweepReport] = []

    def run(sweeper: object) -> None:
        start.wait()
        reports.append(sweeper.sweep())  # type: ignore[attr-defined]

    threads = [threading.Thread(target=run, args=(s,)) for s in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert_each_deleted_once(world, job_ids)
    assert sum(r.outcomes["deleted"] for r in reports) == len(job_ids)
    assert len({e.by for e in world.events()}) > 1, "one sweeper did all the work"


def test_given_a_sweeper_that_claims_then_dies_then_its_items_return_after_the_lease(
    world: World,
) -> None:
    job_ids = due_uploads(world, 6)
    dead = world.open_retention("dead:1")
    lease_until = world.clock() + timedelta(seconds=world.settings.sweep_lease)
    claimed = dead.index.claim_due(world.clock(), limit=4, lease_until=lease_until)
    # It also deleted one file before dying, but never recorded it.
    world.storage.delete(keys.original_key("acme", claimed[0].job_id))

    assert world.sweep().outcomes["deleted"] == 2  # only what nobody holds
    assert overdue_count(world.retention.index, world.clock()) == 4  # leased, still overdue
    world.clock.advance(timedelta(seconds=world.settings.sweep_lease))
    report = world.sweep()

    assert (report.requeued, report.outcomes["deleted"]) == (4, 4)
    assert_each_deleted_once(world, job_ids)


class SlowStorage(LocalStorage):
    def delete(self, key: str) -> bool:
        time.sleep(0.05)
        return super().delete(key)


def sweep_in_this_process(now: str) -> None:
    """A sweeper process for the kill test: fixed clock, slow deletes, small batches."""
    settings = ServiceSettings(pipeline=FAST_OPTIONS)
    moment = datetime.fromisoformat(now)
    retention = open_retention(settings, clock=lambda: moment, actor="doomed:1")
    retention.storage = SlowStorage(settings.storage_dir)
    sweeper = retention.sweeper()
    sweeper.batch = 5
    sweeper.sweep()


@pytest.mark.timeout(120)
def test_given_sweeper_process_killed_mid_sweep_then_the_next_sweep_finishes_exactly_once(
    world: World,
) -> None:
    job_ids = due_uploads(world, 40)
    doomed = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.test_retention", world.clock().isoformat()],
        env={**os.environ, **world.env.variables()},
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(world.events()) < 5:
        assert doomed.poll() is None, "the sweeper finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    left = len(world.held())
    assert 0 < left < len(job_ids)

    world.clock.advance(timedelta(seconds=world.settings.sweep_lease))
    report = world.sweep()

    assert report.requeued > 0
    assert_each_deleted_once(world, job_ids)
    assert {e.by for e in world.events()} == {"doomed:1", "sweeper-test:1"}


# --- the clock ---


def test_given_clock_jumps_back_and_forth_then_nothing_is_early_and_nothing_missed(
    world: World,
) -> None:
    start = world.clock()
    windows = {world.upload(original_retention=hours * HOUR): hours for hours in range(1, 11)}
    deadlines = {job_id: world.client.status(job_id).original_deadline for job_id in windows}
    furthest = start
    for offset in (2.5, 1.0, -3.0, 5.5, 3.0, 5.5, 9.99, 0.0, 11.0):
        world.clock.now = start + offset * HOUR
        world.sweep()
        furthest = max(furthest, world.clock())
        gone = {
            job_id for job_id in windows if keys.original_key("acme", job_id) not in world.held()
        }
        assert gone == {job_id for job_id, at in deadlines.items() if at <= furthest}, offset
    events = {e.upload_id: e for e in world.events()}
    assert set(events) == set(windows)
    assert all(event.at >= deadlines[job_id] for job_id, event in events.items())


# --- failures are retried ---


class FlakyStorage(LocalStorage):
    failures = 1

    def delete(self, key: str) -> bool:
        if self.failures:
            self.failures -= 1
            raise StorageError(f"could not delete {key}: Input/output error")
        return super().delete(key)


def test_given_a_failed_deletion_then_the_next_sweep_retries_it(world: World) -> None:
    job_ids = due_uploads(world, 2)
    world.retention.storage = FlakyStorage(world.storage.root)

    first = world.sweep()
    assert (first.failed, first.outcomes["deleted"]) == (1, 1)
    assert len(world.held()) == 1
    assert overdue_count(world.retention.index, world.clock()) == 1

    assert world.sweep().outcomes["deleted"] == 1
    assert_each_deleted_once(world, job_ids)


# --- limits, producers, export, metrics, command line ---


def test_given_window_over_the_tenant_maximum_then_submit_fails_and_stores_nothing(
    world: World,
) -> None:
    with pytest.raises(RetentionLimitExceeded, match="over this tenant's maximum"):
        world.upload("capped", original_retention=3 * HOUR)
    with pytest.raises(RetentionLimitExceeded, match="result retention"):
        world.upload("acme", result_retention=31 * DAY)  # not listed: defaults are the max
    assert world.held("capped") == [] and world.held() == []
    capped = world.client.status(world.upload("capped"))
    assert capped.original_deadline - capped.timestamps[JobState.RECEIVED] == 2 * HOUR


def test_given_producer_messages_with_windows_then_the_worker_applies_or_refuses_them(
    world: World,
) -> None:
    processor = world.processor(FakePipeline(REDACTED))
    window_0, too_long = keys.new_upload_id(), keys.new_upload_id()
    for job_id in (window_0, too_long):
        world.storage.put(keys.original_key("capped", job_id), UPLOAD)
    base = {"v": 1, "tenant": "capped"}

    def message(job_id: str, **windows: int) -> str:
        return json.dumps(
            {**base, "job_id": job_id, "original_key": f"originals/capped/{job_id}", **windows}
        )

    assert processor.process(message(window_0, original_retention=0)) == "done"
    assert processor.process(message(too_long, result_retention=2 * 86400)) == "skipped"

    assert world.client.status(window_0).original_until_finished
    assert keys.original_key("capped", window_0) not in world.held("capped")
    refused = world.client.status(too_long)
    assert (refused.state, refused.failure_code) == (JobState.FAILED, "invalid_message")
    assert "result retention" in (refused.failure_message or "")


def test_export_lists_every_object_held_with_times_and_nothing_personal(world: World) -> None:
    from redactor.service.erasure import export

    done = world.upload()
    world.run(done)
    erased = world.upload()
    world.client.erase(erased)
    orphan = keys.new_upload_id()
    world.storage.put(keys.original_key("acme", orphan), UPLOAD)

    data = export(
        world.retention.jobs,
        world.storage,
        "acme",
        policy=world.retention.policy,
        clock=world.clock,
    )

    uploads = {u["upload_id"]: u for u in data["uploads"]}
    assert set(uploads) == {done, erased, orphan}
    assert [o["kind"] for o in uploads[done]["objects"]] == ["original", "result", "report"]
    assert uploads[done]["state"] == "done"
    assert uploads[erased] == {**uploads[erased], "state": "erased", "objects": []}
    assert uploads[orphan]["state"] is None and len(uploads[orphan]["objects"]) == 1
    record = world.client.status(done)
    original = uploads[done]["objects"][0]
    assert original["delete_by"] == record.original_deadline.isoformat()
    assert datetime.fromisoformat(original["stored_at"]) <= utcnow()
    assert set(original) == {"kind", "stored_at", "delete_by"}
    assert b"bytes" not in json.dumps(data).encode()


def test_metrics_count_overdue_items_and_report_the_worst_lateness(world: World) -> None:
    due_uploads(world, 3)
    world.clock.advance(timedelta(seconds=30))  # the sweep comes 30 s after the deadlines
    since = world.clock() - DAY

    assert overdue_count(world.retention.index, world.clock()) == 3
    assert max_deletion_lateness(world.retention.audit, since) is None
    world.sweep()

    assert overdue_count(world.retention.index, world.clock()) == 0
    assert max_deletion_lateness(world.retention.audit, since) == 30.0


def run_cli(world: World, *args: str) -> str:
    variables = {
        **world.env.variables(),
        "REDACTOR_TENANT_LIMITS": json.dumps(TENANT_LIMITS),
    }
    result = CliRunner().invoke(cli, list(args), env=variables, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_command_line_sweep_erase_export_and_audit(world: World) -> None:
    erased, kept = world.upload(), world.upload()
    expired = world.upload(original_retention=timedelta(seconds=1))
    time.sleep(1.1)  # the command line runs on the real clock

    dry = json.loads(run_cli(world, "sweep", "--dry-run"))
    assert dry["overdue"] == 1
    assert dry["due"] == [{"target": "original", "upload_id": expired}]
    assert json.loads(run_cli(world, "sweep"))["deleted"] == 1
    erasure = json.loads(run_cli(world, "erase", erased, "--tenant", "acme"))
    assert erasure == {
        "upload_id": erased,
        "tenant": "acme",
        "erased_now": True,
        "deleted": ["original"],
    }
    exported = json.loads(run_cli(world, "export", "--tenant", "acme"))
    assert {u["upload_id"] for u in exported["uploads"]} == {erased, kept, expired}

    lines = [json.loads(line) for line in run_cli(world, "audit", "--tenant", "acme").splitlines()]
    assert [(e["upload_id"], e["event"], e["reason"]) for e in lines] == [
        (expired, "deleted", "retention"),
        (erased, "erased", "erasure"),
        (erased, "deleted", "erasure"),
    ]
    assert lines[0]["lateness_seconds"] >= 0
    only_erased = run_cli(world, "audit", "--upload", erased).splitlines()
    assert len(only_erased) == 2
    future = (utcnow() + HOUR).isoformat()
    assert run_cli(world, "audit", "--since", future) == ""
    stats = json.loads(run_cli(world, "audit", "--stats"))
    assert (stats["overdue"], stats["deletions"]) == (0, 2)


def test_command_line_erase_of_unknown_upload_fails_clearly(world: World) -> None:
    variables = world.env.variables()
    result = CliRunner().invoke(
        cli, ["erase", keys.new_upload_id(), "--tenant", "acme"], env=variables
    )
    assert result.exit_code == 1
    assert "has no upload" in result.output


# --- scratch folders ---


def test_given_task_raises_then_its_scratch_folder_is_removed_anyway(world: World) -> None:
    def explode() -> None:
        assert list((world.env.root / "scratch").rglob("*-*")), "no scratch folder during run"
        raise RuntimeError("a bug in the pipeline")

    job_id = world.upload()
    with pytest.raises(RuntimeError):
        world.run(job_id, FakePipeline(REDACTED, during_run=explode))
    assert not list((world.env.root / "scratch").rglob("*-*"))


@pytest.mark.timeout(120)
def test_given_leftovers_then_a_worker_clears_its_scratch_folder_when_it_starts(
    fresh_env: Callable[..., QueueEnv],
) -> None:
    env = fresh_env()
    node = env.root / "scratch" / f"sweeper@{os.uname().nodename}"
    leftover = node / "12345" / f"{keys.new_upload_id()}-abc"
    leftover.mkdir(parents=True)
    (leftover / "decoded.ppm").write_bytes(b"pixels of a killed task")
    other_node = env.root / "scratch" / "someone-else@host" / "1"
    other_node.mkdir(parents=True)

    env.start_retention_worker("sweeper")

    assert node.is_dir() and not leftover.exists()
    assert other_node.is_dir()  # never another worker's folder
    log = (env.root / "sweeper.log").read_text()
    assert "redactor.sweep" in log


@pytest.mark.timeout(180)
def test_given_pool_process_killed_mid_task_then_its_replacement_removes_its_scratch(
    fresh_env: Callable[..., QueueEnv],
) -> None:
    """The hard time limit or the OOM killer: no finally runs, the next process cleans."""
    env = fresh_env(
        test_task_delay="3",
        task_soft_time_limit="20",
        task_time_limit="25",
        visibility_timeout="30",
    )
    env.start_worker("reaper")
    node = env.root / "scratch" / f"reaper@{os.uname().nodename}"
    with env.client() as client:
        job_id = client.submit(
            shared_image("face_group_selfie.jpg"), tenant="acme", options=FAST_OPTIONS
        )
        deadline = time.monotonic() + 60
        while not (task_folders := list(node.glob(f"*/{job_id}-*"))):
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.05)
        os.kill(int(task_folders[0].parent.name), signal.SIGKILL)
        record = client.wait(job_id, timeout=90)

    assert (record.state, record.attempts) == (JobState.DONE, 2)
    assert not task_folders[0].parent.exists()
    assert not list(node.glob(f"*/{job_id}-*"))


if __name__ == "__main__":
    sweep_in_this_process(sys.argv[1])
