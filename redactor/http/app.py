"""The FastAPI application, built by :func:`create_app` from settings it is given.

Nothing is built at import time. ``redactor serve`` reads :class:`ServerSettings` and
hands uvicorn :func:`app_from_environment` as a factory, so each server process builds
its own app (and its own Redis connections).

The API process stays light: it stores uploads and sends tasks by name; it never
imports the models (torch, MediaPipe, OCR), which only workers load.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import redis
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from redactor import __version__
from redactor.clock import utcnow
from redactor.errors import StorageError
from redactor.http.auth import KeyStore
from redactor.http.context import ApiContext
from redactor.http.limits import BodyLimitMiddleware, RateLimiter
from redactor.http.logging import AccessLogMiddleware
from redactor.http.metrics import ApiMetrics
from redactor.http.routes import health, jobs, uploads
from redactor.http.routes.apidocs import docs_router
from redactor.http.routes.page import page_router
from redactor.http.settings import ServerSettings
from redactor.http.validation import validation_failed
from redactor.retention import max_deletion_lateness, overdue_count
from redactor.service.client import RedactorClient
from redactor.service.redis_jobs import RedisJobStore, connect
from redactor.service.retention_setup import open_retention

#: How long a request waits for Redis before answering 503: a person is waiting, unlike
#: a worker, which rides out a restart (REDACTOR_REDIS_OUTAGE_SECONDS).
REDIS_PATIENCE_SECONDS = 3.0
#: Retry-After when Redis or storage is unavailable.
UNAVAILABLE_RETRY_AFTER = 5

#: The lateness gauge reports the worst deletion of this recent period.
LATENESS_WINDOW = timedelta(hours=1)

DESCRIPTION = """Upload images; get them back with faces and personal text redacted and
every piece of metadata removed. Every `/v1` call needs `Authorization: Bearer <API key>`.
"""


def create_app(
    settings: ServerSettings,
    *,
    deletion_lateness: Callable[[], float] | None = None,
    overdue_objects: Callable[[], float] | None = None,
) -> FastAPI:
    """The API for ``settings``.

    ``deletion_lateness`` (seconds the latest recent retention deletion came after its
    deadline) and ``overdue_objects`` (objects past their deadline now) feed the
    retention gauges on ``/metrics``.
    """
    context = _context(settings, deletion_lateness, overdue_objects)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        context.client.close()
        context.redis.close()

    app = FastAPI(
        title="redactor",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's viewers load scripts from a CDN; ours is served from the package.
        docs_url=None,
        redoc_url=None,
        # A redirect to the slash-less path would be built from the client's Host header.
        redirect_slashes=False,
    )
    app.state.context = context
    for router in (uploads.router, jobs.router, health.router, page_router()):
        app.include_router(router)
    if settings.api_docs:
        app.include_router(docs_router())
    for error in (redis.RedisError, StorageError, OperationalError):
        app.add_exception_handler(error, _unavailable)
    app.add_exception_handler(RequestValidationError, validation_failed)
    # Outermost last: the access log sees every answer, including the 413s.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(NoStoreMiddleware)
    app.add_middleware(
        AccessLogMiddleware, ip_hash_key=settings.ip_hash_key_bytes(), metrics=context.metrics
    )
    return app


def app_from_environment() -> FastAPI:
    """Uvicorn's factory (``redactor serve``): settings from ``REDACTOR_*``."""
    settings = ServerSettings()
    retention = open_retention(settings)

    def lateness() -> float:
        since = utcnow() - LATENESS_WINDOW
        return max_deletion_lateness(retention.audit.tail(), since) or 0.0

    def overdue() -> float:
        return float(overdue_count(retention.index, utcnow()))

    return create_app(settings, deletion_lateness=lateness, overdue_objects=overdue)


def _context(
    settings: ServerSettings,
    deletion_lateness: Callable[[], float] | None,
    overdue_objects: Callable[[], float] | None,
) -> ApiContext:
    client = connect(settings.redis_url, outage_seconds=REDIS_PATIENCE_SECONDS)
    redactor = RedactorClient(
        settings, jobs=RedisJobStore(client, result_retention=settings.result_retention)
    )
    return ApiContext(
        settings=settings,
        client=redactor,
        redis=client,
        keys=KeyStore(client, settings.api_key_pepper_bytes()),
        rate_limiter=RateLimiter(client, limit=settings.rate_limit, window=settings.rate_window),
        metrics=ApiMetrics(
            client,
            settings.queue,
            deletion_lateness,
            overdue_objects,
            queues=(*settings.redaction_queues(), settings.retention_queue),
        ),
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "storage or the queue is unavailable; retry later"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )


class NoStoreMiddleware:
    """No response is cached anywhere: results are redacted images, records are private."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"cache-control", b"no-store"),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
