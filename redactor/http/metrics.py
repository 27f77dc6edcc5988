"""Prometheus metrics for ``GET /metrics``, in a registry of the app's own.

A registry per app (not the library's global one) so several apps in one process (tests)
do not collide. Queue depth, jobs by state and deletion lateness are read when scraped,
so they are right whichever API process answers. Labels are route templates, never raw
paths: ids stay out of the metrics and the label set stays small.

Request counts and latencies are counted by the process that answered. With several
server processes (``redactor serve --workers N``) they are kept in prometheus_client's
multiprocess files in ``PROMETHEUS_MULTIPROC_DIR`` (``serve`` makes a fresh folder when
it is not set) and every scrape adds up all processes' files, so the totals do not
depend on which process answers. prometheus_client reads the variable when it is first
imported, so it must be set before that (``serve`` sets it before the server processes
start).

For autoscaling, each queue's backlog and the tasks its workers finished (counted in
Redis by the workers, so every API process reports the same totals) are exported per
queue; see docs/deploy.md for the rules built on them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from redactor.http.limits import queue_depth
from redactor.jobs import JobState
from redactor.service.queues import OUTCOMES, queue_stats
from redactor.service.redis_jobs import count_by_state

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: prometheus_client's own variable: the folder several server processes count in.
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class ApiMetrics:
    def __init__(
        self,
        client: redis.Redis,
        queue: str,
        deletion_lateness: Callable[[], float] | None = None,
        overdue_objects: Callable[[], float] | None = None,
        queues: Sequence[str] = (),
    ) -> None:
        """``queues``: the queues to report per queue (default: ``queue``); queues whose
        workers have counted finished tasks are reported too."""
        self.registry = CollectorRegistry()
        shared = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
        if shared:
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        # Counted here, or (several processes) in the shared files the collector reads.
        counted = None if shared else self.registry
        self.requests = Counter(
            "redactor_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=counted,
        )
        self.latency = Histogram(
            "redactor_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=counted,
        )
        self.uploads = Counter(
            "redactor_http_uploads", "Images accepted and queued.", registry=counted
        )
        self.registry.register(
            ReadWhenScraped(
                queue_depth=lambda: queue_depth(client, queue),
                deletion_lateness=deletion_lateness,
                overdue_objects=overdue_objects,
            )
        )
        self.registry.register(JobsByState(client))
        self.registry.register(QueueThroughput(client, tuple(queues) or (queue,)))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class ReadWhenScraped(Collector):
    """Gauges read from Redis or a callback at each scrape (NaN when unknown), so every
    process reports the same value and nothing lands in the multiprocess files."""

    def __init__(
        self,
        *,
        queue_depth: Callable[[], float],
        deletion_lateness: Callable[[], float] | None,
        overdue_objects: Callable[[], float] | None,
    ) -> None:
        self.gauges = (
            ("redactor_queue_depth", "Tasks waiting in the Celery queue.", queue_depth),
            (
                "redactor_deletion_lateness_seconds",
                "How late the most overdue retention deletion is (NaN until retention reports).",
                deletion_lateness,
            ),
            (
                "redactor_retention_overdue_objects",
                "Stored objects past their retention deadline right now "
                "(each sweep brings it to 0).",
                overdue_objects,
            ),
        )

    def collect(self) -> Iterator[Metric]:
        for name, documentation, read in self.gauges:
            yield GaugeMetricFamily(name, documentation, value=_or_nan(read) if read else math.nan)


class JobsByState(Collector):
    """``redactor_jobs{state=...}``: job records in Redis by state, from the counters the
    job store keeps with every record write (one HGETALL per scrape, however many)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("redactor_jobs", "Job records by state.", labels=["state"])
        try:
            counts = count_by_state(self.client)
        except redis.RedisError:
            counts = None
        for state in JobState:
            family.add_metric([state.value], math.nan if counts is None else counts[state])
        yield family


class QueueThroughput(Collector):
    """Per queue, read when scraped: ``redactor_queue_waiting{queue}`` (tasks not yet
    taken) and ``redactor_queue_finished_total{queue,outcome}`` (tasks workers finished).

    An autoscaler adds workers to a queue while its backlog grows faster than
    ``rate(redactor_queue_finished_total[5m])`` drains it.
    """

    def __init__(self, client: redis.Redis, queues: Sequence[str]) -> None:
        self.client = client
        self.queues = queues

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "redactor_queue_waiting", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        finished = CounterMetricFamily(
            "redactor_queue_finished",
            "Tasks workers finished, by queue and outcome (done, failed, skipped).",
            labels=["queue", "outcome"],
        )
        try:
            stats = queue_stats(self.client, self.queues)
        except redis.RedisError:  # a scrape must not fail: the queues read as unknown
            stats = []
            for name in self.queues:
                waiting.add_metric([name], math.nan)
        for queue in stats:
            waiting.add_metric([queue.queue], queue.waiting)
            for outcome in OUTCOMES:
                finished.add_metric([queue.queue, outcome], queue.finished.get(outcome, 0))
        yield waiting
        yield finished


def _or_nan(read: Callable[[], float]) -> float:
    """A scrape must not fail because Redis (or a callback) did: report NaN instead."""
    try:
        return float(read())
    except Exception:  # noqa: BLE001 - any failure reads as "unknown"
        return math.nan
