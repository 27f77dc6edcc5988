"""Workers killed with SIGKILL while they work: every job still comes home, once.

A batch of small faces-only jobs runs on one worker with two pool processes. While it
runs, the test kills a pool process (found among the worker's children) at random
moments, several times, and once kills the whole worker (main process and pool) and
starts another. Celery's late acknowledgement brings a task back at once when only its
pool process died, and Redis's visibility timeout brings it back when the whole worker
died; the job record's compare-and-set makes a second run harmless.

Then, after a retention sweep: every job is done (or failed with a reason), each result
was published exactly once (one "done" per job in the worker logs, one result and one
report object each, the report's checksum matching the result), no temp file or scratch
folder is left, and every original (window 0) was deleted and audited exactly once.

A poison job (one whose worker dies every time it runs it, as a decoder crash or the
OOM killer would do) fails with ``worker_lost`` after three deaths instead of being
redelivered for ever, and the worker goes on with the next job.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from redactor.audit import AuditAction, AuditFilter
from redactor.clock import utcnow
from redactor.jobs import JobRecord, JobState
from redactor.retention import SweepReport, max_deletion_lateness
from redactor.service.client import RedactorClient
from redactor.service.processor import MAX_LOST_ATTEMPTS
from redactor.service.retention_setup import open_retention
from redactor.storage import keys
from testkit.services import FAST_OPTIONS
from tests.reliability.conftest import (
    LONG,
    Sweeping,
    World,
    finished_records,
    make_world,
    pool_processes,
    record_figures,
    seed,
    small_face_images,
    wait_until,
)
from tests.support import shared_image

pytestmark = [pytest.mark.reliability, pytest.mark.redis, pytest.mark.slow]

JOBS = 400 if LONG else 100
POOL_KILLS = 20 if LONG else 6
#: Short limits, so a task abandoned by a dead worker comes back within seconds.
LIMITS = {"task_soft_time_limit": "20", "task_time_limit": "25", "visibility_timeout": "30"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made = make_world(tmp_path_factory.mktemp("kill"), **LIMITS)
    try:
        yield made
    finally:
        made.close()


def _busy_pool_processes(world: World, killed: set[int]) -> list[int]:
    """Pool processes running a task now: each task has a scratch folder while it runs.

    A killed process's folder stays until its replacement reaps it, so those are left out.
    """
    live = set(pool_processes(world.env.workers[-1])) - killed
    running = {int(folder.parent.name) for folder in (world.root / "scratch").glob("*/*/*-*")}
    return sorted(live & running)


def _kill_during_batch(
    world: World, batch_over: Callable[[], bool], generator: random.Random
) -> Counter[str]:
    """SIGKILLs at random moments of running tasks: pool processes, and once the worker."""
    schedule = ["pool", "worker"] + ["pool"] * (POOL_KILLS - 1)
    done: Counter[str] = Counter()
    killed: set[int] = set()
    for kind in schedule:
        busy: list[int] = []
        while not busy:
            if batch_over():
                return done
            busy = _busy_pool_processes(world, killed)
            time.sleep(0.01)
        time.sleep(generator.uniform(0.0, 0.04))  # somewhere in the task, not at its start
        if kind == "worker":
            killed.update(pool_processes(world.env.workers[-1]))
            world.env.workers[-1].kill()  # main process and pool at once: nobody acks
            world.start_worker(f"restarted{done[kind]}", concurrency=2, node="kill")
        else:
            victim = generator.choice(busy)
            killed.add(victim)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        done[kind] += 1
    return done


class Submitter(threading.Thread):
    """Submits the batch at a steady pace, so that it is still under way when faults come."""

    def __init__(self, client: RedactorClient, tenant: str) -> None:
        super().__init__(daemon=True)
        self.client, self.tenant = client, tenant
        self.job_ids: list[str] = []

    def run(self) -> None:
        images = small_face_images()
        for number in range(JOBS):
            image = images[number % len(images)]
            self.job_ids.append(
                self.client.submit(
                    image, tenant=self.tenant, options=FAST_OPTIONS, original_retention=timedelta(0)
                )
            )
            time.sleep(0.08)

    def batch_over(self) -> bool:
        return not self.is_alive() and all(
            self.client.status(job_id).finished for job_id in self.job_ids
        )


def _done_lines(world: World) -> Counter[str]:
    """How many times each job was published, from every worker's log."""
    published: Counter[str] = Counter()
    for log in world.root.glob("*.log"):
        published.update(re.findall(r"job (\S{22}) done", log.read_text(errors="replace")))
    return published


