"""The single-host stack with a real redis-server: its password, and how it heals.

The children here are small real programs (``sleep``, a shell that exits at once),
because what is tested is the supervision, not Celery; ``tests/reliability/test_up.py``
kills the real children of ``redactor up``.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from redactor.service.restarts import RestartPolicy, Restarts
from redactor.service.stack import (
    DENIED_COMMANDS,
    ChildProcess,
    RedisServer,
    Stack,
    StackFailed,
    stack_password,
    write_private,
)
from testkit.services import free_port

pytestmark = pytest.mark.redis

#: Short delays, so a test sees several restarts within seconds.
FAST = RestartPolicy(first_delay=0.1, max_delay=0.4, healthy_after=5.0, max_quick_exits=4)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    made = RedisServer(
        tmp_path / "redis", port=free_port(), password="s3cret-test-password", log_path=None
    )
    yield made
    made.kill()


def test_given_a_password_then_clients_without_it_are_refused(server: RedisServer) -> None:
    server.start()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=server.host, port=server.port).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=server.host, port=server.port, password="wrong").ping()
    assert redis.Redis.from_url(server.url).ping()
    assert server.url == f"redis://:s3cret-test-password@127.0.0.1:{server.port}/0"


def test_the_password_is_not_on_the_command_line(server: RedisServer) -> None:
    server.start()
    assert server.child is not None and server.child.process is not None
    assert not any("s3cret" in argument for argument in server.argv())
    assert b"s3cret" not in Path(f"/proc/{server.child.process.pid}/cmdline").read_bytes()
    assert any(argument.startswith("#") for argument in server.argv())  # its SHA-256


@pytest.mark.parametrize("password", [None, "s3cret-test-password"])
@pytest.mark.parametrize(
    "command",
    [
        ("CONFIG", "SET", "dir", "/tmp"),
        ("CONFIG", "GET", "dir"),
        ("DEBUG", "SLEEP", "0"),
        ("MODULE", "LIST"),
        ("ACL", "SETUSER", "default", "+config"),
    ],
)
def test_commands_that_write_files_or_load_code_are_refused(
    tmp_path: Path, password: str | None, command: tuple[str, ...]
) -> None:
    server = RedisServer(tmp_path / "redis", port=free_port(), password=password)
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        assert command[0].lower() in DENIED_COMMANDS
        with pytest.raises(redis.ResponseError, match=r"no permissions|not allowed"):
            client.execute_command(*command)
        assert client.set("still", "works")
    finally:
        server.kill()


def test_the_password_file_is_private_and_kept_across_restarts(tmp_path: Path) -> None:
    url_file = tmp_path / "data" / "redis-url"
    first = stack_password(url_file)
    write_private(url_file, f"redis://:{first}@127.0.0.1:6379/0\n")
    assert stat.S_IMODE(url_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(url_file.parent.stat().st_mode) == 0o700
    assert stack_password(url_file) == first
    assert len(first) >= 40 and stack_password(tmp_path / "other") != first


def test_write_private_tightens_a_file_that_was_readable(tmp_path: Path) -> None:
    target = tmp_path / "redis-url"
    target.write_text("old")
    target.chmod(0o644)
    write_private(target, "new\n")
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o600


def _sleeper(name: str) -> ChildProcess:
    return ChildProcess(["sleep", "300"], name=name)


def _heal_until(
    stack: Stack,
    restarts: dict[str, Restarts],
    condition: Callable[[], bool],
    timeout: float = 20.0,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the stack did not heal in time"
        stack.heal(restarts)
        time.sleep(0.05)


def _wait_dead(child: ChildProcess | None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while child is not None and child.running:
        assert time.monotonic() < deadline, "a SIGKILLed process is still running"
        time.sleep(0.01)


def _pid(child: ChildProcess | None) -> int:
    assert child is not None and child.process is not None
    return child.process.pid


def test_given_a_child_killed_then_it_is_logged_and_started_again(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = _sleeper("first"), _sleeper("second")
    stack = Stack(server, [first, second], policy=FAST)
    caplog.set_level(logging.WARNING, logger="redactor.service.stack")
    restarts = stack.start()
    try:
        old = _pid(second)
        os.kill(old, signal.SIGKILL)
        _heal_until(stack, restarts, lambda: second.running and _pid(second) != old)
        assert first.running
        assert "second killed by SIGKILL" in caplog.text
        assert "second started again" in caplog.text
    finally:
        stack.stop()
    assert server.child is not None
    assert not first.running and not second.running and not server.child.running


def test_given_redis_killed_then_it_comes_back_first_with_its_data(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    child = _sleeper("worker")
    stack = Stack(server, [child], policy=FAST)
    caplog.set_level(logging.WARNING, logger="redactor.service.stack")
    restarts = stack.start()
    try:
        redis.Redis.from_url(server.url).set("job", "kept")
        old_redis, old_child = _pid(server.child), _pid(child)
        os.kill(old_redis, signal.SIGKILL)
        os.kill(old_child, signal.SIGKILL)
        _wait_dead(server.child)
        _wait_dead(child)
        stack.heal(restarts)  # notices Redis's exit; restarts nothing yet
        _heal_until(stack, restarts, lambda: server.child is not None and server.child.running)
        assert not child.running, "a client was restarted before Redis"
        _heal_until(stack, restarts, lambda: child.running)
        assert redis.Redis.from_url(server.url).get("job") == b"kept"  # from the AOF
        assert "redis-server killed by SIGKILL" in caplog.text
        assert "worker killed by SIGKILL" in caplog.text
    finally:
        stack.stop()


def test_given_a_child_that_exits_at_once_then_the_stack_gives_up_naming_it(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    broken = ChildProcess(["sh", "-c", "exit 3"], name="broken")
    stack = Stack(server, [_sleeper("fine"), broken], policy=FAST)
    caplog.set_level(logging.WARNING, logger="redactor.service.stack")
    restarts = stack.start()
    try:
        with pytest.raises(StackFailed, match=r"broken exited with status 3.*4 times in a row"):
            _heal_until(stack, restarts, lambda: False)
        assert caplog.text.count("broken exited with status 3") == 3  # then the error
    finally:
        stack.stop()


def test_children_need_distinct_names(server: RedisServer) -> None:
    with pytest.raises(ValueError, match="distinct names"):
        Stack(server, [_sleeper("a"), _sleeper("a")]).start()
