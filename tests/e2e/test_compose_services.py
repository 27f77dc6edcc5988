"""compose.yaml's services as plain processes: each service's command and its health
check, with the file's own environment, against a real Redis.

No container engine runs here, so the image itself is not built (README says so); what
runs is the same ``redactor`` command line, the same settings and the same health check
commands, with only the Redis address and the storage folder pointed at this test's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from redactor.service.stack import ChildProcess, wait_for_log
from testkit.services import FAST_PIPELINE_ENV, WORKER_READY_TIMEOUT, QueueEnv, free_port
from tests.deploy_files import compose, healthcheck_argv, service_env
from tests.integration import conftest as queue_fixtures
from tests.support import ROOT

pytestmark = [pytest.mark.redis, pytest.mark.slow]

redis_server = queue_fixtures.redis_server
isolated_env = queue_fixtures.isolated_env


def _on_this_machine(argv: list[str]) -> list[str]:
    """The container's programs as this test environment runs them."""
    programs = {
        "redactor": [sys.executable, "-m", "redactor"],
        "celery": [sys.executable, "-m", "celery"],
        "python": [sys.executable],
    }
    if argv[:2] == ["sh", "-c"]:
        script = argv[2]
        for name, replacement in programs.items():
            if script.startswith(f"{name} "):
                script = " ".join(replacement) + script[len(name) :]
        return ["sh", "-c", script]
    return programs.get(argv[0], [argv[0]]) + argv[1:]


class Services:
    """compose.yaml's redactor services started on this machine, stopped together."""

    def __init__(self, env: QueueEnv, root: Path) -> None:
        self.definitions: dict[str, Any] = compose()["services"]
        self.queue_env = env
        self.root = root
        self.port = free_port()
        self.children: dict[str, ChildProcess] = {}
        (root / "storage").mkdir()  # the image makes /data/storage

    def environment(self, name: str) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("REDACTOR_")},
            **service_env(self.definitions[name]),
            "REDACTOR_REDIS_URL": self.queue_env.redis_url,
            "REDACTOR_STORAGE_DIR": str(self.root / "storage"),
            "REDACTOR_SCRATCH_DIR": str(self.root / name / "scratch"),
            "REDACTOR_SPOOL_DIR": str(self.root / name / "spool"),
            "HOSTNAME": socket.gethostname(),
            **FAST_PIPELINE_ENV,
        }

    def start(self, name: str) -> ChildProcess:
        argv = [
            self.root.joinpath("beat", "schedule").as_posix()
            if arg.startswith("/data/beat")
            else arg
            for arg in self.definitions[name]["command"]
        ]
        if name == "api":
            argv[argv.index("--port") + 1] = str(self.port)
            argv[argv.index("--host") + 1] = "127.0.0.1"
        log_path = self.root / f"{name}.log"
        child = ChildProcess(_on_this_machine(argv), env=self.environment(name), log_path=log_path)
        self.children[name] = child
        child.start()
        return child

    def healthy(self, name: str) -> subprocess.CompletedProcess[str]:
        argv = healthcheck_argv(self.definitions[name])
        if name == "api":
            argv = [a.replace("127.0.0.1:8000", f"127.0.0.1:{self.port}") for a in argv]
        return subprocess.run(
            _on_this_machine(argv),
            env=self.environment(name),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )

    def wait_healthy(self, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            done = self.healthy(name)
            if done.returncode == 0:
                return
            child = self.children[name]
            assert child.running, (self.root / f"{name}.log").read_text()
            assert time.monotonic() < deadline, done.stdout + done.stderr
            time.sleep(1)

    def stop(self) -> None:
        for child in reversed(self.children.values()):
            child.stop()


@pytest.fixture
def services(isolated_env: Callable[..., QueueEnv], tmp_path: Path) -> Iterator[Services]:
    running = Services(isolated_env(), tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_each_service_starts_and_passes_its_health_check(services: Services) -> None:
    for name in ("api", "retention", "worker"):
        assert services.healthy(name).returncode != 0  # the checks can fail...
        services.start(name)
    for name in ("api", "retention", "worker"):  # ...and pass once the service is up
        services.wait_healthy(name, timeout=WORKER_READY_TIMEOUT + 60)
    beat = services.start("beat")
    wait_for_log(services.root / "beat.log", "beat: Starting", timeout=60, child=beat)
    services.children["worker"].stop()
    assert services.healthy("worker").returncode != 0  # a stopped worker is unhealthy
