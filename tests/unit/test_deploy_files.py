"""compose.yaml and the Dockerfile: what can be checked without a container engine.

The image build and ``docker compose up`` are not exercised here (no container engine
on these machines); tests/e2e/test_compose_services.py runs each service's command and
health check as plain processes instead.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
import pytest

from redactor.cli.main import cli
from redactor.http.settings import ServerSettings
from redactor.service.settings import ServiceSettings
from redactor.service.settings_errors import load_settings
from redactor.service.stack import RedisServer, retention_worker_argv, worker_argv
from tests.deploy_files import REDACTOR_SERVICES, compose, dockerfile, example_env, service_env


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data = compose()
    assert set(data["services"]) == {"redis", *REDACTOR_SERVICES}
    return data["services"]  # type: ignore[no-any-return]


def _command(args: list[str]) -> click.Command:
    """The ``redactor`` command ``args`` run, parsed by the real CLI (bad options fail)."""
    context = cli.make_context("redactor", list(args))
    command: click.Command = cli
    while isinstance(command, click.Group):
        name, found, rest = command.resolve_command(context, context.protected_args + context.args)
        assert found is not None, name
        context = found.make_context(name, rest, parent=context)
        command = found
    return command


@pytest.mark.parametrize(
    ("service", "command"),
    [("api", "serve"), ("worker", "worker"), ("retention", "worker"), ("beat", "beat")],
)
def test_each_service_runs_a_real_redactor_command(
    services: dict[str, Any], service: str, command: str
) -> None:
    program, *args = services[service]["command"]
    assert program == "redactor"
    assert _command(args).name == command


def test_redis_runs_as_redactor_up_runs_it(services: dict[str, Any]) -> None:
    """Job records are the source of truth: the stack tests' persistence, a password and
    the same administrative commands refused."""
    password = example_env()["REDACTOR_REDIS_PASSWORD"]
    argv = RedisServer(data_dir=Path("/data"), password=password).argv()
    command = services["redis"]["command"]
    assert command[0] == "redis-server"
    for option in ("--appendonly", "--appendfsync", "--save", "--maxmemory-policy"):
        at = command.index(option)
        assert command[at : at + 2] == argv[argv.index(option) : argv.index(option) + 2]
    rule, expected = command[command.index("--user") :], argv[argv.index("--user") :]
    assert [x for x in rule if not x.startswith(">")] == [
        x for x in expected if not x.startswith(("#", "resetpass"))
    ]
    assert f">{password}" in rule
    assert services["redis"]["environment"] == {"REDISCLI_AUTH": password}
    assert services["redis"]["volumes"] == ["redis-data:/data"]


@pytest.mark.parametrize("service", REDACTOR_SERVICES)
def test_each_service_environment_is_valid_settings(
    services: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in service_env(services[service]).items():
        monkeypatch.setenv(name, value)
    settings_class = ServerSettings if service == "api" else ServiceSettings
    settings = load_settings(settings_class)
    settings.hash_key_bytes()
    if isinstance(settings, ServerSettings):
        settings.api_key_pepper_bytes()
        settings.ip_hash_key_bytes()
    assert not settings.dev_mode
    password = example_env()["REDACTOR_REDIS_PASSWORD"]
    assert settings.redis_url == f"redis://:{password}@redis:6379/0"


def test_the_api_health_check_asks_readyz(services: dict[str, Any]) -> None:
    test = " ".join(services["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in test
    assert services["api"]["ports"] == ["127.0.0.1:8000:8000"]


@pytest.mark.parametrize(
    ("service", "node"),
    [
        ("worker", worker_argv(concurrency=1, queue="q")),
        ("retention", retention_worker_argv(queue="q")),
    ],
)
def test_worker_health_checks_ping_the_worker_by_its_node_name(
    services: dict[str, Any], service: str, node: list[str]
) -> None:
    kind, script = services[service]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    argv = shlex.split(script)
    assert argv[:5] == ["celery", "-A", "workers.celery_app", "inspect", "ping"]
    hostname = node[node.index("--hostname") + 1]
    assert argv[argv.index("--destination") + 1] == hostname.replace("%h", "${HOSTNAME}")
    assert service_env(services[service])["REDACTOR_WORKER_REMOTE_CONTROL"] == "1"


def test_the_image_is_slim_unprivileged_without_torch_and_verifies_its_models() -> None:
    text = dockerfile()
    assert text.startswith("#") and "\nFROM python:3.11-slim-bookworm\n" in text
    assert "/opt/venv/bin/pip install --constraint constraints.txt . \\\n" in text
    assert "[easyocr" not in text and "torch" not in text.split("FROM", 1)[1]
    assert "\nRUN redactor models verify\n" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users == ["redactor"]
