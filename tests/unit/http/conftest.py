"""The API in-process (Starlette's TestClient) against a real redis-server, no workers.

Uploads are stored and queued but never redacted here: what these tests look at is
the HTTP layer (keys, limits, isolation, options, listings). The end-to-end tests in
tests/e2e/test_http.py run the real server with real workers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image

from redactor.http.app import create_app
from redactor.http.auth import KeyStore
from redactor.http.settings import DEV_API_KEY_PEPPER, ServerSettings
from redactor.service.stack import RedisServer
from testkit.services import FAST_OPTIONS
from tests.integration import conftest as queue_fixtures

redis_server = queue_fixtures.redis_server

#: A database of its own, flushed before each test (the queue tests use 0 and up).
DATABASE = 12
QUEUE = "http-unit"


def png_bytes(size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def make_settings(redis_server: RedisServer, tmp_path: Path) -> Callable[..., ServerSettings]:
    def make(**overrides: object) -> ServerSettings:
        fields: dict[str, object] = {
            "dev_mode": True,
            "redis_url": f"redis://{redis_server.host}:{redis_server.port}/{DATABASE}",
            "storage_dir": tmp_path / "storage",
            "spool_dir": tmp_path / "spool",
            "queue": QUEUE,
            "pipeline": FAST_OPTIONS,
            **overrides,
        }
        (tmp_path / "storage").mkdir(exist_ok=True)
        return ServerSettings(**fields)  # type: ignore[arg-type]

    return make


@pytest.fixture
def redis_db(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(
        host=redis_server.host, port=redis_server.port, db=DATABASE, decode_responses=True
    )
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def key_for(redis_db: redis.Redis) -> Callable[[str], str]:
    """``key_for(tenant)``: a fresh API key's secret (dev-mode pepper)."""
    store = KeyStore(redis_db, DEV_API_KEY_PEPPER)
    return lambda tenant: store.create(tenant).secret


@pytest.fixture
def make_api(
    make_settings: Callable[..., ServerSettings], redis_db: redis.Redis
) -> Iterator[Callable[..., TestClient]]:
    """``make_api(**settings)``: a TestClient for an app with those settings."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[..., TestClient]) -> TestClient:
    return make_api()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def upload(
    api: TestClient,
    secret: str,
    files: list[bytes] | None = None,
    /,
    **fields: str,
) -> httpx.Response:
    data = {"text": "off", "codes": "false", **fields}
    parts = [("files", ("photo.png", content, "image/png")) for content in files or [png_bytes()]]
    response: httpx.Response = api.post(
        "/v1/uploads", headers=bearer(secret), files=parts, data=data
    )
    return response