@pytest.mark.timeout(900)
def test_given_pool_processes_killed_at_random_then_every_job_comes_home_once(
    world: World,
) -> None:
    generator = random.Random(run_seed := seed())
    world.start_worker("first", concurrency=2, node="kill")
    sweeping = Sweeping(world, interval=1.0)  # as beat sends them, here every second
    sweeping.start()
    client = world.client()
    tenant = f"kill-{uuid.uuid4().hex[:8]}"
    started = utcnow()
    submitter = Submitter(client, tenant)
    submitter.start()
    kills = _kill_during_batch(world, submitter.batch_over, generator)
    submitter.join(timeout=300)
    job_ids = submitter.job_ids
    assert len(job_ids) == JOBS
    assert kills["pool"] >= 3 and kills["worker"] == 1, f"batch over before the faults: {kills}"
    wait_until(
        lambda: all(client.status(job_id).finished for job_id in job_ids),
        timeout=300,
        what="every job finished after the kills",
        poll=0.5,
    )
    sweeping.stop()
    sweep = _sweep_then_backstop(world)
    records = finished_records(client, job_ids)

    done = [r for r in records if r.state is JobState.DONE]
    failed = [r for r in records if r.state is JobState.FAILED]
    assert len(done) + len(failed) == JOBS
    assert all(r.failure_code and r.failure_message for r in failed), failed
    _assert_published_once(world, client, tenant, done)
    _assert_nothing_left_over(world, tenant)
    lateness = _assert_originals_deleted_once(world, job_ids, started)
    record_figures(
        "worker_kill",
        {
            "seed": run_seed,
            "jobs_submitted": JOBS,
            "done": len(done),
            "failed": Counter(r.failure_code for r in failed),
            "lost": JOBS - len(done) - len(failed),
            "pool_kills": kills["pool"],
            "done_without_a_done_line": sum(_done_lines(world)[r.job_id] == 0 for r in done),
            "worker_kills": kills["worker"],
            "attempts": Counter(r.attempts for r in records),
            "partial_writes_swept": sweep.partial_writes,
            "lost_messages_sent_again": sweeping.requeued,
            "max_original_deletion_lateness_s": lateness,
        },
    )


def _sweep_then_backstop(world: World) -> SweepReport:
    """A sweep now, then the backstop scan as it runs once partial writes are old.

    A writer killed between its temp file and the rename leaves a ``.tmp-*`` file; the
    backstop removes those once older than the hard limit (at least ten minutes), so its
    sweeper's clock is that far ahead. Everything else was done by the sweep before it.
    """
    settings = world.env.settings()
    open_retention(settings).sweeper().sweep(orphans=True)
    ahead = timedelta(minutes=11)
    backstop = open_retention(settings, clock=lambda: utcnow() + ahead).sweeper()
    report = backstop.sweep(orphans=True)
    assert report.outcomes["deleted"] == 0 and report.orphans == 0, report
    return report


def _assert_published_once(
    world: World, client: RedactorClient, tenant: str, done: list[JobRecord]
) -> None:
    # A process killed right after publishing never logs "done", so the lines show only
    # that no job was published twice; storage shows that each has one result and report.
    published = _done_lines(world)
    assert max(published[r.job_id] for r in done) <= 1
    results = {item.key for item in client.storage.list(f"{keys.RESULTS}/{tenant}/")}
    reports = {item.key for item in client.storage.list(f"{keys.REPORTS}/{tenant}/")}
    assert results == {r.result_key for r in done}
    assert reports == {r.report_key for r in done}
    for record in done:
        digest = hashlib.sha256(client.result(record.job_id)).hexdigest()
        assert client.report(record.job_id)["output"]["sha256"] == digest


def _assert_nothing_left_over(world: World, tenant: str) -> None:
    storage = world.root / "storage"
    assert not [p for p in storage.rglob("*") if p.name.startswith(".tmp-")]
    live = {pid for worker in world.env.workers if worker.running for pid in pool_processes(worker)}
    for node in (world.root / "scratch").iterdir():
        for folder in node.iterdir():
            assert int(folder.name) in live, f"scratch of a dead process left: {folder}"
            assert not list(folder.iterdir()), f"task folder left: {list(folder.iterdir())}"


def _assert_originals_deleted_once(
    world: World, job_ids: list[str], since: datetime
) -> float | None:
    retention = open_retention(world.env.settings())
    assert not list(retention.storage.list(f"{keys.ORIGINALS}/"))
    events = [
        e
        for e in retention.audit.read(AuditFilter(since=since))
        if e.event is AuditAction.DELETED and e.kind.value == "original"
    ]
    assert Counter(e.upload_id for e in events) == Counter(job_ids)
    for job_id in job_ids:
        record = retention.jobs.get(job_id)
        assert record is not None and record.original_deleted_at is not None
    return max_deletion_lateness(retention.audit, since)


@pytest.mark.timeout(600)
def test_given_job_whose_worker_dies_every_time_then_it_fails_and_the_worker_goes_on(
    world: World,
) -> None:
    if not world.env.workers or not world.env.workers[-1].running:
        world.start_worker("poison", concurrency=2)
    client = world.client()
    tenant = f"poison-{uuid.uuid4().hex[:8]}"
    heavy = shared_image("face_portrait_closeup.jpg").read_bytes()  # a second or more per run
    job_id = client.submit(heavy, tenant=tenant, options=FAST_OPTIONS)
    scratch = world.root / "scratch"
    killed: set[int] = set()
    while not client.status(job_id).finished:
        running = {int(f.parent.name) for f in scratch.glob(f"*/*/{job_id}-*")} - killed
        for pid in running:  # the process running this job now: the crash it always causes
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.02)
        assert len(killed) <= MAX_LOST_ATTEMPTS, "the poison job is redelivered for ever"
    record = client.status(job_id)
    deaths = len(killed)
    assert (record.state, record.failure_code) == (JobState.FAILED, "worker_lost"), record
    # Three attempts died; the fourth claim finds that and fails the job instead.
    assert (deaths, record.attempts) == (MAX_LOST_ATTEMPTS, MAX_LOST_ATTEMPTS + 1)
    assert "died" in (record.failure_message or "")
    after = client.submit(small_face_images()[0], tenant=tenant, options=FAST_OPTIONS)
    assert client.wait(after, timeout=120).state is JobState.DONE
    record_figures("poison_job", {"deaths": deaths, "code": record.failure_code})
