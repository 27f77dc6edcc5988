"""OpenAPI ``responses`` entries for the error statuses the routes can answer."""

from __future__ import annotations

from typing import Any

from redactor.http.schemas import ErrorOut, ValidationErrorOut

_DESCRIPTIONS = {
    400: "The multipart body is malformed.",
    401: "No API key, or an unknown or revoked one.",
    404: "No such job for this tenant (unknown, another tenant's, or erased).",
    409: "The job has no result or report (yet, or ever); see its state.",
    410: "The result was deleted when its retention window ended.",
    413: "The body, a file or a form field is over its limit, or too many files.",
    415: "Not multipart/form-data, or a file is not a supported image format.",
    422: "A field or parameter is invalid; `detail` says which and why.",
    429: "The API key's rate limit is reached; see Retry-After.",
    503: "The queue is full or unavailable; see Retry-After.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": ValidationErrorOut if status == 422 else ErrorOut,
            "description": _DESCRIPTIONS[status],
        }
        for status in statuses
    }
