"""Load benchmark for the HTTP API: N uploads from C concurrent clients on loopback.

    python -m bench.http_load [--uploads 200] [--clients 20] [--image PATH]
    python -m bench.http_load --url http://127.0.0.1:8000 --key rdk_...   # a running API

Without ``--url`` it starts a private stack on loopback (redis-server, two one-process
workers, ``redactor serve``) in a temp folder and stops all of it afterwards. Each
client uploads one image (faces only), long-polls its job until it is finished,
downloads the result, and takes the next upload. Printed: the status codes seen, jobs
done / lost, throughput, and percentiles of the upload request and of the whole round
trip (upload to downloaded result). tests/e2e/test_http.py runs a small variant of
:func:`run_load` and asserts only correctness.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = ROOT / "samples" / "studio" / "astronaut_camera.jpg"
FACES_ONLY = {"text": "off", "codes": "false"}


@dataclass
class LoadResult:
    uploads: int
    clients: int
    elapsed: float = 0.0
    #: Every status code answered, by code (uploads, polls and downloads).
    statuses: Counter[int] = field(default_factory=Counter)
    #: Final state of every accepted job, by job id.
    final_states: dict[str, str] = field(default_factory=dict)
    upload_seconds: list[float] = field(default_factory=list)
    round_trip_seconds: list[float] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def done(self) -> int:
        return sum(state == "done" for state in self.final_states.values())

    @property
    def lost(self) -> int:
        """Uploads that were not accepted, or whose job did not end ``done``."""
        return self.uploads - self.done

    def summary(self) -> str:
        return "\n".join(
            [
                f"{self.uploads} uploads from {self.clients} clients in {self.elapsed:.1f} s",
                f"statuses: {dict(sorted(self.statuses.items()))}",
                f"jobs done: {self.done}, lost or failed: {self.lost}, 5xx: {self.server_errors}",
                f"throughput: {self.done / self.elapsed:.2f} images/s" if self.elapsed else "",
                _percentiles("upload request", self.upload_seconds),
                _percentiles("upload to result", self.round_trip_seconds),
            ]
        )


def _percentiles(name: str, values: list[float]) -> str:
    if len(values) < 2:
        return f"{name}: too few samples"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"{name}: p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, "
        f"p99 {cuts[98] * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
    )


async def run_load(
    base_url: str, key: str, image: bytes, *, uploads: int, clients: int, timeout: float = 900
) -> LoadResult:
    """Run the load and return what happened; raises ``TimeoutError`` past ``timeout``."""
    result = LoadResult(uploads, clients)
    pending: asyncio.Queue[int] = asyncio.Queue()
    for number in range(uploads):
        pending.put_nowait(number)
    limits = httpx.Limits(max_connections=clients)
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as http:
        workers = [_client(http, pending, image, result) for _ in range(clients)]
        await asyncio.wait_for(asyncio.gather(*workers), timeout)
    result.elapsed = time.perf_counter() - started
    return result


async def _client(
    http: httpx.AsyncClient, pending: asyncio.Queue[int], image: bytes, result: LoadResult
) -> None:
    while not pending.empty():
        number = pending.get_nowait()
        started = time.perf_counter()
        files = {"files": (f"{number}.jpg", image, "image/jpeg")}
        response = await http.post("/v1/uploads", files=files, data=FACES_ONLY)
        result.statuses[response.status_code] += 1
        result.upload_seconds.append(time.perf_counter() - started)
        if response.status_code != 202:
            continue
        job_id = response.json()["jobs"][0]["id"]
        state = await _wait_finished(http, job_id, result)
        result.final_states[job_id] = state
        if state == "done":
            download = await http.get(f"/v1/jobs/{job_id}/result")
            result.statuses[download.status_code] += 1
            result.round_trip_seconds.append(time.perf_counter() - started)


async def _wait_finished(http: httpx.AsyncClient, job_id: str, result: LoadResult) -> str:
    while True:
        response = await http.get(f"/v1/jobs/{job_id}", params={"wait": 30})
        result.statuses[response.status_code] += 1
        if response.status_code != 200:
            return f"http {response.status_code}"
        state: str = response.json()["state"]
        if state in {"done", "failed", "erased"}:
            return state


@contextmanager
def private_stack(root: Path, workers: int = 2) -> Iterator[tuple[str, str]]:
    """``(url, key)`` of a loopback stack in ``root``; everything is stopped on exit."""
    from redactor.service.stack import RedisServer
    from testkit.services import ApiServer, QueueEnv, free_port, server_variables

    redis_server = RedisServer(root / "redis", port=free_port(), log_path=root / "redis.log")
    redis_server.start()
    env = QueueEnv(redis_server, root, database=0)
    server = ApiServer(server_variables(env), root / "api.log")
    try:
        for number in range(workers):
            env.start_worker(f"bench{number}")
        (root / "storage").mkdir(parents=True, exist_ok=True)
        server.start()
        yield server.url, server.create_key("bench").secret
    finally:
        server.stop()
        env.stop_workers()
        redis_server.stop()


@click.command()
@click.option("--uploads", type=click.IntRange(1), default=200, show_default=True)
@click.option("--clients", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--image",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_IMAGE,
    show_default=True,
)
@click.option("--url", default=None, help="A running API; default: start a private stack.")
@click.option("--key", default=None, help="An API key for --url.")
def main(uploads: int, clients: int, image: Path, url: str | None, key: str | None) -> None:
    """Measure the API under a bounded load; see the module docstring."""
    data = image.read_bytes()
    if url is not None:
        if key is None:
            raise click.UsageError("--url needs --key")
        result = asyncio.run(run_load(url, key, data, uploads=uploads, clients=clients))
    else:
        with tempfile.TemporaryDirectory(prefix="http-load-") as folder:
            click.echo("starting redis-server, two workers and redactor serve ...", err=True)
            with private_stack(Path(folder)) as (stack_url, stack_key):
                result = asyncio.run(
                    run_load(stack_url, stack_key, data, uploads=uploads, clients=clients)
                )
    click.echo(result.summary())


if __name__ == "__main__":
    main()
