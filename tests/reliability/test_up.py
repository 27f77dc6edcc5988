"""``redactor up`` heals itself: each of its children SIGKILLed in turn, jobs still finish.

The real command runs in a subprocess (its own redis-server with a password, a worker
with one pool process, a sweeper and beat), with Redis's visibility timeout at its
default of 600 s, so a job whose worker died can only finish quickly if the sweep sends
its task again (the worker's heartbeat stopped; ``redactor.service.heartbeat``). Every
task sleeps 2 s mid-run (dev-mode test hook), so a job is running at each kill.

In turn, while jobs run: Redis (jobs submitted through ``redactor submit --wait``, as
in the probe that found ``up`` dying with Redis), the worker (jobs uploaded to
``redactor serve``, which reaches Redis through the URL with the password), then the
sweeper and beat (jobs through the Python client). After each kill: ``up`` logs the
child by name with its signal, starts it again, and every job ends ``done`` with no
one stepping in. The figures go to ``test-artifacts/reliability/up_child_kill.json``
(docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis

from redactor.jobs import JobState
from redactor.service.client import RedactorClient
from redactor.service.settings import ServiceSettings
from redactor.service.stack import ChildProcess
from testkit.services import FAST_OPTIONS, FAST_PIPELINE_ENV, ApiServer, free_port
from tests.reliability.conftest import (
    children,
    record_figures,
    small_face_images,
    wait_until,
)

pytestmark = [pytest.mark.reliability, pytest.mark.redis, pytest.mark.slow]

#: Each child of ``up``, in the order the test kills them.
VICTIMS = ("redis-server", "worker", "sweeper", "beat")
JOBS_PER_KILL = 3
#: Far below the 600 s visibility timeout that would otherwise bring a task back.
FINISH_TIMEOUT = 240.0
READY_TIMEOUT = 180.0


@dataclass
class Up:
    """``redactor up`` in a subprocess, with its output in ``root/up.log``."""

    root: Path
    port: int = field(default_factory=free_port)
    process: ChildProcess | None = None
    seen_groups: set[int] = field(default_factory=set)

    @property
    def data_dir(self) -> Path:
        return self.root / "var"

    @property
    def log_path(self) -> Path:
        return self.root / "up.log"

    def variables(self) -> dict[str, str]:
        return {
            "REDACTOR_DEV_MODE": "1",
            "REDACTOR_STORAGE_DIR": str(self.root / "storage"),
            "REDACTOR_SCRATCH_DIR": str(self.root / "scratch"),
            "REDACTOR_SWEEP_INTERVAL": "1",
            "REDACTOR_HEARTBEAT_INTERVAL": "1",
            "REDACTOR_TEST_TASK_DELAY": "2",
            "GLOG_minloglevel": "2",
            **FAST_PIPELINE_ENV,
        }

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REDACTOR_")}
        argv = [sys.executable, "-m", "redactor", "up", "--data-dir", str(self.data_dir)]
        argv += ["--port", str(self.port), "-c", "1"]
        self.process = ChildProcess(
            argv, env={**env, **self.variables()}, log_path=self.log_path, name="up"
        )
        self.process.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def ready(self) -> bool:
        text = self.log()
        return (
            text.count(" ready.") >= 2  # the worker and the sweeper consume
            and "worker process ready: models loaded" in text
            and "beat: Starting" in text
        )

    @property
    def redis_url(self) -> str:
        return (self.data_dir / "redis-url").read_text().strip()

    def children(self) -> dict[str, int]:
        """``up``'s children by name, from their command lines."""
        assert self.process is not None and self.process.process is not None
        found: dict[str, int] = {}
        for pid in children(self.process.process.pid):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                self.seen_groups.add(os.getpgid(pid))
                if argv.startswith("redis-server"):
                    found["redis-server"] = pid
                elif "\0beat\0" in argv:
                    found["beat"] = pid
                elif "--pool\0solo" in argv:
                    found["sweeper"] = pid
                elif "\0worker\0" in argv:
                    found["worker"] = pid
        return found

    def stop(self) -> int | None:
        """SIGTERM (``up`` stops its children); its exit status."""
        if self.process is None or self.process.process is None:
            return None
        process = self.process.process
        self.process.stop(timeout=90)
        return process.returncode

    def clean_up(self) -> None:
        """Kill whatever is left of ``up`` and every child group it ever had."""
        if self.process is not None:
            self.process.kill()
        for group in self.seen_groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)


