"""Worlds for the fault-injection tests: private Redis, real workers, real faults.

Each world owns its own ``redis-server`` (on a free loopback port, append-only with
``appendfsync always`` as docs/queue.md recommends), its own storage and scratch
folders, and its workers; the test may kill any of them. Every process runs in its own
process group and is killed with its children at teardown, whatever the test did.

Process facts come from ``/proc`` (Linux): a worker's pool processes are its children,
and a process's peak resident memory is ``VmHWM``.

Long variants (more jobs, more kills, every-byte truncations, longer load phases) run
with ``REDACTOR_LONG_RELIABILITY=1``; the default set keeps the whole directory within
a few minutes on two cores. Measured figures are written to
``test-artifacts/reliability/<name>.json`` for docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from redis import Redis

from redactor.clock import utcnow
from redactor.jobs import JobRecord
from redactor.service.client import RedactorClient
from redactor.service.requeue import open_requeuer
from redactor.service.retention_setup import open_retention
from redactor.service.stack import ChildProcess, RedisServer, wait_for_log, worker_process
from testkit.services import WORKER_READY_TIMEOUT, ApiServer, QueueEnv, free_port, server_variables
from tests.support import ROOT, shared_image

LONG = os.environ.get("REDACTOR_LONG_RELIABILITY") == "1"
ARTIFACTS = ROOT / "test-artifacts" / "reliability"


def seed() -> int:
    """The random seed of this run (``REDACTOR_RELIABILITY_SEED`` replays one)."""
    return int(
        os.environ.get("REDACTOR_RELIABILITY_SEED") or random.SystemRandom().randrange(10**6)
    )


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Keep what a test measured, for the fault matrix in docs/reliability.md."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")


# --- Processes -------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (a Celery worker's pool processes)."""
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def main_pid(child: ChildProcess) -> int:
    assert child.process is not None, "the process is not running"
    return child.process.pid


def pool_processes(worker: ChildProcess) -> list[int]:
    return children(main_pid(worker))


