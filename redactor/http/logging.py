"""The API's own access log: one JSON line per request, with a keyed hash of the client.

Uvicorn's access log is turned off (``redactor serve``) because it prints raw client
addresses and full paths with query strings. Here a line holds the method, the route
template (ids and queries never appear), the status, the time taken, the API key's
public id, and ``HMAC-SHA256(ip_hash_key, address)`` cut to 16 hex digits: enough to
follow one client through the log and spot abuse, useless for finding out who it was
without the key. The same middleware feeds the request metrics.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from redactor.http.metrics import ApiMetrics

ACCESS_LOGGER = "redactor.http.access"
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

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.observe(scope["method"], route, status, seconds)
        client = scope.get("client")
        log.info(
            json.dumps(
                {
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                    "client": hash_address(self.ip_hash_key, client[0] if client else None),
                    "key": scope.get("state", {}).get(KEY_ID_STATE),
                }
            )
        )


def configure_access_log() -> None:
    """Access lines go to stderr as bare JSON, whatever the root logger's level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