@pytest.fixture
def api(up: Up) -> Iterator[ApiServer]:
    """``redactor serve`` over the Redis of ``up``, found through its URL file."""
    variables = {
        **up.variables(),
        "REDACTOR_REDIS_URL": up.redis_url,
        "REDACTOR_SPOOL_DIR": str(up.root / "spool"),
    }
    server = ApiServer(variables, up.root / "api.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _upload(api: ApiServer, key: str, images: list[bytes]) -> list[str]:
    files = [("files", (f"p{n}.jpg", image, "image/jpeg")) for n, image in enumerate(images)]
    answer = httpx.post(
        f"{api.url}/v1/uploads",
        headers={"Authorization": f"Bearer {key}"},
        files=files,
        data={"text": "off", "codes": "false"},
        timeout=60,
    )
    assert answer.status_code == 202, answer.text
    return [job["id"] for job in answer.json()["jobs"]]


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    made = Up(tmp_path)
    try:
        made.start()
        wait_until(made.ready, READY_TIMEOUT, "redactor up ready", poll=0.5)
        yield made
    finally:
        made.clean_up()


def _client(up: Up) -> RedactorClient:
    settings = ServiceSettings(
        dev_mode=True,
        redis_url=up.redis_url,
        storage_dir=up.root / "storage",
        scratch_dir=up.root / "scratch",
        pipeline=FAST_OPTIONS,
    )
    return RedactorClient(settings)


def _submit_with_cli(up: Up, images: list[bytes]) -> tuple[subprocess.Popen[bytes], Path]:
    """``redactor submit --wait --out`` in a subprocess, as a person would run it."""
    paths = []
    for number, image in enumerate(images):
        path = up.root / "inputs" / f"photo{number}.jpg"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(image)
        paths.append(str(path))
    out = up.root / "submitted"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDACTOR_")}
    env |= {**up.variables(), "REDACTOR_REDIS_URL": up.redis_url}
    argv = [sys.executable, "-m", "redactor", "submit", *paths, "--out", str(out)]
    argv += ["--tenant", "up-cli", "--wait", "--timeout", str(FINISH_TIMEOUT)]
    stdout = (up.root / "submit.out").open("wb")
    return subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.STDOUT), out


def _printed_job_ids(up: Up, count: int) -> list[str]:
    def printed() -> list[str]:
        text = (up.root / "submit.out").read_text(errors="replace")
        return [line.split("\t")[0] for line in text.splitlines() if "\t" in line]

    wait_until(lambda: len(printed()) >= count, 120, "redactor submit printed its job ids")
    return printed()[:count]


def _kill(up: Up, victim: str) -> tuple[int, float]:
    pid = up.children()[victim]
    os.kill(pid, signal.SIGKILL)
    return pid, time.monotonic()


def _raw(up: Up) -> redis.Redis:
    return redis.Redis.from_url(up.redis_url, decode_responses=True)


@pytest.mark.timeout(900)
def test_given_each_child_of_up_killed_in_turn_then_jobs_finish_without_help(
    up: Up, api: ApiServer
) -> None:
    images = small_face_images()
    api_key = api.create_key("up-http").secret
    figures: dict[str, dict[str, object]] = {}
    _check_redis_is_locked(up)
    with _client(up) as client:
        for victim in VICTIMS:
            cli: subprocess.Popen[bytes] | None = None
            if victim == "redis-server":
                cli, out = _submit_with_cli(up, images[:JOBS_PER_KILL])
                job_ids = _printed_job_ids(up, JOBS_PER_KILL)
            elif victim == "worker":
                job_ids = _upload(api, api_key, images[:JOBS_PER_KILL])
            else:
                job_ids = [
                    client.submit(images[n % len(images)], tenant="up", options=FAST_OPTIONS)
                    for n in range(JOBS_PER_KILL)
                ]
            wait_until(
                lambda ids=job_ids: any(client.status(i).state is JobState.PROCESSING for i in ids),
                120,
                "a job running when the child is killed",
            )
            running = [i for i in job_ids if client.status(i).state is JobState.PROCESSING]
            old_pid, killed_at = _kill(up, victim)
            wait_until(
                lambda v=victim, p=old_pid: up.children().get(v, p) != p,
                60,
                f"{victim} started again",
            )
            back_after = time.monotonic() - killed_at
            wait_until(
                lambda ids=job_ids: all(client.status(i).finished for i in ids),
                FINISH_TIMEOUT,
                f"every job finished after {victim} was killed",
                poll=0.5,
            )
            finished_after = time.monotonic() - killed_at
            records = [client.status(job_id) for job_id in job_ids]
            assert [r.state for r in records] == [JobState.DONE] * len(records), records
            assert f"{victim} killed by SIGKILL" in up.log()
            if cli is not None:
                assert cli.wait(timeout=60) == 0, (up.root / "submit.out").read_text()
                assert len(list(out.glob("*.jpg"))) == JOBS_PER_KILL
            if victim == "worker":
                for job_id in job_ids:
                    result = httpx.get(
                        f"{api.url}/v1/jobs/{job_id}/result",
                        headers={"Authorization": f"Bearer {api_key}"},
                        timeout=30,
                    )
                    assert result.status_code == 200 and result.content[:2] == b"\xff\xd8"
            figures[victim] = {
                "jobs": len(job_ids),
                "running_when_killed": len(running),
                "started_again_after_s": round(back_after, 1),
                "all_jobs_done_after_s": round(finished_after, 1),
                "attempts": [r.attempts for r in records],
            }
    resent = up.log().count("its worker's heartbeat stopped: sent its task again")
    figures["tasks_sent_again_for_a_dead_worker"] = {"count": resent}
    record_figures("up_child_kill", figures)
    assert resent >= 1, "the job the killed worker ran was not sent again by the sweep"
    assert up.process is not None and up.process.running, "up itself exited"
    assert up.stop() == 0
    assert not any(_alive(group) for group in up.seen_groups), "a child outlived up"


def _check_redis_is_locked(up: Up) -> None:
    """The Redis of ``up``: a password from a private file, and no CONFIG even with it."""
    url_file = up.data_dir / "redis-url"
    assert stat.S_IMODE(url_file.stat().st_mode) == 0o600
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=up.port).ping()
    with pytest.raises(redis.ResponseError, match="no permissions"):
        _raw(up).config_set("dir", "/tmp")
    assert _raw(up).ping()
    password = urlsplit(up.redis_url).password
    assert password and password not in up.log(), "the password was printed"


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
