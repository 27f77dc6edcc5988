"""redis-server killed (SIGKILL) and restarted while jobs are submitted and processed.

Redis runs as docs/queue.md recommends (``appendonly yes``, ``appendfsync always``, no
RDB, no eviction). A client thread keeps submitting small faces-only jobs while the
test kills Redis twice at random moments and restarts it on the same port and data
folder. Workers reconnect by themselves; a task message lost in the crash (Celery moves
it from the queue list to its unacked hash in two steps) is sent again by the retention
sweep that Celery beat triggers every second (``redactor.service.requeue``).

Promise: no job is lost. Every job whose ``submit`` returned an id ends ``done``, each
published once; the number submitted equals the number finished.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from redactor.jobs import JobState
from redactor.service.client import RedactorClient
from testkit.services import FAST_OPTIONS
from tests.reliability.conftest import (
    LONG,
    Supervisor,
    World,
    make_world,
    record_figures,
    seed,
    small_face_images,
    wait_until,
)

pytestmark = [pytest.mark.reliability, pytest.mark.redis, pytest.mark.slow]

#: Jobs submitted (``None``: the long run submits until its kills are over).
JOBS: int | None = None if LONG else 80
REDIS_KILLS = 20 if LONG else 2
LIMITS = {
    "task_soft_time_limit": "20",
    "task_time_limit": "25",
    "visibility_timeout": "30",
    "sweep_interval": "1",
}


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made = make_world(tmp_path_factory.mktemp("redis-restart"), **LIMITS)
    try:
        yield made
    finally:
        made.close()


class Submitter(threading.Thread):
    """Submits ``count`` jobs one after another (or until stopped); keeps the ids."""

    def __init__(self, client: RedactorClient, count: int | None, tenant: str) -> None:
        super().__init__(daemon=True)
        self.client, self.count, self.tenant = client, count, tenant
        self.accepted: list[str] = []
        self.refused: Counter[str] = Counter()
        self.stopped = threading.Event()

    @property
    def attempted(self) -> int:
        return len(self.accepted) + sum(self.refused.values())

    def run(self) -> None:
        images = small_face_images()
        while not self.stopped.is_set() and (self.count is None or self.attempted < self.count):
            try:
                image = images[self.attempted % len(images)]
                self.accepted.append(
                    self.client.submit(image, tenant=self.tenant, options=FAST_OPTIONS)
                )
            except Exception as exc:  # a refused submit is counted, not lost
                self.refused[type(exc).__name__] += 1
            time.sleep(0.05)


def _kill_and_restart(world: World, generator: random.Random, submitter: Submitter) -> int:
    """SIGKILL Redis and start it again, at random moments while jobs are submitted."""
    kills = 0
    while kills < REDIS_KILLS and submitter.is_alive():
        time.sleep(generator.uniform(0.5, 2.0))
        world.redis.kill()  # a crash: no shutdown, no final fsync beyond appendfsync always
        kills += 1
        time.sleep(generator.uniform(0.2, 1.5))
        world.redis.start()
    if submitter.count is None:
        submitter.stopped.set()
    return kills


def _published(world: World) -> Counter[str]:
    published: Counter[str] = Counter()
    for log in world.root.glob("*.log"):
        published.update(re.findall(r"job (\S{22}) done", log.read_text(errors="replace")))
    return published


def _services(world: World) -> Supervisor:
    """The worker, the sweeper and beat, each restarted if it exits (as systemd would).

    A Redis crash can end a worker's main process: kombu 5.7 meets a connection already
    torn down while it restores unacknowledged messages ("Unrecoverable error:
    AttributeError: 'NoneType' object has no attribute 'hostname'"), about one run in ten
    here. Production units restart it (``Restart=always``); so does this test, and it
    counts the restarts.
    """
    return Supervisor(
        {
            "worker": lambda n: world.start_worker(f"worker{n}", concurrency=2, node="worker"),
            "sweeper": lambda n: world.env.start_retention_worker(f"sweeper{n}"),
            "beat": lambda n: world.env.start_beat(),
        }
    )


@pytest.mark.timeout(600)
def test_given_redis_killed_mid_batch_then_every_submitted_job_finishes(world: World) -> None:
    generator = random.Random(run_seed := seed())
    supervisor = _services(world)
    supervisor.start()
    client = world.client()
    submitter = Submitter(client, JOBS, f"restart-{uuid.uuid4().hex[:8]}")
    submitter.start()
    kills = _kill_and_restart(world, generator, submitter)
    submitter.join(timeout=300)
    assert not submitter.is_alive(), "submitting hung after the restarts"

    accepted = submitter.accepted
    wait_until(
        lambda: all(client.status(job_id).finished for job_id in accepted),
        timeout=240,
        what="every accepted job finished (lost messages are sent again by the sweep)",
        poll=1.0,
    )
    supervisor.stop()
    states = Counter(client.status(job_id).state for job_id in accepted)
    published = _published(world)
    requeued = sum(
        log.read_text(errors="replace").count("sent its task again")
        for log in world.root.glob("*.log")
    )
    record_figures(
        "redis_restart",
        {
            "seed": run_seed,
            "redis_kills": kills,
            "jobs_attempted": submitter.attempted,
            "jobs_submitted": len(accepted),
            "submits_refused": dict(submitter.refused),
            "finished": sum(states.values()),
            "states": {state.value: count for state, count in states.items()},
            "lost": len(accepted) - sum(states.values()),
            "tasks_sent_again_by_sweeps": requeued,
            "service_restarts": dict(supervisor.restarts),
        },
    )
    assert states == {JobState.DONE: len(accepted)}, states
    assert {job_id: published[job_id] for job_id in accepted} == dict.fromkeys(accepted, 1)
