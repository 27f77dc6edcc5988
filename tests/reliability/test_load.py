"""A bounded load on the HTTP endpoint and the queue together, on loopback.

One worker with two pool processes sits behind ``redactor serve`` with
``REDACTOR_MAX_QUEUE_DEPTH=4``. The test measures what the two pool processes absorb
(jobs a second, straight through the queue), then offers uploads open-loop, each at its
scheduled moment whatever happened to the last: at that rate for a fixed time, then at
twice that rate. Afterwards it waits for everything to drain.

Promises: under overload the service answers 503 with ``Retry-After`` instead of
growing its queue or its memory (the queue never holds more than the bound plus the
requests in flight at once; the API's peak RSS barely moves); no other 5xx; after the
burst the queue drains and every accepted job is done.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest

from testkit.services import FAST_OPTIONS
from tests.reliability.conftest import (
    LONG,
    MAX_QUEUE_DEPTH,
    ServiceWorld,
    peak_rss_mib,
    record_figures,
    small_face_images,
    wait_until,
)

pytestmark = [pytest.mark.reliability, pytest.mark.redis, pytest.mark.slow, pytest.mark.models]

PHASE_SECONDS = 60.0 if LONG else 12.0
#: Requests the load generator keeps in flight at most.
IN_FLIGHT = 8
FORM = {"text": "off", "codes": "false"}


@dataclass
class Phase:
    name: str
    rate: float
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)
    retry_after_missing: int = 0


class DepthMonitor(threading.Thread):
    """Samples the Celery queue's length ten times a second."""

    def __init__(self, service: ServiceWorld) -> None:
        super().__init__(daemon=True)
        self.raw = service.world.raw()
        self.stopped = threading.Event()
        self.deepest = 0

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            self.deepest = max(self.deepest, int(self.raw.llen("redactor")))


def _capacity(service: ServiceWorld, image: bytes, jobs: int = 24) -> float:
    """Jobs a second the pool processes finish, fed straight through the queue."""
    client = service.world.client()
    for _ in range(4):  # warm both pool processes
        client.wait(client.submit(image, tenant="load-warm", options=FAST_OPTIONS), timeout=120)
    started = time.monotonic()
    ids = [client.submit(image, tenant="load-calibrate", options=FAST_OPTIONS) for _ in range(jobs)]
    for job_id in ids:
        client.wait(job_id, timeout=300)
    return jobs / (time.monotonic() - started)


def _upload(http: httpx.Client, image: bytes, phase: Phase, lock: threading.Lock) -> None:
    answer = http.post("/v1/uploads", files={"files": ("a.jpg", image)}, data=FORM)
    with lock:
        phase.statuses[answer.status_code] += 1
        if answer.status_code == 202:
            phase.accepted.append(answer.json()["jobs"][0]["id"])
        elif answer.status_code in (429, 503) and "retry-after" not in answer.headers:
            phase.retry_after_missing += 1


def _offer(http: httpx.Client, image: bytes, phase: Phase) -> None:
    """Open loop: request ``n`` is sent at ``start + n / rate``, whatever came before."""
    lock = threading.Lock()
    start = time.monotonic()
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        for number in range(int(phase.rate * PHASE_SECONDS)):
            time.sleep(max(0.0, start + number / phase.rate - time.monotonic()))
            pool.submit(_upload, http, image, phase, lock)


@pytest.mark.timeout(600)
def test_given_uploads_at_then_over_capacity_then_backpressure_bounds_the_queue_and_all_drain(
    service_world: ServiceWorld,
) -> None:
    image = small_face_images()[0]
    capacity = _capacity(service_world, image)
    api = service_world.api
    key = api.create_key("load").secret
    api_rss_before = peak_rss_mib(api.pid)
    monitor = DepthMonitor(service_world)
    monitor.start()
    phases = [Phase("at capacity", capacity), Phase("twice capacity", 2 * capacity)]
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    with httpx.Client(
        base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=60, limits=limits
    ) as http:
        for phase in phases:
            _offer(http, image, phase)
        drain_started = time.monotonic()
        accepted = [job_id for phase in phases for job_id in phase.accepted]
        wait_until(
            lambda: all(
                http.get(f"/v1/jobs/{job_id}").json()["state"] in {"done", "failed"}
                for job_id in accepted
            ),
            timeout=300,
            what="every accepted upload finished after the burst",
            poll=1.0,
        )
        drained_in = time.monotonic() - drain_started
        states = Counter(http.get(f"/v1/jobs/{job_id}").json()["state"] for job_id in accepted)
    monitor.stopped.set()
    monitor.join()
    api_rss_after = peak_rss_mib(api.pid)

    record_figures(
        "load",
        {
            "capacity_jobs_per_s": round(capacity, 2),
            "phase_seconds": PHASE_SECONDS,
            "phases": {
                p.name: {"offered_per_s": round(p.rate, 2), "statuses": dict(p.statuses)}
                for p in phases
            },
            "max_queue_depth_seen": monitor.deepest,
            "queue_depth_bound": MAX_QUEUE_DEPTH,
            "drained_in_s": round(drained_in, 1),
            "accepted": len(accepted),
            "final_states": dict(states),
            "api_peak_rss_mib": {"before": round(api_rss_before), "after": round(api_rss_after)},
        },
    )
    for phase in phases:
        assert set(phase.statuses) <= {202, 503}, (phase.name, phase.statuses)
        assert phase.retry_after_missing == 0
    assert phases[1].statuses[503] > 0, "twice the capacity was never refused"
    assert monitor.deepest <= MAX_QUEUE_DEPTH + IN_FLIGHT
    assert states == {"done": len(accepted)}
    assert service_world.world.raw().llen("redactor") == 0
    assert api_rss_after <= api_rss_before + 64
