"""Child processes for a single-machine stack (``redactor up``) and for the queue tests.

Each child runs in its own session (process group), so stopping it also stops whatever
it started (Celery's pool processes) and nothing is left running. ``stop`` asks
politely (SIGTERM: Redis flushes its append-only file, Celery finishes or requeues its
tasks), then kills the group if it has not exited in time.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import redis

from redactor.service.restarts import RestartPolicy, Restarts, describe_exit

log = logging.getLogger(__name__)

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
        name: str = "",
    ) -> None:
        self.argv = list(argv)
        #: What logs call it (``worker``, ``beat``...); the program name by default.
        self.name = name or Path(self.argv[0]).name
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

    @property
    def returncode(self) -> int | None:
        """The exit status once it has exited (negative: the signal that ended it)."""
        return None if self.process is None else self.process.poll()

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


#: Commands no client of ours needs that would let a client write files or load code
#: (``CONFIG SET dir`` then ``SAVE``, ``MODULE LOAD``), or give itself those back (``ACL``).
DENIED_COMMANDS = ("config", "debug", "module", "acl")


@dataclass
class RedisServer:
    """A private redis-server with append-only persistence in ``data_dir``.

    ``appendfsync always`` by default: a job record acknowledged to a client must
    survive a crash, or its original would never be tracked for deletion (see
    docs/queue.md). RDB snapshots are off: the append-only file is the one source.
    Keys are never evicted: a dropped queue entry or record would lose a job.

    With a ``password`` every client must authenticate (``redactor up`` keeps one per
    data folder, see :func:`stack_password`). Only its SHA-256 appears on the command
    line, which any local user can read. :data:`DENIED_COMMANDS` are refused either way.
    """

    data_dir: Path
    port: int = 6379
    host: str = "127.0.0.1"
    appendfsync: str = "always"
    log_path: Path | None = None
    password: str | None = None
    child: ChildProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}{self.host}:{self.port}/0"

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
            "--user", "default", "on", *self._password_rule(), "~*", "&*", "+@all",
            *(f"-{command}" for command in DENIED_COMMANDS),
        ]  # fmt: skip

    def _password_rule(self) -> list[str]:
        if self.password is None:
            return ["nopass"]
        return ["resetpass", "#" + hashlib.sha256(self.password.encode()).hexdigest()]

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.child = ChildProcess(self.argv(), log_path=self.log_path, name="redis-server")
        self.child.start()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        """Until Redis answers PING and has loaded its append-only file."""
        client = redis.Redis(
            host=self.host, port=self.port, password=self.password, socket_timeout=1
        )
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


def stack_password(url_file: Path) -> str:
    """The Redis password of a data folder: the one in its URL file, or a new one."""
    if url_file.exists():
        password = urlsplit(url_file.read_text().strip()).password
        if password:
            return password
    return secrets.token_urlsafe(32)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable and writable by this user only (0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older partial file may have had other bits
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    partial.replace(path)


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
    return ChildProcess(argv, env=env, log_path=log_path, name="worker")


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
    return ChildProcess(argv, env=env, log_path=log_path, name="sweeper")


def beat_argv(schedule_file: Path, loglevel: str = "INFO") -> list[str]:
    """``celery beat``, keeping its record of last runs in ``schedule_file``."""
    return ["beat", "--schedule", str(schedule_file), "--loglevel", loglevel]


def beat_process(
    *, env: Mapping[str, str], schedule_file: Path, log_path: Path | None = None
) -> ChildProcess:
    """Celery beat: sends the periodic tasks of ``workers.celery_app.beat_schedule``."""
    argv = [sys.executable, "-m", "celery", "-A", CELERY_APP, *beat_argv(schedule_file)]
    return ChildProcess(argv, env=env, log_path=log_path, name="beat")


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


class StackFailed(RuntimeError):
    """A child kept exiting right after each start; ``redactor up`` stops."""


@dataclass
class Stack:
    """Redis and its clients (worker, sweeper, beat) on one machine, kept running together.

    A child that exits is logged with its name and exit status, the rest of its process
    group is killed (a Celery worker's pool outlives its main process) and it is started
    again after a backoff (:mod:`redactor.service.restarts`). Redis comes first: while it
    is down nothing else is restarted, and it restarts from its append-only file.
    Running tasks ride out the outage (clients retry Redis); tasks of jobs whose worker
    died are sent again by the retention sweep (:mod:`redactor.service.requeue`).
    """

    redis: RedisServer
    #: Started in this order once Redis is up; stopped in the reverse order.
    children: list[ChildProcess]
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    #: Seconds Redis may take to load its append-only file when it is restarted.
    redis_restart_timeout: float = 60.0
    clock: Callable[[], float] = time.monotonic

    def run(self, poll: float = 0.5) -> None:
        """Start all, heal until SIGINT/SIGTERM, then stop all."""
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            restarts = self.start()
            while not stop.wait(poll):
                self.heal(restarts)
        finally:
            self.stop()

    def start(self) -> dict[str, Restarts]:
        """Redis, then each child; returns their restart state for :meth:`heal`."""
        restarts = {name: Restarts(self.policy) for name in self._names()}
        self.redis.start()
        restarts["redis-server"].started(self.clock())
        for child in self.children:
            child.start()
            restarts[child.name].started(self.clock())
        return restarts

    def stop(self) -> None:
        """Children in reverse order, Redis last, so running tasks can still reach it."""
        for child in reversed(self.children):
            child.stop()
        self.redis.stop()

    def heal(self, restarts: dict[str, Restarts]) -> None:
        """One round: notice exits, restart what is due (Redis before anything else)."""
        if not self._tend("redis-server", lambda: self.redis.child, self._restart_redis, restarts):
            return
        for child in self.children:
            self._tend(child.name, _constant(child), child.start, restarts)

    def _tend(
        self,
        name: str,
        child: Callable[[], ChildProcess | None],
        start: Callable[[], None],
        restarts: dict[str, Restarts],
    ) -> bool:
        """Whether the child runs now; notices its exit, or restarts it when due."""
        state, now = restarts[name], self.clock()
        if state.due_at is None:
            current = child()
            if current is not None and current.running:
                return True
            self._exited(name, current, state, now)
            return False
        if not state.due(now):
            return False
        state.started(now)
        try:
            start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            log.error("%s did not start again: %s", name, exc)
            self._exited(name, child(), state, self.clock())
            return False
        log.warning("%s started again", name)
        return True

    def _exited(self, name: str, child: ChildProcess | None, state: Restarts, now: float) -> None:
        returncode = child.returncode if child is not None else None
        if child is not None:
            child.kill()  # what is left of its process group
        delay = state.exited(now)
        ran = now - state.started_at
        if state.gave_up:
            raise StackFailed(
                f"{name} {describe_exit(returncode)} after {ran:.0f} s, {state.quick_exits} "
                "times in a row soon after starting; giving up (see its output above)"
            )
        log.error(
            "%s %s after %.0f s; starting it again in %g s",
            name,
            describe_exit(returncode),
            ran,
            delay,
        )

    def _restart_redis(self) -> None:
        self.redis.start(timeout=self.redis_restart_timeout)

    def _names(self) -> list[str]:
        names = ["redis-server", *(child.name for child in self.children)]
        if len(set(names)) != len(names):
            raise ValueError(f"children need distinct names: {names}")
        return names


def _constant(child: ChildProcess) -> Callable[[], ChildProcess]:
    return lambda: child
