"""Dependencies for the routes, as ``Annotated`` aliases.

The sync ones (Redis round trips) are plain ``def`` functions, so FastAPI runs them in
its thread pool instead of blocking the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from redactor.http.auth import ApiKey
from redactor.http.context import ApiContext
from redactor.http.limits import queue_depth
from redactor.http.multipart import UploadBody, UploadLimits, UploadRefused, read_upload
from redactor.jobs import JobRecord, JobState
from redactor.storage import keys

_bearer = HTTPBearer(auto_error=False, description="An API key from `redactor keys create`.")


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]


def authenticated_key(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The caller's API key (401 unless valid), counted against its rate limit (429)."""
    key = context.keys.authenticate(credentials.credentials) if credentials else None
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API key is required: send `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.key_id = key.key_id  # for the access log (KEY_ID_STATE)
    decision = context.rate_limiter.hit(key.key_id)
    if not decision.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit of {context.rate_limiter.limit} requests per "
            f"{context.rate_limiter.window} s reached; retry after {decision.retry_after} s",
            headers={"Retry-After": str(decision.retry_after)},
        )
    return key


CurrentKey = Annotated[ApiKey, Depends(authenticated_key)]

JobId = Annotated[
    str,
    Path(
        description="A job (= upload) id: 22 url-safe base64 characters.",
        pattern=f"^{keys.UPLOAD_ID_PATTERN.pattern}$",
        min_length=22,
        max_length=22,
    ),
]


def owned_job(job_id: JobId, key: CurrentKey, context: Context) -> JobRecord:
    """The job if it is the caller's tenant's and not erased; 404 for anything else.

    Another tenant's job and a job that never existed answer the same, so ids cannot be
    probed across tenants.
    """
    record = context.client.jobs.get(job_id)
    if record is None or record.tenant != key.tenant or record.state is JobState.ERASED:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
    return record


OwnedJob = Annotated[JobRecord, Depends(owned_job)]


def queue_has_room(context: Context, key: CurrentKey) -> None:
    """503 with Retry-After while the queue is deeper than the configured bound."""
    depth = queue_depth(context.redis, context.settings.queue)
    if depth > context.settings.max_queue_depth:
        retry_after = context.settings.backpressure_retry_after
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the redaction queue is full ({depth} waiting); retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


async def upload_body(
    request: Request, context: Context, _: Annotated[None, Depends(queue_has_room)]
) -> AsyncIterator[UploadBody]:
    """The streamed multipart body, spooled to disk; runs after auth and backpressure."""
    settings = context.settings
    limits = UploadLimits(
        spool_dir=settings.spool_dir,
        max_files=settings.max_files_per_request,
        max_file_bytes=settings.pipeline.limits.max_file_bytes,
    )
    try:
        body = await read_upload(request.stream(), request.headers.get("content-type"), limits)
    except UploadRefused as exc:
        if exc.field is not None:
            error = {"loc": ("body", exc.field), "msg": exc.message, "type": "value_error"}
            raise RequestValidationError([error]) from None
        raise HTTPException(exc.status, exc.message) from None
    try:
        yield body
    finally:
        body.close()


Upload = Annotated[UploadBody, Depends(upload_body)]
