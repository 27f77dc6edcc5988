"""Limits that protect the API and the queue behind it.

* :class:`BodyLimitMiddleware` counts request body bytes as they arrive and answers 413
  as soon as a body passes the limit (or declares a larger ``Content-Length``), so a
  huge upload is refused without being buffered anywhere.
* :class:`RateLimiter`: a fixed window per API key in Redis, shared by every API
  process. Fixed rather than sliding: one INCR per request, and the burst it allows at
  a window edge (twice the limit) is harmless next to the queue's own backpressure.
* :func:`queue_depth`: the Celery queue's length, for backpressure (503) and metrics.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a request body passes the limit."""


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_body_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:  # too late for a status; dropping the connection is all we can do
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request body is larger than the limit of {self.max_body_bytes} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server rejects a malformed length itself
    return 0


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    #: Seconds until the current window ends (for ``Retry-After``).
    retry_after: int


class RateLimiter:
    def __init__(self, client: redis.Redis, *, limit: int, window: int) -> None:
        self.client = client
        self.limit = limit
        self.window = window

    def hit(self, subject: str, now: float | None = None) -> RateDecision:
        """Count one request by ``subject`` (an API key id) in the current window."""
        now = time.time() if now is None else now
        window_index = int(now // self.window)
        key = f"redactor:ratelimit:{subject}:{window_index}"
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, self.window + 1)
        count, _ = pipe.execute()
        retry_after = max(1, math.ceil((window_index + 1) * self.window - now))
        return RateDecision(allowed=int(count) <= self.limit, retry_after=retry_after)


def queue_depth(client: redis.Redis, queue: str) -> int:
    """Tasks waiting in the Celery queue (Celery's Redis transport keeps them in a list)."""
    return int(client.llen(queue))