def peak_rss_mib(pid: int) -> float:
    """The most resident memory ``pid`` ever had (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s"
        time.sleep(poll)


# --- Worlds ----------------------------------------------------------------------------------


@dataclass
class World:
    """A private redis-server and a queue environment over it (database 0)."""

    root: Path
    redis: RedisServer
    env: QueueEnv
    clients: list[RedactorClient] = field(default_factory=list)

    def client(self) -> RedactorClient:
        made = self.env.client()
        self.clients.append(made)
        return made

    def raw(self) -> Redis:
        return Redis.from_url(self.env.redis_url, decode_responses=True)

    def start_worker(
        self, name: str, *, concurrency: int = 1, node: str | None = None, **overrides: str
    ) -> ChildProcess:
        """A worker with ``concurrency`` pool processes; returns once they all have models.

        ``node``: its Celery node name (default ``name``); a worker restarted under the
        same node name, as a service manager restarts it, clears that node's scratch.
        """
        log_path = self.root / f"{name}.log"
        env = {**os.environ, **self.env.variables(**overrides), "GLOG_minloglevel": "2"}
        worker = worker_process(
            env=env,
            concurrency=concurrency,
            queue=self.env.fields().get("queue", "redactor"),
            hostname=f"{node or name}@%h",
            log_path=log_path,
        )
        self.env.workers.append(worker)
        worker.start()
        wait_for_log(log_path, " ready.", timeout=WORKER_READY_TIMEOUT, child=worker)
        wait_until(
            lambda: _log(log_path).count("worker process ready") >= concurrency,
            WORKER_READY_TIMEOUT,
            f"{name}'s pool processes loading their models",
        )
        return worker

    def close(self) -> None:
        for made in self.clients:
            with contextlib.suppress(Exception):
                made.close()
        self.env.stop_workers()
        self.redis.kill()


def _log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def make_world(root: Path, **overrides: str) -> World:
    """Start a private redis-server; workers are started by the test."""
    root.mkdir(parents=True, exist_ok=True)
    server = RedisServer(root / "redis", port=free_port(), log_path=root / "redis.log")
    server.start()
    (root / "storage").mkdir(exist_ok=True)
    return World(root, server, QueueEnv(server, root, database=0, overrides=overrides))


@pytest.fixture
def world_factory(tmp_path: Path) -> Iterator[Callable[..., World]]:
    """Private worlds for one test, all stopped (killed) at its end."""
    made: list[World] = []

    def make(name: str = "world", **overrides: str) -> World:
        made.append(make_world(tmp_path / name, **overrides))
        return made[-1]

    try:
        yield make
    finally:
        for world in made:
            world.close()


class Supervisor(threading.Thread):
    """Restarts services that exit, as ``Restart=always`` does in deploy/systemd/.

    Each service is a function that starts it and returns the process; it is called once
    now, and again whenever that process has exited.
    """

    def __init__(self, services: dict[str, Callable[[int], ChildProcess]]) -> None:
        super().__init__(daemon=True)
        self.services = services
        self.current = {name: start(0) for name, start in services.items()}
        self.restarts: Counter[str] = Counter()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            for name, child in list(self.current.items()):
                if not child.running and not self.stopped.is_set():
                    self.restarts[name] += 1
                    self.current[name] = self.services[name](self.restarts[name])

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=120)


class Sweeping(threading.Thread):
    """What the periodic sweep task does, every ``interval`` seconds: delete what is due,
    and send the task again for jobs whose message was lost (``workers/retention.py``)."""

    def __init__(self, world: World, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        settings = world.env.settings()
        self.sweeper = open_retention(settings).sweeper()
        self.requeuer = open_requeuer(settings)
        self.interval = interval
        self.requeued = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            with contextlib.suppress(Exception):  # a failed sweep is retried by the next
                self.sweeper.sweep()
                self.requeued += self.requeuer.requeue_lost(utcnow())

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=60)


# --- Images ----------------------------------------------------------------------------------

#: Shared photos with faces, cut down so a faces-only job takes a fraction of a second.
FACE_PHOTOS = ("face_group_selfie.jpg", "face_hand_occlusion.jpg", "face_portrait_closeup.jpg")


def small_face_images(width: int = 320) -> list[bytes]:
    """A few small JPEGs of faces (the shared photos, scaled down)."""
    made = []
    for name in FACE_PHOTOS:
        with Image.open(shared_image(name)) as photo:
            small = photo.convert("RGB")
            small.thumbnail((width, width))
            buffer = io.BytesIO()
            small.save(buffer, "JPEG", quality=90)
            made.append(buffer.getvalue())
    return made


def finished_records(client: RedactorClient, job_ids: list[str]) -> list[JobRecord]:
    return [client.status(job_id) for job_id in job_ids]


# --- A small file system of our own ----------------------------------------------------------


@dataclass
class Tmpfs:
    """A size-limited tmpfs mounted for one test: real ENOSPC, and ``chattr +i`` for EPERM."""

    path: Path
    size: str

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0700", "tmpfs", str(self.path)],
            check=True,
            capture_output=True,
        )

    def unmount(self) -> None:
        subprocess.run(["chattr", "-R", "-i", str(self.path)], capture_output=True, check=False)
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True, check=False)

    def free_bytes(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave: int = 0) -> Path:
        """Fill the file system until at most ``leave`` bytes are free; the ballast file."""
        ballast = self.path / "ballast"
        with ballast.open("ab") as handle:
            while (free := self.free_bytes()) > leave:
                try:
                    handle.write(b"\x00" * min(free - leave, 1 << 20))
                    handle.flush()
                except OSError:
                    break
        return ballast


def immutable(path: Path, on: bool = True) -> None:
    """``chattr +i``: nobody, root included, may create, rename or delete entries in it."""
    subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True, capture_output=True)


@pytest.fixture
def tmpfs() -> Iterator[Callable[[Path, str], Tmpfs]]:
    """Mount size-limited tmpfs folders (skips where this process may not mount)."""
    mounted: list[Tmpfs] = []

    def mount(path: Path, size: str) -> Tmpfs:
        made = Tmpfs(path, size)
        try:
            made.mount()
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {exc}")
        mounted.append(made)
        return made

    try:
        yield mount
    finally:
        for made in reversed(mounted):
            made.unmount()


# --- The service world: workers and the HTTP API, shared by the door and load tests ----------


@dataclass
class ServiceWorld:
    """A private Redis, one worker with two pool processes and ``redactor serve``."""

    world: World
    worker: ChildProcess
    api: ApiServer

    @property
    def spool(self) -> Path:
        return self.world.root / "spool"


#: Uploads are refused with 503 once more tasks than this wait (the load test's bound).
MAX_QUEUE_DEPTH = 4


@pytest.fixture(scope="package")
def service_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceWorld]:
    from testkit.hostile import CORPUS_LIMITS

    limits = {
        "pipeline__limits__max_pixels": str(CORPUS_LIMITS.max_pixels),
        "pipeline__limits__max_total_pixels": str(CORPUS_LIMITS.max_total_pixels),
    }
    world = make_world(
        tmp_path_factory.mktemp("service"),
        task_soft_time_limit="40",
        task_time_limit="50",
        visibility_timeout="60",
        **limits,
    )
    api = ApiServer(
        server_variables(world.env, max_queue_depth=str(MAX_QUEUE_DEPTH)),
        world.root / "api.log",
    )
    try:
        worker = world.start_worker("worker", concurrency=2)
        api.start()
        yield ServiceWorld(world, worker, api)
    finally:
        api.stop()
        world.close()
