"""422 answers: which field was wrong and why, never the whole bad value back.

FastAPI's own answer echoes each bad input whole (a 5,000-character id came back
whole) along with pydantic's internals (``ctx``, ``url``). Here each error keeps its
``loc``, ``msg`` and ``type``, and ``input`` only when it is a single value, cut to
:data:`ECHO_LIMIT` characters; names in ``loc`` come from the client too and are cut
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

#: Characters of a client's value that an error may echo.
ECHO_LIMIT = 64


def clip(value: str, limit: int = ECHO_LIMIT) -> str:
    """``value``, or its first ``limit`` characters and an ellipsis."""
    return value if len(value) <= limit else value[:limit] + "…"


def field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One error as the API publishes it (``FieldError`` in the schema)."""
    answer: dict[str, Any] = {
        "loc": [clip(part) if isinstance(part, str) else part for part in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "value_error")),
    }
    value = error.get("input")
    if isinstance(value, str):
        answer["input"] = clip(value)
    elif isinstance(value, bool | int | float):
        answer["input"] = value
    return answer


def field_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [field_error(error) for error in errors]


async def validation_failed(request: Request, exc: Exception) -> JSONResponse:
    """The handler for :class:`RequestValidationError`."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": field_errors(exc.errors())},
        status_code=422,
    )
