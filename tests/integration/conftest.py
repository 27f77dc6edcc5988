"""A real redis-server, a real S3-compatible server and real Celery worker processes.

Nothing here runs in eager mode: workers are ``celery -A workers.celery_app worker``
child processes configured only through ``REDACTOR_*`` variables, exactly as in
production. Every process runs in its own process group and is killed with its
children at teardown, even when a test fails.

The S3 backend is tested against moto's standalone server (``python -m moto.server``
from the PyPI package ``moto[server]``), started on a free loopback port by
``moto_server`` only when a test asks for S3. ``storage`` gives each test a fresh local
folder or bucket (parametrised over both); ``s3_queue_env`` and ``s3_fresh_env`` are
the S3 twins of ``queue_env`` and ``fresh_env``, with originals encrypted at rest.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from redactor.service.client import RedactorClient
from redactor.service.stack import (
    ChildProcess,
    RedisServer,
)
from redactor.storage import LocalStorage, Storage
from redactor.storage.s3 import S3Config, S3Storage, connect
from testkit.services import QueueEnv, free_port

#: The storage backends the storage contract and the end-to-end tests run on.
STORAGE_KINDS = ("local", "s3")
#: moto accepts any credentials; real ones must never reach a test.
MOTO_REGION, MOTO_KEY_ID, MOTO_SECRET = "us-east-1", "testing", "testing"
#: A fixed, public encryption key for the S3 worlds (never use it anywhere else).
TEST_ENCRYPTION_KEYS = {"test-1": base64.b64encode(bytes(range(32))).decode()}
#: The Redis database of ``s3_queue_env`` (``queue_env`` has 0, ``isolated_env`` 1...).
S3_QUEUE_DATABASE = 7
OCR_QUEUE = "redactor-ocr"


def _accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class MotoServer:
    """moto's standalone S3 server in a child process on a loopback port."""

    root: Path
    port: int = field(default_factory=free_port)
    child: ChildProcess | None = field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.child = ChildProcess(argv, log_path=self.root / "moto.log")
        self.child.start()
        deadline = time.monotonic() + timeout
        while not _accepts_connections(self.port):
            if not self.child.running:
                raise RuntimeError(f"moto server exited; see {self.root / 'moto.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto server on port {self.port} not ready in {timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    def new_bucket(self) -> S3Config:
        """A fresh, empty bucket of its own for one test or one queue world."""
        config = S3Config(
            bucket=f"redactor-{secrets.token_hex(6)}",
            endpoint_url=self.endpoint,
            region=MOTO_REGION,
            access_key_id=MOTO_KEY_ID,
            secret_access_key=MOTO_SECRET,
            addressing_style="path",
        )
        connect(config).create_bucket(Bucket=config.bucket)
        return config


def s3_fields(config: S3Config) -> dict[str, str]:
    """Settings fields (as the variables' text) that point a process at ``config``."""
    return {
        "storage_backend": "s3",
        "s3_bucket": config.bucket,
        "s3_endpoint_url": config.endpoint_url or "",
        "s3_region": config.region or "",
        "s3_access_key_id": config.access_key_id or "",
        "s3_secret_access_key": config.secret_access_key or "",
        "s3_addressing_style": config.addressing_style,
    }


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    try:  # stopped even when it never became ready
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=STORAGE_KINDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """An empty storage of each backend: a local folder, a bucket on the moto server."""
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    moto: MotoServer = request.getfixturevalue("moto_server")
    return S3Storage(moto.new_bucket())


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


#: Time limits for the session-long worlds: long enough for a busy two-core machine.
SESSION_LIMITS = {
    "task_soft_time_limit": "90",
    "task_time_limit": "100",
    "visibility_timeout": "110",
}


@pytest.fixture(scope="session")
def queue_env(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QueueEnv]:
    """Two workers (one process each) on database 0, started once for the session."""
    env = QueueEnv(
        redis_server, tmp_path_factory.mktemp("queue"), database=0, overrides=SESSION_LIMITS
    )
    try:
        env.start_worker("w1")
        env.start_worker("w2")
        yield env
    finally:
        env.stop_workers()


@pytest.fixture(scope="session")
def s3_queue_env(
    redis_server: RedisServer, moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QueueEnv]:
    """``queue_env`` as it runs across hosts: a bucket, originals encrypted, and two
    workers sharing only Redis and the bucket (each has its own scratch folder and a
    local storage folder that does not exist).

    Jobs that read text go to the OCR queue, which only ``w2`` consumes (with
    ``REDACTOR_OCR_DEVICE=cuda``, which falls back to the CPU here).
    """
    env = QueueEnv(
        redis_server,
        tmp_path_factory.mktemp("s3queue"),
        database=S3_QUEUE_DATABASE,
        overrides={**SESSION_LIMITS, "ocr_queue": OCR_QUEUE},
        storage=s3_fields(moto_server.new_bucket()),
        encryption_keys=TEST_ENCRYPTION_KEYS,
    )
    redis.Redis.from_url(env.redis_url).flushdb()
    try:
        env.start_worker("w1", **env.private_disk("w1"))
        env.start_worker("w2", f"redactor,{OCR_QUEUE}", ocr_device="cuda", **env.private_disk("w2"))
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


def _fresh_worlds(
    redis_server: RedisServer,
    tmp_path: Path,
    storage: Callable[[], dict[str, str]] = dict,
    encryption_keys: dict[str, str] | None = None,
) -> Iterator[Callable[..., QueueEnv]]:
    made: list[QueueEnv] = []

    def make(**overrides: str) -> QueueEnv:
        database = FRESH_DATABASES[len(made)]
        env = QueueEnv(
            redis_server,
            tmp_path / f"fresh{database}",
            database,
            overrides=overrides,
            storage=storage(),
            encryption_keys=encryption_keys or {},
        )
        redis.Redis.from_url(env.redis_url).flushdb()
        made.append(env)
        return env

    try:
        yield make
    finally:
        for env in made:
            env.stop_workers()


@pytest.fixture
def fresh_env(redis_server: RedisServer, tmp_path: Path) -> Iterator[Callable[..., QueueEnv]]:
    """Like ``isolated_env``, on a database emptied first (8, 9, ...), for retention tests."""
    yield from _fresh_worlds(redis_server, tmp_path)


@pytest.fixture
def s3_fresh_env(
    redis_server: RedisServer, moto_server: MotoServer, tmp_path: Path
) -> Iterator[Callable[..., QueueEnv]]:
    """``fresh_env`` on a bucket of its own, with originals encrypted."""
    yield from _fresh_worlds(
        redis_server,
        tmp_path,
        storage=lambda: s3_fields(moto_server.new_bucket()),
        encryption_keys=TEST_ENCRYPTION_KEYS,
    )
