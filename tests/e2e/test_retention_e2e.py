"""Retention on the real clock with real processes: Redis, a worker, a sweeper and beat.

Windows of a few seconds, beat sending a sweep every second: every object must be gone
no later than one sweep interval (plus a little slack for delivery) after its deadline.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from redactor.audit import AuditAction, AuditFilter
from redactor.clock import utcnow
from redactor.jobs import JobRecord, JobState
from redactor.retention import Target, pending
from redactor.service.client import RedactorClient
from redactor.service.retention_setup import open_retention
from redactor.storage import keys
from testkit.services import FAST_OPTIONS, QueueEnv
from tests.integration import conftest as queue_fixtures
from tests.support import shared_image

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# The integration tests' Redis; pytest finds fixtures by these names.
redis_server = queue_fixtures.redis_server
fresh_env = queue_fixtures.fresh_env

SWEEP_INTERVAL = 1.0
#: Delivery of the sweep task and the sweep itself, on a busy two-core machine.
SLACK = 0.75
SECOND = timedelta(seconds=1)


class Disappearances(threading.Thread):
    """Polls storage and notes when each watched key stopped existing."""

    def __init__(self, client: RedactorClient) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.watched: set[str] = set()
        self.gone: dict[str, datetime] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def watch(self, *keys_: str) -> None:
        with self.lock:
            self.watched.update(keys_)

    def run(self) -> None:
        while not self.stop.wait(0.02):
            with self.lock:
                waiting = self.watched - set(self.gone)
            for key in waiting:
                if not self.client.storage.exists(key):
                    self.gone[key] = utcnow()

    def all_gone(self) -> bool:
        with self.lock:
            return self.watched <= set(self.gone)


def deadlines(record: JobRecord, done: JobRecord) -> dict[str, datetime]:
    """Each object's deadline: the original's from the record as submitted (window 0:
    the moment it finished), the result's and report's from the finished record."""
    due = {record.original_key: pending(done).get(Target.ORIGINAL) or done.finished_at}
    if done.report_key:  # a failed job's report too
        result_at = pending(done)[Target.RESULT]
        due.update({key: result_at for key in (done.result_key, done.report_key) if key})
    return {key: at for key, at in due.items() if at is not None}


@pytest.mark.timeout(90)
def test_given_beat_every_second_then_deletions_are_at_most_one_interval_late(
    fresh_env: Callable[..., QueueEnv],
) -> None:
    started = time.monotonic()
    env = fresh_env(sweep_interval=str(SWEEP_INTERVAL), sweep_lease="5")
    env.start_worker("redactor")
    env.start_retention_worker("sweeper")
    env.start_beat()
    face = shared_image("face_group_selfie.jpg").read_bytes()
    uploads = [
        (face, 3, 5),
        (face, 0, 4),  # window 0: the original goes when the result is stored
        (face, 2, 6),
        (b"not an image at all", 4, 3),  # fails; its original still goes at 4 s
    ]
    with env.client() as client:
        watcher = Disappearances(client)
        watcher.start()
        submitted = []
        for data, original, result in uploads:
            job_id = client.submit(
                data,
                tenant="e2e-retention",
                options=FAST_OPTIONS,
                original_retention=original * SECOND,
                result_retention=result * SECOND,
            )
            watcher.watch(keys.original_key("e2e-retention", job_id))
            submitted.append(job_id)
        finished = [client.wait(job_id, timeout=30) for job_id in submitted]
        assert [r.state for r in finished] == [JobState.DONE] * 3 + [JobState.FAILED]
        due: dict[str, datetime] = {}
        for job_id, done in zip(submitted, finished, strict=True):
            due.update(deadlines(client.status(job_id), done))
            watcher.watch(*due)
        wait_until = time.monotonic() + 20
        while not watcher.all_gone() or client.status(submitted[-1]).result_deleted_at is None:
            assert time.monotonic() < wait_until, sorted(watcher.watched - set(watcher.gone))
            time.sleep(0.1)
        watcher.stop.set()
        watcher.join()

    lateness = {key: (watcher.gone[key] - at).total_seconds() for key, at in due.items()}
    worst = max(lateness.values())
    print(f"\nmax deletion lateness observed in storage: {worst:.3f} s; per object: {lateness}")
    assert worst <= SWEEP_INTERVAL + SLACK, lateness
    assert min(lateness.values()) >= -0.05, "deleted before its deadline"

    retention = open_retention(env.settings())
    events = [
        e
        for e in retention.audit.read(AuditFilter(tenant="e2e-retention"))
        if e.event is AuditAction.DELETED
    ]
    expected = [(keys.parse_key(key).upload_id, keys.parse_key(key).kind) for key in due]
    assert Counter((e.upload_id, e.kind.value) for e in events) == Counter(expected)
    audited = max(e.lateness.total_seconds() for e in events if e.lateness is not None)
    print(f"max deletion lateness in the audit log: {audited:.3f} s")
    assert audited <= SWEEP_INTERVAL + SLACK
    assert {e.reason.value for e in events} == {"retention", "window_0"}
    assert time.monotonic() - started < 60
