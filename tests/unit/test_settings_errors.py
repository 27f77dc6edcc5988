"""Settings from REDACTOR_* variables: documented forms accepted, bad ones in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from click.testing import CliRunner

from redactor.cli.main import cli
from redactor.errors import ConfigError
from redactor.http.settings import ServerSettings
from redactor.service.settings import ServiceSettings
from redactor.service.settings_errors import load_settings

#: Every command that reads REDACTOR_* settings, with arguments that get it that far.
COMMANDS = [
    ["worker"],
    ["worker", "--retention"],
    ["beat"],
    ["up"],
    ["submit", "samples/marketplace/coffee_shipping_label.png"],
    ["serve"],
    ["keys", "list"],
    ["sweep", "--dry-run"],
    ["erase", "some-id", "--tenant", "t"],
    ["export", "--tenant", "t"],
    ["audit"],
    ["queues"],
]


@pytest.mark.parametrize(
    ("env", "original", "result"),
    [
        ({"REDACTOR_ORIGINAL_RETENTION": "0"}, timedelta(0), timedelta(days=30)),
        ({"REDACTOR_ORIGINAL_RETENTION": "86400"}, timedelta(days=1), timedelta(days=30)),
        ({"REDACTOR_ORIGINAL_RETENTION": "PT24H"}, timedelta(days=1), timedelta(days=30)),
        ({"REDACTOR_RESULT_RETENTION": "P7D"}, timedelta(days=1), timedelta(days=7)),
        ({"REDACTOR_RESULT_RETENTION": "3600"}, timedelta(days=1), timedelta(hours=1)),
    ],
)
def test_given_seconds_or_iso_8601_in_the_environment_then_the_windows_follow(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], original: timedelta, result: timedelta
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(ServiceSettings)
    assert (settings.original_retention, settings.result_retention) == (original, result)


def test_given_tenant_limits_in_seconds_then_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDACTOR_TENANT_LIMITS", '{"acme": {"original": 0, "result": "604800"}}')
    limits = load_settings(ServiceSettings).tenant_limits["acme"]
    assert (limits.original, limits.result) == (timedelta(0), timedelta(days=7))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("REDACTOR_ORIGINAL_RETENTION", "24h", "REDACTOR_ORIGINAL_RETENTION: not a duration; use"),
        ("REDACTOR_RESULT_RETENTION", "0", "REDACTOR_RESULT_RETENTION: must be longer than 0"),
        ("REDACTOR_ORIGINAL_PENDING_LIMIT", "P1M", "REDACTOR_ORIGINAL_PENDING_LIMIT: years"),
        ("REDACTOR_SWEEP_INTERVAL", "soon", "REDACTOR_SWEEP_INTERVAL: Input should be a valid"),
        ("REDACTOR_PIPELINE__TEXT", "some", "REDACTOR_PIPELINE__TEXT: Input should be 'pii'"),
        ("REDACTOR_TENANT_LIMITS", "{not json", "REDACTOR_TENANT_LIMITS: not valid JSON"),
        (
            "REDACTOR_TENANT_LIMITS",
            '{"acme": {"original": "1 day"}}',
            "REDACTOR_TENANT_LIMITS (acme, original): not a duration",
        ),
        ("REDACTOR_TASK_SOFT_TIME_LIMIT", "500", "REDACTOR_TASK_SOFT_TIME_LIMIT must be below"),
        ("REDACTOR_PORT", "http", "REDACTOR_PORT: Input should be a valid integer"),
    ],
)
def test_given_an_invalid_value_then_one_line_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(ServerSettings)
    message = str(caught.value)
    assert message.startswith("invalid settings: ")
    assert expected in message
    assert "\n" not in message


def test_given_a_secret_with_a_bad_value_then_the_value_is_not_repeated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDACTOR_ENCRYPTION_KEYS", '{"k1": ["not-a-string-secret-4711"]}')
    with pytest.raises(ConfigError) as caught:
        load_settings(ServiceSettings)
    assert "REDACTOR_ENCRYPTION_KEYS (k1)" in str(caught.value)
    assert "4711" not in str(caught.value)


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_given_an_invalid_duration_then_every_command_prints_one_line_and_exits_1(
    argv: list[str],
) -> None:
    env = {"REDACTOR_DEV_MODE": "1", "REDACTOR_ORIGINAL_RETENTION": "24 hours"}
    result = CliRunner().invoke(cli, argv, env=env)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert lines == [
        "Error: invalid settings: REDACTOR_ORIGINAL_RETENTION: not a duration; use seconds "
        "(0, 86400) or an ISO 8601 duration (PT24H, P30D, P1DT12H)"
    ]


def test_given_an_invalid_duration_then_celery_dash_a_prints_one_line() -> None:
    """``celery -A workers.celery_app worker`` (the systemd unit) reads settings too."""
    env = {**os.environ, "REDACTOR_DEV_MODE": "1", "REDACTOR_RESULT_RETENTION": "-1"}
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "redactor: invalid settings: REDACTOR_RESULT_RETENTION: a duration cannot be negative; "
        "use seconds (0, 86400) or an ISO 8601 duration (PT24H, P30D, P1DT12H)"
    ]
