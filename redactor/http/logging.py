"""The API's own access log: one line per request, with a keyed hash of the client.

Uvicorn's access log is turned off (``redactor serve``) because it prints raw client
addresses and full paths with query strings. Here a line holds the method, the route
template (ids and queries never appear), the status, the time taken, the API key's
public id, and ``HMAC-SHA256(ip_hash_key, address)`` cut to 16 hex digits: enough to
follow one client through the log and spot abuse, useless for finding out who it was
without the key. Each request gets a random id, returned as ``X-Request-ID`` and put on
every line logged while it is handled (:mod:`redactor.logs` formats the lines). The
same middleware feeds the request metrics.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from redactor.http.metrics import ApiMetrics
from redactor.logs import ACCESS_LOGGER, log_context

REQUEST_ID_HEADER = b"x-request-id"
#: Set by the authentication dependency so the access line can name the key.
KEY_ID_STATE = "key_id"

log = logging.getLogger(ACCESS_LOGGER)


def hash_address(key: bytes, address: str | None) -> str:
    if not address:
        return "-"
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:16]


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, ip_hash_key: bytes, metrics: ApiMetrics) -> None:
        self.app = app
        self.ip_hash_key = ip_hash_key
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering
        request_id = secrets.token_hex(8)

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, recording_send)
            finally:
                self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.observe(scope["method"], route, status, seconds)
        client = scope.get("client")
        ms = round(seconds * 1000, 1)
        log.info(
            "%s %s %s in %s ms",
            scope["method"],
            route,
            status,
            ms,
            extra={
                "method": scope["method"],
                "route": route,
                "status": status,
                "ms": ms,
                "client": hash_address(self.ip_hash_key, client[0] if client else None),
                "key": scope.get("state", {}).get(KEY_ID_STATE),
                "request_id": request_id,
            },
        )
