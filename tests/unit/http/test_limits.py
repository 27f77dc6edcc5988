"""The body-size middleware, on a bare ASGI app that reads whatever it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from redactor.http.limits import BodyLimitMiddleware

LIMIT = 1000


async def _echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, then answers 200 with its length."""
    total, more = 0, True
    while more:
        message = await receive()
        total += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(total).encode()})


def _post(
    content: bytes | AsyncIterator[bytes], headers: dict[str, str] | None = None
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=BodyLimitMiddleware(_echo_length, LIMIT))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.post("/", content=content, headers=headers)

    return asyncio.run(go())


def test_given_body_within_the_limit_then_the_app_reads_all_of_it() -> None:
    response = _post(b"x" * LIMIT)
    assert (response.status_code, response.text) == (200, str(LIMIT))


def test_given_declared_length_over_the_limit_then_413_without_reading() -> None:
    response = _post(b"x", headers={"Content-Length": str(10**12)})
    assert response.status_code == 413


def test_given_streamed_body_over_the_limit_then_413_after_at_most_one_chunk_more() -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(10_000):
            sent += 100
            yield b"x" * 100

    response = _post(chunks())
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]
    assert sent <= LIMIT + 200


@pytest.mark.parametrize("length", ["abc", "-1"])
def test_given_malformed_length_then_counting_still_applies(length: str) -> None:
    response = _post(b"x" * (LIMIT + 1), headers={"Content-Length": length})
    assert response.status_code in {400, 413}
