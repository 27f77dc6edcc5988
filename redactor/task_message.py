"""The versioned task message producers send for ``redactor.redact_upload``.

It carries ids only (the image is already in shared storage); docs/task-schema.md
describes it for producers in other languages.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from redactor.errors import RedactorError
from redactor.options import PipelineOptions
from redactor.storage import keys

TASK_NAME = "redactor.redact_upload"
MESSAGE_VERSION: Literal[1] = 1


class InvalidTaskMessage(RedactorError):
    code = "invalid_message"


class TaskMessage(BaseModel):
    """Version 1 of the message a producer sends for ``redactor.redact_upload``.

    It carries ids only: the image is already in shared storage at ``original_key``,
    which must be the key layout's key for this tenant and job (a producer cannot point a
    job at someone else's upload).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1]
    job_id: str = Field(pattern=f"^{keys.UPLOAD_ID_PATTERN.pattern}$")
    tenant: str = Field(pattern=f"^{keys.TENANT_PATTERN.pattern}$")
    original_key: str
    #: ``null`` or absent: the worker's configured defaults (``REDACTOR_PIPELINE``).
    options: PipelineOptions | None = None
    #: Seconds the original is kept after upload (0: until the job finishes); ``null`` or
    #: absent: the tenant's default. Used when the worker creates the record.
    original_retention: int | None = Field(default=None, ge=0)
    #: Seconds the result and report are kept after the job finishes; ``null``: default.
    result_retention: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _original_key_follows_layout(self) -> TaskMessage:
        if self.original_key != keys.original_key(self.tenant, self.job_id):
            raise ValueError("original_key must be originals/<tenant>/<job_id>")
        return self

    @classmethod
    def for_job(
        cls,
        job_id: str,
        tenant: str,
        options: PipelineOptions,
        *,
        original_retention: timedelta | None = None,
        result_retention: timedelta | None = None,
    ) -> TaskMessage:
        return cls(
            v=MESSAGE_VERSION,
            job_id=job_id,
            tenant=tenant,
            original_key=keys.original_key(tenant, job_id),
            options=options,
            original_retention=_seconds(original_retention),
            result_retention=_seconds(result_retention),
        )


def _seconds(window: timedelta | None) -> int | None:
    """Whole seconds, rounded up: a window is never shortened by the rounding."""
    return None if window is None else math.ceil(window.total_seconds())


def parse_task_message(payload: object) -> TaskMessage:
    """Validate a message, given as JSON text, strictly (no coercion, no unknown fields).

    The error names what was wrong by location and rule only: never the values, which
    could carry anything a producer put there.
    """
    if not isinstance(payload, str | bytes):
        raise InvalidTaskMessage("invalid task message: it must be a JSON text (a string)")
    try:
        return TaskMessage.model_validate_json(payload, strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'message'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False, include_context=False)
        )
        raise InvalidTaskMessage(f"invalid task message: {problems}") from None


def job_id_for(payload: object, task_id: str | None) -> str | None:
    """The job a (possibly invalid) message is about, if it can be told safely.

    The message's own ``job_id``, else the transport's task id when it is a job id (our
    client sends each task with the job id as its task id).
    """
    job_id, _ = message_hint(payload)
    if job_id is None and task_id and keys.UPLOAD_ID_PATTERN.fullmatch(task_id):
        return task_id
    return job_id


def message_hint(payload: object) -> tuple[str | None, str | None]:
    """Best-effort ``(job_id, tenant)`` from a message that failed validation.

    Lets a worker mark the right job failed. Each value is returned only if it is a valid
    id, so nothing else from a hostile message is ever used.
    """
    if not isinstance(payload, str | bytes):
        return None, None
    try:
        data = json.loads(payload)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    job_id, tenant = data.get("job_id"), data.get("tenant")
    return (
        job_id if isinstance(job_id, str) and keys.UPLOAD_ID_PATTERN.fullmatch(job_id) else None,
        tenant if isinstance(tenant, str) and keys.TENANT_PATTERN.fullmatch(tenant) else None,
    )
