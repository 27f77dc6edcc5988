"""Settings read from ``REDACTOR_*`` at an entry point, with bad values as one line.

Every command that reads settings (``serve``, ``worker``, ``beat``, ``up``, ``submit``,
``keys``, ``sweep``...) goes through :func:`load_settings`: an invalid value is a
:class:`ConfigError` naming each variable and what it accepts, never a traceback or
pydantic's multi-line report. Values themselves are never repeated (some are secrets).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsError

from redactor.errors import ConfigError

PREFIX = "REDACTOR_"
_S = TypeVar("_S", bound=BaseSettings)
_UNPARSABLE_FIELD = re.compile(r'field "(?P<field>\w+)"')


def load_settings(cls: type[_S]) -> _S:
    """``cls()`` from the environment, or :class:`ConfigError` with one line."""
    try:
        return cls()
    except ValidationError as exc:
        raise ConfigError(describe(cls, exc)) from None
    except SettingsError as exc:  # a JSON-valued variable that is not JSON
        match = _UNPARSABLE_FIELD.search(str(exc))
        name = PREFIX + match["field"].upper() if match else "a REDACTOR_* variable"
        raise ConfigError(f"invalid settings: {name}: not valid JSON") from None


def describe(cls: type[BaseModel], exc: ValidationError) -> str:
    """One line: ``invalid settings: REDACTOR_X: problem; REDACTOR_Y: problem``."""
    problems = [_problem(cls, error) for error in exc.errors(include_input=False)]
    return "invalid settings: " + "; ".join(dict.fromkeys(problems))


def _problem(cls: type[BaseModel], error: Any) -> str:
    message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
    location = tuple(str(part) for part in error["loc"])
    if not location:  # a check across settings: its message names the variables
        return message
    return f"{variable_name(cls, location)}: {message}"


def variable_name(cls: type[BaseModel], location: tuple[str, ...]) -> str:
    """The variable a validation error is about: ``REDACTOR_PIPELINE__TEXT`` for a nested
    model's field, ``REDACTOR_TENANT_LIMITS (acme, original)`` inside a JSON value."""
    field, *inner = location
    name = PREFIX + field.upper()
    info = cls.model_fields.get(field)
    annotation = info.annotation if info is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "__".join([name, *(part.upper() for part in inner)])
    return f"{name} ({', '.join(inner)})" if inner else name
