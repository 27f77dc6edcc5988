"""Retention and erasure against a real redis-server, with a clock the tests move.

The client, the processor (with a stand-in pipeline) and the sweepers run in this
process, except where a test needs a real process to die: a sweeper killed mid-sweep,
and a retention worker clearing its scratch folder at start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest

from redactor.audit import AuditAction, Reason
from redactor.errors import StorageError
from redactor.jobs import JobState
from redactor.retention import (
    SweepReport,
    overdue_count,
)
from redactor.service.client import JobNotDone
from redactor.service.retention_setup import open_retention
from redactor.service.settings import ServiceSettings
from redactor.storage import LocalStorage, keys
from testkit.services import FAST_OPTIONS
from tests.integration import retention_world
from tests.integration.retention_world import (
    FAILED,
    HOUR,
    FakePipeline,
    World,
    assert_index_matches_record,
    due_uploads,
    summary,
)

pytestmark = [pytest.mark.redis]


#: The shared retention world, found by name.
world = retention_world.world


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


if __name__ == "__main__":
    sweep_in_this_process(sys.argv[1])
