"""Log lines for every process: one JSON object per line, or plain text for terminals.

``REDACTOR_LOG_FORMAT`` is ``json`` or ``text``; the entry point chooses the default
(``json`` for ``serve``, ``worker`` and ``beat``, whose output goes to log shippers;
``text`` for commands a person runs). JSON lines are made by python-json-logger and hold
``time`` (ISO 8601, UTC), ``level``, ``logger``, ``pid``, ``message``, the ``request_id`` or
``job_id`` of the request or job being handled, and the access log's own fields.

Only the fields in :data:`JSON_FIELDS` are written: libraries attach other data to
their records (Celery attaches each task's arguments), and none of it may reach a log.
Messages themselves never hold text read from images, file names or client addresses;
that is each caller's duty, checked by the tests of each front door.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

from redactor.errors import ConfigError

LogFormat = Literal["json", "text"]
FORMAT_VARIABLE = "REDACTOR_LOG_FORMAT"
#: The API's access log; kept at INFO whatever the root level.
ACCESS_LOGGER = "redactor.http.access"
#: The ids that tie a line to what it is about (set by :func:`log_context`).
CONTEXT_FIELDS = ("request_id", "job_id")
#: What the access log adds to its lines (``client`` is a keyed hash, never an address).
ACCESS_FIELDS = ("method", "route", "status", "ms", "client", "key")
#: Every field a JSON line may hold, in the order they are written.
JSON_FIELDS = (
    "time",
    "level",
    "logger",
    "pid",
    "message",
    *CONTEXT_FIELDS,
    *ACCESS_FIELDS,
    "exc_info",
    "stack_info",
)

_context: dict[str, ContextVar[str | None]] = {
    name: ContextVar(name, default=None) for name in CONTEXT_FIELDS
}


def log_format(default: LogFormat) -> LogFormat:
    """``REDACTOR_LOG_FORMAT``, else ``default``; anything else is a one-line error."""
    value = os.environ.get(FORMAT_VARIABLE, "").strip().lower() or default
    if value == "json":
        return "json"
    if value == "text":
        return "text"
    raise ConfigError(f"invalid settings: {FORMAT_VARIABLE}: use json or text")


@contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """Lines logged inside (in this thread or task) carry these ids."""
    tokens = [(_variable(name), _variable(name).set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def set_log_context(**ids: str | None) -> None:
    """From now on, lines logged in this thread carry these ids (``None`` removes one);
    for code that brackets work with two callbacks instead of a ``with`` block."""
    for name, value in ids.items():
        _variable(name).set(value)


def _variable(name: str) -> ContextVar[str | None]:
    if name not in _context:
        raise ValueError(f"unknown log context field {name!r}; known: {CONTEXT_FIELDS}")
    return _context[name]


class ContextFilter(logging.Filter):
    """Copies the current request or job id onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in _context.items():
            value = variable.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class StderrHandler(logging.Handler):
    """Writes each line to ``sys.stderr`` as it is when the line is logged (a test runner
    or ``click.testing`` may swap it), not as it was when logging was configured."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never raise; the handler reports it
            self.handleError(record)


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line, with the allowed fields only."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "process", "message"],
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp="time",
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: log_data[key] for key in JSON_FIELDS if key in log_data}


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message``, then the ids and the access log's client and key."""

    _SHOWN = (*CONTEXT_FIELDS, "client", "key")

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [
            f"{name}={getattr(record, name)}" for name in self._SHOWN if hasattr(record, name)
        ]
        if not extras:
            return line
        head, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{head} [{' '.join(extras)}]{newline}{rest}"


def logging_config(log_format: LogFormat, level: int | str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` document (uvicorn applies it in each server
    process): everything to stderr in ``log_format`` at ``level``."""
    formatter = JsonLineFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.ContextFilter"}},
        "formatters": {"default": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": f"{__name__}.StderrHandler",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {ACCESS_LOGGER: {"level": "INFO"}},
    }


def configure_logging(log_format: LogFormat, level: int | str) -> None:
    """Replace this process's log handlers with one stderr handler in ``log_format``;
    Python warnings become log lines too."""
    logging.config.dictConfig(logging_config(log_format, level))
    logging.captureWarnings(True)
