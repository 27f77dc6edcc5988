"""Child processes for a single-machine stack (``redactor up``) and for the queue tests.

Each child runs in its own session (process group), so stopping it also stops whatever
it started (Celery's pool processes) and nothing is left running. ``stop`` asks
politely (SIGTERM: Redis flushes its append-only file, Celery finishes or requeues its
tasks), then kills the group if it has not exited in time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import redis

#: ``celery -A`` target: the worker is found by module name, never imported here.
CELERY_APP = "workers.celery_app"


class ChildProcess:
    """A command in its own process group, with its output in a log file or inherited."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log else None,
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the group, then SIGKILL it if it is still there after ``timeout``."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the whole group at once: a crash, as far as the children can tell."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _signal_group(self, signum: signal.Signals) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


@dataclass
class RedisServer:
    """A private redis-server with append-only persistence in ``data_dir``.

    ``appendfsync always`` by default: a job record acknowledged to a client must
    survive a crash, or its original would never be tracked for deletion (see
    docs/queue.md). RDB snapshots are off: the append-only file is the one source.
    Keys are never evicted: a dropped queue entry or record would lose a job.
    """

    data_dir: Path
    port: int = 6379
    host: str = "127.0.0.1"
    appendfsync: str = "always"
    log_path: Path | None = None
    child: ChildProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def argv(self) -> list[str]:
        return [
            "redis-server",
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
        ]  # fmt: skip

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.child = ChildProcess(self.argv(), log_path=self.log_path)
        self.child.start()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        """Until Redis answers PING and has loaded its append-only file."""
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.child is not None and not self.child.running:
                    raise RuntimeError(f"redis-server exited; see {self.log_path or 'its output'}")
                with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"redis-server on port {self.port} not ready in {timeout} s")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    def kill(self) -> None:
        if self.child is not None:
            self.child.kill()


def worker_argv(
    *,
    concurrency: int,
    queue: str,
    hostname: str = "redactor@%h",
    loglevel: str = "INFO",
    pool: str = "prefork",
) -> list[str]:
    """Arguments after ``celery -A workers.celery_app`` (or for ``app.worker_main``)."""
    return [
        "worker",
        "--pool", pool,
        "--concurrency", str(concurrency),
        "--queues", queue,
        "--hostname", hostname,
        "--loglevel", loglevel,
        # No worker-to-worker chatter: it is not needed here and slows start-up.
        "--without-gossip",
        "--without-mingle",
    ]  # fmt: skip


def worker_process(
    *,
    env: Mapping[str, str],
    concurrency: int,
    queue: str,
    hostname: str = "redactor@%h",
    log_path: Path | None = None,
) -> ChildProcess:
    """A Celery worker as a child process, configured by ``REDACTOR_*`` in ``env``."""
    argv = [sys.executable, "-m", "celery", "-A", CELERY_APP]
    argv += worker_argv(concurrency=concurrency, queue=queue, hostname=hostname)
    return ChildProcess(argv, env=env, log_path=log_path)


def retention_worker_argv(
    *, queue: str, hostname: str = "retention@%h", loglevel: str = "INFO"
) -> list[str]:
    """A sweeper: one process (sweeps are short and safe to run anywhere), no models."""
    return worker_argv(
        concurrency=1, queue=queue, hostname=hostname, loglevel=loglevel, pool="solo"
    )


def retention_worker_process(
    *,
    env: Mapping[str, str],
    queue: str,
    hostname: str = "retention@%h",
    log_path: Path | None = None,
) -> ChildProcess:
    argv = [sys.executable, "-m", "celery", "-A", CELERY_APP]
    argv += retention_worker_argv(queue=queue, hostname=hostname)
    return ChildProcess(argv, env=env, log_path=log_path)


def beat_argv(schedule_file: Path, loglevel: str = "INFO") -> list[str]:
    """``celery beat``, keeping its record of last runs in ``schedule_file``."""
    return ["beat", "--schedule", str(schedule_file), "--loglevel", loglevel]


def beat_process(
    *, env: Mapping[str, str], schedule_file: Path, log_path: Path | None = None
) -> ChildProcess:
    """Celery beat: sends the periodic tasks of ``workers.celery_app.beat_schedule``."""
    argv = [sys.executable, "-m", "celery", "-A", CELERY_APP, *beat_argv(schedule_file)]
    return ChildProcess(argv, env=env, log_path=log_path)


def wait_for_log(path: Path, text: str, *, timeout: float, child: ChildProcess) -> None:
    """Until ``text`` appears in a child's log (e.g. Celery's ``ready.``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if not child.running:
            raise RuntimeError(f"process exited before it was ready; see {path}")
        time.sleep(0.1)
    raise TimeoutError(f"{text!r} not in {path} after {timeout} s")


@dataclass
class Stack:
    """Redis and its clients (worker, sweeper, beat) on one machine, stopped together."""

    redis: RedisServer
    #: Started in this order once Redis is up; stopped in the reverse order.
    children: list[ChildProcess]

    def run(self, poll: float = 0.5) -> None:
        """Start all, block until SIGINT/SIGTERM or any exits, then stop all.

        Redis stops last, so running tasks can still reach it.
        """
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.redis.start()
        try:
            for child in self.children:
                child.start()
            while self._all_running() and not stop.wait(poll):
                pass
        finally:
            for child in reversed(self.children):
                child.stop()
            self.redis.stop()

    def _all_running(self) -> bool:
        redis_child = self.redis.child
        return (
            redis_child is not None
            and redis_child.running
            and all(child.running for child in self.children)
        )
