"""The real API server (``redactor serve`` in a subprocess on a free loopback port).

Used by tests/e2e/test_http.py with the queue tests' real Redis and workers, and by
``python -m bench.http_load`` for its private stack. The server runs in its own process
group and is stopped (then killed if need be) whatever happens.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from redactor.http.auth import KeyStore, NewKey
from redactor.http.settings import DEV_API_KEY_PEPPER
from redactor.service.redis_jobs import connect
from redactor.service.stack import ChildProcess
from tests.integration.conftest import QueueEnv, free_port

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


@pytest.fixture(scope="session")
def api_server(queue_env: QueueEnv) -> Iterator[ApiServer]:
    """The API over the session's Redis and two workers."""
    (queue_env.root / "storage").mkdir(parents=True, exist_ok=True)
    server = ApiServer(server_variables(queue_env), queue_env.root / "api.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
