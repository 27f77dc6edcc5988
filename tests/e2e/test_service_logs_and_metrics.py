"""What operators read: JSON log lines from ``serve`` and ``worker``, and request counts
that add up across ``serve --workers 2``. Real processes, real Redis."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.services import WORKER_READY_TIMEOUT, ApiServer, QueueEnv, server_variables
from tests.integration import conftest as queue_fixtures
from tests.support import ROOT, shared_image

pytestmark = [pytest.mark.redis, pytest.mark.slow]

redis_server = queue_fixtures.redis_server
isolated_env = queue_fixtures.isolated_env

HEALTH_COUNT = re.compile(
    r'^redactor_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$', re.M
)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a log, each parsed as one JSON object (fails on any other line)."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "pid", "message"} <= set(line), line
    return lines


def _health_lines(path: Path) -> list[dict[str, Any]]:
    return [line for line in _json_lines(path) if line.get("route") == "/healthz"]


@pytest.fixture
def two_process_server(
    isolated_env: Callable[..., QueueEnv], tmp_path: Path
) -> Iterator[ApiServer]:
    env = isolated_env()
    env.root.mkdir(parents=True)
    server = ApiServer(server_variables(env), tmp_path / "api.log", options=("--workers", "2"))
    try:
        server.start(timeout=180)
        yield server
    finally:
        server.stop()


def test_given_two_server_processes_then_every_scrape_adds_up_both(
    two_process_server: ApiServer,
) -> None:
    server = two_process_server
    (folder,) = re.findall(r"count requests in (\S+)\"", server.log_path.read_text())
    sent = 0
    while len({line["pid"] for line in _health_lines(server.log_path)}) < 2:
        assert sent < 400, "every request went to one process"
        for _ in range(20):  # a new connection each: either process may accept it
            response = httpx.get(f"{server.url}/healthz")
            assert response.status_code == 200
            sent += 1
        time.sleep(0.2)
    answered = sent + 1  # and the readiness check
    deadline = time.monotonic() + 10
    while len(_health_lines(server.log_path)) < answered and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_health_lines(server.log_path)) == answered
    for _ in range(10):  # each scrape is answered by either process: all see both counts
        scrape = httpx.get(f"{server.url}/metrics").text
        assert [float(n) for n in HEALTH_COUNT.findall(scrape)] == [answered]
        assert scrape.count("# TYPE redactor_http_requests_total counter") == 1
    assert Path(folder).is_dir()
    server.stop()
    assert not Path(folder).exists()


def test_given_a_request_then_its_id_is_answered_and_logged(
    two_process_server: ApiServer,
) -> None:
    server = two_process_server
    response = httpx.get(f"{server.url}/v1/uploads", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    request_id = response.headers["x-request-id"]
    deadline = time.monotonic() + 10
    while request_id not in server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    (line,) = [x for x in _json_lines(server.log_path) if x.get("request_id") == request_id]
    assert line["logger"] == "redactor.http.access"
    assert (line["route"], line["status"], len(line["client"])) == ("/v1/uploads", 401, 16)
    assert "127.0.0.1:" not in server.log_path.read_text().replace(f":{server.port}", "")


def test_given_redactor_worker_then_stderr_is_json_lines_with_job_ids(
    isolated_env: Callable[..., QueueEnv], tmp_path: Path
) -> None:
    """The worker as compose and systemd start it: ``redactor worker``, JSON by default."""
    env = isolated_env()
    log_path = tmp_path / "worker.log"
    variables = {k: v for k, v in os.environ.items() if k != "REDACTOR_LOG_FORMAT"}
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "redactor", "worker", "-c", "1"],
            env={**variables, **env.variables()},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while "models loaded" not in log_path.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log_path.read_text()
            time.sleep(0.2)
        photo = tmp_path / "holiday-with-grandma.jpg"
        photo.write_bytes(shared_image("face_two_nikon_exif.jpg").read_bytes())
        with env.client() as client:
            job_id = client.submit(photo, tenant="acme")
            assert client.wait(job_id, timeout=120).state.value == "done"
        deadline = time.monotonic() + 10
        while "succeeded" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = _json_lines(log_path)
    finally:
        os.killpg(worker.pid, 9)
        worker.wait()
    assert any(line["message"].endswith(" ready.") for line in lines)
    about_the_job = [line for line in lines if line.get("job_id") == job_id]
    assert {"redactor.service.processor", "celery.app.trace"} <= {
        x["logger"] for x in about_the_job
    }
    assert "holiday" not in log_path.read_text()
    assert "TensorFlow" not in log_path.read_text()
