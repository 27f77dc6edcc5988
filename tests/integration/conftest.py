"""A real redis-server and real Celery worker processes for the queue tests.

Nothing here runs in eager mode: workers are ``celery -A workers.celery_app worker``
child processes configured only through ``REDACTOR_*`` variables, exactly as in
production. Every process runs in its own process group and is killed with its
children at teardown, even when a test fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from redactor.options import PipelineOptions
from redactor.service.client import RedactorClient
from redactor.service.settings import ServiceSettings
from redactor.service.stack import (
    ChildProcess,
    RedisServer,
    beat_process,
    retention_worker_process,
    wait_for_log,
    worker_process,
)

#: Faces only: fast on two cores. Tests that want the full pipeline ask for it per job.
FAST_OPTIONS = PipelineOptions(text="off", codes=False)
FAST_PIPELINE_ENV = {"REDACTOR_PIPELINE__TEXT": "off", "REDACTOR_PIPELINE__CODES": "false"}
WORKER_READY_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """redis-server on a free loopback port, append-only, no RDB snapshots."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    root = tmp_path_factory.mktemp("redis")
    server = RedisServer(data_dir=root / "data", port=free_port(), log_path=root / "redis.log")
    server.start()
    yield server
    server.stop()


@dataclass
class QueueEnv:
    """One isolated queue world: a Redis database, a storage folder and worker settings."""

    redis: RedisServer
    root: Path
    database: int
    #: Settings fields (``task_time_limit``...) to override, as their variables' text.
    overrides: dict[str, str] = field(default_factory=dict)
    workers: list[ChildProcess] = field(default_factory=list)

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis.host}:{self.redis.port}/{self.database}"

    def fields(self) -> dict[str, str]:
        return {
            "dev_mode": "1",
            "redis_url": self.redis_url,
            "storage_dir": str(self.root / "storage"),
            "scratch_dir": str(self.root / "scratch"),
            "restore_interval": "1",
            **self.overrides,
        }

    def variables(self) -> dict[str, str]:
        """The environment a worker gets: the same settings, as ``REDACTOR_*``."""
        named = {f"REDACTOR_{name.upper()}": value for name, value in self.fields().items()}
        return {**named, **FAST_PIPELINE_ENV}

    def settings(self) -> ServiceSettings:
        return ServiceSettings(**self.fields(), pipeline=FAST_OPTIONS)  # type: ignore[arg-type]

    def client(self) -> RedactorClient:
        return RedactorClient(self.settings())

    def start_worker(self, name: str) -> ChildProcess:
        """A worker with one pool process; returns once it consumes from the queue."""
        log_path = self.root / f"{name}.log"
        env = {**os.environ, **self.variables(), "GLOG_minloglevel": "2"}
        worker = worker_process(
            env=env, concurrency=1, queue="redactor", hostname=f"{name}@%h", log_path=log_path
        )
        self.workers.append(worker)
        worker.start()
        wait_for_log(log_path, " ready.", timeout=WORKER_READY_TIMEOUT, child=worker)
        return worker

    def start_retention_worker(self, name: str) -> ChildProcess:
        """A sweeper (solo pool, no models); returns once it consumes the retention queue."""
        log_path = self.root / f"{name}.log"
        env = {**os.environ, **self.variables()}
        worker = retention_worker_process(
            env=env, queue="redactor-retention", hostname=f"{name}@%h", log_path=log_path
        )
        self.workers.append(worker)
        worker.start()
        wait_for_log(log_path, " ready.", timeout=WORKER_READY_TIMEOUT, child=worker)
        return worker

    def start_beat(self) -> ChildProcess:
        """Celery beat sending this world's periodic tasks; returns once it runs."""
        log_path = self.root / "beat.log"
        env = {**os.environ, **self.variables()}
        beat = beat_process(env=env, schedule_file=self.root / "beat-schedule", log_path=log_path)
        self.workers.append(beat)
        beat.start()
        wait_for_log(log_path, "beat: Starting", timeout=WORKER_READY_TIMEOUT, child=beat)
        return beat

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.kill()


@pytest.fixture(scope="session")
def queue_env(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QueueEnv]:
    """Two workers (one process each) on database 0, started once for the session."""
    env = QueueEnv(
        redis_server,
        tmp_path_factory.mktemp("queue"),
        database=0,
        overrides={
            "task_soft_time_limit": "90",
            "task_time_limit": "100",
            "visibility_timeout": "110",
        },
    )
    try:
        env.start_worker("w1")
        env.start_worker("w2")
        yield env
    finally:
        env.stop_workers()


@pytest.fixture
def client(queue_env: QueueEnv) -> Iterator[RedactorClient]:
    with queue_env.client() as redactor:
        yield redactor


@pytest.fixture
def isolated_env(redis_server: RedisServer, tmp_path: Path) -> Iterator[Callable[..., QueueEnv]]:
    """A factory for a private queue world on its own Redis database (1, 2, ...)."""
    made: list[QueueEnv] = []

    def make(**overrides: str) -> QueueEnv:
        root, database = tmp_path / f"env{len(made)}", len(made) + 1
        env = QueueEnv(redis_server, root, database=database, overrides=overrides)
        made.append(env)
        return env

    try:
        yield make
    finally:
        for env in made:
            env.stop_workers()


#: Databases for worlds that must start empty (retention sweeps see the whole database).
FRESH_DATABASES = range(8, 16)


@pytest.fixture
def fresh_env(redis_server: RedisServer, tmp_path: Path) -> Iterator[Callable[..., QueueEnv]]:
    """Like ``isolated_env``, on a database emptied first (8, 9, ...), for retention tests."""
    made: list[QueueEnv] = []

    def make(**overrides: str) -> QueueEnv:
        database = FRESH_DATABASES[len(made)]
        env = QueueEnv(redis_server, tmp_path / f"fresh{database}", database, overrides=overrides)
        redis.Redis.from_url(env.redis_url).flushdb()
        made.append(env)
        return env

    try:
        yield make
    finally:
        for env in made:
            env.stop_workers()
