"""Services the end-to-end tests and benchmarks start: a queue world (a Redis database,
a storage folder and worker processes) and ``redactor serve`` in front of it."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from redactor.http.auth import KeyStore, NewKey
from redactor.http.settings import DEV_API_KEY_PEPPER
from redactor.options import PipelineOptions
from redactor.service.client import RedactorClient
from redactor.service.redis_jobs import connect
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


@dataclass
class QueueEnv:
    """One isolated queue world: a Redis database, a storage folder and worker settings."""

    redis: RedisServer
    root: Path
    database: int
    #: Settings fields (``task_time_limit``...) to override, as their variables' text.
    overrides: dict[str, str] = field(default_factory=dict)
    workers: list[ChildProcess] = field(default_factory=list)
    #: Storage settings fields beyond the local folder (see :func:`s3_fields`).
    storage: dict[str, str] = field(default_factory=dict)
    #: Encryption keys (id -> base64); the first is the active one. Empty: no encryption.
    encryption_keys: dict[str, str] = field(default_factory=dict)

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
            **self.storage,
            **self._active_key(),
            **self.overrides,
        }

    def _active_key(self) -> dict[str, str]:
        for key_id in self.encryption_keys:  # the first one
            return {"encryption_active_key": key_id}
        return {}

    def variables(self, **overrides: str) -> dict[str, str]:
        """The environment a worker gets: the same settings, as ``REDACTOR_*``."""
        fields = {**self.fields(), **overrides}
        named = {f"REDACTOR_{name.upper()}": value for name, value in fields.items()}
        if self.encryption_keys:
            named["REDACTOR_ENCRYPTION_KEYS"] = json.dumps(self.encryption_keys)
        return {**named, **FAST_PIPELINE_ENV}

    def settings(self) -> ServiceSettings:
        return ServiceSettings(
            **self.fields(),  # type: ignore[arg-type]
            encryption_keys=self.encryption_keys,  # type: ignore[arg-type]
            pipeline=FAST_OPTIONS,
        )

    def client(self) -> RedactorClient:
        return RedactorClient(self.settings())

    def private_disk(self, name: str) -> dict[str, str]:
        """Folders of one worker's own, as on a host of its own: its scratch folder, and
        a local storage folder that never exists (nothing may be stored on a local disk)."""
        return {
            "storage_dir": str(self.root / name / "no-local-storage"),
            "scratch_dir": str(self.root / name / "scratch"),
        }

    def start_worker(self, name: str, queue: str = "redactor", **overrides: str) -> ChildProcess:
        """A worker with one pool process consuming ``queue`` (comma-separated names),
        with settings ``overrides``; returns once it consumes."""
        log_path = self.root / f"{name}.log"
        env = {**os.environ, **self.variables(**overrides), "GLOG_minloglevel": "2"}
        worker = worker_process(
            env=env, concurrency=1, queue=queue, hostname=f"{name}@%h", log_path=log_path
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


#: Small enough that the oversize test is quick, large enough for every test image.
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass
class ApiServer:
    """``redactor serve`` with ``REDACTOR_*`` from ``variables`` (dev mode: dev secrets)."""

    variables: Mapping[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    #: More ``redactor serve`` options, e.g. ``("--workers", "2")``.
    options: tuple[str, ...] = ()
    child: ChildProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.child is not None and self.child.process is not None
        return self.child.process.pid

    def start(self, timeout: float = 60.0) -> None:
        argv = [sys.executable, "-m", "redactor", "serve", "--port", str(self.port), *self.options]
        env = {**os.environ, **self.variables, "REDACTOR_HOST": "127.0.0.1"}
        self.child = ChildProcess(argv, env=env, log_path=self.log_path)
        self.child.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.child.running:
                raise RuntimeError(f"redactor serve exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError(f"redactor serve not ready after {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    def create_key(self, tenant: str) -> NewKey:
        """A key made the way ``redactor keys create`` makes it (dev-mode pepper)."""
        client = connect(self.variables["REDACTOR_REDIS_URL"], outage_seconds=3)
        try:
            return KeyStore(client, DEV_API_KEY_PEPPER).create(tenant)
        finally:
            client.close()


def server_variables(env: QueueEnv, **overrides: str) -> dict[str, str]:
    """The workers' settings plus the API's, as ``REDACTOR_*``."""
    return {
        **env.variables(),
        "REDACTOR_SPOOL_DIR": str(env.root / "spool"),
        "REDACTOR_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "REDACTOR_RATE_LIMIT": "100000",
        **{f"REDACTOR_{name.upper()}": value for name, value in overrides.items()},
    }
