"""Log lines: one JSON object per line (or text), with ids and nothing private."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from redactor.errors import ConfigError
from redactor.logs import (
    JsonLineFormatter,
    TextFormatter,
    log_context,
    log_format,
    logging_config,
    set_log_context,
)
from tests.support import ROOT


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("redactor.x", logging.WARNING, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def test_given_a_record_then_json_has_time_level_logger_and_message_first() -> None:
    line = JsonLineFormatter().format(_record("job %s done", "abc", job_id="abc"))
    data = json.loads(line)
    assert list(data)[:5] == ["time", "level", "logger", "pid", "message"]
    assert data["level"] == "WARNING"
    assert data["logger"] == "redactor.x"
    assert data["message"] == "job abc done"
    assert data["job_id"] == "abc"
    assert data["time"].endswith("+00:00")
    assert "\n" not in line


def test_given_library_extras_then_json_keeps_only_the_allowed_fields() -> None:
    """Celery attaches each task's arguments as ``data``; they must never be logged."""
    record = _record(
        "Task received", data={"args": "['deny: Jane Doe']"}, filename_hint="holiday.jpg"
    )
    line = JsonLineFormatter().format(record)
    assert "Jane Doe" not in line
    assert "holiday" not in line
    assert set(json.loads(line)) == {"time", "level", "logger", "pid", "message"}


def test_given_an_exception_then_the_traceback_stays_inside_one_json_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = JsonLineFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exc_info"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Whatever a test configures, the next test finds logging as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restored_logging")
def test_given_a_context_then_the_configured_handler_adds_its_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)  # the handler writes to sys.stderr as it is
    logger = logging.getLogger("redactor.test_logs")
    logging.config.dictConfig(logging_config("json", "INFO"))
    with log_context(request_id="r1"):
        logger.info("inside")
    logger.info("outside")
    set_log_context(job_id="j1")
    logger.info("in a task")
    set_log_context(job_id=None)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x.get("request_id"), x.get("job_id")) for x in lines] == [
        ("r1", None),
        (None, None),
        (None, "j1"),
    ]


def test_given_text_format_then_ids_follow_the_message() -> None:
    line = TextFormatter().format(_record("answered", request_id="r1", client="ab12"))
    assert line.endswith("WARNING redactor.x: answered [request_id=r1 client=ab12]")


@pytest.mark.parametrize(("value", "expected"), [("", "text"), ("json", "json"), (" TEXT", "text")])
def test_given_the_variable_then_the_format_follows(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("REDACTOR_LOG_FORMAT", value)
    assert log_format("text") == expected


def test_given_an_unknown_format_then_one_line_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDACTOR_LOG_FORMAT", "xml")
    with pytest.raises(
        ConfigError, match=r"^invalid settings: REDACTOR_LOG_FORMAT: use json or text$"
    ):
        log_format("json")


def test_given_json_then_python_warnings_become_json_lines_too() -> None:
    script = textwrap.dedent(
        """
        import logging, warnings
        from redactor.logs import configure_logging
        configure_logging("json", "INFO")
        warnings.warn("careful")
        logging.getLogger("celery.x").info("ready.")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["logger"] for line in lines] == ["py.warnings", "celery.x"]
    assert "careful" in lines[0]["message"]
