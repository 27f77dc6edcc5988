"""The queue measured end to end: a private redis-server and Celery workers as child
processes, images submitted through ``RedactorClient`` with jobs in flight."""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.machine import proc_field

QUEUE_WORKERS = 2


@dataclass
class QueueResult:
    workers: int
    startup_s: list[float] = field(default_factory=list)
    #: Latency seconds (submit to done) and throughput, by pipeline name.
    latency_s: dict[str, list[float]] = field(default_factory=dict)
    images_per_s: dict[str, float] = field(default_factory=dict)
    #: VmHWM of each worker's pool process, and of its supervising process, in MB.
    pool_rss_mb: list[float] = field(default_factory=list)
    supervisor_rss_mb: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _vm_hwm_mb(pid: int) -> float:
    status = proc_field(Path(f"/proc/{pid}/status"), "VmHWM")
    return int(status.split()[0]) / 1024 if status else 0.0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@contextmanager
def queue_stack(
    root: Path, workers: int, result: QueueResult, ocr_precision: str = "fp32"
) -> Iterator[Any]:
    """Redis and ``workers`` one-process workers (full pipeline by default, its text
    detector at ``ocr_precision``) in ``root``; yields a connected client and stops
    every process on exit."""
    from redactor.service.client import RedactorClient
    from redactor.service.settings import ServiceSettings
    from redactor.service.stack import RedisServer, wait_for_log, worker_process

    redis_server = RedisServer(root / "redis", port=_free_port(), log_path=root / "redis.log")
    fields = {
        "dev_mode": "1",
        "redis_url": f"redis://127.0.0.1:{redis_server.port}/0",
        "storage_dir": str(root / "storage"),
        "scratch_dir": str(root / "scratch"),
        "ocr_precision": ocr_precision,
    }
    env = {**os.environ, **{f"REDACTOR_{k.upper()}": v for k, v in fields.items()}}
    env["GLOG_minloglevel"] = "2"
    children = [
        worker_process(
            env=env,
            concurrency=1,
            queue="redactor",
            hostname=f"bench{i}@%h",
            log_path=root / f"worker{i}.log",
        )
        for i in range(workers)
    ]
    redis_server.start()
    try:
        started = time.monotonic()
        for child in children:
            child.start()
        for i, child in enumerate(children):
            log = root / f"worker{i}.log"
            wait_for_log(log, "models loaded", timeout=180, child=child)
            result.startup_s.append(time.monotonic() - started)
        with RedactorClient(ServiceSettings(**fields)) as client:  # type: ignore[arg-type]
            yield client
        for child in children:
            assert child.process is not None
            pool = _children(child.process.pid)
            result.supervisor_rss_mb.append(_vm_hwm_mb(child.process.pid))
            result.pool_rss_mb += [_vm_hwm_mb(pid) for pid in pool]
    finally:
        for child in children:
            child.stop()
        redis_server.stop()


def closed_loop(client: Any, images: Sequence[bytes], options: Any, in_flight: int) -> list[float]:
    """Submit ``images`` keeping ``in_flight`` jobs running; submit-to-done seconds each."""
    from redactor.clock import utcnow
    from redactor.jobs import JobState

    pending = deque(images)
    running: dict[str, datetime] = {}
    latencies = []
    while pending or running:
        while pending and len(running) < in_flight:
            submitted = utcnow()
            running[client.submit(pending.popleft(), tenant="bench", options=options)] = submitted
        time.sleep(0.02)
        for job_id, submitted in list(running.items()):
            record = client.status(job_id)
            if not record.finished:
                continue
            if record.state is not JobState.DONE:
                raise RuntimeError(f"job {job_id} ended {record.state}: {record.failure_code}")
            latencies.append((record.finished_at - submitted).total_seconds())
            del running[job_id]
    return latencies


def measure_queue(
    paths: Sequence[Path], jobs: int, warm_up: bool, ocr_precision: str = "fp32"
) -> QueueResult:
    from redactor.options import PipelineOptions

    precision = {"ocr_precision": ocr_precision}
    options = {
        "faces": PipelineOptions.model_validate({"text": "off", "codes": False, **precision}),
        "full": PipelineOptions.model_validate(precision),
    }
    data = [p.read_bytes() for p in paths]
    images = [data[i % len(data)] for i in range(jobs)]
    result = QueueResult(QUEUE_WORKERS)
    with (
        tempfile.TemporaryDirectory(prefix="bench-speed-") as folder,
        queue_stack(Path(folder), QUEUE_WORKERS, result, ocr_precision) as client,
    ):
        for name, chosen in options.items():
            if warm_up:  # each worker builds the faces-only pipeline on its first such job
                closed_loop(client, data[: 2 * QUEUE_WORKERS], chosen, QUEUE_WORKERS)
            started = time.perf_counter()
            result.latency_s[name] = closed_loop(client, images, chosen, QUEUE_WORKERS)
            result.images_per_s[name] = jobs / (time.perf_counter() - started)
    return result


def percentile(values: Sequence[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]
